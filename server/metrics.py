"""Prometheus metrics of this process, served at /metrics."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from broker import Broker


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.db_queries = Counter(
            "chat_db_queries", "Database statements issued", registry=self.registry
        )
        self.connections = Gauge(
            "chat_connections", "Live WebSocket connections", registry=self.registry
        )
        self.broker_up = Gauge(
            "chat_broker_up", "1 while the broker reaches every instance", registry=self.registry
        )
        self.broker_dropped = Gauge(
            "chat_broker_dropped_events",
            "Events not sent to other instances (broker down or behind); refilled from the store",
            registry=self.registry,
        )

    def watch_broker(self, broker: Broker) -> None:
        self.broker_up.set_function(lambda: float(broker.health()[0]))
        self.broker_dropped.set_function(lambda: float(broker.dropped_events))

    def count_queries(self) -> None:
        """Count every statement Tortoise issues (it logs each at DEBUG)."""
        logger = logging.getLogger("tortoise.db_client")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(_CountingHandler(self.db_queries))


class _CountingHandler(logging.Handler):
    def __init__(self, counter: Counter) -> None:
        super().__init__(logging.DEBUG)
        self._counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        self._counter.inc()


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.chat.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
