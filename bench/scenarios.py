"""The scenarios as the parent runs them: database, server, load workers, figures.

Each scenario returns one run's figures as a flat dict; bench.__main__ repeats runs and
reports the median and spread.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing as mp
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bench.crew import Crew
from bench.proc import Usage, cores, pin, usage
from bench.seed import seed_history
from resolvers.cursors import encode_cursor
from tests.servers import (
    Server,
    create_postgres_database,
    drop_postgres_database,
    sqlite_url,
    start_server,
)

Figures = dict[str, float]

# The configuration the server runs with: limits raised so that they measure the server,
# not the limits (a load test is many users' traffic from one machine).
SERVER_SETTINGS = {
    "max_operations_per_connection": "1000",
    "write_queue_size": "100000",
    "outbound_buffer_bytes": str(16 * 1024 * 1024),
    "send_timeout": "60",
    "ws_ping_interval": "600",
}


@dataclass(frozen=True)
class Config:
    backend: str  # "sqlite" or "postgres"
    postgres_url: str | None
    redis_url: str | None
    workers: int
    scale: float  # 1.0 is the full scenario; smaller for a quick look
    duration: float  # seconds of each S1/S5 phase
    server_workers: int = 1  # above 1: `serve --workers N`, on PostgreSQL and Redis

    @property
    def server_core(self) -> int | None:
        return 0 if cores() >= 2 else None

    @property
    def client_core(self) -> int | None:
        return 1 if cores() >= 2 else None

    def n(self, full: int, least: int = 2) -> int:
        return max(least, round(full * self.scale))


@contextlib.contextmanager
def database(config: Config) -> Iterator[str]:
    if config.backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="chat-bench-") as directory:
            yield sqlite_url(directory) + "?synchronous=NORMAL"
        return
    if config.postgres_url is None:
        raise Unavailable("PostgreSQL: set POSTGRES_URL")
    url = create_postgres_database(config.postgres_url)
    try:
        yield url
    finally:
        drop_postgres_database(config.postgres_url, url)


class Unavailable(Exception):
    """A scenario that cannot run here, and why."""


@contextlib.contextmanager
def serving(config: Config, url: str, **settings: str) -> Iterator[Server]:
    if config.server_workers > 1:
        if config.backend != "postgres" or config.redis_url is None:
            raise Unavailable("several workers need PostgreSQL and REDIS_URL")
        settings = {
            "workers": str(config.server_workers),
            "redis_url": config.redis_url,
            "redis_prefix": f"bench-{os.getpid()}-{time.time_ns()}:",
            **settings,
        }
    server = start_server(url, **{**SERVER_SETTINGS, **settings})
    try:
        if config.server_core is not None:
            pin(server.process.pid, config.server_core)
        yield server
    finally:
        server.stop()


def wait_idle(pid: int, timeout: float = 120, below: float = 0.05) -> None:
    """Wait until the server uses less than `below` of a core (subscriptions set up)."""
    deadline = time.monotonic() + timeout
    last = usage(pid).cpu
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = usage(pid).cpu
        if (now - last) / 0.5 < below:
            return
        last = now


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[index::parts] for index in range(parts) if items[index::parts]]


def _cpu_us(before: Usage, after: Usage, count: int) -> float:
    return (after.cpu - before.cpu) / count * 1e6 if count else math.nan


def _ensure_users(server: Server, user_ids: list[str]) -> None:
    """Create users the way a client does: their first authenticated request."""
    with httpx.Client(base_url=server.http_url, timeout=30) as http:
        for user_id in user_ids:
            response = http.post(
                "/graphql",
                json={"query": "{ me { id } }"},
                headers={"Authorization": f"Bearer {server.token(user_id, user_id)}"},
            )
            response.raise_for_status()


# -- S1 and S5 --------------------------------------------------------------------------------


def direct_chat(config: Config, servers: list[Server], pairs: int, duration: float) -> Figures:
    """Pairs chat as fast as sendMessage returns, then at half that rate; with two servers
    the two ends of each pair sit on different instances."""
    users = []
    for pair in range(pairs):
        a, b = f"s1a{pair}", f"s1b{pair}"
        home_a, home_b = servers[0], servers[-1]
        users.append({"id": a, "peer": b, "token": home_a.token(a, a), "url": home_a.ws_url})
        users.append({"id": b, "peer": a, "token": home_b.token(b, b), "url": home_b.ws_url})
    # Both ends of a pair go to the same worker: they share one clock and one inbox table.
    by_pair = [users[i : i + 2] for i in range(0, len(users), 2)]
    groups = _split(by_pair, config.workers)
    specs = [
        {
            "users": [user for pair in group for user in pair],
            "all_users": len(users),
            "duration": duration,
            "max_per_user": 1_000_000,
            # Where this worker's paced sends fall between another worker's.
            "offset": index / len(groups),
        }
        for index, group in enumerate(groups)
    ]
    pids = [server.process.pid for server in servers]
    figures: Figures = {}
    with Crew("bench.loads:direct_pairs", specs, config.client_core) as crew:
        crew.gather("ready", 300)
        for phase, label in ((0, ""), (1, "half_")):
            for pid in pids:
                wait_idle(pid)
            before = [usage(pid) for pid in pids]
            crew.release(phase, figures.get("msgs_per_s", 0.0) / 2 if phase else 0.0)
            done = crew.gather(f"done{phase}", duration + 120)
            after = [usage(pid) for pid in pids]
            acked = sum(d["acked"] for d in done)
            elapsed = max(d["elapsed"] for d in done)
            latencies = [x for d in done for x in d["latencies"]]
            loop_lags = [x for d in done for x in d["loop_lags"]]
            cpu = sum(a.cpu - b.cpu for a, b in zip(after, before, strict=True))
            figures |= {
                f"{label}msgs_per_s": acked / elapsed,
                f"{label}p50_ms": percentile(latencies, 0.5) * 1e3,
                f"{label}p99_ms": percentile(latencies, 0.99) * 1e3,
                f"{label}cpu_us_per_msg": cpu / acked * 1e6 if acked else math.nan,
                # The load workers share one core: near 1, they and not the server set the pace.
                f"{label}client_cpu_share": sum(d["cpu"] / d["elapsed"] for d in done),
                f"{label}client_lag_p99_ms": percentile(loop_lags, 0.99) * 1e3,
                f"{label}lost": sum(d["lost"] for d in done),
                f"{label}out_of_order": sum(d["out_of_order"] for d in done),
                f"{label}errors": sum(d["errors"] + d["closed"] for d in done),
            }
    return figures


def s1(config: Config) -> Figures:
    with database(config) as url, serving(config, url) as server:
        return direct_chat(config, [server], config.n(500), config.duration)


def s5(config: Config) -> Figures:
    if config.postgres_url is None or config.redis_url is None:
        raise Unavailable("needs POSTGRES_URL and REDIS_URL")
    prefix = f"bench-{os.getpid()}-{time.time_ns()}:"
    settings = {"redis_url": config.redis_url, "redis_prefix": prefix}
    with database(config) as url:
        try:
            first = serving(config, url, **settings)
            one = first.__enter__()
        except RuntimeError as error:
            raise Unavailable(
                f"the server does not start with Redis: {_last_line(error)}"
            ) from None
        try:
            with serving(config, url, **settings) as two:
                return direct_chat(config, [one, two], config.n(500), config.duration)
        finally:
            first.__exit__(None, None, None)


def _last_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1][:160] if lines else "unknown"


# -- S2 -------------------------------------------------------------------------------------


def s2(config: Config) -> Figures:
    members = [f"s2m{index}" for index in range(config.n(100))]
    count = config.n(100)
    with database(config) as url, serving(config, url) as server:
        _ensure_users(server, members)
        with httpx.Client(base_url=server.http_url, timeout=30) as http:
            response = http.post(
                "/graphql",
                json={
                    "query": "mutation($ids: [ID!]) { createRoom(input: "
                    '{name: "flood", participantIds: $ids}) { id } }',
                    "variables": {"ids": members[1:]},
                },
                headers={"Authorization": f"Bearer {server.token(members[0])}"},
            )
            room = response.json()["data"]["createRoom"]["id"]
        users = [{"id": m, "token": server.token(m, m)} for m in members]
        specs = [
            {
                "users": group,
                "url": server.ws_url,
                "room": room,
                "members": len(members),
                "count": count,
                "drain_timeout": 300,
            }
            for group in _split(users, config.workers)
        ]
        with Crew("bench.loads:room_flood", specs, config.client_core) as crew:
            crew.gather("ready", 120)
            wait_idle(server.process.pid)
            before = usage(server.process.pid)
            crew.release(0)
            done = crew.gather("done0", 400)
            after = usage(server.process.pid)
    expected = sum(d["expected_from_others"] for d in done)
    deliveries = sum(d["deliveries"] for d in done)
    start = min(d["start"] for d in done)
    drain = max(d["last_at"] for d in done) - start
    latencies = [x for d in done for x in d["latencies"]]
    return {
        "deliveries_per_s": deliveries / drain if drain > 0 else math.nan,
        "drain_s": drain,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "cpu_us_per_delivery": _cpu_us(before, after, deliveries),
        "lost": expected - deliveries,
        "out_of_order": sum(d["out_of_order"] for d in done),
        "errors": sum(d["errors"] + d["closed"] for d in done),
    }


# -- S3 -------------------------------------------------------------------------------------


def s3(config: Config, target: int) -> Figures:
    users = [f"s3u{index}" for index in range(target)]
    with database(config) as url, serving(config, url) as server:
        pid = server.process.pid
        wait_idle(pid)
        baseline = usage(pid)
        specs = [
            {
                "users": [{"id": u, "token": server.token(u, u)} for u in group],
                "url": server.ws_url,
                "drain_timeout": 120,
            }
            for group in _split(users, config.workers)
        ]
        sender = [{"url": server.ws_url, "id": "s3sender", "token": server.token("s3sender")}]
        with Crew("bench.loads:idle_scale", specs, config.client_core) as idle:
            ready = idle.gather("ready", 1800)
            connected = [user for r in ready for user in r["connected"]]
            wait_idle(pid)
            held = usage(pid)
            sender[0]["targets"] = connected
            with Crew("bench.loads:send_to_each", sender, config.client_core) as send:
                send.gather("ready", 60)
                before = usage(pid)
                send.release(0)
                idle.release(0)
                sent = send.gather("done0", 600)[0]
                done = idle.gather("done0", 600)
                after = usage(pid)
            idle.release(1)
    reached = sum(d["reached"] for d in done)
    latencies = [x for d in done for x in d["latencies"]]
    return {
        "connections": len(connected),
        "kib_per_connection": (held.rss - baseline.rss) / max(1, len(connected)) / 1024,
        "server_rss_mib": held.rss / 2**20,
        "reached": reached,
        "fan_out_s": sent["elapsed"],
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        # Each is a first message: its conversation is created on the way.
        "cpu_us_per_message": _cpu_us(before, after, reached),
        "errors": sent["errors"] + sum(d["closed"] for d in done),
    }


# -- S4 -------------------------------------------------------------------------------------


def _seed(url: str, peers: list[str], total: int) -> None:
    asyncio.run(seed_history(url, "s4viewer", peers, total))


def _seed_in_own_process(url: str, peers: list[str], total: int) -> None:
    # Tortoise keeps per-process state of the first backend it opened: seeding SQLite and
    # then PostgreSQL from one process would send SQLite's placeholders to PostgreSQL.
    process = mp.get_context("spawn").Process(target=_seed, args=(url, peers, total))
    process.start()
    process.join(1800)
    if process.exitcode != 0:
        process.kill()
        raise RuntimeError(f"seeding the history failed (exit code {process.exitcode})")


def s4(config: Config, total: int) -> Figures:
    peers = [f"s4p{index}" for index in range(100)]
    per_peer = total // len(peers)
    first_full = 51 * len(peers)  # every conversation has a full page before this position
    step = max(1, (per_peer * len(peers) - first_full) // 1000)
    cursors = [encode_cursor(p) for p in range(first_full, per_peer * len(peers), step)]
    with database(config) as url:
        started = time.monotonic()
        _seed_in_own_process(url, peers, total)
        seeded = time.monotonic() - started
        with serving(config, url) as server:
            spec = {
                "url": server.ws_url,
                "id": "s4viewer",
                "token": server.token("s4viewer"),
                "peers": peers,
                "cursors": cursors,
                "warmup": 200,
                "requests": 3000,
                "duration": 30,
            }
            with Crew("bench.loads:history_pages", [spec], config.client_core) as crew:
                crew.gather("ready", 60)
                wait_idle(server.process.pid)
                before = usage(server.process.pid)
                crew.release(0)
                done = crew.gather("done0", 120)[0]
                after = usage(server.process.pid)
    latencies = done["latencies"]
    return {
        "messages": per_peer * len(peers),
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "cpu_us_per_page": _cpu_us(before, after, len(latencies)),
        "errors": done["errors"],
        "seed_s": seeded,
    }
