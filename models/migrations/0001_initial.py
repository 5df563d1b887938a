from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.tables import ConversationKind


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Conversation",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="DIRECT: DIRECT\nROOM: ROOM",
                        enum_type=ConversationKind,
                        max_length=8,
                    ),
                ),
                ("direct_key", fields.CharField(null=True, unique=True, max_length=260)),
                ("name", fields.CharField(null=True, max_length=200)),
                ("last_seq", fields.IntField(default=0)),
                (
                    "last_message_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "conversation", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ServerSecret",
            fields=[
                (
                    "name",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("value", fields.TextField(unique=False)),
            ],
            options={"table": "server_secret", "app": "models", "pk_attr": "name"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StreamCounter",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("position", fields.BigIntField(default=0)),
            ],
            options={"table": "stream_counter", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128),
                ),
                ("name", fields.CharField(max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "last_seen_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "chat_user", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Block",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "blocker",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="blocker_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="blocks_made",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "blocked",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="blocked_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="blocks_received",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "block",
                "app": "models",
                "unique_together": (("blocker_id", "blocked_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Message",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "conversation",
                    fields.ForeignKeyField(
                        "models.Conversation",
                        source_field="conversation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("seq", fields.IntField()),
                ("position", fields.BigIntField(unique=True)),
                (
                    "sender",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="sender_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sent_messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("receiver_id", fields.CharField(null=True, max_length=128)),
                ("content", fields.TextField(unique=False)),
                ("client_message_id", fields.CharField(null=True, max_length=128)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "message",
                "app": "models",
                "unique_together": (("conversation_id", "seq"), ("sender_id", "client_message_id")),
                "indexes": [Index(fields=["conversation_id", "position"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Participant",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "conversation",
                    fields.ForeignKeyField(
                        "models.Conversation",
                        source_field="conversation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="participants",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("read_seq", fields.IntField(default=0)),
                ("delivered_seq", fields.IntField(default=0)),
                ("joined_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "participant",
                "app": "models",
                "unique_together": (("conversation_id", "user_id"),),
                "indexes": [Index(fields=["user_id", "conversation_id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
