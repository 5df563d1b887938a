"""SQLite serves one process: more workers or a second instance are refused clearly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from tests.servers import Server, free_port, sqlite_url, start_server


def serve(database_url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """Run `chat-server serve` expecting it to refuse at once."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAT_")}
    env.update({"CHAT_DATABASE_URL": database_url, "CHAT_PORT": str(free_port())})
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_workers_without_postgresql_and_redis_are_refused(workdir: str) -> None:
    # PostgreSQL without Redis is refused too; nothing is contacted before refusing.
    for database in (sqlite_url(workdir), "postgres://nobody@127.0.0.1:9/none"):
        result = serve(database, "--workers", "2")
        assert result.returncode == 2
        assert "--workers > 1 needs PostgreSQL" in result.stderr
        assert "Redis" in result.stderr


def test_a_second_instance_on_one_sqlite_file_is_refused(workdir: str) -> None:
    database = sqlite_url(workdir)
    first: Server = start_server(database)
    try:
        second = serve(database)
        assert second.returncode == 2
        assert "another chat-server already serves the SQLite database" in second.stderr
        assert "PostgreSQL" in second.stderr
        assert httpx.get(f"{first.http_url}/readyz", timeout=10).status_code == 200
    finally:
        first.stop(signal.SIGKILL)
    # A killed server leaves no stale lock behind.
    again = start_server(database)
    again.stop()
