"""The event streams behind each subscription: replay from the store, then live.

Each stream subscribes to the broker before it reads the store, so nothing committed in
between is missed; per-conversation seq bookkeeping drops duplicates and fills any gap
from the store, which stays the source of truth.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from broker import RESYNC, Envelope, Subscription
from broker.channels import presence_channel, room_channel, user_channel
from models.tables import ConversationKind, StreamCounter
from resolvers import events
from resolvers.conversations import (
    contacts_of,
    conversation_ids_of,
    require_member,
    require_room,
    room_ids_of,
)
from resolvers.errors import ChatError, CursorExpired
from resolvers.messages import messages_after, messages_between
from resolvers.records import (
    MessageRecord,
    PresenceRecord,
    ReceiptRecord,
    RoomEventRecord,
    TypingRecord,
    UserRecord,
)
from resolvers.resync import catch_up, missed_receipts, receipt_points, refresh_rooms
from resolvers.users import blockers_of, users_by_id

if TYPE_CHECKING:
    from resolvers.services import Services


class SlowConsumer(ChatError):
    """The subscriber fell so far behind that events were dropped; its socket is closed."""

    code = "SLOW_CONSUMER"


async def _next(subscription: Subscription) -> Envelope:
    envelope = await subscription.get()
    if subscription.take_dropped():
        raise SlowConsumer("Subscriber fell behind")
    return envelope


class RecentMessages:
    """Decodes each message event once per process, into one record shared by every
    subscription that meets it: a direct message arrives on two channels (the sender's and
    the receiver's), and one record lets its selection be executed once for both."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._records: OrderedDict[str, MessageRecord] = OrderedDict()

    def of(self, envelope: Envelope) -> MessageRecord:
        record = envelope.memo.get("record")
        if isinstance(record, MessageRecord):
            return record
        data = envelope.data["message"]
        record = self._records.get(data["id"])
        if record is None or record.position != data["position"]:
            record = self._records[data["id"]] = MessageRecord.from_data(data)
            if len(self._records) > self._size:
                self._records.popitem(last=False)
        envelope.memo["record"] = record
        return record


async def current_position() -> int:
    counter = await StreamCounter.get_or_none(id=1)
    return counter.position if counter else 0


async def _follow_rooms(subscription: Subscription, viewer_id: str) -> set[str]:
    """Add the channels of the viewer's rooms to a subscription that already follows the
    viewer's own channel, so that no join or leave in between goes unseen."""
    rooms = set(await room_ids_of(viewer_id))
    for room_id in rooms:
        await subscription.add(room_channel(room_id))
    return rooms


async def _follow_membership(
    subscription: Subscription, data: dict[str, Any], rooms: set[str]
) -> None:
    room_id = data["roomId"]
    if data["joined"]:
        rooms.add(room_id)
        await subscription.add(room_channel(room_id))
    else:
        rooms.discard(room_id)
        await subscription.remove(room_channel(room_id))


async def new_messages(
    services: Services, viewer: UserRecord, after: int | None
) -> AsyncIterator[MessageRecord]:
    """Every message to or from the viewer: those stored after `after` first, then live."""
    async with services.broker.subscribe([user_channel(viewer.id)]) as subscription:
        rooms = await _follow_rooms(subscription, viewer.id)
        floor = await current_position() if after is None else after
        delivered: dict[int, int] = {}
        limit = services.settings.max_replay
        # Not kept in a variable: this frame lives as long as the subscription.
        for message in await _backlog(viewer.id, floor, limit):
            delivered[int(message.conversation_id)] = message.seq
            yield message
            _mark_delivered(services, viewer, message)
        while True:
            envelope = await _next(subscription)
            data = envelope.data
            kind = data["type"]
            if kind == events.MEMBERSHIP:
                await _follow_membership(subscription, data, rooms)
                if data["joined"]:
                    # Live from the join on: what was stored before the room's channel
                    # was followed comes from the store.
                    conversation_id = int(data["roomId"])
                    since = max(delivered.get(conversation_id, 0), data["seq"])
                    delivered[conversation_id] = since
                    for missed in await messages_between(conversation_id, since, since + limit):
                        delivered[conversation_id] = missed.seq
                        yield missed
                continue
            if kind == RESYNC:
                async with services.resyncs:
                    joined = await refresh_rooms(subscription, viewer.id, rooms)
                    for room_id, read_seq in joined.items():
                        delivered.setdefault(room_id, read_seq)
                    missed_all = await catch_up(viewer.id, delivered, floor, limit)
                for missed in missed_all:
                    conversation_id = int(missed.conversation_id)
                    if missed.seq > delivered.get(conversation_id, 0):
                        delivered[conversation_id] = missed.seq
                        yield missed
                        _mark_delivered(services, viewer, missed)
                continue
            if kind != events.MESSAGE:
                continue
            message = services.recent_messages.of(envelope)
            if message.position <= floor:
                # Stored before this stream's start or cursor: published late by another
                # instance, and either replayed already or not asked for.
                continue
            if message.room_id is not None and message.room_id not in rooms:
                continue
            conversation_id = int(message.conversation_id)
            last = delivered.get(conversation_id)
            if last is not None and message.seq <= last:
                continue
            if last is None or message.seq > last + 1:
                for missed in await _missed(conversation_id, last, floor, message.seq):
                    delivered[conversation_id] = missed.seq
                    yield missed
                    _mark_delivered(services, viewer, missed)
            delivered[conversation_id] = message.seq
            yield message
            _mark_delivered(services, viewer, message, live=True)


async def _backlog(viewer_id: str, floor: int, limit: int) -> list[MessageRecord]:
    """What was stored for the viewer after `floor`; CursorExpired past `limit` messages."""
    backlog = await messages_after(await conversation_ids_of(viewer_id), floor, limit + 1)
    if len(backlog) > limit:
        raise CursorExpired(
            f"More than {limit} messages since this cursor; refetch history and "
            "subscribe without a cursor"
        )
    return backlog


async def _missed(
    conversation_id: int, last: int | None, floor: int, seq: int
) -> list[MessageRecord]:
    """What came before `seq` that this subscriber has not had: the gap after `last`, or
    for a conversation first seen live, what was stored after the subscription's floor."""
    if last is not None:
        return await messages_between(conversation_id, last, seq - 1)
    earlier = await messages_after([conversation_id], floor, seq)
    return [message for message in earlier if message.seq < seq]


def _mark_delivered(
    services: Services, viewer: UserRecord, message: MessageRecord, live: bool = False
) -> None:
    # Latency since storage only for live messages: a replay's would measure the outage.
    services.telemetry.delivered(time.time() - message.timestamp.timestamp() if live else None)
    if message.kind is ConversationKind.DIRECT and message.receiver_id == viewer.id:
        services.deliveries.delivered(
            int(message.conversation_id), viewer.id, message.sender_id, message.seq
        )


async def presence_changes(
    services: Services, viewer: UserRecord, user_ids: list[str] | None
) -> AsyncIterator[PresenceRecord]:
    """The current state of each watched user, then each change.

    Users who blocked the viewer are reported offline once and never again.
    """
    watched = (
        list(dict.fromkeys(user_ids)) if user_ids is not None else await contacts_of(viewer.id)
    )
    hidden = await blockers_of(viewer.id, watched)
    visible = [user_id for user_id in watched if user_id not in hidden]
    async with services.broker.subscribe(presence_channel(u) for u in visible) as subscription:
        known = await users_by_id(watched)
        online = await services.presence.online(visible)
        for user_id in watched:
            user = known.get(user_id)
            if user is None:
                continue
            if user_id in hidden:
                yield PresenceRecord(user_id, False, None)
            else:
                yield PresenceRecord(user_id, user_id in online, user.last_seen_at)
        while True:
            envelope = await _next(subscription)
            if envelope.data["type"] != RESYNC:
                record = events.presence_record(envelope.data)
                online.discard(record.user_id)
                if record.online:
                    online.add(record.user_id)
                yield record
                continue
            # Changes may have been lost: report those whose state differs now.
            async with services.resyncs:
                now_online = await services.presence.online(visible)
                changed = [u for u in visible if u in known and (u in online) != (u in now_online)]
                current = await users_by_id(changed)
            online = now_online
            for user_id in changed:
                yield PresenceRecord(user_id, user_id in online, current[user_id].last_seen_at)


async def typing_changes(services: Services, viewer: UserRecord) -> AsyncIterator[TypingRecord]:
    """Typing in the viewer's conversations, never the viewer's own."""
    async with services.broker.subscribe([user_channel(viewer.id)]) as subscription:
        rooms = await _follow_rooms(subscription, viewer.id)
        while True:
            envelope = await _next(subscription)
            data = envelope.data
            if data["type"] == events.MEMBERSHIP:
                await _follow_membership(subscription, data, rooms)
            elif data["type"] == RESYNC:
                async with services.resyncs:
                    await refresh_rooms(subscription, viewer.id, rooms)
            elif data["type"] == events.TYPING and data["userId"] != viewer.id:
                room_id = data["roomId"]
                if room_id is None or room_id in rooms:
                    yield events.typing_record(data)


async def receipt_changes(services: Services, viewer: UserRecord) -> AsyncIterator[ReceiptRecord]:
    """DELIVERED and READ for the messages the viewer sent."""
    async with services.broker.subscribe([user_channel(viewer.id)]) as subscription:
        seen = await receipt_points(viewer.id)
        while True:
            envelope = await _next(subscription)
            if envelope.data["type"] == events.RECEIPT:
                receipt = events.receipt_record(envelope.data)
                key = (receipt.conversation_id, receipt.user_id, receipt.status)
                seen[key] = max(seen.get(key, 0), receipt.up_to_seq)
                yield receipt
            elif envelope.data["type"] == RESYNC:
                async with services.resyncs:
                    missed = await missed_receipts(viewer.id, seen)
                for receipt in missed:
                    yield receipt


async def room_changes(
    services: Services, viewer: UserRecord, room_id: str
) -> AsyncIterator[RoomEventRecord]:
    """Joins and leaves of a room the viewer belongs to; ends when the viewer leaves."""
    room = await require_room(room_id)
    room_id = str(room.id)  # as stored: "007" and "7" are one room
    channels = [room_channel(room_id), user_channel(viewer.id)]
    async with services.broker.subscribe(channels) as subscription:
        await require_member(room.id, viewer.id)
        while True:
            envelope = await _next(subscription)
            data = envelope.data
            if data["type"] == events.ROOM and data["roomId"] == room_id:
                yield events.room_event_record(data)
            elif (
                data["type"] == events.MEMBERSHIP
                and data["roomId"] == room_id
                and not data["joined"]
            ):
                return
