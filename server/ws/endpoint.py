"""The WebSocket endpoint at /graphql: origin check, subprotocol choice, dispatch."""

from __future__ import annotations

import logging

from starlette.websockets import WebSocket

from server import logs
from server.state import AppState
from server.ws import closecodes, legacy_ws, transport_ws
from server.ws.connection import Connection
from server.ws.transport import forget_handshake

PROTOCOLS = (transport_ws.PROTOCOL, legacy_ws.PROTOCOL)


def origin_allowed(websocket: WebSocket, allowed: list[str] | None) -> bool:
    origin = websocket.headers.get("origin")
    return origin is None or allowed is None or origin in allowed


log = logging.getLogger("chat.ws")


async def serve_websocket(websocket: WebSocket, state: AppState) -> None:
    if not origin_allowed(websocket, state.settings.origins):
        await websocket.close(code=1008)
        return
    offered = websocket.scope.get("subprotocols", [])
    protocol = next((name for name in PROTOCOLS if name in offered), None)
    if protocol is None:
        await websocket.accept()
        await websocket.close(closecodes.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
        return
    await websocket.accept(subprotocol=protocol)
    forget_handshake(websocket)
    if state.draining:
        await websocket.close(closecodes.GOING_AWAY, "Server shutting down")
        return
    logs.connection_id.set(logs.new_id())
    log.info("connection opened (%s)", protocol)
    connection = Connection(websocket, state)
    handler = (
        transport_ws.TransportWsHandler(connection)
        if protocol == transport_ws.PROTOCOL
        else legacy_ws.LegacyWsHandler(connection)
    )
    try:
        await handler.serve()
    finally:
        log.info("connection closed")
