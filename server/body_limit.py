"""HTTP request bodies bounded before any of them is held whole.

Strawberry's view and Starlette read a request's whole body into memory, so without a
bound one client could make the server hold any amount. A body declared (Content-Length)
or found (chunked) to be larger than `limit` bytes is answered 413 with LIMIT_EXCEEDED.
A declared length is trusted, since the HTTP parser delivers no more than it declares; a
chunked body is read up to the limit before the application sees it.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self._limit:
                await self._refuse(send)
                return
            await self._app(scope, receive, send)
            return
        body = await self._read_chunked(receive)
        if body is None:
            await self._refuse(send)
            return
        await self._app(scope, _replay(body, receive), send)

    async def _read_chunked(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit (or the client leaves)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._limit:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _refuse(self, send: Send) -> None:
        message = f"The request body is larger than {self._limit} bytes"
        body = orjson.dumps(
            {"errors": [{"message": message, "extensions": {"code": "LIMIT_EXCEEDED"}}]}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP parser has refused it already
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body read already, then what the client sends next."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
