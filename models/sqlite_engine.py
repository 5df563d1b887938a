"""Tortoise's SQLite client with its statements run on the event loop's thread.

Tortoise reaches SQLite through aiosqlite, which runs every statement on a thread of its
own: a queue, a switch to that thread and a wake-up of the event loop per statement. For
the statements this server issues (reads by key or index, a batch of inserts) that round
trip costs more than the statement, and under load it was a fifth of the server's CPU. Here
each statement runs in place, on the loop's thread.

What could hold the loop for long stays off it. WAL checkpoints copy pages into the
database file and sync it: the serving connection never takes one (`wal_autocheckpoint=0`);
a connection of its own takes them on its own thread, every second. A statement that meets
another process's write lock waits on the loop's thread, but while a server runs only short
commands take that lock (`chat-server token`, `migrate`): a second server is refused.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite
from tortoise.backends.sqlite.client import SqliteClient

from broker.background import cancel_and_wait

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 1.0  # seconds

T = TypeVar("T")


class LoopThreadConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread. Its own thread only
    opens and closes the sqlite3 connection."""

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


class LoopSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self._checkpoints: aiosqlite.Connection | None = None
        self._checkpointing: asyncio.Task[None] | None = None

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        filename = self.filename

        def connect() -> sqlite3.Connection:
            # Opened on aiosqlite's thread, used on the loop's.
            return sqlite3.connect(filename, isolation_level=None, check_same_thread=False)

        self._connection = await LoopThreadConnection(connect, iter_chunk_size=64)
        self._connection._conn.row_factory = sqlite3.Row
        for pragma, value in self.pragmas.items():
            await self._connection.execute(f"PRAGMA {pragma}={value}")
        if await self._in_wal_mode():
            await self._connection.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpoints = await aiosqlite.connect(filename)
            self._checkpointing = asyncio.create_task(
                self._checkpoint_every(CHECKPOINT_INTERVAL), name="sqlite-checkpoints"
            )
        await self._post_connect()

    async def _in_wal_mode(self) -> bool:
        assert self._connection is not None
        [(mode,)] = await self._connection.execute_fetchall("PRAGMA journal_mode")
        return str(mode).lower() == "wal"

    async def _checkpoint_every(self, interval: float) -> None:
        assert self._checkpoints is not None
        while True:
            await asyncio.sleep(interval)
            try:
                # PASSIVE waits for no reader or writer: the serving connection goes on.
                await self._checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:  # the next one copies what this one could not
                log.warning("WAL checkpoint failed", exc_info=True)

    async def close(self) -> None:
        await cancel_and_wait(self._checkpointing)
        self._checkpointing = None
        if self._checkpoints is not None:
            await self._checkpoints.close()
            self._checkpoints = None
        # Closing the last connection checkpoints what is left and removes the WAL.
        await super().close()


client_class = LoopSqliteClient
