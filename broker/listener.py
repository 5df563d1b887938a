"""One Redis pub/sub connection that keeps a set of channels subscribed across restarts.

redis-py's own PubSub raises from `get_message` while Redis is down and loses whatever
was published meanwhile, so the read loop here is timed (the health check only runs when
a read starts), catches, backs off, opens a fresh connection, subscribes every wanted
channel again and, once Redis has confirmed them all, reports `on_reconnect` so that
subscribers refill the gap from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from broker.background import cancel_and_wait

log = logging.getLogger(__name__)

_READ_TIMEOUT = 1.0
# Messages handled in one go, at most, before the event loop runs other tasks.
_DRAIN_AT_ONCE = 1000
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 2.0
# How long a new subscriber waits for Redis to confirm its channel before reading the store.
_CONFIRM_TIMEOUT = 5.0


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class Listener:
    """Reads one pub/sub connection; `sharded` uses SSUBSCRIBE (a cluster shard's channels)."""

    def __init__(
        self,
        client: Redis,
        *,
        sharded: bool,
        on_message: Callable[[bytes, bytes], None],
        on_reconnect: Callable[[], None],
    ) -> None:
        self._client = client
        self._subscribe = "SSUBSCRIBE" if sharded else "SUBSCRIBE"
        self._unsubscribe = "SUNSUBSCRIBE" if sharded else "UNSUBSCRIBE"
        self._confirmed_kind = "ssubscribe" if sharded else "subscribe"
        self._message_kind = "smessage" if sharded else "message"
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._wanted: dict[bytes, asyncio.Future[None]] = {}
        self._unconfirmed: Counter[bytes] = Counter()
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._resync_pending = False
        self.up = False
        self.reason = "not connected yet"

    @property
    def channels(self) -> set[bytes]:
        return set(self._wanted)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="redis-listener")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self._close()

    async def add(self, channel: bytes) -> None:
        """Want the channel; subscribe now when connected (the loop does it otherwise)."""
        if channel in self._wanted:
            return
        self._wanted[channel] = asyncio.get_running_loop().create_future()
        if self.up:
            await self._send(self._subscribe, channel)

    async def remove(self, channel: bytes) -> None:
        future = self._wanted.pop(channel, None)
        if future is not None and not future.done():
            future.cancel()
        if self.up:
            await self._send(self._unsubscribe, channel)

    async def confirmed(self, channel: bytes) -> None:
        """Wait until Redis has confirmed the channel, so that nothing published after this
        returns is missed; while Redis is down, return at once (the reconnect resyncs)."""
        future = self._wanted.get(channel)
        if future is None or future.done() or not self.up:
            return
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(future), _CONFIRM_TIMEOUT)

    async def _send(self, command: str, channel: bytes) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            await pubsub.execute_command(command, channel)
        except (RedisError, OSError) as error:
            # Drop the connection: the read loop then reconnects, subscribes everything
            # wanted and resyncs, rather than leave this channel silently unsubscribed.
            log.debug("%s failed: %s", command, describe(error))
            if self._pubsub is pubsub:
                self.up = False
                self.reason = f"redis unreachable: {describe(error)}"
                await self._close()
            return
        if command == self._subscribe:
            self._unconfirmed[channel] += 1

    async def _run(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            try:
                if self._pubsub is None:
                    await self._open()
                assert self._pubsub is not None
                message = await self._pubsub.get_message(timeout=_READ_TIMEOUT)
                # What has already arrived is handled before other tasks run again: under
                # load, one message per turn of the event loop let deliveries fall ever
                # further behind the sends.
                for _ in range(_DRAIN_AT_ONCE):
                    if message is None:
                        break
                    self._handle(message)
                    message = await self._pubsub.get_message(timeout=0)
                if message is not None:
                    self._handle(message)
                backoff = _BACKOFF_FIRST
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the loop must outlive any failure of a connection
                if not isinstance(error, RedisError | OSError):
                    log.exception("redis pub/sub read failed")
                elif self.up:
                    log.warning("redis pub/sub connection lost: %s", describe(error))
                self.up = False
                self.reason = f"redis unreachable: {describe(error)}"
                await self._close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)

    async def _open(self) -> None:
        pubsub = self._client.pubsub()
        self._pubsub = pubsub
        self._unconfirmed.clear()
        loop = asyncio.get_running_loop()
        for channel, future in list(self._wanted.items()):
            if future.done():
                self._wanted[channel] = loop.create_future()
        await pubsub.execute_command("PING")
        # Channels may be wanted or dropped while a SUBSCRIBE is on its way: repeat until
        # what was sent matches what is wanted.
        sent: set[bytes] = set()
        while todo := [channel for channel in self._wanted if channel not in sent]:
            await pubsub.execute_command(self._subscribe, *todo)
            self._unconfirmed.update(todo)
            sent.update(todo)
        if stale := [channel for channel in sent if channel not in self._wanted]:
            await pubsub.execute_command(self._unsubscribe, *stale)
        self._resync_pending = True
        if self.reason != "not connected yet":
            log.info("redis pub/sub connection restored")
        self.up = True
        self.reason = "ok"
        self._maybe_resync()

    async def _close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == self._message_kind:
            self._on_message(message["channel"], message["data"])
        elif kind == self._confirmed_kind:
            channel = message["channel"]
            if self._unconfirmed[channel] > 0:
                self._unconfirmed[channel] -= 1
            if self._unconfirmed[channel] <= 0:
                del self._unconfirmed[channel]
                future = self._wanted.get(channel)
                if future is not None and not future.done():
                    future.set_result(None)
            self._maybe_resync()

    def _maybe_resync(self) -> None:
        # Resync only once every channel is confirmed: events from then on arrive live, and
        # everything before is in the store.
        if self._resync_pending and not self._unconfirmed:
            self._resync_pending = False
            self._on_reconnect()
