"""Per-user token buckets: `rate` per second with bursts of `burst`.

In memory for one process; in Redis when instances share one, so that a user's limit
holds whichever instance serves each request. The Redis bucket is a small Lua script
(atomic, on Redis's clock, keys expiring once the bucket would be full again); the
`limits` package has no token bucket, and a fixed window would allow twice the burst
across a window's edge.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from resolvers.errors import RateLimited
from resolvers.telemetry import Telemetry

if TYPE_CHECKING:
    from broker import RedisClient

log = logging.getLogger("chat.ratelimit")

_MAX_TRACKED = 100_000


class RateLimiter:
    """Token buckets in this process's memory."""

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


# KEYS[1]: the bucket; ARGV: rate per second, burst. Returns the wait in seconds (0: allowed).
_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return tostring(wait)
"""


class RedisRateLimiter(RateLimiter):
    """Token buckets in Redis, shared by every instance; this process's own buckets stand in
    while Redis is unreachable, so that sends go on (limited per instance) during an outage."""

    def __init__(
        self, client: RedisClient, prefix: str, telemetry: Telemetry | None = None
    ) -> None:
        super().__init__(telemetry=telemetry)
        self._prefix = f"{prefix}rate:"
        self._script = client.register_script(_TOKEN_BUCKET)
        self._degraded = False

    async def acquire(self, key: str, rate: float, burst: float) -> float:
        """Take one token from the shared bucket; 0 when allowed, else the wait in seconds."""
        refill_ms = math.ceil(burst / rate * 1000) + 1000
        try:
            wait = await self._script(keys=[self._prefix + key], args=[rate, burst, refill_ms])
        except (RedisError, OSError) as error:
            if not self._degraded:
                log.warning("rate limits held in memory while Redis is unreachable: %s", error)
                self._degraded = True
            return await super().acquire(key, rate, burst)
        if self._degraded:
            log.info("rate limits shared through Redis again")
            self._degraded = False
        return float(wait)
