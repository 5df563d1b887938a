"""Real servers for the tests: `chat-server serve` in its own process on a free port."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt

TEST_SECRET = "test-secret-" + "x" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running `chat-server`; `env` is what it was started with."""

    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    secret: str | None = TEST_SECRET
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def token(self, user_id: str, name: str | None = None, ttl: float = 3600) -> str:
        assert self.secret is not None
        now = int(time.time())
        claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + int(ttl)}
        if name is not None:
            claims["name"] = name
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def restart(self) -> None:
        """Stop the server and start it again: same settings, database, port and log."""
        self.stop()
        self.process = _launch(self.env, self.log_path)
        wait_ready(self.http_url, self.process, self.log_path)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{log_path.read_text(errors='replace')}")


def _launch(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def start_server(
    database_url: str, *, secret: str | None = TEST_SECRET, wait: bool = True, **settings: str
) -> Server:
    """Start `chat-server serve` with these CHAT_* settings (keys without the prefix)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAT_")}
    env.update(
        {
            "CHAT_DATABASE_URL": database_url,
            "CHAT_PORT": str(port),
            "CHAT_LOG_LEVEL": "warning",
            "CHAT_SEND_RATE": "100000",
            "CHAT_SEND_BURST": "100000",
            "CHAT_TYPING_RATE": "1000",
        }
    )
    if secret is not None:
        env["CHAT_JWT_SECRET"] = secret
    env.update({f"CHAT_{key.upper()}": value for key, value in settings.items()})
    log_path = Path(tempfile.mkstemp(prefix="chat-server-", suffix=".log")[1])
    process = _launch(env, log_path)
    server = Server(port=port, env=env, process=process, log_path=log_path, secret=secret)
    if wait:
        wait_ready(server.http_url, process, log_path)
    return server


@contextmanager
def running_server(database_url: str, **settings: str) -> Iterator[Server]:
    server = start_server(database_url, **settings)
    try:
        yield server
    finally:
        server.stop()


def redis_prefix() -> str:
    """A Redis channel and key prefix of its own, so that runs sharing a Redis stay apart."""
    return f"chat-test-{secrets.token_hex(4)}:"


def start_instances(database_url: str, redis_url: str, *instances: dict[str, str]) -> list[Server]:
    """One server per settings dict, all on one database and one Redis under a fresh
    prefix; started together, then waited for."""
    prefix = redis_prefix()
    servers = [
        start_server(database_url, wait=False, redis_url=redis_url, redis_prefix=prefix, **extra)
        for extra in instances
    ]
    for server in servers:
        wait_ready(server.http_url, server.process, server.log_path)
    return servers


def sqlite_url(directory: str) -> str:
    return f"sqlite://{directory}/chat-{uuid.uuid4().hex[:8]}.db"


async def _admin_async(postgres_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _admin(postgres_url: str, statement: str) -> None:
    """Run one statement; in a thread of its own, so that async tests may call it too."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _admin_async(postgres_url, statement)).result()


async def _fetch_async(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        return [tuple(record) for record in await connection.fetch(sql)]
    finally:
        await connection.close()


def run_sql(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run one statement on a server's database, behind its back; the rows it returns."""
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?")[0]
        with sqlite3.connect(path, timeout=30) as connection:
            return list(connection.execute(sql))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _fetch_async(database_url, sql)).result()


def stored_secret(database_url: str) -> str:
    """The JWT secret a server generated and kept in its database."""
    [(value,)] = run_sql(database_url, "SELECT value FROM server_secret WHERE name = 'jwt_secret'")
    return str(value)


def create_postgres_database(postgres_url: str) -> str:
    """A fresh database on the server of `postgres_url`; returns its URL."""
    name = f"chat_test_{secrets.token_hex(4)}"
    _admin(postgres_url, f'CREATE DATABASE "{name}"')
    parts = urlsplit(postgres_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres_database(postgres_url: str, database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
