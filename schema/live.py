"""What a subscription field's resolver returns: its stream, not yet opened.

Any transport can iterate it (each record converted to the field's type). The WebSocket
transport instead opens the stream itself and is woken when envelopes arrive, so that an
idle subscription keeps no task and no generator (`server/ws/feed.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from broker import Envelope
from resolvers.subscriptions import Stream, Taken, follow

R = TypeVar("R")
T = TypeVar("T")


class Live(Generic[R, T]):
    """A subscription's source: `prepare` makes its stream when it is first used, so that
    the errors it raises (no viewer, a malformed cursor) end the stream as its first
    result, as a generator's would."""

    __slots__ = ("_prepare", "_tracking", "convert", "kind", "stream")

    def __init__(self, kind: str, prepare: Callable[[], Stream[R]], convert: Callable[[R], T]):
        self.kind = kind
        self.convert = convert
        self._prepare: Callable[[], Stream[R]] | None = prepare
        self._tracking: contextlib.AbstractContextManager[object] | None = None
        self.stream: Stream[R] | None = None

    def __aiter__(self) -> AsyncIterator[T]:
        return self._events()

    async def _events(self) -> AsyncIterator[T]:
        stream = self._start()
        convert = self.convert
        with stream.services.telemetry.subscribed(self.kind):
            async for record in follow(stream):
                yield convert(record)

    def _start(self) -> Stream[R]:
        assert self._prepare is not None, "a source is used once"
        prepare, self._prepare = self._prepare, None
        stream = self.stream = prepare()
        return stream

    async def open(self) -> list[R]:
        """Open the stream for a consumer that takes its envelopes itself; what it
        delivers first."""
        stream = self._start()
        self._tracking = stream.services.telemetry.subscribed(self.kind)
        self._tracking.__enter__()
        return await stream.open()

    def take(self, envelope: Envelope) -> Taken[R]:
        assert self.stream is not None
        return self.stream.take(envelope)

    async def close(self) -> None:
        tracking, self._tracking = self._tracking, None
        try:
            if self.stream is not None:
                await self.stream.close()
        finally:
            if tracking is not None:
                tracking.__exit__(None, None, None)
