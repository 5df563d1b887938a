"""History and look-ups: Relay paging both ways, page limits, cursors, users, content rules."""

from __future__ import annotations

import base64
from typing import Any

from tests.actions import as_user, register, send, send_many
from tests.clients import Http, connect
from tests.operations import (
    BLOCK,
    CONVERSATIONS,
    HISTORY,
    MARK_READ,
    PRESENCE,
    SEND,
    START_TYPING,
)
from tests.servers import Server


def seqs(page: dict[str, Any]) -> list[int]:
    return [edge["node"]["seq"] for edge in page["messages"]["edges"]]


def page_info(page: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = page["messages"]["pageInfo"]
    return info


async def test_paging_both_ways(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    await send_many(server, alice, bob, 55)
    http = as_user(server, bob)

    newest = await http.data(HISTORY, {"with": alice})
    assert seqs(newest) == list(range(6, 56))  # the newest 50, oldest first
    assert page_info(newest)["hasPreviousPage"] is True
    assert page_info(newest)["hasNextPage"] is False
    edges = newest["messages"]["edges"]
    assert page_info(newest)["startCursor"] == edges[0]["cursor"]
    assert page_info(newest)["endCursor"] == edges[-1]["cursor"]
    assert edges[0]["node"]["sender"]["name"] == "Alice"

    older = await http.data(HISTORY, {"with": alice, "last": 10, "before": edges[0]["cursor"]})
    assert seqs(older) == [1, 2, 3, 4, 5]
    assert page_info(older)["hasPreviousPage"] is False
    assert page_info(older)["hasNextPage"] is True

    # Pages past either end are empty and still know what lies on their other side.
    first_cursor = older["messages"]["edges"][0]["cursor"]
    before_first = await http.data(HISTORY, {"with": alice, "last": 10, "before": first_cursor})
    assert seqs(before_first) == []
    assert page_info(before_first)["hasPreviousPage"] is False
    assert page_info(before_first)["hasNextPage"] is True
    last_cursor = edges[-1]["cursor"]
    after_last = await http.data(HISTORY, {"with": alice, "first": 10, "after": last_cursor})
    assert seqs(after_last) == []
    assert page_info(after_last)["hasPreviousPage"] is True
    assert page_info(after_last)["hasNextPage"] is False

    forward = await http.data(HISTORY, {"with": alice, "first": 20})
    assert seqs(forward) == list(range(1, 21))
    assert page_info(forward)["hasNextPage"] is True
    assert page_info(forward)["hasPreviousPage"] is False
    end = page_info(forward)["endCursor"]
    following = await http.data(HISTORY, {"with": alice, "first": 40, "after": end})
    assert seqs(following) == list(range(21, 56))
    assert page_info(following)["hasPreviousPage"] is True
    assert page_info(following)["hasNextPage"] is False

    # The seed's route pages the same way.
    seed = (await http.get("/messages", user1=alice, user2=bob)).json()
    assert [item["content"] for item in seed] == [f"m{index}" for index in range(5, 55)]

    everything = await http.data(HISTORY, {"with": alice, "first": 200})
    assert seqs(everything) == list(range(1, 56))
    # The sender reads the same conversation.
    assert seqs(await as_user(server, alice).data(HISTORY, {"with": bob, "last": 2})) == [54, 55]


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_PAGING = [
    {"last": 201},
    {"last": -5},
    {"first": 5, "last": 5},
    {"after": "garbage"},
    {"before": "%%%"},
    {"after": cursor_of("m1:")},
    {"before": cursor_of("x1:12")},
    {"after": cursor_of("m1:" + "9" * 30)},
]


async def test_bad_paging_is_bad_user_input(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    http = as_user(server, alice)
    for arguments in BAD_PAGING:
        code = await http.error_code(HISTORY, {"with": bob, **arguments})
        assert code == "BAD_USER_INPUT", arguments


async def test_history_of_an_unknown_user_is_not_found_and_of_a_stranger_empty(
    server: Server, uid
) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    http = as_user(server, alice)
    assert await http.error_code(HISTORY, {"with": "nobody-" + alice}) == "NOT_FOUND"
    # An unknown user is reported before a malformed cursor.
    unknown_and_bad = {"with": "nobody-" + alice, "before": "%%%"}
    assert await http.error_code(HISTORY, unknown_and_bad) == "NOT_FOUND"
    empty = await http.data(HISTORY, {"with": bob})
    assert empty["messages"]["edges"] == []
    assert page_info(empty) == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


async def test_me_user_and_users(server: Server, uid) -> None:
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    await register(server, alice, bob, carol)
    http = as_user(server, alice)
    me = (await http.data("{ me { id name online isBlocked } }"))["me"]
    assert me == {"id": alice, "name": "Alice", "online": False, "isBlocked": False}
    query = "query($id: ID!, $ids: [ID!]!) { user(id: $id) { id } users(ids: $ids) { id name } }"
    data = await http.data(query, {"id": "nobody-" + alice, "ids": [carol, "nobody", bob, alice]})
    assert data["user"] is None
    assert data["users"] == [
        {"id": carol, "name": "Carol"},
        {"id": bob, "name": "Bob"},
        {"id": alice, "name": "Alice"},
    ]


async def test_conversations_newest_activity_first(server: Server, uid) -> None:
    alice, bob, carol, dave = uid("alice"), uid("bob"), uid("carol"), uid("dave")
    await register(server, alice, bob, carol, dave)
    http = as_user(server, alice)
    await send(server, bob, alice, "from bob")
    await send(server, alice, carol, "to carol")
    await send(server, bob, alice, "bob again")
    await http.data(START_TYPING, {"to": dave})  # a conversation row, but no message yet
    listed = (await http.data(CONVERSATIONS))["conversations"]
    assert [c["peer"]["id"] for c in listed] == [bob, carol]
    assert [c["unreadCount"] for c in listed] == [2, 0]
    assert [c["lastMessage"]["content"] for c in listed] == ["bob again", "to carol"]
    assert (await http.data(CONVERSATIONS, {"first": 1}))["conversations"][0]["peer"]["id"] == bob
    read = (await http.data(MARK_READ, {"from": bob}))["markRead"]
    assert read["updatedCount"] == 2 and read["conversation"]["unreadCount"] == 0


REFUSED_CONTENT = [
    "",
    "   ",
    " \n\t ",
    "nul \x00 inside",
    "bell \x07",
    "escape \x1b[31m",
    "c1 \x85",
    "del \x7f",
]


async def test_refused_content_is_bad_user_input_and_not_stored(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    http = as_user(server, alice)
    for content in REFUSED_CONTENT:
        variables = {"to": bob, "content": content, "cid": None}
        assert await http.error_code(SEND, variables) == "BAD_USER_INPUT", content
    assert (await http.data(HISTORY, {"with": bob}))["messages"]["edges"] == []


async def test_length_counts_code_points(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    http = as_user(server, alice)
    longest = "😀" * 4096  # 4096 code points, 8192 UTF-16 units, 16384 bytes
    assert (await send(server, alice, bob, longest))["content"] == longest
    assert (await send(server, alice, bob, "line\nnext\ttab"))["content"] == "line\nnext\ttab"
    too_long = {"to": bob, "content": "😀" * 4097, "cid": None}
    assert await http.error_code(SEND, too_long) == "BAD_USER_INPUT"
    assert seqs(await http.data(HISTORY, {"with": bob})) == [1, 2]


async def test_send_checks_its_receiver(server: Server, uid) -> None:
    alice = uid("alice")
    http = as_user(server, alice)
    unknown = {"to": "nobody-" + alice, "content": "hi", "cid": None}
    assert await http.error_code(SEND, unknown) == "NOT_FOUND"
    assert await http.error_code(SEND, {"to": alice, "content": "hi", "cid": None}) == (
        "BAD_USER_INPUT"
    )
    assert await http.error_code(MARK_READ, {"from": "nobody-" + alice}) == "NOT_FOUND"
    assert await Http(server.http_url).error_code(SEND, unknown) == "UNAUTHENTICATED"


async def test_ids_that_cannot_name_a_user_name_nobody(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    http = as_user(server, alice)
    nul = "nul\x00" + bob
    query = "query($id: ID!, $ids: [ID!]!) { user(id: $id) { id } users(ids: $ids) { id } }"
    data = await http.data(query, {"id": nul, "ids": [nul, bob]})
    assert data == {"user": None, "users": [{"id": bob}]}
    assert await http.error_code(HISTORY, {"with": nul}) == "NOT_FOUND"
    assert await http.error_code(SEND, {"to": nul, "content": "hi", "cid": None}) == "NOT_FOUND"
    assert await http.error_code(MARK_READ, {"from": nul}) == "NOT_FOUND"
    assert await http.error_code(START_TYPING, {"to": nul}) == "NOT_FOUND"
    assert await http.error_code(BLOCK, {"id": nul}) == "NOT_FOUND"
    bad_cid = {"to": bob, "content": "hi", "cid": "c\x00"}
    assert await http.error_code(SEND, bad_cid) == "BAD_USER_INPUT"
    socket = await connect(server.ws_url, server.token(alice))
    op = await socket.subscribe(PRESENCE, {"ids": [nul, bob]})
    assert (await socket.next_data(op))["presence"]["userId"] == bob
    await socket.expect_nothing(op, wait=0.3)
    await socket.close()
