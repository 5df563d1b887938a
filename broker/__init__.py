"""Pub/sub between the processes of a deployment: in-process by default, Redis to scale out.

Subscribing is an async context manager; one broker connection per process, and each event
fans out in memory to the local subscribers of its channel.
"""

from broker.base import RESYNC, Broker, Envelope, Subscription
from broker.cluster import ShardedRedisBroker, cluster_client, is_cluster
from broker.memory import MemoryBroker
from broker.redis import RedisBroker, RedisClient, redis_client


def create_broker(redis_url: str | None, queue_size: int = 1000, prefix: str = "chat:") -> Broker:
    """The in-process broker, or the Redis one when a URL is given (sharded on a cluster)."""
    if not redis_url:
        return MemoryBroker(queue_size=queue_size)
    if is_cluster(redis_url):
        return ShardedRedisBroker(cluster_client(redis_url), prefix=prefix, queue_size=queue_size)
    return RedisBroker(redis_client(redis_url), prefix=prefix, queue_size=queue_size)


__all__ = [
    "RESYNC",
    "Broker",
    "Envelope",
    "MemoryBroker",
    "RedisBroker",
    "RedisClient",
    "ShardedRedisBroker",
    "Subscription",
    "create_broker",
]
