"""Pub/sub between the processes of a deployment: in-process by default, Redis to scale out.

Subscribing is an async context manager; one broker connection per process, and each event
fans out in memory to the local subscribers of its channel.
"""

from broker.base import Broker, Envelope, Subscription
from broker.memory import MemoryBroker


def create_broker(redis_url: str | None, queue_size: int = 1000) -> Broker:
    """The in-process broker, or the Redis one when a URL is given."""
    if redis_url:
        raise NotImplementedError("the Redis broker is not available yet")
    return MemoryBroker(queue_size=queue_size)


__all__ = ["Broker", "Envelope", "MemoryBroker", "Subscription", "create_broker"]
