"""Per-user token buckets: `rate` per second with bursts of `burst`."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from resolvers.errors import RateLimited
from resolvers.telemetry import Telemetry

_MAX_TRACKED = 100_000


class RateLimiter:
    """Token buckets in this process's memory (the Redis limiter shares them between instances)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, telemetry: Telemetry | None = None
    ) -> None:
        self._clock = clock
        self._telemetry = telemetry or Telemetry()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def acquire(self, key: str, rate: float, burst: float) -> float:
        """Take one token; return 0 when allowed, else the seconds until one is available."""
        now = self._clock()
        tokens, stamp = self._buckets.pop(key, (burst, now))
        tokens = min(burst, tokens + (now - stamp) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / rate
        if len(self._buckets) > _MAX_TRACKED:
            self._buckets.popitem(last=False)
        return wait

    async def check(self, key: str, rate: float, burst: float, what: str) -> None:
        """RATE_LIMITED with `retryAfter` when the bucket is empty."""
        wait = await self.acquire(key, rate, burst)
        if wait > 0:
            self._telemetry.refused(what)
            raise RateLimited(f"Too many {what}; retry in {wait:.2f} s", retry_after=wait)
