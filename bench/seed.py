"""S4's store: one viewer with a direct conversation per peer, filled through the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from models.db import connection, is_postgres, migrate, placeholders, tortoise_config
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


async def _insert(sql: str, rows: list[list[Any]]) -> None:
    # Raw and in one transaction per batch: a million ORM objects would take minutes.
    async with in_transaction() as connection:
        await connection.execute_many(sql, rows)


async def seed_history(url: str, viewer: str, peers: list[str], total: int) -> None:
    """Store `total` messages between `viewer` and its peers, interleaved by position, so
    that a cursor far enough from either end has a full page before it in every
    conversation."""
    await migrate(url, 2)
    await Tortoise.init(config=tortoise_config(url, 2))
    try:
        for user in [viewer, *peers]:
            await User.create(id=user, name=user)
        per_peer = total // len(peers)
        conversations = []
        for peer in peers:
            conversation = await Conversation.create(
                kind=ConversationKind.DIRECT,
                direct_key=direct_key(viewer, peer),
                last_seq=per_peer,
                last_message_at=datetime.now(UTC),
            )
            for member in (viewer, peer):
                await Participant.create(conversation=conversation, user_id=member)
            conversations.append(conversation)
        start = datetime.now(UTC) - timedelta(days=30)
        fields = Message._meta.fields_map
        columns = "id, conversation_id, seq, position, sender_id, receiver_id, content, created_at"
        sql = f"INSERT INTO message ({columns}) VALUES ({placeholders(8)})"
        rows: list[list[Any]] = []
        position = 0
        for seq in range(1, per_peer + 1):
            for index, conversation in enumerate(conversations):
                position += 1
                sender = viewer if (seq + index) % 2 else peers[index]
                created = start + timedelta(milliseconds=position)
                rows.append(
                    [
                        fields["id"].to_db_value(uuid.uuid4(), Message),
                        conversation.id,
                        seq,
                        position,
                        sender,
                        peers[index] if sender == viewer else viewer,
                        f"message {seq} of a long history, about sixty characters long",
                        fields["created_at"].to_db_value(created, Message),
                    ]
                )
                if len(rows) >= _BATCH:
                    await _insert(sql, rows)
                    rows = []
        if rows:
            await _insert(sql, rows)
        await StreamCounter.update_or_create(id=1, defaults={"position": position})
        if is_postgres():
            # What autovacuum does for a table that grew by use. A bulk-loaded one would
            # be vacuumed in the middle of the measurement, and until then be planned
            # without statistics: plans that sort a whole conversation to return a page.
            await connection().execute_script("VACUUM ANALYZE")
    finally:
        await Tortoise.close_connections()
