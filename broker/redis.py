"""The Redis broker: instances share events over Redis pub/sub, each fans out in memory.

One pub/sub connection per process carries every channel that local subscribers need
(subscribed with the first of them, unsubscribed with the last). Events published here
reach local subscribers at once, without the round trip, and go to Redis through the
outbox for the other instances; each payload starts with the publishing process's id so
that it skips its own. Channel names and keys all start with the configured prefix, so
deployments (and test runs) sharing one Redis never see each other's events.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import orjson
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from broker.base import RESYNC, Broker, Subscription
from broker.listener import Listener
from broker.outbox import Batch, Outbox

log = logging.getLogger(__name__)

RedisClient = Redis | RedisCluster

_ORIGIN_BYTES = 16
# Fail fast while Redis is down: callers fall back rather than wait through retries.
CLIENT_OPTIONS: dict[str, Any] = {
    "socket_timeout": 5,
    "socket_connect_timeout": 2,
    "health_check_interval": 5,
    "retry": Retry(NoBackoff(), 1),
}


# Connections per process. Past them a caller waits for one to come free (at most the
# socket timeout) rather than fail: under load hundreds of sends check their rate limit at
# once, and a failure there used to fail the outbox's publish too, which costs every
# subscriber a refill from the store.
POOL_SIZE = 64


def redis_client(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=CLIENT_OPTIONS["socket_timeout"], **CLIENT_OPTIONS
    )
    client: Redis = Redis.from_pool(pool)
    return client


class RedisBroker(Broker):
    """Pub/sub through one Redis server; `redis` is the client other Redis-backed parts share."""

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "chat:",
        queue_size: int = 1000,
        outbox_size: int = 10_000,
    ) -> None:
        super().__init__(queue_size)
        self.redis = client
        self.prefix = prefix
        self._prefix_bytes = prefix.encode()
        self._origin = secrets.token_hex(_ORIGIN_BYTES // 2).encode()
        self._control = self._prefix_bytes + b"control"
        resync = self._origin + orjson.dumps({"type": RESYNC})
        self._outbox = Outbox(self._send, (self._control, resync), outbox_size)
        self._listener: Listener | None = None

    def _redis_channel(self, channel: str) -> bytes:
        return self._prefix_bytes + channel.encode()

    async def publish(self, channel: str, data: dict[str, Any]) -> None:
        """Deliver to local subscribers now; queue for the other instances."""
        self.deliver_local(channel, data)
        self._outbox.put(self._redis_channel(channel), self._origin + orjson.dumps(data))

    async def start(self) -> None:
        await self._start_listeners()
        await self._listener_for(self._control).add(self._control)
        self._outbox.start()

    async def stop(self) -> None:
        await self._outbox.stop()
        for listener in self._listeners():
            await listener.stop()
        await self.redis.aclose()

    def health(self) -> tuple[bool, str]:
        for listener in self._listeners():
            if not listener.up:
                return False, listener.reason
        if not self._outbox.up:
            return False, self._outbox.reason
        return True, "ok"

    @property
    def dropped_events(self) -> int:
        return self._outbox.dropped

    async def _channel_opened(self, channel: str) -> None:
        redis_channel = self._redis_channel(channel)
        await self._listener_for(redis_channel).add(redis_channel)

    async def _channel_closed(self, channel: str) -> None:
        redis_channel = self._redis_channel(channel)
        await self._listener_for(redis_channel).remove(redis_channel)

    async def _attach(self, channel: str, subscription: Subscription) -> None:
        await super()._attach(channel, subscription)
        redis_channel = self._redis_channel(channel)
        await self._listener_for(redis_channel).confirmed(redis_channel)

    def _received(self, channel: bytes, payload: bytes) -> None:
        if payload[:_ORIGIN_BYTES] == self._origin:
            return
        try:
            data = orjson.loads(payload[_ORIGIN_BYTES:])
        except orjson.JSONDecodeError:
            log.warning("ignored a malformed event on %r", channel)
            return
        if channel == self._control:
            if data.get("type") == RESYNC:
                self.resync_local()
            return
        self.deliver_local(channel[len(self._prefix_bytes) :].decode(), data)

    # -- what a sharded cluster does differently ----------------------------------------

    async def _start_listeners(self) -> None:
        assert isinstance(self.redis, Redis)
        self._listener = Listener(
            self.redis, sharded=False, on_message=self._received, on_reconnect=self.resync_local
        )
        self._listener.start()

    def _listeners(self) -> list[Listener]:
        return [self._listener] if self._listener is not None else []

    def _listener_for(self, channel: bytes) -> Listener:
        assert self._listener is not None, "the broker has not started"
        return self._listener

    async def _send(self, batch: Batch) -> None:
        pipeline = self.redis.pipeline(transaction=False)
        for channel, payload in batch:
            pipeline.publish(channel, payload)
        await pipeline.execute()
