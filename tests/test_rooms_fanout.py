"""Fan-out in rooms: a busy room's flood reaches every member's subscription, and members
who ask the same share one execution per message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from tests.actions import db_queries
from tests.clients import Http, Socket, connect
from tests.operations import CREATE_ROOM
from tests.servers import Server, running_server

MEMBERS = 100
SENDS_EACH = 20
# The smallest selections that identify a message: the flood is about delivery, not
# field resolution.
FLOOD_MESSAGES = """
subscription Flood($after: String) { newMessage(after: $after) { id seq roomId } }
"""
FLOOD_SEND = """
mutation FloodSend($room: ID!, $content: String!, $cid: String) {
  sendRoomMessage(input: {roomId: $room, content: $content, clientMessageId: $cid}) {
    id seq clientMessageId cursor
  }
}
"""
# A polite client waits a little before retrying an UNAVAILABLE send.
RETRY_AFTER = 0.5


@dataclass
class Member:
    """One member's socket with its subscription; collects what arrives on it."""

    user_id: str
    socket: Socket
    subscription: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    sending: dict[str, dict[str, Any]] = field(default_factory=dict)
    retries: int = 0
    retrying: set[asyncio.Task[None]] = field(default_factory=set)

    async def send(self, variables: dict[str, Any]) -> None:
        """Start a sendRoomMessage mutation on the socket without waiting for it."""
        op_id = f"send-{len(self.sending)}"
        self.sending[op_id] = variables
        payload = {"query": FLOOD_SEND, "variables": variables}
        await self.socket.send({"id": op_id, "type": "subscribe", "payload": payload})

    async def retry(self, variables: dict[str, Any]) -> None:
        await asyncio.sleep(RETRY_AFTER)
        await self.send(variables)

    async def send_all(self, room_id: str, count: int) -> None:
        for index in range(count):
            content = f"{self.user_id} #{index}"
            await self.send({"room": room_id, "content": content, "cid": content})

    async def collect(self, messages: int, sends: int) -> None:
        """Read frames until `messages` room messages and `sends` send results arrived.

        A send refused with UNAVAILABLE is retried with its clientMessageId, as the API
        tells clients to: it returns the message if the first attempt stored it.
        """
        while len(self.received) < messages or len(self.sent) < sends:
            frame = orjson.loads(await self.socket.ws.recv())
            kind = frame["type"]
            if kind == "next" and frame["id"] == self.subscription:
                self.received.append(frame["payload"]["data"]["newMessage"])
            elif kind == "next":
                payload = frame["payload"]
                assert not payload.get("errors"), payload
                message = payload["data"]["sendRoomMessage"]
                self.sent[message["clientMessageId"]] = message
            elif kind == "error":
                assert frame["payload"][0]["extensions"]["code"] == "UNAVAILABLE", frame
                self.retries += 1
                retry = asyncio.create_task(self.retry(self.sending[frame["id"]]))
                self.retrying.add(retry)
                retry.add_done_callback(self.retrying.discard)
            else:
                assert kind in {"complete", "ping", "pong"}, frame


@pytest.fixture(scope="module")
def flood_server(backend: str, database_factory: object) -> Iterator[Server]:
    """A server whose sends may wait for their commit as long as a flood takes.

    2,000 sends at once queue behind each other and behind their own fan-out; on a shared
    two-core machine the last ones wait longer than the default 10 s send timeout, and a
    test of fan-out should not turn into one of retries.
    """
    make = database_factory
    assert callable(make)
    with running_server(make(backend), send_timeout="120") as instance:
        yield instance


@pytest.mark.timeout(300)
async def test_every_member_of_a_flooded_room_gets_every_message_once_in_seq_order(
    flood_server: Server, uid
) -> None:
    server = flood_server
    user_ids = [uid(f"member{index}") for index in range(MEMBERS)]
    sockets = await asyncio.gather(
        *(connect(server.ws_url, server.token(user_id)) for user_id in user_ids)
    )
    members = [Member(user_id, socket) for user_id, socket in zip(user_ids, sockets, strict=True)]
    try:
        creator = Http(server.http_url, server.token(user_ids[0]))
        room = (await creator.data(CREATE_ROOM, {"name": "flood", "ids": user_ids[1:]}))[
            "createRoom"
        ]
        assert room["participantCount"] == MEMBERS
        # Subscriptions have no acknowledgement. Each starts after a first message, so that
        # one set up late still misses nothing; a second message that every member has
        # received shows that all of them are past their replay and live.
        say = {"room": room["id"], "cid": None}
        first = (await creator.data(FLOOD_SEND, {**say, "content": "first"}))["sendRoomMessage"]
        for member in members:
            member.subscription = await member.socket.subscribe(
                FLOOD_MESSAGES, {"after": first["cursor"]}
            )
        ready = (await creator.data(FLOOD_SEND, {**say, "content": "ready"}))["sendRoomMessage"]
        async with asyncio.timeout(60):
            for member in members:
                assert (await member.socket.next_data(member.subscription, timeout=60))[
                    "newMessage"
                ] == {"id": ready["id"], "seq": 2, "roomId": room["id"]}

        total = MEMBERS * SENDS_EACH
        async with asyncio.timeout(240):
            await asyncio.gather(*(member.send_all(room["id"], SENDS_EACH) for member in members))
            await asyncio.gather(*(member.collect(total, SENDS_EACH) for member in members))

        retries = sum(member.retries for member in members)
        print(f"{total} sends, {retries} retried after UNAVAILABLE")
        stored = {message["seq"]: message["id"] for m in members for message in m.sent.values()}
        assert sorted(stored) == list(range(3, total + 3)), "every send stored once, no gaps"
        for member in members:
            assert [message["seq"] for message in member.received] == sorted(stored)
            assert {message["seq"]: message["id"] for message in member.received} == stored
            assert {message["roomId"] for message in member.received} == {room["id"]}
        # Nothing more arrives: no member gets a message twice after the last one.
        await asyncio.gather(
            *(member.socket.expect_nothing(member.subscription, 0.5) for member in members)
        )
    finally:
        await asyncio.gather(*(member.socket.close() for member in members))


async def test_members_asking_the_same_share_one_execution_per_message(server: Server, uid) -> None:
    user_ids = [uid(f"member{index}") for index in range(10)]
    sockets = [await connect(server.ws_url, server.token(user_id)) for user_id in user_ids]
    creator = Http(server.http_url, server.token(user_ids[0]))
    room_id = (await creator.data(CREATE_ROOM, {"name": "shared", "ids": user_ids[1:]}))[
        "createRoom"
    ]["id"]

    async def send(content: str) -> str:
        variables = {"room": room_id, "content": content, "cid": None}
        cursor: str = (await creator.data(FLOOD_SEND, variables))["sendRoomMessage"]["cursor"]
        return cursor

    async def receive(operations: list[str], content: str) -> None:
        for socket, op in zip(sockets, operations, strict=True):
            assert (await socket.next_data(op))["newMessage"]["content"] == content

    async def queries_to_deliver(selection: str, content: str) -> float:
        """Database statements the server issues to store one message and deliver it to
        every member subscribed with `selection`, once all of them are live."""
        after = await send(f"{content}: before")
        document = f"subscription($after: String) {{ newMessage(after: $after) {selection} }}"
        operations = [await socket.subscribe(document, {"after": after}) for socket in sockets]
        # Each subscription replays from `after` if it is set up late: once every member has
        # had this message, all of them are live and set up.
        await send(f"{content}: warm")
        await receive(operations, f"{content}: warm")
        before = await db_queries(server)
        await send(content)
        await receive(operations, content)
        spent = await db_queries(server) - before
        for socket, op in zip(sockets, operations, strict=True):
            await socket.stop(op)
        return spent

    bare = await queries_to_deliver("{ content }", "bare")
    # The sender is loaded from the store: once for the ten members, not once each.
    nested = await queries_to_deliver("{ content sender { name } }", "nested")
    assert nested - bare <= 2, (bare, nested)
    await asyncio.gather(*(socket.close() for socket in sockets))
