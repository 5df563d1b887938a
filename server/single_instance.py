"""SQLite serves one process: a lock file next to the database keeps a second one out.

Two servers on one SQLite file would each believe they hold every connection and every
subscriber (presence, typing and live delivery would silently split), and would fight over
the write lock. The lock is held for the life of the process and released by the kernel
however the process ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from urllib.parse import urlsplit


class AlreadyServed(Exception):
    """Another process already serves this SQLite database."""


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for in-memory databases and other backends."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("sqlite"):
        return None
    path = parts.netloc + parts.path
    if not path or path == ":memory:":
        return None
    return Path(path)


def hold_sqlite_lock(database_url: str) -> int | None:
    """Take the database's lock file for this process's lifetime; its descriptor, or None
    when the database is not a SQLite file."""
    database = sqlite_file(database_url)
    if database is None:
        return None
    lock_path = database.with_name(database.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise AlreadyServed(
            f"another chat-server already serves the SQLite database {database} "
            f"(it holds {lock_path}). SQLite serves one process: to run several instances "
            "use PostgreSQL (CHAT_DATABASE_URL=postgres://...) and Redis "
            "(CHAT_REDIS_URL=redis://...)."
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    return descriptor
