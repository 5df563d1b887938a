"""The tables. A room is a conversation of kind ROOM in the same tables as direct chat."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ConversationKind(StrEnum):
    DIRECT = "DIRECT"
    ROOM = "ROOM"


class User(Model):
    id = fields.CharField(primary_key=True, max_length=128)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)

    class Meta:
        table = "chat_user"


class Conversation(Model):
    # A direct pair or a room. last_seq is the row every writer of it locks.

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(ConversationKind, max_length=8)
    # "a\x1fb" with the two user ids sorted: one row per pair, whoever writes first.
    direct_key = fields.CharField(max_length=260, null=True, unique=True)
    name = fields.CharField(max_length=200, null=True)
    last_seq = fields.IntField(default=0)
    last_message_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "conversation"


class Participant(Model):
    # Membership, with the member's read and delivered points (seq).

    id = fields.BigIntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="participants", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    read_seq = fields.IntField(default=0)
    delivered_seq = fields.IntField(default=0)
    joined_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "participant"
        unique_together = (("conversation_id", "user_id"),)
        indexes = (("user_id", "conversation_id"),)


class Message(Model):
    # A stored message. position is commit-ordered across all conversations (resume).

    id = fields.UUIDField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    seq = fields.IntField()
    position = fields.BigIntField(unique=True)
    sender: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sent_messages", on_delete=fields.CASCADE
    )
    receiver_id = fields.CharField(max_length=128, null=True)
    content = fields.TextField()
    client_message_id = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "message"
        unique_together = (("conversation_id", "seq"), ("sender_id", "client_message_id"))
        indexes = (("conversation_id", "position"),)


class Block(Model):
    id = fields.BigIntField(primary_key=True)
    blocker: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="blocks_made", on_delete=fields.CASCADE
    )
    blocked: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="blocks_received", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "block"
        unique_together = (("blocker_id", "blocked_id"),)


class StreamCounter(Model):
    # The single commit-ordered position counter, locked by each write batch until commit.

    id = fields.IntField(primary_key=True)
    position = fields.BigIntField(default=0)

    class Meta:
        table = "stream_counter"


class ServerSecret(Model):
    # Secrets generated once and kept with the database (the JWT secret).

    name = fields.CharField(primary_key=True, max_length=64)
    value = fields.TextField()

    class Meta:
        table = "server_secret"
