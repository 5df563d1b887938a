"""The Redis broker on a Redis Cluster: sharded pub/sub.

Plain PUBLISH on a cluster is broadcast to every node, so its cost grows with the cluster.
SPUBLISH sends an event only to the shard that owns its channel's hash slot, and SSUBSCRIBE
has to be sent to that shard: one pub/sub connection per shard primary, each channel
routed by its slot.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError

from broker.listener import Listener
from broker.outbox import Batch
from broker.redis import CLIENT_OPTIONS, RedisBroker

log = logging.getLogger(__name__)


def is_cluster(url: str) -> bool:
    """Whether the URL names a Redis Cluster node (asked once at start, before serving)."""
    probe = SyncRedis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        info: dict[str, Any] = probe.info("cluster")
    except (RedisError, OSError) as error:
        log.warning("could not ask %s whether it is a cluster (%s); assuming not", url, error)
        return False
    finally:
        probe.close()
    return bool(info.get("cluster_enabled"))


def cluster_client(url: str) -> RedisCluster:
    client: RedisCluster = RedisCluster.from_url(url, **CLIENT_OPTIONS)
    return client


class ShardedRedisBroker(RedisBroker):
    """SPUBLISH to the owning shard; one SSUBSCRIBE connection per shard primary."""

    def __init__(self, client: RedisCluster, **options: Any) -> None:
        super().__init__(client, **options)
        self._cluster = client
        self._shards: dict[str, Listener] = {}
        self._shard_clients: list[Redis] = []

    async def _start_listeners(self) -> None:
        await self._cluster.initialize()
        for node in self._cluster.get_primaries():
            shard = Redis(host=node.host, port=int(node.port), **CLIENT_OPTIONS)
            self._shard_clients.append(shard)
            listener = Listener(
                shard, sharded=True, on_message=self._received, on_reconnect=self.resync_local
            )
            self._shards[node.name] = listener
            listener.start()

    async def stop(self) -> None:
        await super().stop()
        for shard in self._shard_clients:
            await shard.aclose()

    def _listeners(self) -> list[Listener]:
        return list(self._shards.values())

    def _listener_for(self, channel: bytes) -> Listener:
        node = self._cluster.get_node_from_key(channel.decode())
        assert node is not None
        return self._shards[node.name]

    async def _send(self, batch: Batch) -> None:
        pipeline = self._cluster.pipeline(transaction=False)
        for channel, payload in batch:
            pipeline.spublish(channel, payload)
        await pipeline.execute()
