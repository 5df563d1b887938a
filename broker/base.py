"""The broker interface and the local fan-out that every backend shares."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
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
    Used as an async context manager (`Broker.subscribe`), it follows its first channels
    on entry and leaves every channel on exit.

    Most subscriptions wait idle for long stretches, so the queue exists only while it holds
    envelopes (an empty deque is ~0.7 KiB). A consumer either waits in `get`, or is told by
    a `listener` that envelopes arrived and takes them with `take_nowait`: then nothing
    waits at all while the subscription is idle.
    """

    __slots__ = (
        "_broker",
        "_initial",
        "_maxsize",
        "_queue",
        "_waiter",
        "channels",
        "dropped",
        "listener",
    )

    def __init__(self, broker: Broker, maxsize: int, channels: Iterable[str] = ()) -> None:
        self._broker = broker
        self._queue: deque[Envelope] | None = None
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self._initial: Iterable[str] | None = channels
        self.channels: set[str] = set()
        self.dropped = 0
        self.listener: Callable[[], None] | None = None

    async def __aenter__(self) -> Subscription:
        channels, self._initial = self._initial or (), None
        try:
            for channel in channels:
                await self.add(channel)
        except BaseException:
            await self._leave()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._leave()

    async def _leave(self) -> None:
        for channel in list(self.channels):
            await self.remove(channel)

    def push(self, envelope: Envelope) -> None:
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        elif len(queue) >= self._maxsize:
            queue.popleft()
            self.dropped += 1
        queue.append(envelope)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.listener is not None:
            self.listener()

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
        envelope = self.take_nowait()
        assert envelope is not None
        return envelope

    def take_nowait(self) -> Envelope | None:
        """The oldest envelope, or None when none is waiting."""
        queue = self._queue
        if not queue:
            return None
        envelope = queue.popleft()
        if not queue:
            self._queue = None
        return envelope


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

    def subscribe(self, channels: Iterable[str] = ()) -> Subscription:
        """A subscription to use with `async with`: it follows `channels` on entry and
        leaves every channel it follows on exit."""
        return Subscription(self, self._queue_size, channels)

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
