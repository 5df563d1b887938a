"""The moderation hook rewrites or refuses content before it is stored."""

from __future__ import annotations

from typing import Any

from resolvers.moderation import Draft, Refused
from resolvers.wordfilter import WordFilter
from tests.clients import Http, connect
from tests.operations import HISTORY, NEW_MESSAGE, SEND
from tests.servers import Server

CREATE_ROOM = "mutation($name: String!) { createRoom(input: {name: $name}) { id } }"
SEND_ROOM = """
mutation($room: ID!, $content: String!) {
  sendRoomMessage(input: {roomId: $room, content: $content}) { content }
}
"""
ROOM_HISTORY = "query($room: ID!) { roomMessages(roomId: $room) { edges { node { content } } } }"


async def test_a_rewritten_message_is_stored_and_delivered_rewritten(
    strict_server: Server, uid: Any
) -> None:
    ann, bob = uid("ann"), uid("bob")
    sender = Http(strict_server.http_url, strict_server.token(ann))
    await sender.data("{ me { id } }")
    socket = await connect(strict_server.ws_url, strict_server.token(bob))
    op_id = await socket.subscribe(NEW_MESSAGE)
    sent = await sender.data(SEND, {"to": bob, "content": "Darn, the darned DARN"})
    assert sent["sendMessage"]["content"] == "****, the darned ****"
    assert (await socket.next_data(op_id))["newMessage"]["content"] == "****, the darned ****"
    history = await sender.data(HISTORY, {"with": bob})
    assert [edge["node"]["content"] for edge in history["messages"]["edges"]] == [
        "****, the darned ****"
    ]
    await socket.close()


async def test_a_refused_message_is_bad_user_input_with_the_reason_and_not_stored(
    strict_server: Server, uid: Any
) -> None:
    ann, bob = uid("ann"), uid("bob")
    sender = Http(strict_server.http_url, strict_server.token(ann))
    await Http(strict_server.http_url, strict_server.token(bob)).data("{ me { id } }")
    body = await sender.execute(SEND, {"to": bob, "content": "a Forbidden word"})
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "the word 'Forbidden' is not allowed here"
    history = await sender.data(HISTORY, {"with": bob})
    assert history["messages"]["edges"] == []


async def test_room_messages_are_moderated_too(strict_server: Server, uid: Any) -> None:
    member = Http(strict_server.http_url, strict_server.token(uid("ann")))
    room = (await member.data(CREATE_ROOM, {"name": "moderated"}))["createRoom"]["id"]
    code = await member.error_code(SEND_ROOM, {"room": room, "content": "forbidden"})
    assert code == "BAD_USER_INPUT"
    sent = await member.data(SEND_ROOM, {"room": room, "content": "oh darn"})
    assert sent["sendRoomMessage"]["content"] == "oh ****"
    history = await member.data(ROOM_HISTORY, {"room": room})
    assert [edge["node"]["content"] for edge in history["roomMessages"]["edges"]] == ["oh ****"]


def test_the_example_filter_matches_whole_words_in_any_case() -> None:
    masking = WordFilter(["heck", "oh no"], refuse=False)
    assert masking(Draft("ann", "Heck! heckle OH NO")) == "****! heckle *****"
    refusing = WordFilter(["heck"], refuse=True)
    assert refusing(Draft("ann", "heckle")) == "heckle"
    try:
        refusing(Draft("ann", "what the HECK"))
    except Refused as refusal:
        assert refusal.reason == "the word 'HECK' is not allowed here"
    else:
        raise AssertionError("not refused")
    assert WordFilter([], refuse=True)(Draft("ann", "anything")) == "anything"
