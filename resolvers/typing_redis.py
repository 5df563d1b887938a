"""Typing across instances: the coalescing window and the auto-stop deadline live in Redis.

Consecutive startTyping calls of one typist may land on different instances. Each start
moves the deadline kept in Redis and says whether the start is to be announced (at most
once per `coalesce` seconds). Every instance that took a start keeps a timer; when it fires
it asks Redis: a deadline moved by a later start re-arms the timer, a deadline passed ends
the typing, and the one instance that removes the key announces the stop. While Redis is
unreachable the tracker works as the in-process one.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from broker import Broker, RedisClient
from resolvers.events import typing_event
from resolvers.records import TypingRecord
from resolvers.typing import TypingTracker

log = logging.getLogger(__name__)

# Returns 1 when this start is to be announced.
_START = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local announced = tonumber(redis.call('HGET', KEYS[1], 'announced'))
redis.call('HSET', KEYS[1], 'deadline', now + tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[1]))
if announced == nil or now - announced >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'announced', now)
  return 1
end
return 0
"""
# -1: already over; 0: over now (the caller announces the stop); else milliseconds left.
_EXPIRE = """
local deadline = tonumber(redis.call('HGET', KEYS[1], 'deadline'))
if deadline == nil then return -1 end
local t = redis.call('TIME')
local left = deadline - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if left > 0 then return left end
redis.call('DEL', KEYS[1])
return 0
"""


class RedisTypingTracker(TypingTracker):
    """A TypingTracker whose state is shared by every instance."""

    def __init__(
        self, broker: Broker, redis: RedisClient, *, prefix: str, timeout: float, coalesce: float
    ) -> None:
        super().__init__(broker, timeout=timeout, coalesce=coalesce)
        self._redis = redis
        self._prefix = f"{prefix}typing:"
        self._start_script = redis.register_script(_START)
        self._expire_script = redis.register_script(_EXPIRE)
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _key(self, record: TypingRecord) -> str:
        return f"{self._prefix}{record.conversation_id}:{record.user_id}"

    async def start(self, record: TypingRecord, channel: str) -> None:
        key = self._key(record)
        try:
            announce = await self._start_script(
                keys=[key], args=[int(self._timeout * 1000), int(self._coalesce * 1000)]
            )
        except (RedisError, OSError):
            await super().start(record, channel)
            return
        self._arm(key, self._timeout, record, channel)
        if announce:
            await self._broker.publish(channel, typing_event(record))

    async def stop(self, record: TypingRecord, channel: str) -> None:
        key = self._key(record)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        try:
            await self._redis.delete(key)
        except (RedisError, OSError) as error:
            log.debug("typing stop not recorded in redis: %s", error)
        await super().stop(record, channel)

    def stop_all(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        super().stop_all()

    def _arm(self, key: str, delay: float, record: TypingRecord, channel: str) -> None:
        previous = self._timers.pop(key, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._due, key, record, channel)

    def _due(self, key: str, record: TypingRecord, channel: str) -> None:
        self._timers.pop(key, None)
        task = asyncio.get_running_loop().create_task(self._check(key, record, channel))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, key: str, record: TypingRecord, channel: str) -> None:
        try:
            left = await self._expire_script(keys=[key])
        except (RedisError, OSError):
            left = 0  # Redis is gone: stop as the in-process tracker would
        if left > 0:
            self._arm(key, left / 1000, record, channel)
        elif left == 0:
            stopped = TypingRecord(record.user_id, record.conversation_id, record.room_id, False)
            await self._broker.publish(channel, typing_event(stopped))
