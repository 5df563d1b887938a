"""The object types of the API, each built from a plain record."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from models.tables import ConversationKind as Kind
from resolvers.cursors import encode_cursor
from resolvers.records import (
    ConversationRecord,
    MessageRecord,
    PageRecord,
    PresenceRecord,
    ReceiptRecord,
    RoomEventRecord,
    TypingRecord,
    UserRecord,
)
from resolvers.validation import check_list_size
from schema.context import ChatContext

Info = strawberry.Info[ChatContext, None]


@strawberry.enum
class ConversationKind(Enum):
    DIRECT = "DIRECT"
    ROOM = "ROOM"


@strawberry.enum
class MessageStatus(Enum):
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"


@strawberry.enum
class RoomEventKind(Enum):
    JOINED = "JOINED"
    LEFT = "LEFT"


@strawberry.type
class User:
    id: strawberry.ID
    name: str
    seen_at: strawberry.Private[datetime | None]

    @classmethod
    def from_record(cls, record: UserRecord) -> User:
        return cls(id=strawberry.ID(record.id), name=record.name, seen_at=record.last_seen_at)

    @strawberry.field(description="At least one live connection on any instance.")
    async def online(self, info: Info) -> bool:
        if await _hidden_from_viewer(info, self.id):
            return False
        return self.id in await info.context.services.presence.online([self.id])

    @strawberry.field
    async def last_seen_at(self, info: Info) -> datetime | None:
        if await _hidden_from_viewer(info, self.id):
            return None
        return self.seen_at

    @strawberry.field(description="The viewer has blocked this user.")
    async def is_blocked(self, info: Info) -> bool:
        if info.context.viewer is None:
            return False
        return await info.context.loaders.blocked_by_viewer.load(self.id)


async def _hidden_from_viewer(info: Info, user_id: str) -> bool:
    """A user who blocked the viewer hides their presence from them."""
    viewer = info.context.viewer
    if viewer is None or viewer.id == user_id:
        return False
    return await info.context.loaders.blocked_viewer.load(user_id)


async def load_user(info: Info, user_id: str) -> User:
    record = await info.context.loaders.user.load(user_id)
    return User.from_record(record or UserRecord(id=user_id, name=user_id))


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    seq: int
    sender_id: strawberry.ID
    receiver_id: strawberry.ID | None
    room_id: strawberry.ID | None
    content: str
    timestamp: datetime
    client_message_id: str | None
    cursor: str
    record: strawberry.Private[MessageRecord]

    @classmethod
    def from_record(cls, record: MessageRecord) -> Message:
        room_id = record.room_id
        return cls(
            id=strawberry.ID(record.id),
            conversation_id=strawberry.ID(record.conversation_id),
            seq=record.seq,
            sender_id=strawberry.ID(record.sender_id),
            receiver_id=strawberry.ID(record.receiver_id) if record.receiver_id else None,
            room_id=strawberry.ID(room_id) if room_id else None,
            content=record.content,
            timestamp=record.timestamp,
            client_message_id=record.client_message_id,
            cursor=encode_cursor(record.position),
            record=record,
        )

    @strawberry.field
    async def sender(self, info: Info) -> User:
        record = await info.context.loaders.user.load(self.record.sender_id)
        return User.from_record(
            record or UserRecord(id=self.record.sender_id, name=self.record.sender_name)
        )

    @strawberry.field(description="Direct: read by the receiver. Room: read by the viewer.")
    async def is_read(self, info: Info) -> bool:
        record = self.record
        conversation_id = int(record.conversation_id)
        if record.kind is Kind.DIRECT:
            points = await info.context.loaders.read_points.load(conversation_id)
            read_seq, _ = points.get(record.receiver_id or "", (0, 0))
            return record.seq <= read_seq
        # A room keeps one read point per member: the viewer's own, one row to read.
        viewer = info.context.viewer
        if viewer is None or viewer.id == record.sender_id:
            return viewer is not None
        return record.seq <= await info.context.loaders.own_read_seq.load(conversation_id)

    @strawberry.field(description="Direct: SENT, DELIVERED, READ as the sender sees it.")
    async def status(self, info: Info) -> MessageStatus:
        record = self.record
        if record.kind is Kind.ROOM or record.receiver_id is None:
            return MessageStatus.SENT
        points = await info.context.loaders.read_points.load(int(record.conversation_id))
        read_seq, delivered_seq = points.get(record.receiver_id, (0, 0))
        if record.seq <= read_seq:
            return MessageStatus.READ
        if record.seq <= delivered_seq:
            return MessageStatus.DELIVERED
        return MessageStatus.SENT


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: PageRecord) -> MessageConnection:
        edges = [
            MessageEdge(cursor=node.cursor, node=node)
            for node in map(Message.from_record, page.messages)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


@strawberry.type
class Room:
    id: strawberry.ID
    name: str
    created_at: datetime

    @classmethod
    def from_record(cls, record: ConversationRecord) -> Room:
        return cls(
            id=strawberry.ID(record.id), name=record.name or "", created_at=record.created_at
        )

    @strawberry.field(description="At most 1,000.")
    async def participants(self, info: Info, first: int | None = 200) -> list[User]:
        limit = check_list_size(
            200 if first is None else first, info.context.services.settings.max_list_size
        )
        member_ids = (await info.context.loaders.members.load(int(self.id)))[:limit]
        records = await info.context.loaders.user.load_many(member_ids)
        return [User.from_record(record) for record in records if record is not None]

    @strawberry.field
    async def participant_count(self, info: Info) -> int:
        return len(await info.context.loaders.members.load(int(self.id)))


@strawberry.type
class Conversation:
    id: strawberry.ID
    kind: ConversationKind
    record: strawberry.Private[ConversationRecord]

    @classmethod
    def from_record(cls, record: ConversationRecord) -> Conversation:
        return cls(
            id=strawberry.ID(record.id), kind=ConversationKind(record.kind.value), record=record
        )

    @strawberry.field(description="DIRECT: the other participant.")
    async def peer(self, info: Info) -> User | None:
        if self.record.kind is not Kind.DIRECT:
            return None
        peer_id = await info.context.loaders.peer.load(int(self.id))
        return await load_user(info, peer_id) if peer_id else None

    @strawberry.field
    def room(self) -> Room | None:
        return Room.from_record(self.record) if self.record.kind is Kind.ROOM else None

    @strawberry.field
    async def last_message(self, info: Info) -> Message | None:
        if self.record.last_seq == 0:
            return None
        key = (int(self.id), self.record.last_seq)
        record = await info.context.loaders.message_at.load(key)
        return Message.from_record(record) if record else None

    @strawberry.field(description="Messages from others after the viewer's read point.")
    async def unread_count(self, info: Info) -> int:
        return await info.context.loaders.unread.load(int(self.id))


@strawberry.type
class MarkReadPayload:
    conversation_id: strawberry.ID
    conversation: Conversation
    up_to_seq: int
    updated_count: int


@strawberry.type
class PresenceEvent:
    user_id: strawberry.ID
    online: bool
    last_seen_at: datetime | None

    @classmethod
    def from_record(cls, record: PresenceRecord) -> PresenceEvent:
        return cls(
            user_id=strawberry.ID(record.user_id),
            online=record.online,
            last_seen_at=record.last_seen_at,
        )


@strawberry.type
class TypingEvent:
    user_id: strawberry.ID
    conversation_id: strawberry.ID
    room_id: strawberry.ID | None
    is_typing: bool

    @classmethod
    def from_record(cls, record: TypingRecord) -> TypingEvent:
        return cls(
            user_id=strawberry.ID(record.user_id),
            conversation_id=strawberry.ID(record.conversation_id),
            room_id=strawberry.ID(record.room_id) if record.room_id else None,
            is_typing=record.is_typing,
        )


@strawberry.type
class ReceiptEvent:
    conversation_id: strawberry.ID
    user_id: strawberry.ID
    status: MessageStatus
    up_to_seq: int

    @classmethod
    def from_record(cls, record: ReceiptRecord) -> ReceiptEvent:
        return cls(
            conversation_id=strawberry.ID(record.conversation_id),
            user_id=strawberry.ID(record.user_id),
            status=MessageStatus(record.status),
            up_to_seq=record.up_to_seq,
        )


@strawberry.type
class RoomEvent:
    room_id: strawberry.ID
    user_id: strawberry.ID
    kind: RoomEventKind

    @classmethod
    def from_record(cls, record: RoomEventRecord) -> RoomEvent:
        return cls(
            room_id=strawberry.ID(record.room_id),
            user_id=strawberry.ID(record.user_id),
            kind=RoomEventKind(record.kind),
        )
