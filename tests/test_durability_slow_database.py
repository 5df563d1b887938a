"""A slow database: sends wait in a bounded queue, past it they are refused at once with
UNAVAILABLE; typing and presence go on; retries with the same clientMessageId store
nothing twice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.clients import Http, connect
from tests.conftest import needs_postgres
from tests.latency_proxy import latency_proxy
from tests.operations import PRESENCE, SEND, START_TYPING, TYPING
from tests.servers import Server, start_server
from tests.stored import DIRECT_PAGE, assert_whole_and_unique, whole_history

QUEUE = 20
SEND_TIMEOUT = 10
BURST = 100
LATENCY = 0.05  # each way, for every packet between the server and PostgreSQL


@pytest.fixture
def slow_link_server(database_factory: Any) -> Any:
    """A server whose PostgreSQL is behind a latency proxy (no latency until set)."""
    database_url = database_factory("postgres")
    with latency_proxy(database_url) as proxy:
        server = start_server(
            proxy.url_for(database_url), WRITE_QUEUE_SIZE=str(QUEUE), SEND_TIMEOUT=str(SEND_TIMEOUT)
        )
        try:
            yield server, proxy
        finally:
            server.stop()


async def timed_send(
    client: httpx.AsyncClient, server: Server, sender: str, to: str, cid: str
) -> tuple[str, dict[str, Any], float]:
    started = time.monotonic()
    response = await client.post(
        "/graphql",
        json={"query": SEND, "variables": {"to": to, "content": cid, "cid": cid}},
        headers={"Authorization": f"Bearer {server.token(sender)}"},
    )
    return cid, response.json(), time.monotonic() - started


async def stored_and_transactions(server: Server) -> tuple[float, float]:
    """Messages committed and the transactions that committed them, from /metrics."""
    text = (await Http(server.http_url).get("/metrics")).text
    values = dict(
        line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    return float(values["chat_messages_stored_total"]), float(
        values["chat_db_commit_seconds_count"]
    )


async def retry_until_stored(client: httpx.AsyncClient, server: Server, to: str, cid: str) -> str:
    """Resend until the send is answered (UNAVAILABLE means: retry); the message id."""
    for _ in range(20):
        _, body, _ = await timed_send(client, server, cid.rsplit(":", 1)[0], to, cid)
        if "errors" not in body:
            message_id: str = body["data"]["sendMessage"]["id"]
            return message_id
        assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE", body
        await asyncio.sleep(0.2)
    raise AssertionError(f"{cid} never stored")


@needs_postgres
async def test_slow_database_bounds_the_queue_and_refuses_fast(
    slow_link_server: Any, uid: Any
) -> None:
    server, proxy = slow_link_server
    senders = [uid(f"sender{i}") for i in range(4)]
    receiver, typist, peer = uid("receiver"), uid("typist"), uid("peer")
    for user in (*senders, receiver, typist, peer):
        await Http(server.http_url, server.token(user)).data("{ me { id } }")
    watcher = await connect(server.ws_url, server.token(peer))
    typing = await watcher.subscribe(TYPING)
    presence = await watcher.subscribe(PRESENCE, {"ids": [typist]})
    assert (await watcher.next_data(presence))["presence"]["online"] is False

    stored_before, transactions_before = await stored_and_transactions(server)
    proxy.latency = LATENCY
    limits = httpx.Limits(max_connections=BURST)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60, limits=limits) as client:
        burst = asyncio.gather(
            *(
                timed_send(client, server, senders[n % 4], receiver, f"{senders[n % 4]}:{n}")
                for n in range(BURST)
            )
        )
        # Typing and presence do not wait behind the queued sends.
        typist_socket = await connect(server.ws_url, server.token(typist))
        assert (await watcher.next_data(presence, 30))["presence"]["online"] is True
        typed = await Http(server.http_url, server.token(typist)).data(START_TYPING, {"to": peer})
        assert typed == {"startTyping": True}
        event = (await watcher.next_data(typing, 30))["typing"]
        assert event["userId"] == typist and event["isTyping"]
        await typist_socket.close()
        answers = await burst
    codes = [body["errors"][0]["extensions"]["code"] for _, body, _ in answers if "errors" in body]
    assert set(codes) == {"UNAVAILABLE"}
    # At most QUEUE sends are taken in; the rest are refused at once, long before the
    # send timeout that bounds the ones taken in.
    refused_at_once = [
        elapsed for _, body, elapsed in answers if "errors" in body and elapsed < SEND_TIMEOUT
    ]
    assert len(refused_at_once) >= BURST - QUEUE
    assert all(elapsed < SEND_TIMEOUT + 10 for _, _, elapsed in answers)
    # The sends taken in were written in batches: fewer transactions than messages.
    stored, transactions = await stored_and_transactions(server)
    assert stored - stored_before > transactions - transactions_before >= 1

    # The database is fast again: everyone retries what was not answered, with the same
    # clientMessageId; each message is stored once, the answered ones as answered.
    proxy.latency = 0
    answered = {
        cid: body["data"]["sendMessage"]["id"] for cid, body, _ in answers if "errors" not in body
    }
    unanswered = [cid for cid, body, _ in answers if "errors" in body]
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as client:
        retries = [await retry_until_stored(client, server, receiver, cid) for cid in unanswered]
    all_sends = {**answered, **dict(zip(unanswered, retries, strict=True))}
    reader = Http(server.http_url, server.token(receiver))
    for sender in senders:
        history = await whole_history(reader, DIRECT_PAGE, {"with": sender})
        mine = {cid: id_ for cid, id_ in all_sends.items() if cid.startswith(f"{sender}:")}
        assert_whole_and_unique(history, mine)
        assert len(history) == len(mine)
