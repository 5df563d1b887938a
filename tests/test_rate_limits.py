"""Per-user rate limits on sends and typing: bursts over the limit are refused with
RATE_LIMITED and retryAfter, nothing refused is stored, other users are served, and
instances sharing Redis share each user's limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.clients import Http
from tests.conftest import REDIS_URL, STRICT_LIMITS, needs_redis
from tests.operations import HISTORY, SEND, START_TYPING
from tests.servers import Server, redis_prefix, start_server

SEND_RATE = float(STRICT_LIMITS["send_rate"])
SEND_BURST = int(STRICT_LIMITS["send_burst"])
TYPING_RATE = float(STRICT_LIMITS["typing_rate"])
LIMITS = {key: STRICT_LIMITS[key] for key in ("send_rate", "send_burst", "typing_rate")}


@pytest.fixture(scope="module")
def shared(database_factory: Any) -> Iterator[tuple[Server, Server]]:
    """Two instances on one Redis prefix, with the limits. The limits live in Redis alone,
    so each instance keeps its own (quick to start) database here."""
    if not REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    settings = {"redis_url": REDIS_URL, "redis_prefix": redis_prefix(), **LIMITS}
    first = start_server(database_factory("sqlite"), **settings)
    second = start_server(database_factory("sqlite"), **settings)
    yield first, second
    first.stop()
    second.stop()


async def users(server: Server, uid: Any, *names: str) -> list[Http]:
    clients = [Http(server.http_url, server.token(uid(name))) for name in names]
    for client in clients:
        await client.data("{ me { id } }")
    return clients


def allowed_within(started: float, rate: float, burst: float) -> int:
    """The most a bucket can have granted since `started`."""
    return int(burst + (time.monotonic() - started) * rate)


async def test_a_burst_of_sends_over_the_limit_is_refused_and_not_stored(
    strict_server: Server, uid: Any
) -> None:
    ann, bob = await users(strict_server, uid, "ann", "bob")
    started = time.monotonic()
    results = await asyncio.gather(
        *(ann.execute(SEND, {"to": uid("bob"), "content": f"m{n}"}) for n in range(8))
    )
    accepted = [body for body in results if not body.get("errors")]
    refused = [body["errors"][0] for body in results if body.get("errors")]
    assert SEND_BURST <= len(accepted) <= allowed_within(started, SEND_RATE, SEND_BURST)
    assert refused and all(error["extensions"]["code"] == "RATE_LIMITED" for error in refused)
    assert all(0 < error["extensions"]["retryAfter"] <= 1 / SEND_RATE for error in refused)
    history = await bob.data(HISTORY, {"with": uid("ann")})
    assert len(history["messages"]["edges"]) == len(accepted)
    # Everyone else keeps being served: bob's own bucket is full.
    await bob.data(SEND, {"to": uid("ann"), "content": "bob is fine"})


async def test_typing_over_its_rate_is_refused(strict_server: Server, uid: Any) -> None:
    ann, _ = await users(strict_server, uid, "ann", "bob")
    started = time.monotonic()
    results = await asyncio.gather(
        *(ann.execute(START_TYPING, {"to": uid("bob")}) for _ in range(5))
    )
    accepted = [body for body in results if not body.get("errors")]
    codes = {body["errors"][0]["extensions"]["code"] for body in results if body.get("errors")}
    assert 1 <= len(accepted) <= allowed_within(started, TYPING_RATE, 1)
    assert codes == {"RATE_LIMITED"}


@needs_redis
async def test_two_instances_share_each_users_limit(
    shared: tuple[Server, Server], uid: Any
) -> None:
    first, second = shared
    [ann_first, _] = await users(first, uid, "ann", "bob")
    [ann_second, _] = await users(second, uid, "ann", "bob")
    started = time.monotonic()
    accepted = 0
    refused: list[str] = []
    for n in range(2 * SEND_BURST):
        client = ann_first if n % 2 == 0 else ann_second
        body = await client.execute(SEND, {"to": uid("bob"), "content": f"m{n}"})
        if body.get("errors"):
            refused.append(body["errors"][0]["extensions"]["code"])
        else:
            accepted += 1
    # Each instance alone would have let every one of them through.
    assert SEND_BURST <= accepted <= allowed_within(started, SEND_RATE, SEND_BURST)
    assert refused and set(refused) == {"RATE_LIMITED"}
