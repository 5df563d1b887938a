"""Presence (promise 5): current state first, online while any device is connected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.actions import as_user, register, send
from tests.clients import LEGACY_WS, TRANSPORT_WS, connect
from tests.operations import PRESENCE
from tests.servers import Server

USER = "query($id: ID!) { user(id: $id) { online lastSeenAt } }"


async def test_current_state_first_then_changes(server: Server, uid) -> None:
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    await register(server, bob, carol)
    bobs_phone = await connect(server.ws_url, server.token(bob))
    watcher = await connect(server.ws_url, server.token(alice))
    op = await watcher.subscribe(PRESENCE, {"ids": [carol, "nobody-" + alice, bob]})
    first = [(await watcher.next_data(op))["presence"] for _ in range(2)]
    assert [(event["userId"], event["online"]) for event in first] == [(carol, False), (bob, True)]
    await watcher.expect_nothing(op, wait=0.3)  # unknown users are left out

    await bobs_phone.close()
    offline = (await watcher.next_data(op))["presence"]
    assert offline["userId"] == bob and offline["online"] is False
    seen = datetime.fromisoformat(offline["lastSeenAt"])
    assert abs(datetime.now(UTC) - seen) < timedelta(minutes=1)
    user = (await as_user(server, alice).data(USER, {"id": bob}))["user"]
    assert user["online"] is False and user["lastSeenAt"] is not None
    await watcher.close()


async def test_online_until_the_last_device_disconnects(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    await send(server, alice, bob, "hi")  # now they share a conversation
    watcher = await connect(server.ws_url, server.token(alice))
    op = await watcher.subscribe(PRESENCE)  # by default: everyone alice talks to
    assert (await watcher.next_data(op))["presence"] == {
        "userId": bob,
        "online": False,
        "lastSeenAt": None,
    }
    phone = await connect(server.ws_url, server.token(bob), TRANSPORT_WS)
    assert (await watcher.next_data(op))["presence"]["online"] is True
    laptop = await connect(server.ws_url, server.token(bob), LEGACY_WS)
    await watcher.expect_nothing(op, wait=0.3)  # already online
    await phone.close()
    await watcher.expect_nothing(op, wait=0.5)  # the laptop is still connected
    assert (await as_user(server, alice).data(USER, {"id": bob}))["user"]["online"] is True
    await laptop.close()
    event = (await watcher.next_data(op))["presence"]
    assert event["online"] is False and event["lastSeenAt"] is not None
    await watcher.close()
