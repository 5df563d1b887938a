"""Authorisation everywhere: every operation tried by someone outside a conversation gets
FORBIDDEN or NOT_FOUND (or only its own data), never the conversation's data; and every
operation without a token gets UNAUTHENTICATED."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.clients import Http, Socket, connect
from tests.operations import (
    CONVERSATIONS,
    HISTORY,
    JOIN_ROOM,
    LEAVE_ROOM,
    MARK_READ,
    MARK_ROOM_READ,
    NEW_MESSAGE,
    RECEIPTS,
    ROOM_EVENTS,
    ROOM_HISTORY,
    ROOMS,
    SEND,
    SEND_ROOM,
    START_ROOM_TYPING,
    START_TYPING,
    STOP_ROOM_TYPING,
    TYPING,
)
from tests.servers import Server

CREATE = "mutation($name: String!) { createRoom(input: {name: $name}) { id } }"
REFUSED = {"FORBIDDEN", "NOT_FOUND"}

# Operations on a room or conversation the caller is not in: refused outright.
ROOM_SCOPED = {
    "roomMessages": ROOM_HISTORY,
    "sendRoomMessage": SEND_ROOM,
    "markRoomRead": MARK_ROOM_READ,
    "startTyping": START_ROOM_TYPING,
    "stopTyping": STOP_ROOM_TYPING,
    "roomEvents": ROOM_EVENTS,
}
# Operations that only ever address the caller's own conversations: they are checked to
# show nothing of others'.
VIEWER_SCOPED = {
    "messages",
    "conversations",
    "rooms",
    "markRead",
    "newMessage",
    "typing",
    "receipts",
    "sendMessage",
}
# Public by the contract (users and rooms are visible to everyone; anyone may join a
# room, leave it again (idempotent), block a user, create a room), or about the caller alone.
PUBLIC = {
    "me",
    "user",
    "users",
    "room",
    "joinRoom",
    "leaveRoom",
    "createRoom",
    "blockUser",
    "unblockUser",
    "presence",
}

ROOT_FIELDS = """
{ q: __type(name: "Query") { fields { name } }
  m: __type(name: "Mutation") { fields { name } }
  s: __type(name: "Subscription") { fields { name } } }
"""


@dataclass
class Scene:
    """Ann and Bob talk directly and in Ann's room; Carol is in neither."""

    ann: Http
    bob: Http
    carol: Http
    ids: dict[str, str]
    room: str


@pytest.fixture(scope="module")
async def scene(server: Server) -> Scene:
    """One scene per backend: the refusals change nothing, and the checks only read."""
    ids = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("ann", "bob", "carol")}
    ann, bob, carol = (Http(server.http_url, server.token(ids[name])) for name in ids)
    for client in (ann, bob, carol):
        await client.data("{ me { id } }")
    room = (await ann.data(CREATE, {"name": "private talk"}))["createRoom"]["id"]
    await ann.data(SEND, {"to": ids["bob"], "content": "secret direct"})
    await ann.data(SEND_ROOM, {"room": room, "content": "secret room"})
    return Scene(ann, bob, carol, ids, room)


async def operation_error(server: Server, token: str, document: str, variables: Any) -> Any:
    """The first error of an operation, over HTTP or (subscriptions) over WebSocket."""
    if not document.lstrip().startswith("subscription"):
        body = await Http(server.http_url, token).execute(document, variables)
        assert not any((body.get("data") or {}).values()), body
        return body["errors"][0]
    socket = await connect(server.ws_url, token)
    op_id = await socket.subscribe(document, variables)
    message = await socket.receive_for(op_id)
    await socket.close()
    assert message["type"] == "error", message
    return message["payload"][0]


async def test_every_operation_is_in_the_sweep(server: Server) -> None:
    data = await Http(server.http_url).data(ROOT_FIELDS)
    names = {field["name"] for root in data.values() for field in root["fields"]}
    assert names == set(ROOM_SCOPED) | VIEWER_SCOPED | PUBLIC


@pytest.mark.parametrize("operation", sorted(ROOM_SCOPED))
async def test_room_operations_by_an_outsider_are_refused(
    server: Server, scene: Scene, operation: str
) -> None:
    variables = {"room": scene.room, "content": "let me in"}
    error = await operation_error(
        server, scene.carol.token or "", ROOM_SCOPED[operation], variables
    )
    assert error["extensions"]["code"] in REFUSED, error
    history = await scene.ann.data(ROOM_HISTORY, {"room": scene.room})
    assert [edge["node"]["content"] for edge in history["roomMessages"]["edges"]] == ["secret room"]


ON_A_ROOM = {**ROOM_SCOPED, "joinRoom": JOIN_ROOM, "leaveRoom": LEAVE_ROOM}


@pytest.mark.parametrize("room", ["no-such-room", "¹", "9" * 30])
@pytest.mark.parametrize("operation", sorted(ON_A_ROOM))
async def test_room_operations_on_an_unknown_room_are_not_found(
    server: Server, scene: Scene, operation: str, room: str
) -> None:
    variables = {"room": room, "content": "hello"}
    error = await operation_error(server, scene.ann.token or "", ON_A_ROOM[operation], variables)
    assert error["extensions"]["code"] in REFUSED, error


async def test_own_conversation_operations_show_an_outsider_nothing_of_others(
    server: Server, scene: Scene
) -> None:
    carol, ids = scene.carol, scene.ids
    listening = await connect(server.ws_url, carol.token or "")
    streams = [await listening.subscribe(document) for document in (NEW_MESSAGE, TYPING, RECEIPTS)]
    await asyncio.sleep(0.3)
    history = await carol.data(HISTORY, {"with": ids["ann"]})
    assert history["messages"]["edges"] == []
    assert (await carol.data(CONVERSATIONS))["conversations"] == []
    assert (await carol.data(ROOMS))["rooms"] == []
    read = await carol.data(MARK_READ, {"from": ids["ann"]})
    assert read["markRead"]["updatedCount"] == 0
    # What happens between Ann and Bob meanwhile reaches none of Carol's streams.
    await scene.ann.data(SEND, {"to": ids["bob"], "content": "more secrets"})
    await scene.ann.data(SEND_ROOM, {"room": scene.room, "content": "room secrets"})
    await scene.ann.data(START_TYPING, {"to": ids["bob"]})
    await scene.bob.data(MARK_READ, {"from": ids["ann"]})
    for op_id in streams:
        await listening.expect_nothing(op_id, wait=0.5)
    await listening.close()
    assert (await scene.bob.data(HISTORY, {"with": ids["ann"]}))["messages"]["edges"]


ANONYMOUS = [
    "{ me { id } }",
    '{ user(id: "x") { id } }',
    '{ users(ids: ["x"]) { id } }',
    '{ messages(withUser: "x") { edges { cursor } } }',
    '{ roomMessages(roomId: "x") { edges { cursor } } }',
    "{ conversations { id } }",
    "{ rooms { id } }",
    '{ room(id: "x") { id } }',
    'mutation { sendMessage(input: {to: "x", content: "hi"}) { id } }',
    'mutation { sendRoomMessage(input: {roomId: "x", content: "hi"}) { id } }',
    'mutation { markRead(input: {from: "x"}) { upToSeq } }',
    'mutation { markRoomRead(input: {roomId: "x"}) { upToSeq } }',
    'mutation { startTyping(input: {to: "x"}) }',
    'mutation { stopTyping(input: {to: "x"}) }',
    'mutation { createRoom(input: {name: "x"}) { id } }',
    'mutation { joinRoom(roomId: "x") { id } }',
    'mutation { leaveRoom(roomId: "x") { id } }',
    'mutation { blockUser(userId: "x") { id } }',
    'mutation { unblockUser(userId: "x") { id } }',
]


async def test_every_query_and_mutation_without_a_token_is_unauthenticated(
    server: Server,
) -> None:
    anonymous = Http(server.http_url)
    for document in ANONYMOUS:
        body = await anonymous.execute(document)
        assert not any((body.get("data") or {}).values()), (document, body)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (document, body)
    covered = {
        document.split("{", 2)[1].split("(")[0].split("{")[0].strip() for document in ANONYMOUS
    }
    assert covered == (set(ROOM_SCOPED) | VIEWER_SCOPED | PUBLIC) - {
        "roomEvents",
        "newMessage",
        "typing",
        "receipts",
        "presence",
    }


async def test_subscriptions_need_an_acknowledged_socket(server: Server) -> None:
    socket = await Socket.connect(server.ws_url)
    await socket.subscribe(NEW_MESSAGE)
    assert (await socket.closed())[0] == 4401
