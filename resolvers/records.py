"""Plain records the resolvers return and the events carry: no ORM objects leave the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.tables import ConversationKind


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    name: str
    last_seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    conversation_id: str
    kind: ConversationKind
    seq: int
    position: int
    sender_id: str
    sender_name: str
    receiver_id: str | None
    content: str
    timestamp: datetime
    client_message_id: str | None

    @property
    def room_id(self) -> str | None:
        return self.conversation_id if self.kind is ConversationKind.ROOM else None

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversationId": self.conversation_id,
            "kind": self.kind.value,
            "seq": self.seq,
            "position": self.position,
            "senderId": self.sender_id,
            "senderName": self.sender_name,
            "receiverId": self.receiver_id,
            "content": self.content,
            "timestamp": self.timestamp.isoformat(),
            "clientMessageId": self.client_message_id,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MessageRecord:
        return cls(
            id=data["id"],
            conversation_id=data["conversationId"],
            kind=ConversationKind(data["kind"]),
            seq=data["seq"],
            position=data["position"],
            sender_id=data["senderId"],
            sender_name=data["senderName"],
            receiver_id=data["receiverId"],
            content=data["content"],
            timestamp=datetime.fromisoformat(data["timestamp"]),
            client_message_id=data["clientMessageId"],
        )


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    kind: ConversationKind
    name: str | None
    last_seq: int
    created_at: datetime
    last_message_at: datetime | None


@dataclass(frozen=True, slots=True)
class PageRecord:
    """A page of history, oldest first, with Relay's page info."""

    messages: list[MessageRecord]
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True, slots=True)
class MarkReadRecord:
    conversation_id: str
    up_to_seq: int
    updated_count: int


@dataclass(frozen=True, slots=True)
class PresenceRecord:
    user_id: str
    online: bool
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class TypingRecord:
    user_id: str
    conversation_id: str
    room_id: str | None
    is_typing: bool


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    conversation_id: str
    user_id: str
    status: str
    up_to_seq: int


@dataclass(frozen=True, slots=True)
class RoomEventRecord:
    room_id: str
    user_id: str
    kind: str
