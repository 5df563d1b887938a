"""`chat-server token` and `migrate`, against servers that keep their secret in the database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.clients import Http, connect
from tests.servers import running_server

CHAT_SERVER = str(Path(sys.executable).parent / "chat-server")


def chat_server(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script with a clean CHAT_* environment; fail on a non-zero exit."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAT_")}
    if database_url is not None:
        env["CHAT_DATABASE_URL"] = database_url
    result = subprocess.run(
        [CHAT_SERVER, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


async def tables_of(backend: str, database_url: str) -> set[str]:
    if backend == "sqlite":
        path = database_url.removeprefix("sqlite://")
        with sqlite3.connect(path) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {str(row[0]) for row in rows}
    connection = await asyncpg.connect(database_url)
    try:
        records = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
    finally:
        await connection.close()
    return {record["tablename"] for record in records}


async def test_migrate_then_token_against_a_server_without_a_configured_secret(
    backend: str, database_factory, uid
) -> None:
    database_url = database_factory(backend)
    assert "up to date" in chat_server("migrate", database_url=database_url).stdout
    tables = await tables_of(backend, database_url)
    assert {"chat_user", "conversation", "participant", "message", "block"} <= tables

    # The server generates the secret and keeps it in the database, where the command
    # line (another process, with no secret configured either) finds it.
    alice = uid("alice")
    with running_server(database_url, secret=None) as server:  # migrates again: repeatable
        result = chat_server("token", alice, "--name", "Alice", database_url=database_url)
        token = result.stdout.strip().splitlines()[-1]
        http = Http(server.http_url, token)
        assert (await http.data("{ me { id name } }"))["me"] == {"id": alice, "name": "Alice"}
        socket = await connect(server.ws_url, token)
        await socket.close()
    with running_server(database_url, secret=None) as restarted:  # the same secret again
        assert (await Http(restarted.http_url, token).data("{ me { id } }"))["me"]["id"] == alice
