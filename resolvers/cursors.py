"""Opaque cursors over the commit-ordered stream position of a message."""

from __future__ import annotations

import base64
import binascii

from resolvers.errors import BadUserInput

_PREFIX = "m1:"
_MAX_POSITION = 2**63 - 1


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The stream position a cursor names; BAD_USER_INPUT when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput("Malformed cursor") from None
    digits = text[len(_PREFIX) :]
    if not text.startswith(_PREFIX) or not digits.isdigit():
        raise BadUserInput("Malformed cursor")
    position = int(digits)
    # Positions are 64-bit in the store: a larger one would fail there, not here.
    if position > _MAX_POSITION:
        raise BadUserInput("Malformed cursor")
    return position
