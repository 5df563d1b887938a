"""The legacy graphql-ws subprotocol, rule by rule, as subscriptions-transport-ws's
PROTOCOL.md states them (and the close codes API.md adds for faults)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients import LEGACY_WS, Http, Socket, connect
from tests.operations import NEW_MESSAGE, SEND
from tests.servers import Server

ME = "query Me { me { id } }"


async def legacy(server: Server, user: str) -> Socket:
    return await connect(server.ws_url, server.token(user), LEGACY_WS)


async def test_the_subprotocol_is_chosen(strict_server: Server) -> None:
    socket = await Socket.connect(strict_server.ws_url, LEGACY_WS)
    assert socket.ws.subprotocol == LEGACY_WS
    await socket.close()


async def test_connection_init_is_answered_with_ack_then_ka(
    strict_server: Server, uid: Any
) -> None:
    socket = await Socket.connect(strict_server.ws_url, LEGACY_WS)
    await socket.send(
        {"type": "connection_init", "payload": {"authToken": strict_server.token(uid("a"))}}
    )
    assert await socket.receive_raw() == {"type": "connection_ack"}
    assert await socket.receive_raw() == {"type": "ka"}
    await socket.close()


async def test_a_rejected_connection_gets_connection_error_then_close(
    strict_server: Server,
) -> None:
    socket = await Socket.connect(strict_server.ws_url, LEGACY_WS)
    reply = await socket.init({"authToken": "not-a-token"})
    assert reply["type"] == "connection_error" and reply["payload"]["message"]
    assert (await socket.closed())[0] == 4403


@pytest.mark.parametrize("frame", ["not json", "[1]", '{"id": "1"}', b"\x00\x01"])
async def test_an_unparseable_frame_gets_connection_error_and_the_socket_stays(
    strict_server: Server, uid: Any, frame: str | bytes
) -> None:
    socket = await Socket.connect(strict_server.ws_url, LEGACY_WS)
    await socket.ws.send(frame)
    reply = await socket.receive()
    assert reply["type"] == "connection_error" and reply["payload"]["message"]
    ack = await socket.init({"authToken": strict_server.token(uid("a"))})
    assert ack["type"] == "connection_ack"
    await socket.close()


async def test_start_before_init_closes_4401(strict_server: Server) -> None:
    socket = await Socket.connect(strict_server.ws_url, LEGACY_WS)
    await socket.subscribe(ME)
    assert (await socket.closed())[0] == 4401


async def test_a_query_gets_data_then_complete(strict_server: Server, uid: Any) -> None:
    socket = await legacy(strict_server, uid("a"))
    op_id = await socket.subscribe(ME)
    assert await socket.receive_for(op_id) == {
        "type": "data",
        "id": op_id,
        "payload": {"data": {"me": {"id": uid("a")}}},
    }
    assert await socket.receive_for(op_id) == {"type": "complete", "id": op_id}
    await socket.close()


async def test_a_failing_operation_gets_one_error_object_and_no_complete(
    strict_server: Server, uid: Any
) -> None:
    socket = await legacy(strict_server, uid("a"))
    op_id = await socket.subscribe("query { me { nope } }")
    error = await socket.receive_for(op_id)
    assert error["type"] == "error"
    assert error["payload"]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await socket.expect_nothing(op_id)
    await socket.close()


async def test_an_invalid_start_gets_error_and_the_socket_stays(
    strict_server: Server, uid: Any
) -> None:
    socket = await legacy(strict_server, uid("a"))
    await socket.send({"type": "start", "id": "1", "payload": {"query": 5}})
    error = await socket.receive_for("1")
    assert error["type"] == "error" and error["payload"]["message"]
    op_id = await socket.subscribe(ME, op_id="2")
    assert (await socket.receive_for(op_id))["type"] == "data"
    await socket.close()


async def test_stop_ends_the_subscription_with_complete(strict_server: Server, uid: Any) -> None:
    ann, bob = uid("ann"), uid("bob")
    sender = Http(strict_server.http_url, strict_server.token(ann))
    await sender.data("{ me { id } }")
    socket = await legacy(strict_server, bob)
    op_id = await socket.subscribe(NEW_MESSAGE)
    await sender.data(SEND, {"to": bob, "content": "live"})
    assert (await socket.next_data(op_id))["newMessage"]["content"] == "live"
    await socket.stop(op_id)
    assert await socket.receive_for(op_id) == {"type": "complete", "id": op_id}
    await sender.data(SEND, {"to": bob, "content": "after stop"})
    await socket.expect_nothing(op_id, wait=1)
    await socket.close()


async def test_start_with_a_running_id_replaces_that_operation(
    strict_server: Server, uid: Any
) -> None:
    ann, bob = uid("ann"), uid("bob")
    sender = Http(strict_server.http_url, strict_server.token(ann))
    await sender.data("{ me { id } }")
    socket = await legacy(strict_server, bob)
    await socket.subscribe(NEW_MESSAGE, op_id="s")
    await socket.subscribe("subscription { newMessage { content } }", op_id="s")
    await sender.data(SEND, {"to": bob, "content": "once"})
    assert await socket.next_data("s") == {"newMessage": {"content": "once"}}
    await socket.expect_nothing("s", wait=1)
    await socket.close()


async def test_an_unknown_message_type_gets_error_and_the_socket_stays(
    strict_server: Server, uid: Any
) -> None:
    socket = await legacy(strict_server, uid("a"))
    await socket.send({"type": "subscribe", "id": "x"})
    error = await socket.receive_for("x")
    assert error["type"] == "error" and error["payload"]["message"]
    # An id that is not a string (here nested deeper than any encoder goes) is not echoed.
    await socket.ws.send('{"type": "subscribe", "id": ' + "[" * 300 + "]" * 300 + "}")
    assert (await socket.receive())["id"] is None
    op_id = await socket.subscribe(ME)
    assert (await socket.receive_for(op_id))["type"] == "data"
    await socket.close()


async def test_connection_terminate_closes_the_socket(strict_server: Server, uid: Any) -> None:
    socket = await legacy(strict_server, uid("a"))
    await socket.send({"type": "connection_terminate"})
    assert (await socket.closed())[0] == 1000


async def test_no_connection_init_within_the_wait_closes_4408(strict_server: Server) -> None:
    socket = await Socket.connect(strict_server.ws_url, LEGACY_WS)
    assert (await socket.closed())[0] == 4408


async def test_a_second_connection_init_closes_4429(strict_server: Server, uid: Any) -> None:
    socket = await legacy(strict_server, uid("a"))
    await socket.send({"type": "connection_init", "payload": {}})
    assert (await socket.closed())[0] == 4429
