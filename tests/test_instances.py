"""Two server processes sharing PostgreSQL and Redis behave as one server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest
import redis.asyncio as redis

from resolvers.cursors import decode_cursor
from tests.actions import as_user, register, send
from tests.clients import connect
from tests.conftest import REDIS_URL, needs_postgres, needs_redis
from tests.operations import (
    MARK_READ,
    NEW_MESSAGE,
    PRESENCE,
    RECEIPTS,
    START_TYPING,
    TYPING,
)
from tests.servers import Server, start_instances

pytestmark = [needs_postgres, needs_redis]


@pytest.fixture(scope="module")
def pair(database_factory: object) -> Iterator[tuple[Server, Server]]:
    """Instances A and B on one PostgreSQL database and one Redis key prefix."""
    make = database_factory
    assert callable(make)
    assert REDIS_URL is not None
    first, second = start_instances(make("postgres"), REDIS_URL, {}, {})
    yield first, second
    first.stop()
    second.stop()


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
    sent = [await send(a, alice, bob, content) for content in "xyz"]
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
    await as_user(b, bob).data(MARK_READ, {"from": alice})
    read = (await sender.next_data(receipts))["receipts"]
    assert (read["status"], read["userId"], read["upToSeq"]) == ("READ", bob, 3)
    await receiver.close()
    await sender.close()


async def test_presence_and_typing_cross_instances(pair: tuple[Server, Server], uid) -> None:
    a, b = pair
    alice, bob = uid("alice"), uid("bob")
    await register(a, alice, bob)
    watcher = await connect(a.ws_url, a.token(alice))
    presence = await watcher.subscribe(PRESENCE, {"ids": [bob]})
    typing = await watcher.subscribe(TYPING)
    first = (await watcher.next_data(presence))["presence"]
    assert (first["userId"], first["online"]) == (bob, False)

    phone = await connect(b.ws_url, b.token(bob))
    online = (await watcher.next_data(presence))["presence"]
    assert (online["userId"], online["online"]) == (bob, True)
    # A second device of bob, on the other instance: no new announcement.
    laptop = await connect(a.ws_url, a.token(bob))
    await phone.close()
    await watcher.expect_nothing(presence, 1.0)
    # Typing on B reaches alice on A; starts on both instances within a second are merged,
    # and typing stops by itself 5 s after the last start, wherever that landed.
    on_a, on_b = as_user(a, bob), as_user(b, bob)
    await on_b.data(START_TYPING, {"to": alice})
    await on_a.data(START_TYPING, {"to": alice})
    started = (await watcher.next_data(typing))["typing"]
    assert (started["userId"], started["isTyping"]) == (bob, True)
    await watcher.expect_nothing(typing, 0.5)
    await asyncio.sleep(1.5)
    loop = asyncio.get_running_loop()
    last_start = loop.time()  # taken before the call: its deadline is set after this
    await on_a.data(START_TYPING, {"to": alice})
    event = (await watcher.next_data(typing, timeout=15))["typing"]
    if event["isTyping"]:  # the later start may be announced again: a second has passed
        event = (await watcher.next_data(typing, timeout=15))["typing"]
    assert (event["userId"], event["isTyping"]) == (bob, False)
    assert loop.time() - last_start >= 4, "typing stopped before 5 s after the last start"

    await laptop.close()
    offline = (await watcher.next_data(presence))["presence"]
    assert (offline["userId"], offline["online"]) == (bob, False)
    await watcher.close()


CREATE_ROOM = """
mutation($name: String!, $ids: [ID!]) {
  createRoom(input: {name: $name, participantIds: $ids}) { id }
}
"""
SEND_TO_ROOM = """
mutation($room: ID!, $content: String!) {
  sendRoomMessage(input: {roomId: $room, content: $content}) { id seq }
}
"""


async def test_concurrent_senders_on_both_instances_reach_everyone_in_seq_order(
    pair: tuple[Server, Server], uid
) -> None:
    a, b = pair
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    await register(a, alice, bob, carol)
    room = (await as_user(a, alice).data(CREATE_ROOM, {"name": "busy", "ids": [bob, carol]}))[
        "createRoom"
    ]["id"]
    watchers = [(a, carol), (b, carol), (b, alice), (a, bob)]
    sockets = [await connect(server.ws_url, server.token(user)) for server, user in watchers]
    ops = [await socket.subscribe(NEW_MESSAGE) for socket in sockets]
    await asyncio.sleep(0.5)
    per_sender = 25

    async def burst(server: Server, sender: str) -> None:
        http = as_user(server, sender)
        for i in range(per_sender):
            await http.data(SEND_TO_ROOM, {"room": room, "content": f"{sender} {i}"})

    await asyncio.gather(burst(a, alice), burst(b, bob))
    total = 2 * per_sender
    for socket, op in zip(sockets, ops, strict=True):
        seqs = [(await socket.next_data(op))["newMessage"]["seq"] for _ in range(total)]
        assert seqs == list(range(1, total + 1))
        await socket.expect_nothing(op, 0.2)
        await socket.close()


async def test_a_late_publish_of_a_message_before_the_cursor_is_not_delivered_again(
    pair: tuple[Server, Server], uid
) -> None:
    """Another instance may publish a message after the receiver already resumed past it;
    the stream must not yield it a second time."""
    a, b = pair
    alice, bob = uid("alice"), uid("bob")
    await register(a, alice, bob)
    first = await send(a, alice, bob, "first")
    second = await send(a, alice, bob, "second")
    receiver = await connect(b.ws_url, b.token(bob), resumeAfter=second["cursor"])
    op = await receiver.subscribe(NEW_MESSAGE)
    await asyncio.sleep(0.3)
    late = {
        "type": "message",
        "message": {
            "id": first["id"],
            "conversationId": first["conversationId"],
            "kind": "DIRECT",
            "seq": first["seq"],
            "position": decode_cursor(first["cursor"]),
            "senderId": alice,
            "senderName": first["sender"]["name"],
            "receiverId": bob,
            "content": first["content"],
            "timestamp": first["timestamp"],
            "clientMessageId": first["clientMessageId"],
        },
    }
    assert REDIS_URL is not None
    client = redis.Redis.from_url(REDIS_URL)
    try:
        channel = f"{b.env['CHAT_REDIS_PREFIX']}u:{bob}"
        await client.publish(channel, b"another-instance" + orjson.dumps(late))
    finally:
        await client.aclose()
    third = await send(a, alice, bob, "third")
    received = (await receiver.next_data(op))["newMessage"]
    assert received["id"] == third["id"]
    await receiver.expect_nothing(op)
    await receiver.close()


async def test_a_burst_of_sends_waits_for_redis_connections_and_loses_nothing(
    pair: tuple[Server, Server], uid
) -> None:
    """Hundreds of sends at once each check their rate limit in Redis: more than the
    connection pool holds. They wait for a connection; none fails, no publish is dropped
    (which would send every subscriber back to the store), every message arrives once."""
    a, b = pair
    bob = uid("bob")
    senders = [uid(f"s{index}") for index in range(30)]
    await register(a, bob, *senders)
    receiver = await connect(b.ws_url, b.token(bob))
    op = await receiver.subscribe(NEW_MESSAGE)
    await asyncio.sleep(0.3)
    sent = await asyncio.gather(
        *(send(a, sender, bob, f"{sender}-{n}") for sender in senders for n in range(10))
    )
    got = [(await receiver.next_data(op))["newMessage"]["id"] for _ in sent]
    assert sorted(got) == sorted(message["id"] for message in sent)
    for server in (a, b):
        assert "Too many connections" not in server.log()
        assert "redis publish failed" not in server.log()
