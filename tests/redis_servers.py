"""Redis servers of a test's own (Debian's redis-server on free loopback ports), for tests
that stop or restart Redis or need a cluster; the machine's shared Redis is never touched."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.servers import free_port


def require_redis_server() -> None:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.fail("redis-server and redis-cli are needed (Debian package redis-server)")


@dataclass
class RedisServer:
    """One redis-server process; `restart` brings it back on the same port."""

    port: int
    directory: Path
    options: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / f"redis-{self.port}.log"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--cluster-config-file",
                f"nodes-{self.port}.conf",
                *self.options,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 20
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None:
                        log_text = self.log_path.read_text()
                        raise RuntimeError(f"redis-server exited: {log_text}") from None
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Kill it, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


def _start_on_a_free_port(directory: Path, options: list[str], attempts: int = 3) -> RedisServer:
    # Another process may take the port between our probe and redis-server's bind.
    failures = []
    for _ in range(attempts):
        server = RedisServer(_port_for(options), directory, options)
        try:
            server.start()
        except RuntimeError as error:
            failures.append(str(error))
            continue
        return server
    raise RuntimeError("\n".join(failures))


def _port_for(options: list[str]) -> int:
    """A free port; a cluster node also needs its bus port (port + 10000) to exist."""
    while True:
        port = free_port()
        if "--cluster-enabled" not in options or port + 10_000 <= 65_535:
            return port


@contextmanager
def redis_servers(count: int, *options: str) -> Iterator[list[RedisServer]]:
    """`count` redis-server processes on free ports, killed and removed at the end."""
    require_redis_server()
    with tempfile.TemporaryDirectory(prefix="chat-redis-") as directory:
        servers: list[RedisServer] = []
        try:
            for _ in range(count):
                servers.append(_start_on_a_free_port(Path(directory), list(options)))
            yield servers
        finally:
            for server in servers:
                server.stop()
