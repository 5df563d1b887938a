"""Every GraphQL error leaves with an `extensions.code`; unexpected ones are masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from resolvers.errors import ChatError

log = logging.getLogger("chat.errors")


# What Strawberry raises for no operation of the given name, or a mutation over GET.
_UNRUNNABLE = (CannotGetOperationTypeError, InvalidOperationTypeError)


# Strawberry's words for a @oneOf input with both or neither field set, or a null one.
_ONE_OF_MARKERS = ("OneOf Input Object", "Value for member field", "' must be non-null.")


def error_code(error: GraphQLError) -> str:
    """The code of an error: from the ChatError behind it (limits, refusals), from its
    class (parse errors), and for graphql-core's validation errors from their wording."""
    original = error.original_error
    if isinstance(original, ChatError):
        return original.code
    if isinstance(original, _UNRUNNABLE):
        return "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, MissingQueryError):
        return "BAD_REQUEST"
    if original is not None:
        return "INTERNAL_SERVER_ERROR"
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    message = error.message
    if any(marker in message for marker in _ONE_OF_MARKERS):
        return "BAD_USER_INPUT"
    if message.startswith("Variable '$") and "got invalid value" in message:
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def request_error_code(refusal: Exception) -> str:
    """The code of an HTTP request Strawberry refused before running it: no query, a body
    that is not JSON, a method or content type it does not take."""
    if isinstance(refusal.__cause__, _UNRUNNABLE):
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_REQUEST"


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
