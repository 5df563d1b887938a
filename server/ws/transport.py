"""The TCP transport under a WebSocket, for what ASGI cannot do: cut a peer off, and let go
of the handshake.

A close frame waits behind every byte the peer has not read, so a peer that stopped
reading never receives it and its socket would stay open for good. uvicorn's
websockets-sansio protocol passes the app its own bound `send`, whose `transport` can be
aborted; `keep_transport` puts that transport in the scope for the WebSocket handlers.
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import Scope, Send
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

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
    """Let uvicorn's protocol drop the handshake's request and response once the socket is
    accepted: it keeps them (their headers, ~4 KiB) for the socket's lifetime, and reads
    them only to answer the handshake."""
    transport = websocket.scope.get(_SCOPE_KEY)
    protocol = getattr(transport, "get_protocol", lambda: None)()
    if isinstance(protocol, WebSocketsSansIOProtocol) and protocol.handshake_complete:
        protocol.request = None  # type: ignore[assignment]
        protocol.response = None  # type: ignore[assignment]
