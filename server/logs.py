"""Logging: plain text by default, one JSON object per line with CHAT_LOG_FORMAT=json.

Every record carries the ids of the WebSocket connection and of the GraphQL operation it
happened in (from context variables, which tasks inherit), so that one connection's or
one request's story can be pulled out of a busy log.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid

import orjson

connection_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "connection_id", default=None
)
operation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "operation_id", default=None
)
user_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def new_id() -> str:
    return uuid.uuid4().hex[:16]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, variable in (
            ("connectionId", connection_id),
            ("operationId", operation_id),
            ("userId", user_id),
        ):
            value = variable.get()
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(log_format: str, level: str = "info") -> None:
    """Root logging for the server, its workers and uvicorn (which propagates to root)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
