"""Message ids: UUIDs that sort by the time they were made (version 7, RFC 9562).

A random UUID (version 4) lands on a random page of the primary key's index, so a write
batch of a hundred messages dirties about a hundred index pages, each written out whole at
commit (to SQLite's WAL, or as PostgreSQL's full-page writes). Ids that grow with time all
land at the end of the index: a batch touches a page or two of it.
"""

from __future__ import annotations

import os
import time

_MILLISECONDS = (1 << 48) - 1
_RAND_B = (1 << 62) - 1


def new_message_id() -> str:
    """48 bits of Unix milliseconds, the version and variant, and 74 random bits."""
    random_bits = int.from_bytes(os.urandom(10))
    milliseconds = time.time_ns() // 1_000_000 & _MILLISECONDS
    value = (
        milliseconds << 80
        | 0x7 << 76
        | (random_bits >> 68) << 64  # rand_a: 12 bits
        | 0b10 << 62  # the RFC's variant
        | random_bits & _RAND_B
    )
    # The canonical text, formatted here: through uuid.UUID it took three times as long.
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
