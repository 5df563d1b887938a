"""The event streams behind each subscription: replay from the store, then live.

Each stream subscribes to the broker before it reads the store, so nothing committed in
between is missed; per-conversation seq bookkeeping drops duplicates and fills any gap
from the store, which stays the source of truth.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

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
from resolvers.resync import (
    ReceiptKey,
    catch_up,
    missed_receipts,
    receipt_points,
    refresh_rooms,
)
from resolvers.users import blockers_of, users_by_id

if TYPE_CHECKING:
    from resolvers.services import Services

R = TypeVar("R")


class SlowConsumer(ChatError):
    """The subscriber fell so far behind that events were dropped; its socket is closed."""

    code = "SLOW_CONSUMER"


class RecentMessages:
    """Decodes each message event once per process, into one record shared by every
    subscription that meets it: a direct message arrives on two channels (the sender's and
    the receiver's), and one record lets its selection be executed once for both. The
    messages this process stored are known before their events arrive, and not decoded."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._records: OrderedDict[str, MessageRecord] = OrderedDict()

    def remember(self, records: Iterable[MessageRecord]) -> None:
        for record in records:
            self._keep(record)

    def _keep(self, record: MessageRecord) -> MessageRecord:
        self._records[record.id] = record
        if len(self._records) > self._size:
            self._records.popitem(last=False)
        return record

    def of(self, envelope: Envelope) -> MessageRecord:
        record = envelope.memo.get("record")
        if isinstance(record, MessageRecord):
            return record
        data = envelope.data["message"]
        record = self._records.get(data["id"])
        if record is None or record.position != data["position"]:
            record = self._keep(MessageRecord.from_data(data))
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


class Stream(ABC, Generic[R]):
    """One subscription's events in two steps: `open` follows the channels and returns what
    comes first (a replay, the current state); `take` turns each envelope that arrives into
    what to deliver, at once when it can, or as an awaitable when the store must be asked.

    A consumer either waits for each envelope (`follow`), or is told by the subscription's
    `listener` that envelopes arrived and takes them with `pending`: an idle subscription
    then keeps this object and its broker subscription, and no task or generator.
    """

    __slots__ = ("ended", "services", "subscription")

    def __init__(self, services: Services) -> None:
        self.services = services
        self.subscription: Subscription | None = None
        self.ended = False

    async def open(self) -> list[R]:
        try:
            async with self.services.openings:
                return await self._open()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Leave every channel; the stream ends."""
        self.ended = True
        if self.subscription is not None:
            await self.subscription.__aexit__(None, None, None)

    @abstractmethod
    async def _open(self) -> list[R]: ...

    @abstractmethod
    def take(self, envelope: Envelope) -> Taken[R]:
        """What to deliver for this envelope: a list, or an awaitable of one."""

    async def _follow(self, channels: Iterable[str]) -> Subscription:
        subscription = self.subscription = self.services.broker.subscribe(channels)
        await subscription.__aenter__()
        return subscription

    def pending(self) -> Envelope | None:
        """The next envelope that arrived, or None; SlowConsumer once any was dropped."""
        assert self.subscription is not None
        envelope = self.subscription.take_nowait()
        self._check_dropped()
        return envelope

    async def next(self) -> Envelope:
        assert self.subscription is not None
        envelope = await self.subscription.get()
        self._check_dropped()
        return envelope

    def _check_dropped(self) -> None:
        assert self.subscription is not None
        if self.subscription.take_dropped():
            raise SlowConsumer("Subscriber fell behind")


Taken = list[R] | Awaitable[list[R]]


async def taken(result: Taken[R]) -> list[R]:
    return result if isinstance(result, list) else await result


async def follow(stream: Stream[R]) -> AsyncIterator[R]:
    """A stream as an async iterator, for a consumer that waits for each event."""
    try:
        for record in await stream.open():
            yield record
        while not stream.ended:
            for record in await taken(stream.take(await stream.next())):
                yield record
    finally:
        await stream.close()


class NewMessages(Stream[MessageRecord]):
    """Every message to or from the viewer: those stored after `after` first, then live."""

    __slots__ = ("after", "delivered", "floor", "rooms", "viewer")

    def __init__(self, services: Services, viewer: UserRecord, after: int | None) -> None:
        super().__init__(services)
        self.viewer = viewer
        self.after = after
        self.floor = 0
        self.rooms: set[str] = set()
        self.delivered: dict[int, int] = {}

    async def _open(self) -> list[MessageRecord]:
        viewer_id = self.viewer.id
        subscription = await self._follow([user_channel(viewer_id)])
        self.rooms = await _follow_rooms(subscription, viewer_id)
        self.floor = await current_position() if self.after is None else self.after
        backlog = await _backlog(viewer_id, self.floor, self.services.settings.max_replay)
        for message in backlog:
            self._deliver(message)
        return backlog

    def take(self, envelope: Envelope) -> Taken[MessageRecord]:
        data = envelope.data
        kind = data["type"]
        if kind == events.MESSAGE:
            return self._message(self.services.recent_messages.of(envelope))
        if kind == events.MEMBERSHIP:
            return self._membership(data)
        if kind == RESYNC:
            return self._resync()
        return []

    def _deliver(self, message: MessageRecord, live: bool = False) -> None:
        self.delivered[int(message.conversation_id)] = message.seq
        _mark_delivered(self.services, self.viewer, message, live)

    def _message(self, message: MessageRecord) -> Taken[MessageRecord]:
        if message.position <= self.floor:
            # Stored before this stream's start or cursor: published late by another
            # instance, and either replayed already or not asked for.
            return []
        if message.room_id is not None and message.room_id not in self.rooms:
            return []
        last = self.delivered.get(int(message.conversation_id))
        if last is not None and message.seq <= last:
            return []
        # Nothing can come before a conversation's first message: no read for a new one.
        if message.seq > (0 if last is None else last) + 1:
            return self._fill_gap(message, last)
        self._deliver(message, live=True)
        return [message]

    async def _fill_gap(self, message: MessageRecord, last: int | None) -> list[MessageRecord]:
        conversation_id = int(message.conversation_id)
        missed = await _missed(conversation_id, last, self.floor, message.seq)
        for earlier in missed:
            self._deliver(earlier)
        self._deliver(message, live=True)
        return [*missed, message]

    async def _membership(self, data: dict[str, Any]) -> list[MessageRecord]:
        assert self.subscription is not None
        await _follow_membership(self.subscription, data, self.rooms)
        if not data["joined"]:
            return []
        # Live from the join on: what was stored before the room's channel was followed
        # comes from the store.
        conversation_id = int(data["roomId"])
        since = max(self.delivered.get(conversation_id, 0), data["seq"])
        self.delivered[conversation_id] = since
        limit = self.services.settings.max_replay
        missed = await messages_between(conversation_id, since, since + limit)
        for message in missed:
            self.delivered[conversation_id] = message.seq
        return missed

    async def _resync(self) -> list[MessageRecord]:
        assert self.subscription is not None
        delivered = self.delivered
        async with self.services.resyncs:
            joined = await refresh_rooms(self.subscription, self.viewer.id, self.rooms)
            for room_id, read_seq in joined.items():
                delivered.setdefault(room_id, read_seq)
            limit = self.services.settings.max_replay
            missed_all = await catch_up(self.viewer.id, delivered, self.floor, limit)
        fresh = []
        for missed in missed_all:
            if missed.seq > delivered.get(int(missed.conversation_id), 0):
                self._deliver(missed)
                fresh.append(missed)
        return fresh


class PresenceChanges(Stream[PresenceRecord]):
    """The current state of each watched user, then each change.

    Users who blocked the viewer are reported offline once and never again.
    """

    __slots__ = ("known", "online", "user_ids", "viewer", "visible")

    def __init__(self, services: Services, viewer: UserRecord, user_ids: list[str] | None) -> None:
        super().__init__(services)
        self.viewer = viewer
        self.user_ids = user_ids
        self.visible: list[str] = []
        self.known: dict[str, UserRecord] = {}
        self.online: set[str] = set()

    async def _open(self) -> list[PresenceRecord]:
        watched = (
            list(dict.fromkeys(self.user_ids))
            if self.user_ids is not None
            else await contacts_of(self.viewer.id)
        )
        self.user_ids = None
        hidden = await blockers_of(self.viewer.id, watched)
        visible = self.visible = [user_id for user_id in watched if user_id not in hidden]
        await self._follow(presence_channel(user_id) for user_id in visible)
        known = self.known = await users_by_id(watched)
        online = self.online = await self.services.presence.online(visible)
        first = []
        for user_id in watched:
            user = known.get(user_id)
            if user is None:
                continue
            if user_id in hidden:
                first.append(PresenceRecord(user_id, False, None))
            else:
                first.append(PresenceRecord(user_id, user_id in online, user.last_seen_at))
        return first

    def take(self, envelope: Envelope) -> Taken[PresenceRecord]:
        if envelope.data["type"] == RESYNC:
            return self._resync()
        record = events.presence_record(envelope.data)
        self.online.discard(record.user_id)
        if record.online:
            self.online.add(record.user_id)
        return [record]

    async def _resync(self) -> list[PresenceRecord]:
        """Changes may have been lost: report those whose state differs now."""
        visible, known = self.visible, self.known
        async with self.services.resyncs:
            online = await self.services.presence.online(visible)
            changed = [u for u in visible if u in known and (u in self.online) != (u in online)]
            current = await users_by_id(changed)
        self.online = online
        return [PresenceRecord(u, u in online, current[u].last_seen_at) for u in changed]


class TypingChanges(Stream[TypingRecord]):
    """Typing in the viewer's conversations, never the viewer's own."""

    __slots__ = ("rooms", "viewer")

    def __init__(self, services: Services, viewer: UserRecord) -> None:
        super().__init__(services)
        self.viewer = viewer
        self.rooms: set[str] = set()

    async def _open(self) -> list[TypingRecord]:
        subscription = await self._follow([user_channel(self.viewer.id)])
        self.rooms = await _follow_rooms(subscription, self.viewer.id)
        return []

    def take(self, envelope: Envelope) -> Taken[TypingRecord]:
        data = envelope.data
        kind = data["type"]
        if kind == events.MEMBERSHIP or kind == RESYNC:
            return self._refresh(data)
        if kind == events.TYPING and data["userId"] != self.viewer.id:
            room_id = data["roomId"]
            if room_id is None or room_id in self.rooms:
                return [events.typing_record(data)]
        return []

    async def _refresh(self, data: dict[str, Any]) -> list[TypingRecord]:
        assert self.subscription is not None
        if data["type"] == RESYNC:
            async with self.services.resyncs:
                await refresh_rooms(self.subscription, self.viewer.id, self.rooms)
        else:
            await _follow_membership(self.subscription, data, self.rooms)
        return []


class ReceiptChanges(Stream[ReceiptRecord]):
    """DELIVERED and READ for the messages the viewer sent."""

    __slots__ = ("seen", "viewer")

    def __init__(self, services: Services, viewer: UserRecord) -> None:
        super().__init__(services)
        self.viewer = viewer
        self.seen: dict[ReceiptKey, int] = {}

    async def _open(self) -> list[ReceiptRecord]:
        await self._follow([user_channel(self.viewer.id)])
        self.seen = await receipt_points(self.viewer.id)
        return []

    def take(self, envelope: Envelope) -> Taken[ReceiptRecord]:
        kind = envelope.data["type"]
        if kind == events.RECEIPT:
            receipt = events.receipt_record(envelope.data)
            key = (receipt.conversation_id, receipt.user_id, receipt.status)
            self.seen[key] = max(self.seen.get(key, 0), receipt.up_to_seq)
            return [receipt]
        if kind == RESYNC:
            return self._resync()
        return []

    async def _resync(self) -> list[ReceiptRecord]:
        async with self.services.resyncs:
            return await missed_receipts(self.viewer.id, self.seen)


class RoomChanges(Stream[RoomEventRecord]):
    """Joins and leaves of a room the viewer belongs to; ends when the viewer leaves."""

    __slots__ = ("room_id", "viewer")

    def __init__(self, services: Services, viewer: UserRecord, room_id: str) -> None:
        super().__init__(services)
        self.viewer = viewer
        self.room_id = room_id

    async def _open(self) -> list[RoomEventRecord]:
        room = await require_room(self.room_id)
        self.room_id = str(room.id)  # as stored: "007" and "7" are one room
        await self._follow([room_channel(self.room_id), user_channel(self.viewer.id)])
        await require_member(room.id, self.viewer.id)
        return []

    def take(self, envelope: Envelope) -> Taken[RoomEventRecord]:
        data = envelope.data
        if data.get("roomId") != self.room_id:
            return []
        if data["type"] == events.ROOM:
            return [events.room_event_record(data)]
        if data["type"] == events.MEMBERSHIP and not data["joined"]:
            self.ended = True
        return []
