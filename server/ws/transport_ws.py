"""The `graphql-transport-ws` subprotocol (the graphql-ws library), rule by rule."""

from __future__ import annotations

import asyncio
from typing import Any

from server.ws import closecodes
from server.ws.connection import Connection, ProtocolError

PROTOCOL = "graphql-transport-ws"


class TransportWsHandler:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.acknowledged = False
        self.init_received = False

    async def serve(self) -> None:
        connection = self.connection
        connection.call_later(connection.settings.connection_init_timeout, self._init_timeout)
        await connection.run(self._receive_loop)

    def _init_timeout(self) -> None:
        if not self.init_received:
            self.connection.close_soon(closecodes.INIT_TIMEOUT, "Connection initialisation timeout")

    async def _receive_loop(self) -> None:
        while True:
            message = await self.connection.receive_json()
            await self._handle(message)

    async def _handle(self, message: dict[str, Any]) -> None:
        connection = self.connection
        kind = message["type"]
        if kind == "connection_init":
            if self.init_received:
                raise ProtocolError(closecodes.TOO_MANY_INIT, "Too many initialisation requests")
            self.init_received = True
            await connection.initialise(message.get("payload"))
            self.acknowledged = True
            connection.send({"type": "connection_ack"})
        elif kind == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if isinstance(message.get("payload"), dict):
                pong["payload"] = message["payload"]
            connection.send(pong)
        elif kind == "pong":
            return
        elif kind == "subscribe":
            if not self.acknowledged:
                raise ProtocolError(closecodes.UNAUTHORIZED, "Unauthorized")
            operation_id = message.get("id")
            payload = message.get("payload")
            if not isinstance(operation_id, str) or not operation_id:
                raise ProtocolError(closecodes.BAD_REQUEST, "Invalid message received")
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                raise ProtocolError(closecodes.BAD_REQUEST, "Invalid message received")
            if operation_id in connection.operations:
                raise ProtocolError(
                    closecodes.SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists"
                )
            connection.start_operation(
                operation_id, payload, self._next, self._error, self._complete
            )
            await asyncio.sleep(0)
        elif kind == "complete":
            operation_id = message.get("id")
            if not isinstance(operation_id, str):
                raise ProtocolError(closecodes.BAD_REQUEST, "Invalid message received")
            connection.stop_operation(operation_id)
        else:
            raise ProtocolError(closecodes.BAD_REQUEST, f"Unknown message type {kind!r}")

    def _next(self, operation_id: str, payload: dict[str, Any]) -> None:
        self.connection.send({"id": operation_id, "type": "next", "payload": payload})

    def _error(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        self.connection.send({"id": operation_id, "type": "error", "payload": errors})

    def _complete(self, operation_id: str) -> None:
        self.connection.send({"id": operation_id, "type": "complete"})
