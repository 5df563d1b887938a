"""The broker interface and the local fan-out that every backend shares."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

# The type of the event a broker hands every local subscription after it may have lost
# events (Redis was unreachable): subscribers that must not miss anything refill from the
# store, the source of truth.
RESYNC = "resync"


class Envelope:
    """One received event, shared by every local subscriber it fans out to.

    `memo` caches work derived from the event (its GraphQL object, encoded payloads), so
    that it is done once per process rather than once per subscriber.
    """

    __slots__ = ("channel", "data", "memo")

    def __init__(self, channel: str, data: dict[str, Any]) -> None:
        self.channel = channel
        self.data = data
        self.memo: dict[Any, Any] = {}


class Subscription:
    """A bounded queue of envelopes for one consumer, over a set of channels that may change.

    When the consumer falls behind by more than `maxsize` envelopes the oldest are dropped
    and `dropped` counts them; consumers that must not lose events refill from the store.
    """

    def __init__(self, broker: Broker, maxsize: int) -> None:
        self._broker = broker
        self._queue: deque[Envelope] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self.channels: set[str] = set()
        self.dropped = 0

    def push(self, envelope: Envelope) -> None:
        if len(self._queue) >= self._maxsize:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(envelope)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def add(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels.add(channel)
            await self._broker._attach(channel, self)

    async def remove(self, channel: str) -> None:
        if channel in self.channels:
            self.channels.discard(channel)
            await self._broker._detach(channel, self)

    def take_dropped(self) -> int:
        dropped, self.dropped = self.dropped, 0
        return dropped

    async def get(self) -> Envelope:
        while not self._queue:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def get_nowait(self) -> Envelope | None:
        return self._queue.popleft() if self._queue else None

    def __aiter__(self) -> AsyncIterator[Envelope]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Envelope]:
        while True:
            yield await self.get()


class Broker(ABC):
    """Publish plain JSON-ready dicts on named channels; subscribe with a context manager."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._local: dict[str, set[Subscription]] = {}
        self._queue_size = queue_size
        # Called with each event that arrives for local subscribers (metrics watch lag).
        self.observers: list[Callable[[dict[str, Any]], None]] = []

    @abstractmethod
    async def publish(self, channel: str, data: dict[str, Any]) -> None:
        """Send an event to every subscriber of the channel, on every instance."""

    async def start(self) -> None:
        """Open the broker connection."""

    async def stop(self) -> None:
        """Close the broker connection."""

    def health(self) -> tuple[bool, str]:
        """Whether the broker reaches every instance, and why not."""
        return True, "ok"

    @property
    def dropped_events(self) -> int:
        """Events that could not be sent to the other instances."""
        return 0

    @contextlib.asynccontextmanager
    async def subscribe(self, channels: Iterable[str] = ()) -> AsyncIterator[Subscription]:
        subscription = Subscription(self, self._queue_size)
        try:
            for channel in channels:
                await subscription.add(channel)
            yield subscription
        finally:
            for channel in list(subscription.channels):
                await subscription.remove(channel)

    def deliver_local(self, channel: str, data: dict[str, Any]) -> None:
        """Fan an event out to this process's subscribers of the channel."""
        subscribers = self._local.get(channel)
        if not subscribers:
            return
        for observe in self.observers:
            observe(data)
        envelope = Envelope(channel, data)
        for subscription in subscribers:
            subscription.push(envelope)

    def resync_local(self) -> None:
        """Tell every local subscription that events may have been lost."""
        envelope = Envelope("", {"type": RESYNC})
        everyone = {s for subscribers in self._local.values() for s in subscribers}
        for subscription in everyone:
            subscription.push(envelope)

    def local_subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._local.values())

    async def _attach(self, channel: str, subscription: Subscription) -> None:
        subscribers = self._local.setdefault(channel, set())
        subscribers.add(subscription)
        if len(subscribers) == 1:
            await self._channel_opened(channel)

    async def _detach(self, channel: str, subscription: Subscription) -> None:
        subscribers = self._local.get(channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._local[channel]
            await self._channel_closed(channel)

    async def _channel_opened(self, channel: str) -> None:
        """The first local subscriber of a channel arrived."""

    async def _channel_closed(self, channel: str) -> None:
        """The last local subscriber of a channel left."""
