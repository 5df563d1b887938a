"""An instance killed without goodbye: clients resume elsewhere and lose nothing; users it
alone held are announced offline within 30 s."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import pytest

from tests.actions import register, send_many
from tests.clients import connect
from tests.conftest import REDIS_URL, needs_postgres, needs_redis
from tests.operations import NEW_MESSAGE, PRESENCE
from tests.servers import Server, start_instances

pytestmark = [needs_postgres, needs_redis]

OFFLINE_WITHIN = 30


@pytest.fixture
def doomed_pair(database_factory: object) -> Iterator[tuple[Server, Server]]:
    make = database_factory
    assert callable(make)
    assert REDIS_URL is not None
    a, b = start_instances(make("postgres"), REDIS_URL, {}, {})
    yield a, b
    a.stop()
    b.stop()


async def test_sigkill_of_an_instance_mid_stream(doomed_pair: tuple[Server, Server], uid) -> None:
    a, b = doomed_pair
    alice, bob, carol, dave = uid("alice"), uid("bob"), uid("carol"), uid("dave")
    await register(b, alice, bob, carol, dave)
    watcher = await connect(b.ws_url, b.token(carol))
    presence = await watcher.subscribe(PRESENCE, {"ids": [bob, dave]})
    assert [(await watcher.next_data(presence))["presence"]["online"] for _ in "bd"] == [False] * 2
    receiver = await connect(a.ws_url, a.token(bob))
    stream = await receiver.subscribe(NEW_MESSAGE)
    bystander = await connect(a.ws_url, a.token(dave))
    came_online = {(await watcher.next_data(presence))["presence"]["userId"] for _ in "bd"}
    assert came_online == {bob, dave}

    total = 40
    sending = asyncio.create_task(send_many(b, alice, bob, total))
    received = [(await receiver.next_data(stream))["newMessage"] for _ in range(10)]
    a.stop(signal.SIGKILL)
    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    await receiver.closed()
    # bob's client reconnects to the surviving instance with its newest cursor.
    resumed = await connect(b.ws_url, b.token(bob), resumeAfter=received[-1]["cursor"])
    stream = await resumed.subscribe(NEW_MESSAGE)
    while len(received) < total:
        received.append((await resumed.next_data(stream, timeout=30))["newMessage"])
    await sending
    assert [m["seq"] for m in received] == list(range(1, total + 1))
    await resumed.expect_nothing(stream, 0.5)

    # dave was held only by the killed instance; bob is back on B and stays online.
    event = (await watcher.next_data(presence, timeout=OFFLINE_WITHIN + 5))["presence"]
    assert (event["userId"], event["online"]) == (dave, False)
    assert loop.time() - killed_at <= OFFLINE_WITHIN
    await watcher.expect_nothing(presence, 0.5)
    await bystander.close()
    await resumed.close()
    await watcher.close()
