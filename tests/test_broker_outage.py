"""Redis dies mid-stream: sends keep storing, local delivery goes on, /readyz says why, and
remote subscribers catch up from the store once Redis is back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.actions import as_user, register, send
from tests.clients import connect
from tests.conftest import needs_postgres
from tests.operations import MARK_READ, NEW_MESSAGE, RECEIPTS
from tests.redis_servers import RedisServer, redis_servers
from tests.servers import Server, start_instances

pytestmark = needs_postgres


async def ready(server: Server) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(f"{server.http_url}/readyz")


async def metric(server: Server, name: str) -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{server.http_url}/metrics")).text
    values = [line.split()[1] for line in text.splitlines() if line.startswith(f"{name} ")]
    assert len(values) == 1, text
    return float(values[0])


async def wait_ready(server: Server, expected: bool, timeout: float = 30) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await ready(server)
        if (response.status_code == 200) == expected:
            body: dict = response.json()
            return body
        assert asyncio.get_running_loop().time() < deadline, response.text
        await asyncio.sleep(0.2)


@pytest.fixture
def pair_on_own_redis(database_factory: object) -> Iterator[tuple[Server, Server, RedisServer]]:
    """Instances A and B on a Redis of this test's own, which it may kill."""
    make = database_factory
    assert callable(make)
    database = make("postgres")
    with redis_servers(1) as (own_redis,):
        a, b = start_instances(database, own_redis.url, {}, {})
        yield a, b, own_redis
        a.stop()
        b.stop()


async def test_sends_survive_a_redis_restart_and_remote_subscribers_catch_up(
    pair_on_own_redis: tuple[Server, Server, RedisServer], uid
) -> None:
    a, b, own_redis = pair_on_own_redis
    alice, bob = uid("alice"), uid("bob")
    await register(a, alice, bob)
    remote = await connect(b.ws_url, b.token(bob))
    local = await connect(a.ws_url, a.token(bob))
    remote_op = await remote.subscribe(NEW_MESSAGE)
    local_op = await local.subscribe(NEW_MESSAGE)
    # alice follows her receipts on B; bob reads on A.
    sender_view = await connect(b.ws_url, b.token(alice))
    receipts = await sender_view.subscribe(RECEIPTS)
    await asyncio.sleep(0.3)
    first = await send(a, alice, bob, "before")
    for socket, op in ((remote, remote_op), (local, local_op)):
        assert (await socket.next_data(op))["newMessage"]["id"] == first["id"]
    delivered = (await sender_view.next_data(receipts))["receipts"]
    assert (delivered["status"], delivered["upToSeq"]) == ("DELIVERED", 1)

    own_redis.stop()
    down = await wait_ready(a, expected=False)
    assert down["checks"]["broker"]["ok"] is False
    assert "redis" in down["checks"]["broker"]["reason"]
    assert down["checks"]["database"]["ok"] is True
    during = [await send(a, alice, bob, f"during {i}") for i in range(3)]
    assert [m["seq"] for m in during] == [2, 3, 4]
    # The subscriber on the sending instance still gets them at once.
    got = [(await local.next_data(local_op))["newMessage"] for _ in during]
    assert [m["seq"] for m in got] == [2, 3, 4]
    await remote.expect_nothing(remote_op, 0.5)
    assert await metric(a, "chat_broker_up") == 0
    assert await metric(a, "chat_broker_dropped_events") >= 3
    await as_user(a, bob).data(MARK_READ, {"from": alice})
    await sender_view.expect_nothing(receipts, 0.5)

    # A client that connects and subscribes while Redis is down is served from the store,
    # and goes live once Redis is back.
    late = await connect(b.ws_url, b.token(bob))
    late_op = await late.subscribe(NEW_MESSAGE, {"after": first["cursor"]})
    replayed = [(await late.next_data(late_op))["newMessage"] for _ in during]
    assert [m["id"] for m in replayed] == [m["id"] for m in during]

    own_redis.start()
    await wait_ready(a, expected=True)
    await wait_ready(b, expected=True)
    assert await metric(a, "chat_broker_up") == 1
    caught_up = [(await remote.next_data(remote_op, 30))["newMessage"] for _ in during]
    assert [m["id"] for m in caught_up] == [m["id"] for m in during]
    # The receipts moved meanwhile reach alice too.
    moved = {}
    while moved.get("READ") != 4:
        receipt = (await sender_view.next_data(receipts, 30))["receipts"]
        moved[receipt["status"]] = receipt["upToSeq"]
    assert moved == {"DELIVERED": 4, "READ": 4}
    after = await send(a, alice, bob, "after")
    live = (await remote.next_data(remote_op))["newMessage"]
    assert (await late.next_data(late_op))["newMessage"]["id"] == after["id"]
    await late.close()
    assert (live["id"], live["seq"]) == (after["id"], 5)
    await remote.expect_nothing(remote_op, 0.5)
    await remote.close()
    await local.close()
    await sender_view.close()
