"""The `graphql-transport-ws` subprotocol (the graphql-ws library), rule by rule."""

from __future__ import annotations

import asyncio
from typing import Any

from server.ws import closecodes
from server.ws.connection import (
    InvalidMessage,
    ProtocolError,
    encodable,
    payload_fault,
)
from server.ws.handler import ProtocolHandler

PROTOCOL = "graphql-transport-ws"


class TransportWsHandler(ProtocolHandler):
    async def _receive_loop(self) -> None:
        while True:
            message = await self.connection.receive_json()
            await self._handle(message)

    async def _handle(self, message: dict[str, Any]) -> None:
        connection = self.connection
        kind = message["type"]
        if kind == "connection_init":
            self._take_init()
            await connection.initialise(message.get("payload"))
            self.acknowledged = True
            connection.send({"type": "connection_ack"})
        elif kind in ("ping", "pong"):
            payload = message.get("payload")
            if not isinstance(payload, dict | None):
                raise InvalidMessage(f"The {kind} payload must be an object")
            if kind == "ping":
                pong = {"type": "pong", "payload": payload}
                # A payload nested deeper than the encoder goes gets a bare pong.
                connection.send(pong if payload and encodable(pong) else {"type": "pong"})
        elif kind == "subscribe":
            operation_id = _operation_id(message)
            fault = payload_fault(message.get("payload"))
            if fault is not None:
                raise InvalidMessage(fault)
            if not self.acknowledged:
                raise ProtocolError(closecodes.UNAUTHORIZED, "Unauthorized")
            if operation_id in connection.operations:
                raise ProtocolError(
                    closecodes.SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists"
                )
            connection.start_operation(operation_id, message["payload"], self)
            await asyncio.sleep(0)
        elif kind == "complete":
            connection.stop_operation(_operation_id(message))
        else:
            raise InvalidMessage(f"Unexpected message of type {kind!r}")

    def emit(self, operation_id: str, payload: dict[str, Any]) -> None:
        self.connection.send({"id": operation_id, "type": "next", "payload": payload})

    def fail(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        self.connection.send({"id": operation_id, "type": "error", "payload": errors})

    def finish(self, operation_id: str) -> None:
        self.connection.send({"id": operation_id, "type": "complete"})


def _operation_id(message: dict[str, Any]) -> str:
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        raise InvalidMessage(f"A {message['type']} message needs a non-empty string id")
    return operation_id
