"""The TCP transport under a WebSocket, for what ASGI cannot do: cut a peer off, let go of
the handshake, and write a text frame without a coroutine per frame.

A close frame waits behind every byte the peer has not read, so a peer that stopped
reading never receives it and its socket would stay open for good. uvicorn's
websockets-sansio protocol passes the app its own bound `send`, whose `transport` can be
aborted; `keep_transport` puts that transport in the scope for the WebSocket handlers.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Protocol

from starlette.types import Scope, Send
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

_SCOPE_KEY = "chat.transport"


class Abortable(Protocol):
    def abort(self) -> None: ...

    def get_write_buffer_size(self) -> int: ...


def keep_transport(scope: Scope, send: Send) -> None:
    """Remember the transport under a WebSocket in its scope, when it can be reached."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if hasattr(transport, "abort") and hasattr(transport, "get_write_buffer_size"):
        scope[_SCOPE_KEY] = transport


def transport_of(websocket: WebSocket) -> Abortable | None:
    """The socket's transport, when the server is one whose transport we can reach."""
    transport: Abortable | None = websocket.scope.get(_SCOPE_KEY)
    return transport


def forget_handshake(websocket: WebSocket) -> None:
    """Drop the handshake's request and response, and the scope's copy of the request
    headers, once the socket is accepted: they would be kept (~4 KiB) for the socket's
    lifetime, and are read only to answer the handshake and check its origin.

    The request's headers are emptied in place: the websockets parser keeps the request in
    a suspended frame of its own, which dropping a reference would not free."""
    scope_headers = websocket.scope.get("headers")
    if isinstance(scope_headers, list):
        scope_headers.clear()
    transport = websocket.scope.get(_SCOPE_KEY)
    protocol = getattr(transport, "get_protocol", lambda: None)()
    if isinstance(protocol, WebSocketsSansIOProtocol) and protocol.handshake_complete:
        for handshake in (protocol.request, protocol.response):
            if handshake is not None:
                handshake.headers.clear()
        protocol.request = None  # type: ignore[assignment]
        protocol.response = None  # type: ignore[assignment]


class FrameWriter:
    """Writes text frames straight onto the socket's transport while it can take them.

    Through ASGI each frame costs a coroutine of uvicorn's, an awaited event and the frame
    objects of the websockets library: under load, more than the rest of delivering an
    event. A server's text frame without extensions is two to ten bytes of header before
    the payload, so it is written here whenever uvicorn would write it at once: the socket
    open, no close frame sent, and the transport not pushing back. Else `write` declines
    and the frame goes through ASGI, which waits for the peer.

    Frames written in one turn of the event loop leave in one send: a mutation's `next`
    and `complete`, or a burst of events, cost the socket one system call, not one each.
    """

    __slots__ = ("_corked", "_protocol")

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol
        self._corked: list[bytes] | None = None

    def write(self, text: str) -> bool:
        protocol = self._protocol
        if (
            protocol.close_sent
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
            or protocol.transport.is_closing()
        ):
            return False
        payload = text.encode()
        if self._corked is None:
            self._corked = []
            asyncio.get_running_loop().call_soon(self._flush)
        self._corked.append(_text_frame_header(len(payload)))
        self._corked.append(payload)
        return True

    def _flush(self) -> None:
        corked, self._corked = self._corked, None
        transport = self._protocol.transport
        if corked and not transport.is_closing():
            transport.write(b"".join(corked))


def frame_writer(websocket: WebSocket) -> FrameWriter | None:
    """A direct writer for this socket, when its server is uvicorn's websockets-sansio
    protocol and no extension (per-message deflate) transforms its frames."""
    transport = websocket.scope.get(_SCOPE_KEY)
    protocol = getattr(transport, "get_protocol", lambda: None)()
    if isinstance(protocol, WebSocketsSansIOProtocol) and not protocol.conn.extensions:
        return FrameWriter(protocol)
    return None


def _text_frame_header(length: int) -> bytes:
    """FIN and the text opcode, then the unmasked payload length (RFC 6455, 5.2)."""
    if length < 126:
        return bytes((0x81, length))
    if length < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, length)
    return struct.pack("!BBQ", 0x81, 127, length)
