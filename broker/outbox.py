"""The publishing side of the Redis broker: a bounded queue sent in pipelined batches.

Publishing never waits for Redis: events queue here and one task sends whatever has
accumulated in a single round trip, in order. While Redis is down, or when the queue
overflows, events are dropped rather than held; the store has them, and once a batch gets
through again the outbox sends a resync so that every instance refills from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from redis.exceptions import RedisError

from broker.background import cancel_and_wait
from broker.listener import describe

log = logging.getLogger(__name__)

Batch = Sequence[tuple[bytes, bytes]]

_BATCH_MAX = 500
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 2.0


class Outbox:
    """Sends (channel, payload) pairs with `send`; `resync` is queued after a loss."""

    def __init__(
        self,
        send: Callable[[Batch], Awaitable[None]],
        resync: tuple[bytes, bytes],
        maxsize: int,
    ) -> None:
        self._send = send
        self._resync = resync
        self._maxsize = maxsize
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lost = False
        self.up = True
        self.reason = "ok"
        self.dropped = 0

    def put(self, channel: bytes, payload: bytes) -> None:
        if not self.up:
            self._lose(1)
            return
        if len(self._queue) >= self._maxsize:
            self._queue.popleft()
            self._lose(1)
        self._queue.append((channel, payload))
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="redis-outbox")

    async def stop(self) -> None:
        """Stop, then try once (briefly) to send what is still queued."""
        if self._task is None:
            return
        await cancel_and_wait(self._task)
        self._task = None
        if self._queue and self.up:
            with contextlib.suppress(TimeoutError, RedisError, OSError):
                await asyncio.wait_for(self._send(list(self._queue)), 2)
            self._queue.clear()

    def _lose(self, count: int) -> None:
        self.dropped += count
        self._lost = True
        self._wakeup.set()

    async def _run(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue or self._lost:
                count = min(len(self._queue), _BATCH_MAX)
                batch = [self._queue[index] for index in range(count)]
                if self._lost:
                    batch.append(self._resync)
                try:
                    await self._send(batch)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the loop must outlive any failure to send
                    if not isinstance(error, RedisError | OSError):
                        log.exception("redis publish failed")
                    self._fail(error)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _BACKOFF_MAX)
                    # Retry with only the resync: what came meanwhile was dropped.
                    continue
                for _ in range(count):
                    self._queue.popleft()
                self._lost = False
                if not self.up:
                    log.info("redis publishing works again")
                self.up = True
                self.reason = "ok"
                backoff = _BACKOFF_FIRST

    def _fail(self, error: BaseException) -> None:
        if self.reason == "ok":
            log.warning("redis publish failed: %s", describe(error))
        self.reason = f"redis publish failed: {describe(error)}"
        self.up = False
        self._lose(len(self._queue))
        self._queue.clear()
