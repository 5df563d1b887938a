"""The TCP transport under a WebSocket, for the one thing ASGI cannot do: cut a peer off.

A close frame waits behind every byte the peer has not read, so a peer that stopped
reading never receives it and its socket would stay open for good. uvicorn's
websockets-sansio protocol passes the app its own bound `send`, whose `transport` can be
aborted; this middleware keeps that transport in the scope for the WebSocket handlers.
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

_SCOPE_KEY = "chat.transport"


class Abortable(Protocol):
    def abort(self) -> None: ...

    def get_write_buffer_size(self) -> int: ...


class KeepTransport:
    """ASGI middleware: remember the transport of each WebSocket in its scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if hasattr(transport, "abort") and hasattr(transport, "get_write_buffer_size"):
                scope[_SCOPE_KEY] = transport
        await self.app(scope, receive, send)


def transport_of(websocket: WebSocket) -> Abortable | None:
    """The socket's transport, when the server is one whose transport we can reach."""
    transport: Abortable | None = websocket.scope.get(_SCOPE_KEY)
    return transport
