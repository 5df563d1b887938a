"""Two server processes sharing PostgreSQL and Redis behave as one server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.clients import Http, connect
from tests.conftest import REDIS_URL, needs_postgres, needs_redis
from tests.operations import (
    MARK_READ,
    NEW_MESSAGE,
    RECEIPTS,
    SEND,
)
from tests.servers import Server, redis_prefix, start_server

pytestmark = [needs_postgres, needs_redis]


@pytest.fixture(scope="module")
def pair(database_factory: object) -> Iterator[tuple[Server, Server]]:
    """Instances A and B on one PostgreSQL database and one Redis key prefix."""
    make = database_factory
    assert callable(make)
    assert REDIS_URL is not None
    settings = {
        "database_url": make("postgres"),
        "redis_url": REDIS_URL,
        "redis_prefix": redis_prefix(),
    }
    first = start_server(**settings)
    second = start_server(**settings)
    yield first, second
    first.stop()
    second.stop()


async def register(server: Server, *users: str) -> None:
    for user in users:
        await Http(server.http_url, server.token(user, user.split("-")[0].title())).data(
            "{ me { id } }"
        )


async def test_a_message_sent_on_one_instance_reaches_a_subscriber_on_the_other(
    pair: tuple[Server, Server], uid
) -> None:
    a, b = pair
    alice, bob = uid("alice"), uid("bob")
    await register(a, alice, bob)
    receiver = await connect(b.ws_url, b.token(bob))
    op = await receiver.subscribe(NEW_MESSAGE)
    sender = await connect(a.ws_url, a.token(alice))
    receipts = await sender.subscribe(RECEIPTS)
    await asyncio.sleep(0.3)
    http = Http(a.http_url, a.token(alice))
    sent = [(await http.data(SEND, {"to": bob, "content": c}))["sendMessage"] for c in "xyz"]
    got = [(await receiver.next_data(op))["newMessage"] for _ in sent]
    assert [m["id"] for m in got] == [m["id"] for m in sent]
    assert [m["seq"] for m in got] == [1, 2, 3]
    # B saw them delivered; the receipt reaches the sender on A.
    delivered = (await sender.next_data(receipts))["receipts"]
    while delivered["upToSeq"] < 3:
        delivered = (await sender.next_data(receipts))["receipts"]
    assert delivered == {
        "conversationId": sent[0]["conversationId"],
        "userId": bob,
        "status": "DELIVERED",
        "upToSeq": 3,
    }
    await Http(b.http_url, b.token(bob)).data(MARK_READ, {"from": alice})
    read = (await sender.next_data(receipts))["receipts"]
    assert (read["status"], read["userId"], read["upToSeq"]) == ("READ", bob, 3)
    await receiver.close()
    await sender.close()
