"""Database configuration, migrations and the small raw-SQL helpers the store needs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

MODELS_MODULE = "models.tables"
MIGRATIONS_MODULE = "models.migrations"
SQLITE_ENGINE = "models.sqlite_engine"
# Any fixed 64-bit key: serialises migrations when several workers start together.
_MIGRATION_LOCK_KEY = 7_311_042_019


def database_url(url: str, pool_size: int) -> str:
    """The Tortoise URL with the settings we rely on filled in when not given."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme.startswith("sqlite"):
        # WAL survives a killed process; NORMAL is durable at each commit under WAL.
        query.setdefault("journal_mode", "WAL")
        query.setdefault("synchronous", "NORMAL")
        query.setdefault("busy_timeout", "5000")
    else:
        query.setdefault("minsize", "1")
        query.setdefault("maxsize", str(pool_size))
    return urlunsplit(parts._replace(query=urlencode(query)))


def tortoise_config(url: str, pool_size: int) -> dict[str, Any]:
    return {
        "connections": {"default": _connection_config(database_url(url, pool_size))},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection_config(url: str) -> str | dict[str, Any]:
    """SQLite through our client (statements on the event loop's thread); others by URL."""
    if not urlsplit(url).scheme.startswith("sqlite"):
        return url
    config = expand_db_url(url)
    config["engine"] = SQLITE_ENGINE
    return config


def connection() -> BaseDBAsyncClient:
    client: BaseDBAsyncClient = connections.get("default")
    return client


def is_postgres() -> bool:
    return connection().capabilities.dialect == "postgres"


def placeholders(count: int, start: int = 1) -> str:
    """Comma-separated parameter markers in the dialect of the connection."""
    if is_postgres():
        return ", ".join(f"${index}" for index in range(start, start + count))
    return ", ".join("?" for _ in range(count))


def marker(index: int) -> str:
    """The parameter marker for the index-th (1-based) value."""
    return f"${index}" if is_postgres() else "?"


def rows_table(count: int, types: Sequence[str], postgres: bool) -> str:
    """A query of `count` rows of parameters, a column per SQL type, for a WITH clause.

    On PostgreSQL it is `unnest` of one array per column, whose text is the same whatever
    the count, so the statement is prepared once; a VALUES list of each length would be a
    statement of its own, prepared (a round trip and a plan) again for each length. SQLite,
    which prepares statements in place, gets a VALUES list."""
    if postgres:
        arrays = ", ".join(f"${j + 1}::{t}[]" for j, t in enumerate(types))
        return f"SELECT * FROM unnest({arrays})"
    row = "(" + ", ".join("?" for _ in types) + ")"
    return "VALUES " + ", ".join(row for _ in range(count))


def rows_parameters(rows: Sequence[Sequence[Any]], width: int, postgres: bool) -> list[Any]:
    """The parameters of `rows_table`: one array per column on PostgreSQL, the values row
    after row on SQLite."""
    if postgres:
        return [[row[j] for row in rows] for j in range(width)]
    return [value for row in rows for value in row]


async def fetch_rows(sql: str, values: Sequence[Any] = ()) -> list[dict[str, Any]]:
    return await connection().execute_query_dict(sql, list(values))


async def fetch_tuples(sql: str, values: Sequence[Any] = ()) -> list[Sequence[Any]]:
    """Rows as the drivers return them, to unpack in column order: no dict per row, for
    the reads of many rows."""
    _, rows = await connection().execute_query(sql, list(values))
    # Annotated as dicts by Tortoise; a list of sqlite3.Row or asyncpg.Record in fact.
    return cast("list[Sequence[Any]]", rows)


def stored_datetime(value: datetime | str) -> datetime:
    """A timestamp column read by raw SQL, as an aware UTC datetime: PostgreSQL returns
    datetimes, SQLite the ISO text it was written as. Tortoise's own conversion does the
    same through a general-purpose parser that costs ten times more."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@contextlib.asynccontextmanager
async def migration_lock(url: str) -> AsyncIterator[None]:
    """On PostgreSQL, hold an advisory lock so that processes starting together migrate one
    at a time. The lock lives on a connection of its own: Tortoise's migrate initialises its
    connections again, which would let a lock taken on the pool go early."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        yield
        return
    import asyncpg  # type: ignore[import-untyped]

    dsn = urlunsplit(parts._replace(scheme="postgresql", query=""))
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
        yield
    finally:
        await connection.close()  # ends the session, which releases the lock


async def migrate(url: str, pool_size: int) -> None:
    """Bring the schema up to date, then close the connections the migration opened."""
    config = tortoise_config(url, pool_size)
    async with migration_lock(url):
        await Tortoise.init(config=config)
        try:
            await run_migrations(config=config)
        finally:
            await Tortoise.close_connections()


# The configuration the `tortoise` command line uses to write new migrations.
TORTOISE_ORM = tortoise_config("sqlite://:memory:", 1)
