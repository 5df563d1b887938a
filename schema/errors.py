"""Every GraphQL error leaves with an `extensions.code`; unexpected ones are masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from resolvers.errors import ChatError

log = logging.getLogger("chat.errors")


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, ChatError):
        return original.code
    if original is not None:
        return "INTERNAL_SERVER_ERROR"
    message = error.message
    if "OneOf" in message or "oneOf" in message or "exactly one" in message:
        return "BAD_USER_INPUT"
    if "Document contains more than" in message:
        return "LIMIT_EXCEEDED"
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if "exceeds maximum operation depth" in message or "aliases found" in message:
        return "LIMIT_EXCEEDED"
    if message.startswith("Variable '$") and "got invalid value" in message:
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def format_error(error: GraphQLError) -> dict[str, Any]:
    """The error as clients see it; anything we did not raise on purpose is masked."""
    code = error_code(error)
    original = error.original_error
    if code == "INTERNAL_SERVER_ERROR":
        log.error("unexpected error in %s", error.path, exc_info=original)
        formatted: dict[str, Any] = {"message": "Internal server error"}
        if error.path is not None:
            formatted["path"] = error.path
        formatted["extensions"] = {"code": code}
        return formatted
    formatted = dict(error.formatted)
    extensions = dict(original.extensions) if isinstance(original, ChatError) else {}
    extensions.update({"code": code})
    formatted["extensions"] = extensions
    return formatted


__all__ = ["format_error"]
