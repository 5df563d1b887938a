"""Typing indicators: never stored, coalesced per typist, stopped by themselves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from broker import Broker
from resolvers.events import typing_event
from resolvers.records import TypingRecord


@dataclass(slots=True)
class _Typing:
    record: TypingRecord
    channel: str
    last_announced: float
    expiry: asyncio.TimerHandle


class TypingTracker:
    """Announces start at most once per `coalesce` seconds per typist and conversation,
    and stop `timeout` seconds after the last start."""

    def __init__(
        self,
        broker: Broker,
        *,
        timeout: float,
        coalesce: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._broker = broker
        self._timeout = timeout
        self._coalesce = coalesce
        self._clock = clock
        self._active: dict[tuple[str, str], _Typing] = {}
        self._announcing: set[asyncio.Task[None]] = set()

    async def start(self, record: TypingRecord, channel: str) -> None:
        key = (record.user_id, record.conversation_id)
        loop = asyncio.get_running_loop()
        now = self._clock()
        current = self._active.get(key)
        if current is not None:
            current.expiry.cancel()
            current.expiry = loop.call_later(self._timeout, self._expire, key)
            if now - current.last_announced < self._coalesce:
                return
            current.last_announced = now
        else:
            self._active[key] = _Typing(
                record, channel, now, loop.call_later(self._timeout, self._expire, key)
            )
        await self._broker.publish(channel, typing_event(record))

    async def stop(self, record: TypingRecord, channel: str) -> None:
        current = self._active.pop((record.user_id, record.conversation_id), None)
        if current is not None:
            current.expiry.cancel()
        await self._broker.publish(channel, typing_event(record))

    def stop_all(self) -> None:
        for current in self._active.values():
            current.expiry.cancel()
        self._active.clear()

    def _expire(self, key: tuple[str, str]) -> None:
        current = self._active.pop(key, None)
        if current is None:
            return
        stopped = TypingRecord(
            user_id=current.record.user_id,
            conversation_id=current.record.conversation_id,
            room_id=current.record.room_id,
            is_typing=False,
        )
        task = asyncio.get_running_loop().create_task(
            self._broker.publish(current.channel, typing_event(stopped))
        )
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)
