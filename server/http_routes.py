"""Plain HTTP routes: the seed's history route and the health checks."""

from __future__ import annotations

import time
from importlib.metadata import version
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models.db import fetch_rows
from resolvers.conversations import find_direct, read_points
from resolvers.cursors import encode_cursor
from resolvers.errors import BadUserInput, ChatError, Forbidden
from resolvers.history import direct_history
from server.auth import bearer
from server.state import AppState

_VERSION = version("chat-server")


def _error(error: ChatError) -> JSONResponse:
    return JSONResponse({"code": error.code, "message": error.message}, error.http_status)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.chat
    return state


async def history(request: Request) -> Response:
    """GET /messages?user1=&user2=: a direct conversation's history, oldest first."""
    state = _state(request)
    try:
        viewer, _ = await state.authenticate(bearer(request.headers.get("authorization")))
        user1 = request.query_params.get("user1")
        user2 = request.query_params.get("user2")
        if not user1 or not user2:
            raise BadUserInput("user1 and user2 are required")
        if viewer.id not in (user1, user2):
            raise Forbidden("You may only read your own conversations")
        other = user2 if viewer.id == user1 else user1
        limit_text = request.query_params.get("limit")
        if limit_text is not None and not limit_text.lstrip("-").isdigit():
            raise BadUserInput("limit must be a number")
        page = await direct_history(
            state.services,
            viewer,
            other,
            last=int(limit_text) if limit_text is not None else None,
            before=request.query_params.get("before"),
        )
    except ChatError as error:
        return _error(error)
    conversation = await find_direct(viewer.id, other) if page.messages else None
    points = (await read_points([conversation.id])).get(conversation.id, {}) if conversation else {}
    body: list[dict[str, Any]] = [
        {
            "id": message.id,
            "from": message.sender_id,
            "to": message.receiver_id,
            "content": message.content,
            "timestamp": message.timestamp.isoformat(),
            "isRead": message.seq <= points.get(message.receiver_id or "", (0, 0))[0],
            "cursor": encode_cursor(message.position),
        }
        for message in page.messages
    ]
    return JSONResponse(body)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and the broker reaches every instance; with detail
    (backends, database round trip, write backlog, live connections) for the operator."""
    state = _state(request)
    settings = state.settings
    checks: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        await fetch_rows("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as error:  # any failure means not ready
        checks["database"] = {"ok": False, "reason": f"{type(error).__name__}: {error}"}
    checks["database"]["backend"] = "sqlite" if settings.is_sqlite else "postgres"
    checks["database"]["latencyMs"] = round((time.perf_counter() - started) * 1000, 2)
    broker_ok, reason = state.services.broker.health()
    checks["broker"] = {
        "ok": broker_ok,
        "reason": reason,
        "backend": "redis" if settings.redis_url else "memory",
    }
    writer = state.services.writer
    checks["writer"] = {
        "backlog": writer.backlog,
        "capacity": settings.write_queue_size,
        "lastCommitMs": round(writer.last_commit_seconds * 1000, 2),
    }
    checks["writeBacklog"] = writer.backlog
    ready = all(check.get("ok", True) for check in checks.values() if isinstance(check, dict))
    body = {
        "ready": ready,
        "checks": checks,
        "connections": len(state.connections),
        "version": _VERSION,
    }
    return JSONResponse(body, 200 if ready else 503)
