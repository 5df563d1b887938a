"""The events the service publishes: one function per kind, each a JSON-ready dict.

Every event has a `type`; subscribers route on it. They are published only after the
write they describe has committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resolvers.records import (
    MessageRecord,
    PresenceRecord,
    ReceiptRecord,
    RoomEventRecord,
    TypingRecord,
)

MESSAGE = "message"
TYPING = "typing"
RECEIPT = "receipt"
PRESENCE = "presence"
ROOM = "room"
MEMBERSHIP = "membership"


def message_event(message: MessageRecord) -> dict[str, Any]:
    return {"type": MESSAGE, "message": message.to_data()}


def typing_event(typing: TypingRecord) -> dict[str, Any]:
    return {
        "type": TYPING,
        "userId": typing.user_id,
        "conversationId": typing.conversation_id,
        "roomId": typing.room_id,
        "isTyping": typing.is_typing,
    }


def receipt_event(receipt: ReceiptRecord) -> dict[str, Any]:
    return {
        "type": RECEIPT,
        "conversationId": receipt.conversation_id,
        "userId": receipt.user_id,
        "status": receipt.status,
        "upToSeq": receipt.up_to_seq,
    }


def presence_event(presence: PresenceRecord) -> dict[str, Any]:
    return {
        "type": PRESENCE,
        "userId": presence.user_id,
        "online": presence.online,
        "lastSeenAt": presence.last_seen_at.isoformat() if presence.last_seen_at else None,
    }


def room_event(event: RoomEventRecord) -> dict[str, Any]:
    return {"type": ROOM, "roomId": event.room_id, "userId": event.user_id, "kind": event.kind}


def membership_event(room_id: str, joined: bool, seq: int) -> dict[str, Any]:
    """Tells a user's own subscriptions to start or stop following a room; `seq` is the
    room's last seq at the join or leave."""
    return {"type": MEMBERSHIP, "roomId": room_id, "joined": joined, "seq": seq}


def typing_record(data: dict[str, Any]) -> TypingRecord:
    return TypingRecord(
        user_id=data["userId"],
        conversation_id=data["conversationId"],
        room_id=data["roomId"],
        is_typing=data["isTyping"],
    )


def receipt_record(data: dict[str, Any]) -> ReceiptRecord:
    return ReceiptRecord(
        conversation_id=data["conversationId"],
        user_id=data["userId"],
        status=data["status"],
        up_to_seq=data["upToSeq"],
    )


def presence_record(data: dict[str, Any]) -> PresenceRecord:
    seen = data["lastSeenAt"]
    return PresenceRecord(
        user_id=data["userId"],
        online=data["online"],
        last_seen_at=datetime.fromisoformat(seen) if seen else None,
    )


def room_event_record(data: dict[str, Any]) -> RoomEventRecord:
    return RoomEventRecord(room_id=data["roomId"], user_id=data["userId"], kind=data["kind"])
