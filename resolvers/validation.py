"""Checks on user input that several actions share; each refusal is BAD_USER_INPUT."""

from __future__ import annotations

import re
from collections.abc import Iterable

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
    if _CONTROL.search(client_message_id):
        raise BadUserInput("clientMessageId contains control characters")
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


def is_user_id(value: str) -> bool:
    """Whether a string can name a user: 1 to 128 characters, none of them control
    characters (PostgreSQL cannot even compare text holding NUL)."""
    return 0 < len(value) <= 128 and not _CONTROL.search(value)


def user_ids_only(values: Iterable[str]) -> list[str]:
    """The strings that can name a user, once each: the others name nobody."""
    return [value for value in dict.fromkeys(values) if is_user_id(value)]


def check_user_id(user_id: str) -> str:
    if not is_user_id(user_id):
        raise BadUserInput("A user id is 1 to 128 characters, none of them control characters")
    return user_id


def display_name(name: str | None, user_id: str) -> str:
    """A name as shown to others: control characters dropped, at most 200 characters."""
    cleaned = _CONTROL.sub("", name or "").strip()
    return (cleaned or user_id)[:200]
