"""A lean graphql-transport-ws client for load: one reader task per socket, orjson frames.

Operations are routed by id: a subscription gets a callback for every `next`, a one-shot
operation (query or mutation) a future resolved by its first `next` or `error`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

PROTOCOL = "graphql-transport-ws"

OnNext = Callable[[dict[str, Any]], None]


class OperationFailed(Exception):
    """The server answered an operation with `error`, or with errors and no data."""


class Client:
    def __init__(self, ws: ClientConnection, user_id: str) -> None:
        self.ws = ws
        self.user_id = user_id
        self._ids = itertools.count()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._streams: dict[str, OnNext] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, user_id: str, token: str, timeout: float = 30) -> Client:
        ws = await websockets.connect(
            url,
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            compression=None,
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,
        )
        init = {"type": "connection_init", "payload": {"authToken": token}}
        # Text frames: the protocol refuses binary ones.
        await ws.send(orjson.dumps(init).decode())
        ack = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
        if ack.get("type") != "connection_ack":
            await ws.close()
            raise OperationFailed(f"connection refused: {ack}")
        return cls(ws, user_id)

    async def subscribe(
        self, query: str, on_next: OnNext, variables: dict[str, Any] | None = None
    ) -> str:
        op_id = f"s{next(self._ids)}"
        self._streams[op_id] = on_next
        await self._send(op_id, query, variables)
        return op_id

    async def request(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a query or mutation; OperationFailed on errors."""
        op_id = f"r{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[op_id] = future
        await self._send(op_id, query, variables)
        try:
            return await future
        finally:
            self._pending.pop(op_id, None)

    async def _send(self, op_id: str, query: str, variables: dict[str, Any] | None) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        frame = {"id": op_id, "type": "subscribe", "payload": payload}
        await self.ws.send(orjson.dumps(frame).decode())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = orjson.loads(raw)
                kind = message.get("type")
                op_id = message.get("id")
                if kind == "next":
                    stream = self._streams.get(op_id)
                    if stream is not None:
                        stream(message["payload"])
                        continue
                    future = self._pending.get(op_id)
                    if future is not None and not future.done():
                        payload = message["payload"]
                        if payload.get("errors"):
                            future.set_exception(OperationFailed(str(payload["errors"])))
                        else:
                            future.set_result(payload["data"])
                elif kind == "error":
                    future = self._pending.get(op_id)
                    if future is not None and not future.done():
                        future.set_exception(OperationFailed(str(message.get("payload"))))
                elif kind == "ping":
                    await self.ws.send('{"type":"pong"}')
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(OperationFailed("connection closed"))

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def open_all(
    url: str, users: list[tuple[str, str]], concurrency: int = 50
) -> tuple[list[Client], int]:
    """Open one client per (user id, token), at most `concurrency` handshakes at a time;
    the clients that connected and the number that failed."""
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def one(user_id: str, token: str) -> Client | None:
        nonlocal failures
        async with gate:
            try:
                return await Client.open(url, user_id, token)
            except (OSError, TimeoutError, OperationFailed, websockets.WebSocketException):
                failures += 1
                return None

    opened = await asyncio.gather(*(one(user_id, token) for user_id, token in users))
    return [client for client in opened if client is not None], failures
