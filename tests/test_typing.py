"""Typing (promise 6): reaches the peer only, never the typist, stops by itself after 5 s."""

from __future__ import annotations

import asyncio
import time

from tests.actions import as_user, register
from tests.clients import LEGACY_WS, connect
from tests.operations import START_TYPING, STOP_TYPING, TYPING
from tests.servers import Server

SETTLE = 0.5  # time for a fresh subscription to be listening


async def test_typing_reaches_the_peer_and_stops_by_itself(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    peer = await connect(server.ws_url, server.token(bob), LEGACY_WS)
    typist = await connect(server.ws_url, server.token(alice))
    peer_op, own_op = await peer.subscribe(TYPING), await typist.subscribe(TYPING)
    await asyncio.sleep(SETTLE)

    assert (await as_user(server, alice).data(START_TYPING, {"to": bob}))["startTyping"] is True
    started = time.monotonic()
    event = (await peer.next_data(peer_op))["typing"]
    assert event["userId"] == alice and event["isTyping"] is True and event["roomId"] is None
    assert event["conversationId"]
    await stop_typing_stops_at_once(server, uid)  # meanwhile
    stopped = (await peer.next_data(peer_op, timeout=15))["typing"]
    assert stopped == {**event, "isTyping": False}
    # It lasted its 5 s (timers only ever fire late, never early).
    assert time.monotonic() - started > 4.5
    await typist.expect_nothing(own_op, wait=0.1)  # never the typist's own
    await peer.close()
    await typist.close()


async def stop_typing_stops_at_once(server: Server, uid) -> None:
    carol, dave = uid("carol"), uid("dave")
    await register(server, carol, dave)
    peer = await connect(server.ws_url, server.token(dave))
    op = await peer.subscribe(TYPING)
    await asyncio.sleep(SETTLE)
    http = as_user(server, carol)
    await http.data(START_TYPING, {"to": dave})
    assert (await peer.next_data(op))["typing"]["isTyping"] is True
    assert (await http.data(STOP_TYPING, {"to": dave}))["stopTyping"] is True
    assert (await peer.next_data(op, timeout=3))["typing"]["isTyping"] is False
    await peer.expect_nothing(op, wait=0.3)
    await peer.close()


async def test_typing_to_an_unknown_user_is_not_found(server: Server, uid) -> None:
    alice = uid("alice")
    http = as_user(server, alice)
    assert await http.error_code(START_TYPING, {"to": "nobody-" + alice}) == "NOT_FOUND"
