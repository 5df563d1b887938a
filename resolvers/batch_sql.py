"""The statements of one write batch, a fixed number whatever the batch holds.

A batch of sends to many conversations used to cost one UPDATE per conversation and an
ORM object per message, each statement a round trip to the database. Here a batch is
one statement to advance every conversation's `last_seq` (two on PostgreSQL, which locks
the rows in id order first so that batches of two instances cannot deadlock), one for the
stream positions and one multi-row INSERT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

_INSERT_COLUMNS = (
    "id, conversation_id, seq, position, sender_id, receiver_id, content,"
    " client_message_id, created_at"
)
_INSERT = {
    "postgres": f"INSERT INTO message ({_INSERT_COLUMNS})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    "sqlite": f"INSERT INTO message ({_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
}
_TAKE_POSITIONS = {
    "postgres": "UPDATE stream_counter SET position = position + $1 WHERE id = 1"
    " RETURNING position",
    "sqlite": "UPDATE stream_counter SET position = position + ? WHERE id = 1 RETURNING position",
}
_LOCK_CONVERSATIONS = (
    "SELECT id FROM conversation WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"
)
_ADVANCE_CONVERSATIONS = (
    "UPDATE conversation AS c SET last_seq = c.last_seq + d.n, last_message_at = $3"
    " FROM unnest($1::bigint[], $2::int[]) AS d(id, n) WHERE c.id = d.id"
    " RETURNING c.id, c.last_seq"
)


def _is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


async def take_seqs(
    connection: BaseDBAsyncClient, counts: Mapping[int, int], now: datetime
) -> dict[int, int]:
    """Advance each conversation's `last_seq` by its count of new messages; returns the
    first seq of each. Takes the write lock of SQLite, and the rows' locks on PostgreSQL."""
    ids = sorted(counts)
    if _is_postgres(connection):
        await connection.execute_query(_LOCK_CONVERSATIONS, [ids])
        rows = await connection.execute_query_dict(
            _ADVANCE_CONVERSATIONS, [ids, [counts[i] for i in ids], now]
        )
    else:
        cases = " ".join("WHEN ? THEN ?" for _ in ids)
        marks = ", ".join("?" for _ in ids)
        rows = await connection.execute_query_dict(
            f"UPDATE conversation SET last_seq = last_seq + (CASE id {cases} END),"
            f" last_message_at = ? WHERE id IN ({marks}) RETURNING id, last_seq",
            [*(value for i in ids for value in (i, counts[i])), now, *ids],
        )
    return {row["id"]: row["last_seq"] - counts[row["id"]] + 1 for row in rows}


async def take_positions(connection: BaseDBAsyncClient, count: int) -> int:
    """The first of `count` consecutive stream positions. The counter row stays locked
    until commit, so positions are handed out in commit order."""
    dialect = "postgres" if _is_postgres(connection) else "sqlite"
    rows = await connection.execute_query_dict(_TAKE_POSITIONS[dialect], [count])
    first: int = rows[0]["position"] - count + 1
    return first


async def insert_messages(connection: BaseDBAsyncClient, rows: Sequence[Sequence[Any]]) -> None:
    """Rows in the order of `_INSERT_COLUMNS`; ids as text, as the ORM stores them."""
    dialect = "postgres" if _is_postgres(connection) else "sqlite"
    await connection.execute_many(_INSERT[dialect], [list(row) for row in rows])
