"""`chat-server token` and `migrate`, and the JWT secret generated once and kept with the data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.clients import Http, connect
from tests.servers import Server, run_sql, stored_secret

CHAT_SERVER = str(Path(sys.executable).parent / "chat-server")


def chat_server(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """Run the console script with no CHAT_* setting but the database; fail on an error."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAT_")}
    env["CHAT_DATABASE_URL"] = database_url
    result = subprocess.run(
        [CHAT_SERVER, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def tables_of(database_url: str) -> set[str]:
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if database_url.startswith("sqlite://")
        else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
    return {str(row[0]) for row in run_sql(database_url, sql)}


def test_migrate_creates_the_schema(backend: str, database_factory) -> None:
    database_url = database_factory(backend)
    assert "up to date" in chat_server("migrate", database_url=database_url).stdout
    expected = {"chat_user", "conversation", "participant", "message", "block", "server_secret"}
    assert expected <= tables_of(database_url)


async def test_token_against_a_server_without_a_configured_secret(
    tight_server: Server, uid
) -> None:
    """The server generated the secret at start; the command line, another process with no
    secret configured either, finds it in the database."""
    alice = uid("alice")
    database_url = tight_server.env["CHAT_DATABASE_URL"]
    result = chat_server("token", alice, "--name", "Alice", database_url=database_url)
    token = result.stdout.strip().splitlines()[-1]
    http = Http(tight_server.http_url, token)
    assert (await http.data("{ me { id name } }"))["me"] == {"id": alice, "name": "Alice"}
    socket = await connect(tight_server.ws_url, token)
    await socket.close()


async def test_the_generated_secret_survives_a_restart(tight_server: Server, uid) -> None:
    database_url = tight_server.env["CHAT_DATABASE_URL"]
    alice = uid("alice")
    token = tight_server.token(alice, "Alice")  # signed with the secret the server keeps
    tight_server.restart()
    assert stored_secret(database_url) == tight_server.secret
    http = Http(tight_server.http_url, token)
    assert (await http.data("{ me { id } }"))["me"]["id"] == alice
