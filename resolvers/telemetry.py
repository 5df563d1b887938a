"""What the actions report for the operator's view; nothing unless the server plugs in.

The server's Prometheus metrics (server/metrics.py) implement these hooks; resolvers and
the broker call them without knowing about Prometheus.
"""

from __future__ import annotations

import contextlib
from typing import Any


class Telemetry:
    """No-op hooks: the default for tools and tests that need no metrics."""

    def stored(self, count: int, commit_seconds: float) -> None:
        """One transaction committed `count` messages in `commit_seconds`."""

    def delivered(self, latency: float | None) -> None:
        """A message reached a subscriber; `latency` since it was stored, for live ones."""

    def refused(self, limit: str) -> None:
        """A rate limit refused a call (`limit` names it: messages, typing calls)."""

    def broker_event(self, data: dict[str, Any]) -> None:
        """An event arrived from the broker for this process's subscribers."""

    def subscribed(self, kind: str) -> contextlib.AbstractContextManager[object]:
        """For as long as a subscription of this kind (its root field) is live. It is held
        by every live subscription: a small object, not a generator."""
        return contextlib.nullcontext()
