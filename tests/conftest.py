"""Fixtures: a real server per database backend, and fresh users for every test."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest

from tests.servers import (
    Server,
    create_postgres_database,
    drop_postgres_database,
    sqlite_url,
    start_server,
    stored_secret,
)

POSTGRES_URL = os.environ.get("POSTGRES_URL")
REDIS_URL = os.environ.get("REDIS_URL")

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="POSTGRES_URL is not set")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set")

# The replay bound of `tight_server`: a resume past it is CURSOR_EXPIRED.
TIGHT_MAX_REPLAY = 5


@pytest.fixture(scope="session")
def workdir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="chat-tests-") as directory:
        yield directory


@pytest.fixture(scope="session")
def database_factory(workdir: str) -> Iterator[object]:
    """Makes fresh databases of a backend; drops the PostgreSQL ones at the end."""
    made: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return sqlite_url(workdir)
        if not POSTGRES_URL:
            pytest.skip("POSTGRES_URL is not set")
        url = create_postgres_database(POSTGRES_URL)
        made.append(url)
        return url

    yield make
    for url in made:
        assert POSTGRES_URL is not None
        drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def server(backend: str, database_factory: object) -> Iterator[Server]:
    """One shared server per backend; tests keep apart by using fresh user ids."""
    make = database_factory
    assert callable(make)
    instance = start_server(make(backend))
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def tight_server(backend: str, database_factory: object) -> Iterator[Server]:
    """A second server per backend with a small replay bound and quick keep-alives, started
    without a configured secret: it generates one and keeps it in its database."""
    make = database_factory
    assert callable(make)
    instance = start_server(
        make(backend),
        secret=None,
        max_replay=str(TIGHT_MAX_REPLAY),
        legacy_keepalive_interval="0.5",
        ws_ping_interval="1",
    )
    instance.secret = stored_secret(instance.env["CHAT_DATABASE_URL"])
    yield instance
    instance.stop()


@pytest.fixture
def uid() -> object:
    """Makes user ids unique to this test."""
    prefix = uuid.uuid4().hex[:8]

    def make(name: str) -> str:
        return f"{name}-{prefix}"

    return make


# Small limits for the protocol, limit and rate tests. Sends and typing refill slowly, so
# that the time a loaded machine takes adds no token to speak of; each test uses fresh
# users, whose buckets start full. Moderation refuses "forbidden" and masks "darn".
STRICT_LIMITS = {
    "connection_init_timeout": "1",
    "max_connections_per_user": "3",
    "max_operations_per_connection": "3",
    "max_ws_frame_bytes": "16384",
    "max_http_body_bytes": "16384",
    "max_message_chars": "200",
    "send_rate": "0.2",
    "send_burst": "3",
    "typing_rate": "0.5",
    "moderation": "tests.hooks:moderation",
}


@pytest.fixture(scope="session")
def strict_server(database_factory: object) -> Iterator[Server]:
    """A server on SQLite with STRICT_LIMITS."""
    make = database_factory
    assert callable(make)
    instance = start_server(make("sqlite"), **STRICT_LIMITS)
    yield instance
    instance.stop()
