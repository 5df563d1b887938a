"""Blocking: per pair, direct only; BLOCKED either way, typing and presence hidden."""

from __future__ import annotations

import asyncio

from tests.actions import as_user, register, send
from tests.clients import connect
from tests.operations import (
    BLOCK,
    HISTORY,
    NEW_MESSAGE,
    PRESENCE,
    SEND,
    START_TYPING,
    TYPING,
    UNBLOCK,
)
from tests.servers import Server

USER = "query($id: ID!) { user(id: $id) { id isBlocked online lastSeenAt } }"


async def test_a_block_refuses_messages_both_ways_until_unblocked(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    await send(server, alice, bob, "before")
    alice_http, bob_http = as_user(server, alice), as_user(server, bob)
    inbox = await connect(server.ws_url, server.token(alice))
    op = await inbox.subscribe(NEW_MESSAGE)

    assert (await alice_http.data(BLOCK, {"id": bob}))["blockUser"] == {
        "id": bob,
        "isBlocked": True,
    }
    assert (await alice_http.data(USER, {"id": bob}))["user"]["isBlocked"] is True
    assert (await bob_http.data(USER, {"id": alice}))["user"]["isBlocked"] is False
    for sender, receiver in ((bob_http, alice), (alice_http, bob)):
        variables = {"to": receiver, "content": "refused", "cid": None}
        assert await sender.error_code(SEND, variables) == "BLOCKED"
    await inbox.expect_nothing(op, wait=0.5)  # nothing delivered
    history = await alice_http.data(HISTORY, {"with": bob})
    assert [e["node"]["content"] for e in history["messages"]["edges"]] == ["before"]

    unblocked = (await alice_http.data(UNBLOCK, {"id": bob}))["unblockUser"]
    assert unblocked == {"id": bob, "isBlocked": False}
    assert (await send(server, bob, alice, "after"))["seq"] == 2
    assert (await inbox.next_data(op))["newMessage"]["content"] == "after"
    await inbox.close()


async def test_the_blocked_users_typing_and_the_blockers_presence_are_hidden(
    server: Server, uid
) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    await send(server, alice, bob, "hi")
    alice_socket = await connect(server.ws_url, server.token(alice))
    typing = await alice_socket.subscribe(TYPING)
    await as_user(server, alice).data(BLOCK, {"id": bob})
    await asyncio.sleep(0.5)

    bob_http = as_user(server, bob)
    assert await bob_http.error_code(START_TYPING, {"to": alice}) == "BLOCKED"
    await alice_socket.expect_nothing(typing, wait=0.5)
    # Alice is online, but bob sees her offline and without a last-seen time.
    assert (await bob_http.data(USER, {"id": alice}))["user"] == {
        "id": alice,
        "isBlocked": False,
        "online": False,
        "lastSeenAt": None,
    }
    bob_socket = await connect(server.ws_url, server.token(bob))
    presence = await bob_socket.subscribe(PRESENCE, {"ids": [alice]})
    assert (await bob_socket.next_data(presence))["presence"] == {
        "userId": alice,
        "online": False,
        "lastSeenAt": None,
    }
    await alice_socket.close()
    await bob_socket.expect_nothing(presence, wait=0.5)
    await bob_socket.close()


async def test_block_checks_its_target(server: Server, uid) -> None:
    alice = uid("alice")
    http = as_user(server, alice)
    assert await http.error_code(BLOCK, {"id": "nobody-" + alice}) == "NOT_FOUND"
    assert await http.error_code(UNBLOCK, {"id": "nobody-" + alice}) == "NOT_FOUND"
    assert await http.error_code(BLOCK, {"id": alice}) == "BAD_USER_INPUT"
