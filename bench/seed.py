"""S4's store: one viewer with a direct conversation per peer, filled through the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from models.db import migrate, tortoise_config
from models.tables import (
    Conversation,
    ConversationKind,
    Message,
    Participant,
    StreamCounter,
    User,
)
from resolvers.conversations import direct_key

_BATCH = 5000


async def seed_history(url: str, viewer: str, peers: list[str], total: int) -> None:
    """Store `total` messages between `viewer` and its peers, interleaved by position, so
    that a cursor far enough from either end has a full page before it in every
    conversation."""
    await migrate(url, 2)
    await Tortoise.init(config=tortoise_config(url, 2))
    try:
        await User.bulk_create([User(id=user, name=user) for user in [viewer, *peers]])
        per_peer = total // len(peers)
        conversations = []
        for peer in peers:
            conversation = await Conversation.create(
                kind=ConversationKind.DIRECT,
                direct_key=direct_key(viewer, peer),
                last_seq=per_peer,
                last_message_at=datetime.now(UTC),
            )
            await Participant.bulk_create(
                [
                    Participant(conversation=conversation, user_id=viewer),
                    Participant(conversation=conversation, user_id=peer),
                ]
            )
            conversations.append(conversation)
        start = datetime.now(UTC) - timedelta(days=30)
        rows: list[Message] = []
        position = 0
        for seq in range(1, per_peer + 1):
            for index, conversation in enumerate(conversations):
                position += 1
                sender = viewer if (seq + index) % 2 else peers[index]
                rows.append(
                    Message(
                        id=uuid.uuid4(),
                        conversation=conversation,
                        seq=seq,
                        position=position,
                        sender_id=sender,
                        receiver_id=peers[index] if sender == viewer else viewer,
                        content=f"message {seq} of a long history, about sixty characters",
                        created_at=start + timedelta(milliseconds=position),
                    )
                )
                if len(rows) >= _BATCH:
                    await Message.bulk_create(rows)
                    rows = []
        if rows:
            await Message.bulk_create(rows)
        await StreamCounter.update_or_create(id=1, defaults={"position": position})
    finally:
        await Tortoise.close_connections()
