"""Resume (promise 4): replay then live with no gap and no duplicate, across reconnects."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.actions import register, send, send_many
from tests.clients import LEGACY_WS, TRANSPORT_WS, Socket, connect
from tests.conftest import TIGHT_MAX_REPLAY
from tests.operations import NEW_MESSAGE
from tests.servers import Server


async def receive_messages(socket: Socket, op: str, count: int) -> list[dict[str, Any]]:
    return [(await socket.next_data(op, timeout=20))["newMessage"] for _ in range(count)]


async def error_codes(socket: Socket, op: str) -> list[str]:
    message = await socket.receive_for(op)
    assert message["type"] == "error", message
    return [error["extensions"]["code"] for error in message["payload"]]


async def test_replay_then_live_while_the_sender_keeps_sending(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    before = await send_many(server, alice, bob, 6)
    switching = asyncio.Event()

    async def keep_sending() -> None:
        for index in range(6, 20):
            await send(server, alice, bob, f"m{index}")
            if index == 7:
                switching.set()

    sender = asyncio.create_task(keep_sending())
    await switching.wait()
    socket = await connect(server.ws_url, server.token(bob))
    op = await socket.subscribe(NEW_MESSAGE, {"after": before[2]["cursor"]})
    await sender
    received = await receive_messages(socket, op, 17)
    assert [m["seq"] for m in received] == list(range(4, 21))
    assert [m["content"] for m in received] == [f"m{index}" for index in range(3, 20)]
    await socket.expect_nothing(op)
    await socket.close()


async def test_resume_after_in_connection_init_survives_reconnects(server: Server, uid) -> None:
    """What graphql-ws, Apollo and urql do: the subscription's variables stay as they were,
    connectionParams are re-evaluated on every attempt with the newest cursor."""
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    [first] = await send_many(server, alice, bob, 1)
    original_variables = {"after": first["cursor"]}
    newest = first["cursor"]
    expected_seq = 2
    for attempt, protocol in enumerate([TRANSPORT_WS, LEGACY_WS]):
        # Sent while the client is away.
        for index in range(3):
            await send(server, alice, bob, f"away {attempt}.{index}")
        socket = await connect(server.ws_url, server.token(bob), protocol, resumeAfter=newest)
        op = await socket.subscribe(NEW_MESSAGE, original_variables)
        await asyncio.sleep(0.3)
        # Sent while it is connected.
        for index in range(2):
            await send(server, alice, bob, f"live {attempt}.{index}")
        received = await receive_messages(socket, op, 5)
        assert [m["seq"] for m in received] == list(range(expected_seq, expected_seq + 5))
        await socket.expect_nothing(op, wait=0.3)
        await socket.close()
        newest = received[-1]["cursor"]
        expected_seq += 5


@pytest.mark.parametrize("later", ["after", "resumeAfter"])
async def test_the_later_of_after_and_resume_after_wins(server: Server, uid, later: str) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    sent = await send_many(server, alice, bob, 8)
    early, late = sent[2]["cursor"], sent[5]["cursor"]
    resume_after, after = (early, late) if later == "after" else (late, early)
    socket = await connect(server.ws_url, server.token(bob), resumeAfter=resume_after)
    op = await socket.subscribe(NEW_MESSAGE, {"after": after})
    assert [m["seq"] for m in await receive_messages(socket, op, 2)] == [7, 8]
    await socket.expect_nothing(op, wait=0.3)
    await socket.close()


async def test_malformed_resume_after_closes_with_4400(server: Server, uid) -> None:
    token = server.token(uid("bob"))
    for resume_after in ("not a cursor", 42, "bTE6LTE"):
        socket = await Socket.connect(server.ws_url, TRANSPORT_WS)
        await socket.send(
            {
                "type": "connection_init",
                "payload": {"authToken": token, "resumeAfter": resume_after},
            }
        )
        assert (await socket.closed())[0] == 4400, resume_after
    legacy = await Socket.connect(server.ws_url, LEGACY_WS)
    answer = await legacy.init({"authToken": token, "resumeAfter": "not a cursor"})
    assert answer["type"] == "connection_error"
    assert (await legacy.closed())[0] == 4400


async def test_malformed_after_is_bad_user_input(server: Server, uid) -> None:
    socket = await connect(server.ws_url, server.token(uid("bob")))
    for after in ("not a cursor", "", "bTE6eA", "bTE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5"):
        op = await socket.subscribe(NEW_MESSAGE, {"after": after})
        assert await error_codes(socket, op) == ["BAD_USER_INPUT"], after
    await socket.close()


async def test_a_replay_past_the_bound_is_cursor_expired(tight_server: Server, uid) -> None:
    server = tight_server
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    sent = await send_many(server, alice, bob, TIGHT_MAX_REPLAY + 3)
    socket = await connect(server.ws_url, server.token(bob))
    too_old = await socket.subscribe(NEW_MESSAGE, {"after": sent[1]["cursor"]})
    assert await error_codes(socket, too_old) == ["CURSOR_EXPIRED"]
    at_bound = await socket.subscribe(NEW_MESSAGE, {"after": sent[2]["cursor"]})
    received = await receive_messages(socket, at_bound, TIGHT_MAX_REPLAY)
    assert [m["seq"] for m in received] == list(range(4, TIGHT_MAX_REPLAY + 4))
    await socket.close()
    # The same bound applies to a resume through connection_init.
    socket = await connect(server.ws_url, server.token(bob), resumeAfter=sent[0]["cursor"])
    assert await error_codes(socket, await socket.subscribe(NEW_MESSAGE)) == ["CURSOR_EXPIRED"]
    await socket.close()
