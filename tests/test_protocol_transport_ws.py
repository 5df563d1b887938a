"""graphql-transport-ws, rule by rule, as the graphql-ws library's PROTOCOL.md states them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets

from tests.clients import TRANSPORT_WS, Http, Socket, connect
from tests.operations import NEW_MESSAGE, SEND
from tests.servers import Server

ME = "query Me { me { id } }"


async def test_the_subprotocol_is_chosen_and_others_are_refused_with_4406(
    strict_server: Server,
) -> None:
    socket = await Socket.connect(strict_server.ws_url)
    assert socket.ws.subprotocol == TRANSPORT_WS
    await socket.close()
    async with websockets.connect(strict_server.ws_url, subprotocols=["graphql-nope"]) as ws:  # type: ignore[list-item]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_connection_init_is_acknowledged(strict_server: Server, uid: Any) -> None:
    socket = await Socket.connect(strict_server.ws_url)
    ack = await socket.init({"authToken": strict_server.token(uid("ann"))})
    assert ack == {"type": "connection_ack"}
    await socket.close()


async def test_no_connection_init_within_the_wait_closes_4408(strict_server: Server) -> None:
    socket = await Socket.connect(strict_server.ws_url)
    code, reason = await socket.closed(timeout=10)
    assert code == 4408, reason


async def test_a_second_connection_init_closes_4429(strict_server: Server, uid: Any) -> None:
    socket = await connect(strict_server.ws_url, strict_server.token(uid("ann")))
    await socket.send({"type": "connection_init", "payload": {}})
    assert (await socket.closed())[0] == 4429


async def test_a_bad_token_closes_4403(strict_server: Server) -> None:
    socket = await Socket.connect(strict_server.ws_url)
    await socket.send({"type": "connection_init", "payload": {"authToken": "not-a-token"}})
    assert (await socket.closed())[0] == 4403


async def test_subscribe_before_the_ack_closes_4401(strict_server: Server) -> None:
    socket = await Socket.connect(strict_server.ws_url)
    await socket.subscribe(ME)
    assert (await socket.closed())[0] == 4401


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"id": "1"}',
        '{"type": 7}',
        '{"type": "hello"}',
        '{"type": "next", "id": "1", "payload": {}}',
        '{"type": "subscribe", "payload": {"query": "{ me { id } }"}}',
        '{"type": "subscribe", "id": "", "payload": {"query": "{ me { id } }"}}',
        '{"type": "subscribe", "id": "1", "payload": "{ me { id } }"}',
        '{"type": "subscribe", "id": "1", "payload": {"query": 5}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ me { id } }", "variables": []}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ me }", "operationName": 1}}',
        '{"type": "complete"}',
        '{"type": "ping", "payload": "x"}',
        b'{"type": "ping"}',
    ],
)
async def test_an_invalid_message_closes_4400(
    strict_server: Server, uid: Any, frame: str | bytes
) -> None:
    socket = await connect(strict_server.ws_url, strict_server.token(uid("ann")))
    await socket.ws.send(frame)
    assert (await socket.closed())[0] == 4400


async def test_ping_is_answered_with_pong_echoing_its_payload_even_before_init(
    strict_server: Server,
) -> None:
    socket = await Socket.connect(strict_server.ws_url)
    await socket.send({"type": "ping"})
    assert await socket.receive() == {"type": "pong"}
    await socket.send({"type": "ping", "payload": {"at": 1}})
    assert await socket.receive() == {"type": "pong", "payload": {"at": 1}}
    await socket.close()


async def test_a_ping_nested_too_deep_to_echo_gets_a_bare_pong(strict_server: Server) -> None:
    socket = await Socket.connect(strict_server.ws_url)
    await socket.ws.send('{"type": "ping", "payload": ' + '{"a": ' * 300 + "1" + "}" * 301)
    assert await socket.receive() == {"type": "pong"}
    await socket.close()


async def test_a_pong_is_taken_without_an_answer(strict_server: Server, uid: Any) -> None:
    socket = await connect(strict_server.ws_url, strict_server.token(uid("ann")))
    await socket.send({"type": "pong", "payload": {"unsolicited": True}})
    op_id = await socket.subscribe(ME)
    # The next frame is the operation's result: the pong got no answer.
    assert (await socket.receive())["id"] == op_id
    await socket.close()


async def test_a_single_result_operation_sends_next_then_complete(
    strict_server: Server, uid: Any
) -> None:
    socket = await connect(strict_server.ws_url, strict_server.token(uid("ann")))
    op_id = await socket.subscribe(ME)
    first = await socket.receive()
    assert first == {"id": op_id, "type": "next", "payload": {"data": {"me": {"id": uid("ann")}}}}
    assert await socket.receive() == {"id": op_id, "type": "complete"}
    await socket.close()


async def test_an_operation_refused_before_execution_gets_error_and_no_complete(
    strict_server: Server, uid: Any
) -> None:
    socket = await connect(strict_server.ws_url, strict_server.token(uid("ann")))
    op_id = await socket.subscribe("query { me { nope } }")
    error = await socket.receive()
    assert error["type"] == "error" and error["id"] == op_id
    assert isinstance(error["payload"], list)
    assert error["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await socket.expect_nothing(op_id)
    await socket.close()


async def test_a_duplicate_id_of_a_running_subscription_closes_4409(
    strict_server: Server, uid: Any
) -> None:
    socket = await connect(strict_server.ws_url, strict_server.token(uid("ann")))
    await socket.subscribe(NEW_MESSAGE, op_id="same")
    await socket.subscribe(NEW_MESSAGE, op_id="same")
    code, reason = await socket.closed()
    assert code == 4409 and reason == "Subscriber for same already exists"


async def test_complete_from_the_client_stops_the_stream_and_frees_the_id(
    strict_server: Server, uid: Any
) -> None:
    ann, bob = uid("ann"), uid("bob")
    await Http(strict_server.http_url, strict_server.token(ann)).data("{ me { id } }")
    socket = await connect(strict_server.ws_url, strict_server.token(bob))
    op_id = await socket.subscribe(NEW_MESSAGE)
    await socket.stop(op_id)
    sender = Http(strict_server.http_url, strict_server.token(ann))
    await sender.data(SEND, {"to": bob, "content": "after complete"})
    await socket.expect_nothing(op_id, wait=1)
    # The id is free again: the same id may start a new operation.
    await socket.subscribe(NEW_MESSAGE, op_id=op_id)
    await sender.data(SEND, {"to": bob, "content": "again"})
    data = await socket.next_data(op_id)
    assert data["newMessage"]["content"] == "again"
    await socket.close()


async def test_messages_are_json_text_frames_with_type_id_and_payload(
    strict_server: Server, uid: Any
) -> None:
    socket = await connect(strict_server.ws_url, strict_server.token(uid("ann")))
    await socket.send({"id": "x", "type": "subscribe", "payload": {"query": ME}})
    raw = await socket.ws.recv()
    assert isinstance(raw, str)
    assert set(json.loads(raw)) == {"id", "type", "payload"}
    await socket.close()
