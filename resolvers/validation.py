"""Checks on user input that several actions share; each refusal is BAD_USER_INPUT."""

from __future__ import annotations

import re

from resolvers.errors import BadUserInput

# C0 and C1 control characters except tab and newline, and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_content(content: str, max_chars: int) -> str:
    if not content.strip():
        raise BadUserInput("Message content is empty")
    if len(content) > max_chars:
        raise BadUserInput(f"Message content is longer than {max_chars} characters")
    if _CONTROL.search(content):
        raise BadUserInput("Message content contains control characters")
    return content


def check_client_message_id(client_message_id: str | None) -> str | None:
    if client_message_id is None:
        return None
    if not client_message_id or len(client_message_id) > 128:
        raise BadUserInput("clientMessageId must be 1 to 128 characters")
    return client_message_id


def check_list_size(value: int, cap: int, name: str = "first") -> int:
    """List sizes above the cap are capped; negative ones are refused."""
    if value < 0:
        raise BadUserInput(f"{name} must not be negative")
    return min(value, cap)


def check_page_size(value: int | None, maximum: int, name: str) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise BadUserInput(f"{name} must not be negative")
    if value > maximum:
        raise BadUserInput(f"{name} must be at most {maximum}")
    return value


def check_user_id(user_id: str) -> str:
    if not user_id or len(user_id) > 128:
        raise BadUserInput("A user id is 1 to 128 characters")
    return user_id
