"""Presence across instances: connection counts and heartbeats in Redis.

Each instance records, per user, that it holds connections of them (a field of the user's
hash) and keeps its users in a set of its own; a user is online while the hash has a field.
Every instance heartbeats into one sorted set scored by Redis's clock. An instance whose
heartbeat is older than the expiry (killed, frozen, cut off) is claimed by exactly one
survivor, which removes its fields and announces offline the users nobody else holds.
So a user of a killed instance is offline within `expiry + interval` (20 s by default).

While Redis is unreachable the tracker falls back to this process's counts and, once
Redis answers again, reconciles what Redis holds with what this process really has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Iterable

from redis.exceptions import RedisError

from broker import Broker, RedisClient
from broker.background import cancel_and_wait
from resolvers.presence import Presence

log = logging.getLogger(__name__)

# Redis's own clock, so that instances' clocks need not agree.
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local new = redis.call('ZADD', KEYS[1], now, ARGV[1])
local limit = now - tonumber(ARGV[2])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', limit)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', limit)
-- Whatever nobody beats for any more (the last instance killed) goes by itself.
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {new, dead}
"""
_CONNECT = """
redis.call('HSET', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[2])
return redis.call('HLEN', KEYS[1])
"""
_DISCONNECT = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return redis.call('HLEN', KEYS[1])
"""


class RedisPresence(Presence):
    """Presence whose counts span every instance sharing the Redis."""

    def __init__(self, broker: Broker, redis: RedisClient, *, prefix: str, ttl: float) -> None:
        super().__init__(broker)
        self._redis = redis
        # One hash tag: on a cluster, the keys a script touches share a slot.
        self._keys = f"{prefix}{{presence}}:"
        self._instance = secrets.token_hex(8)
        self._interval = ttl / 6
        self._expiry = ttl / 2
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._connect = redis.register_script(_CONNECT)
        self._disconnect = redis.register_script(_DISCONNECT)
        self._task: asyncio.Task[None] | None = None
        self._stale = False

    def _user_key(self, user_id: str) -> str:
        return f"{self._keys}user:{user_id}"

    def _held_key(self, instance: str) -> str:
        return f"{self._keys}held:{instance}"

    async def start(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._beat()
        self._task = asyncio.create_task(self._run(), name="presence-heartbeat")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await super().stop()
        with contextlib.suppress(RedisError, OSError):
            await self._redis.zrem(f"{self._keys}instances", self._instance)
            await self._redis.delete(self._held_key(self._instance))

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users hold a connection on any instance."""
        wanted = list(user_ids)
        try:
            pipeline = self._redis.pipeline(transaction=False)
            for user_id in wanted:
                pipeline.hlen(self._user_key(user_id))
            counts = await pipeline.execute()
        except (RedisError, OSError):
            return await super().online(wanted)
        return {user_id for user_id, count in zip(wanted, counts, strict=True) if count}

    async def _first_anywhere(self, user_id: str) -> bool:
        try:
            count = await self._register(user_id)
        except (RedisError, OSError):
            self._stale = True
            return True
        return count == 1

    async def _last_anywhere(self, user_id: str) -> bool:
        try:
            count = await self._unregister(self._instance, user_id)
        except (RedisError, OSError):
            self._stale = True
            return True
        return count == 0

    async def _register(self, user_id: str) -> int:
        keys = [self._user_key(user_id), self._held_key(self._instance)]
        count: int = await self._connect(keys=keys, args=[self._instance, user_id])
        return count

    async def _unregister(self, instance: str, user_id: str) -> int:
        keys = [self._user_key(user_id), self._held_key(instance)]
        count: int = await self._disconnect(keys=keys, args=[instance, user_id])
        return count

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._beat()
            except (RedisError, OSError) as error:
                self._stale = True
                log.warning("presence heartbeat failed: %s", error)
            except Exception:  # a failed round must not stop the next ones
                log.exception("presence heartbeat failed")

    async def _beat(self) -> None:
        keys = [f"{self._keys}instances", self._held_key(self._instance)]
        linger = int(self._expiry * 4)
        new, dead = await self._heartbeat(keys=keys, args=[self._instance, self._expiry, linger])
        if new or self._stale:
            # First beat, or Redis forgot us (an outage, or we were taken for dead).
            await self._reconcile()
        for instance in dead:
            await self._reap(instance.decode() if isinstance(instance, bytes) else instance)

    async def _reconcile(self) -> None:
        held = {
            member.decode() if isinstance(member, bytes) else member
            for member in await self._redis.smembers(self._held_key(self._instance))
        }
        for user_id in [u for u in self._local if u not in held]:
            if await self._register(user_id) == 1:
                await self._announce(user_id, online=True)
        for user_id in held - set(self._local):
            if await self._unregister(self._instance, user_id) == 0:
                await self._announce(user_id, online=False)
        self._stale = False

    async def _reap(self, instance: str) -> None:
        """Announce offline the users of a dead instance that no other instance holds."""
        held_key = self._held_key(instance)
        for member in await self._redis.smembers(held_key):
            user_id = member.decode() if isinstance(member, bytes) else member
            if await self._unregister(instance, user_id) == 0 and not self._local[user_id]:
                await self._announce(user_id, online=False)
        await self._redis.delete(held_key)
        log.info("instance %s stopped heartbeating; its users were released", instance)
