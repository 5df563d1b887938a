"""On a Redis Cluster the broker uses sharded pub/sub: an event goes only to the shard that
owns its channel. A three-node cluster of the test's own, on loopback ports."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from tests.actions import as_user, register, send
from tests.clients import connect
from tests.conftest import needs_postgres
from tests.operations import NEW_MESSAGE, PRESENCE, START_TYPING, TYPING
from tests.redis_servers import RedisServer, redis_servers
from tests.servers import Server, start_instances

pytestmark = needs_postgres


def create_cluster(nodes: list[RedisServer]) -> None:
    addresses = [f"127.0.0.1:{node.port}" for node in nodes]
    subprocess.run(
        ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "0"],
        input="yes\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    deadline = time.monotonic() + 30
    for node in nodes:
        client = redis.Redis(host="127.0.0.1", port=node.port)
        try:
            while client.cluster("info")["cluster_state"] != "ok":
                assert time.monotonic() < deadline, "the cluster did not become ready"
                time.sleep(0.1)
        finally:
            client.close()


@pytest.fixture(scope="module")
def on_cluster(database_factory: object) -> Iterator[tuple[Server, Server, list[RedisServer]]]:
    make = database_factory
    assert callable(make)
    with redis_servers(3, "--cluster-enabled", "yes") as nodes:
        create_cluster(nodes)
        a, b = start_instances(make("postgres"), nodes[0].url, {}, {})
        yield a, b, nodes
        a.stop()
        b.stop()


def shard_subscribers(nodes: list[RedisServer], channel: str) -> list[int]:
    """How many sharded subscribers each node has for the channel."""
    counts = []
    for node in nodes:
        client = redis.Redis(host="127.0.0.1", port=node.port)
        try:
            reply = client.execute_command("PUBSUB", "SHARDNUMSUB", channel)
            counts.append(int(reply[1]))
        finally:
            client.close()
    return counts


def plain_publishes(nodes: list[RedisServer]) -> int:
    """PUBLISH commands the nodes served: broadcast to every node, which sharding avoids."""
    total = 0
    for node in nodes:
        client = redis.Redis(host="127.0.0.1", port=node.port)
        try:
            total += client.info("commandstats").get("cmdstat_publish", {}).get("calls", 0)
        finally:
            client.close()
    return total


async def test_events_cross_instances_through_the_owning_shard_only(
    on_cluster: tuple[Server, Server, list[RedisServer]], uid
) -> None:
    a, b, nodes = on_cluster
    alice, bob = uid("alice"), uid("bob")
    await register(a, alice, bob)
    receiver = await connect(b.ws_url, b.token(bob))
    messages = await receiver.subscribe(NEW_MESSAGE)
    typing = await receiver.subscribe(TYPING)
    presence = await receiver.subscribe(PRESENCE, {"ids": [alice]})
    assert (await receiver.next_data(presence))["presence"]["online"] is False
    await asyncio.sleep(0.3)

    prefix = b.env["CHAT_REDIS_PREFIX"]
    owners = shard_subscribers(nodes, f"{prefix}u:{bob}")
    assert sorted(owners) == [0, 0, 1], "one shard, the owner, holds bob's channel"

    sender = await connect(a.ws_url, a.token(alice))
    online = (await receiver.next_data(presence))["presence"]
    assert (online["userId"], online["online"]) == (alice, True)
    sent = [await send(a, alice, bob, content) for content in "abc"]
    got = [(await receiver.next_data(messages))["newMessage"] for _ in sent]
    assert [m["id"] for m in got] == [m["id"] for m in sent]
    await as_user(a, alice).data(START_TYPING, {"to": bob})
    assert (await receiver.next_data(typing))["typing"]["userId"] == alice
    assert plain_publishes(nodes) == 0
    await sender.close()
    offline = (await receiver.next_data(presence))["presence"]
    assert (offline["userId"], offline["online"]) == (alice, False)
    await receiver.close()
