"""Prometheus metrics of this process, served at /metrics.

`Metrics` implements the hooks of resolvers/telemetry.py, so the send path, the
subscriptions, the rate limits and the broker report here without knowing Prometheus.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections
from tortoise.log import db_client_logger as _TORTOISE_LOG

from broker import Broker
from resolvers.events import MESSAGE
from resolvers.telemetry import Telemetry
from server.tallies import LoopTallies, Tally

# From a fraction of a millisecond on one machine to seconds behind a slow database.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics(Telemetry):
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        # What every message counts is tallied on the event loop's thread without a lock.
        tallies = LoopTallies(_LATENCY_BUCKETS)
        registry.register(tallies)
        self.db_queries = tallies.counter("chat_db_queries", "Database statements issued")
        self.connections = Gauge(
            "chat_connections", "Live WebSocket connections", registry=registry
        )
        self.broker_up = Gauge(
            "chat_broker_up", "1 while the broker reaches every instance", registry=self.registry
        )
        self.broker_dropped = Gauge(
            "chat_broker_dropped_events",
            "Events not sent to other instances (broker down or behind); refilled from the store",
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "chat_subscriptions",
            "Live subscriptions, by root field",
            ["kind"],
            registry=registry,
        )
        self.messages_stored = tallies.counter(
            "chat_messages_stored", "Messages committed to the database"
        )
        self.deliveries = tallies.counter(
            "chat_deliveries", "Messages written to subscribers (live and replayed)"
        )
        self.delivery_latency = tallies.histogram(
            "chat_delivery_latency_seconds",
            "From a message's commit to its delivery to a live subscriber",
        )
        self.commit_latency = tallies.histogram(
            "chat_db_commit_seconds", "Duration of one group-commit transaction"
        )
        self.broker_lag = tallies.histogram(
            "chat_broker_lag_seconds",
            "From a message's commit to its arrival from the broker at this process",
        )
        self.rate_limited = Counter(
            "chat_rate_limited",
            "Calls refused by a rate limit, by limit",
            ["limit"],
            registry=registry,
        )
        self.write_backlog = Gauge(
            "chat_write_backlog", "Sends waiting for the database", registry=registry
        )

    def watch(self, connections: Callable[[], int], backlog: Callable[[], int]) -> None:
        """Read the live connection count and the write backlog when scraped."""
        self.connections.set_function(connections)
        self.write_backlog.set_function(backlog)

    def watch_broker(self, broker: Broker) -> None:
        self.broker_up.set_function(lambda: float(broker.health()[0]))
        self.broker_dropped.set_function(lambda: float(broker.dropped_events))

    def count_queries(self) -> None:
        """Count every statement Tortoise issues on the open connections."""
        counter = _QueryCounter(self.db_queries)
        for client in connections.all():
            client.log = counter

    def stored(self, count: int, commit_seconds: float) -> None:
        self.messages_stored.inc(count)
        self.commit_latency.observe(commit_seconds)

    def delivered(self, latency: float | None) -> None:
        self.deliveries.inc()
        if latency is not None:
            self.delivery_latency.observe(max(0.0, latency))

    def refused(self, limit: str) -> None:
        self.rate_limited.labels(limit).inc()

    def broker_event(self, data: dict[str, Any]) -> None:
        if data.get("type") == MESSAGE:
            stored_at = datetime.fromisoformat(data["message"]["timestamp"]).timestamp()
            self.broker_lag.observe(max(0.0, time.time() - stored_at))

    def subscribed(self, kind: str) -> contextlib.AbstractContextManager[object]:
        return self.subscriptions.labels(kind).track_inprogress()


class _QueryCounter(logging.Logger):
    """Takes the place of Tortoise's logger on its connections: Tortoise calls `debug` once
    per statement, and counting there costs a call where a handler cost a log record."""

    def __init__(self, counter: Tally) -> None:
        super().__init__(_TORTOISE_LOG.name)
        self._counter = counter

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._counter.inc()
        if _TORTOISE_LOG.isEnabledFor(logging.DEBUG):
            _TORTOISE_LOG.debug(msg, *args, **kwargs)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.chat.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
