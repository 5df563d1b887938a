"""The long-lived parts every action needs, built once per process and passed explicitly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from broker import Broker, RedisBroker, RedisClient, create_broker
from broker.channels import room_channel, user_channel
from models.tables import ConversationKind, StreamCounter
from resolvers.direct_checks import DirectChecks
from resolvers.events import message_event
from resolvers.messages import messages_by_client_ids
from resolvers.moderation import Hook, load_hook
from resolvers.presence import Presence
from resolvers.presence_redis import RedisPresence
from resolvers.ratelimit import RateLimiter, RedisRateLimiter
from resolvers.receipts import DeliveryTracker
from resolvers.records import MessageRecord
from resolvers.subscriptions import RecentMessages
from resolvers.telemetry import Telemetry
from resolvers.typing import TypingTracker
from resolvers.typing_redis import RedisTypingTracker
from resolvers.users import UserDirectory
from resolvers.writer import MessageWriter
from server.settings import Settings


@dataclass
class Services:
    settings: Settings
    broker: Broker
    writer: MessageWriter
    presence: Presence
    typing: TypingTracker
    deliveries: DeliveryTracker
    limiter: RateLimiter
    users: UserDirectory
    # The broker's Redis client, shared by the other Redis-backed parts; None without Redis.
    redis: RedisClient | None = None
    telemetry: Telemetry = field(default_factory=Telemetry)
    # Streams refilling from the store at once after a broker outage: every subscription
    # resyncs together, and sends must still find database connections.
    resyncs: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    openings: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))
    moderation: Hook | None = None
    recent_messages: RecentMessages = field(default_factory=RecentMessages)
    direct_checks: DirectChecks = field(default_factory=DirectChecks)


async def publish_messages(broker: Broker, messages: Sequence[MessageRecord]) -> None:
    """Publish committed messages, in position order, on the channels of their readers."""
    for message in messages:
        event = message_event(message)
        if message.kind is ConversationKind.ROOM:
            await broker.publish(room_channel(message.conversation_id), event)
        else:
            await broker.publish(user_channel(message.sender_id), event)
            if message.receiver_id is not None:
                await broker.publish(user_channel(message.receiver_id), event)


def build_services(
    settings: Settings, broker: Broker | None = None, telemetry: Telemetry | None = None
) -> Services:
    broker = broker or create_broker(settings.redis_url, prefix=settings.redis_prefix)
    redis = broker.redis if isinstance(broker, RedisBroker) else None
    telemetry = telemetry or Telemetry()
    broker.observers.append(telemetry.broker_event)

    recent_messages = RecentMessages()

    async def on_commit(messages: Sequence[MessageRecord]) -> None:
        telemetry.stored(len(messages), writer.last_commit_seconds)
        recent_messages.remember(messages)
        await publish_messages(broker, messages)

    writer = MessageWriter(
        batch_size=settings.write_batch_size,
        batch_wait=settings.write_batch_wait_ms / 1000,
        queue_size=settings.write_queue_size,
        send_timeout=settings.send_timeout,
        on_commit=on_commit,
        lookup=messages_by_client_ids,
    )

    return Services(
        settings=settings,
        broker=broker,
        writer=writer,
        presence=_presence(settings, broker, redis),
        typing=_typing(settings, broker, redis),
        deliveries=DeliveryTracker(broker),
        limiter=_limiter(redis, settings.redis_prefix, telemetry),
        users=UserDirectory(),
        redis=redis,
        telemetry=telemetry,
        moderation=load_hook(settings),
        recent_messages=recent_messages,
    )


def _presence(settings: Settings, broker: Broker, redis: RedisClient | None) -> Presence:
    if redis is None:
        return Presence(broker)
    return RedisPresence(broker, redis, prefix=settings.redis_prefix, ttl=settings.presence_ttl)


def _limiter(redis: RedisClient | None, prefix: str, telemetry: Telemetry) -> RateLimiter:
    if redis is None:
        return RateLimiter(telemetry=telemetry)
    return RedisRateLimiter(redis, prefix, telemetry)


def _typing(settings: Settings, broker: Broker, redis: RedisClient | None) -> TypingTracker:
    timeout, coalesce = settings.typing_timeout, settings.typing_coalesce
    if redis is None:
        return TypingTracker(broker, timeout=timeout, coalesce=coalesce)
    return RedisTypingTracker(
        broker, redis, prefix=settings.redis_prefix, timeout=timeout, coalesce=coalesce
    )


@contextlib.asynccontextmanager
async def running(services: Services) -> AsyncIterator[Services]:
    """Start the broker and the background workers; stop them in reverse order."""
    await StreamCounter.get_or_create(id=1)
    await services.broker.start()
    await services.writer.start()
    await services.deliveries.start()
    await services.presence.start()
    try:
        yield services
    finally:
        await services.writer.stop()
        await services.presence.stop()
        await services.deliveries.stop()
        services.typing.stop_all()
        await services.broker.stop()
