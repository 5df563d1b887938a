"""Random, truncated, oversized, wrong-typed, binary and deeply nested frames against a live
server, on both subprotocols: each is answered by the protocol's messages or close codes,
never by a crash, a stack trace or SQL, while a healthy client on another socket keeps
being served throughout."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clients import LEGACY_WS, TRANSPORT_WS, Http, Socket, connect
from tests.operations import NEW_MESSAGE, SEND
from tests.servers import Server

# What a fault may close a socket with: the protocol's codes, 1009 for an oversized frame,
# 1000 for connection_terminate. 1011 (an internal error) is never one of them.
CLOSE_CODES = {1000, 1009, 4400, 4401, 4403, 4408, 4409, 4429}
LEAKS = ("Traceback", 'File "', "sqlite", "asyncpg", "SELECT ", "INSERT ", "tortoise")
FRAME_LIMIT = 16384  # strict_server's CHAT_MAX_WS_FRAME_BYTES
TYPES = [
    "connection_init",
    "ping",
    "pong",
    "subscribe",
    "complete",
    "start",
    "stop",
    "ka",
    "next",
    "data",
    "error",
    "connection_ack",
    "connection_terminate",
    "connection_error",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
queries = st.sampled_from(
    [
        "{ me { id } }",
        "subscription { typing { userId } }",
        "{ me { ",
        "query { nope }",
        "{ " + "me { " * 12 + "}" * 13,
        "{ " + " ".join(f"a{n}: me {{ id }}" for n in range(40)) + " }",
    ]
) | st.text(max_size=60)
payloads = (
    st.fixed_dictionaries(
        {},
        optional={
            "query": queries | json_values,
            "variables": json_values,
            "operationName": st.none() | st.text(max_size=8) | st.integers(),
        },
    )
    | json_values
)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | st.text(max_size=12) | json_values},
    optional={"id": st.text(max_size=6) | json_values, "payload": payloads},
)


def truncated(message: dict[str, Any]) -> st.SearchStrategy[str]:
    text = json.dumps(message)
    return st.integers(0, max(0, len(text) - 1)).map(lambda end: text[:end])


frames = st.one_of(
    messages.map(json.dumps),
    messages.flatmap(truncated),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 3000).map(
        lambda depth: '{"type": "ping", "payload": ' + '{"a": ' * depth + "1" + "}" * (depth + 1)
    ),
    st.just(json.dumps({"type": "ping", "payload": {"pad": "x" * (FRAME_LIMIT + 1)}})),
)


class Healthy:
    """A client on its own socket and event loop, subscribed to its messages, checked after
    every example; the loop lasts the whole test, across examples."""

    def __init__(self, server: Server, user: str) -> None:
        self.server = server
        self.user = user
        self.loop = asyncio.new_event_loop()
        self.count = 0
        self.log_start = len(server.log())
        self.run(self._start())

    def run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self.loop.run_until_complete(coroutine)

    async def _start(self) -> None:
        self.socket = await connect(self.server.ws_url, self.server.token(self.user))
        self.op_id = await self.socket.subscribe(NEW_MESSAGE)

    def token(self) -> str:
        """A token for a user of its own, so that no connection cap is reached."""
        self.count += 1
        return self.server.token(f"{self.user}-fuzzer-{self.count}")

    async def check(self, deliver: bool) -> None:
        probe = await self.socket.subscribe("{ me { id } }")
        assert (await self.socket.next_data(probe)) == {"me": {"id": self.user}}
        if deliver:
            # A fresh sender each time: its send bucket is full.
            http = Http(self.server.http_url, self.token())
            await http.data(SEND, {"to": self.user, "content": f"still served {self.count}"})
            data = await self.socket.next_data(self.op_id)
            assert data["newMessage"]["content"] == f"still served {self.count}"

    def close(self) -> None:
        self.run(self.socket.close())
        self.loop.close()
        new_log = self.server.log()[self.log_start :]
        assert "unexpected error" not in new_log and "websocket failed" not in new_log, new_log


@pytest.fixture
def healthy(strict_server: Server, uid: Any) -> Iterator[Healthy]:
    client = Healthy(strict_server, uid("healthy"))
    yield client
    client.close()


async def answer(server: Server, protocol: str, token: str, frames: list[Any], init: bool) -> None:
    """Send the frames (after connection_init when `init`), then a probe that any state
    answers; check everything that comes back until the probe's answer or a close."""
    socket = await Socket.connect(server.ws_url, protocol)
    transport = protocol == TRANSPORT_WS
    probe = {"type": "ping"} if transport else {"type": "probe", "id": "probe"}
    try:
        if init:
            await socket.send({"type": "connection_init", "payload": {"authToken": token}})
        for frame in frames:
            await socket.ws.send(frame)
        await socket.send(probe)
        async with asyncio.timeout(10):
            while True:
                raw = await socket.ws.recv()
                assert isinstance(raw, str)
                assert not any(leak in raw for leak in LEAKS), raw
                message = json.loads(raw)
                assert isinstance(message, dict) and isinstance(message.get("type"), str)
                if message["type"] == "pong" if transport else message.get("id") == "probe":
                    break
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is None:
            # Closing with 1009 the server also drops the TCP connection; frames the client
            # still sends after it can make its kernel discard that close frame.
            assert any(len(frame) > FRAME_LIMIT for frame in frames), closed
            return
        assert closed.rcvd.code in CLOSE_CODES, closed
        assert not any(leak in closed.rcvd.reason for leak in LEAKS), closed
    finally:
        await socket.close()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    protocol=st.sampled_from([TRANSPORT_WS, LEGACY_WS]),
    init=st.booleans(),
    sent=st.lists(frames, min_size=1, max_size=3),
    deliver=st.integers(0, 4).map(lambda n: n == 0),
)
def test_malformed_frames_get_protocol_answers_and_others_are_served(
    strict_server: Server,
    healthy: Healthy,
    protocol: str,
    init: bool,
    sent: list[Any],
    deliver: bool,
) -> None:
    healthy.run(answer(strict_server, protocol, healthy.token(), sent, init))
    assert strict_server.process.poll() is None, strict_server.log()
    healthy.run(healthy.check(deliver))
