"""The legacy `graphql-ws` subprotocol of subscriptions-transport-ws."""

from __future__ import annotations

from typing import Any

from server.ws import closecodes
from server.ws.connection import InvalidMessage, ProtocolError, payload_fault
from server.ws.handler import ProtocolHandler

PROTOCOL = "graphql-ws"


class LegacyWsHandler(ProtocolHandler):
    def _keep_alive(self) -> None:
        connection = self.connection
        connection.send({"type": "ka"})
        connection.call_later(connection.settings.legacy_keepalive_interval, self._keep_alive)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.connection.receive_json()
            except InvalidMessage as error:
                # The protocol answers a frame it cannot parse and keeps the socket open.
                self.connection.send(
                    {"type": "connection_error", "payload": {"message": error.reason}}
                )
                continue
            await self._handle(message)

    async def _handle(self, message: dict[str, Any]) -> None:
        connection = self.connection
        kind = message["type"]
        if kind == "connection_init":
            self._take_init()
            try:
                await connection.initialise(message.get("payload"))
            except ProtocolError as error:
                connection.send({"type": "connection_error", "payload": {"message": error.reason}})
                raise
            self.acknowledged = True
            connection.send({"type": "connection_ack"})
            self._keep_alive()
        elif kind == "start":
            if not self.acknowledged:
                raise ProtocolError(closecodes.UNAUTHORIZED, "Unauthorized")
            operation_id = message.get("id")
            payload = message.get("payload")
            fault = "start needs a string id" if not isinstance(operation_id, str) else None
            fault = fault or payload_fault(payload)
            if fault is not None:
                connection.send(
                    {"type": "error", "id": _echo_id(message), "payload": {"message": fault}}
                )
                return
            assert isinstance(operation_id, str) and isinstance(payload, dict)
            # A start for a running id replaces it, as subscriptions-transport-ws does.
            connection.stop_operation(operation_id)
            connection.start_operation(operation_id, payload, self)
        elif kind == "stop":
            operation_id = message.get("id")
            if isinstance(operation_id, str) and connection.stop_operation(operation_id):
                self.finish(operation_id)
        elif kind == "connection_terminate":
            await connection.close(1000, "Terminated")
        else:
            connection.send(
                {
                    "type": "error",
                    "id": _echo_id(message),
                    "payload": {"message": "Invalid message type"},
                }
            )

    def emit(self, operation_id: str, payload: dict[str, Any]) -> None:
        self.connection.send({"type": "data", "id": operation_id, "payload": payload})

    def fail(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        # The protocol's error payload is one error object, not a list.
        self.connection.send({"type": "error", "id": operation_id, "payload": errors[0]})

    def finish(self, operation_id: str) -> None:
        self.connection.send({"type": "complete", "id": operation_id})


def _echo_id(message: dict[str, Any]) -> str | None:
    """The id to answer a message with: ids are strings, anything else is not echoed."""
    operation_id = message.get("id")
    return operation_id if isinstance(operation_id, str) else None
