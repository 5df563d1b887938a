"""Conversations and membership: direct pairs made on first need, read points, listings."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.db import fetch_rows, placeholders
from models.tables import Conversation, ConversationKind, Participant
from resolvers.errors import Forbidden, NotFound
from resolvers.records import ConversationRecord


def direct_key(first: str, second: str) -> str:
    low, high = sorted((first, second))
    return f"{low}\x1f{high}"


def conversation_record(conversation: Conversation) -> ConversationRecord:
    return ConversationRecord(
        id=str(conversation.id),
        kind=ConversationKind(conversation.kind),
        name=conversation.name,
        last_seq=conversation.last_seq,
        created_at=conversation.created_at,
        last_message_at=conversation.last_message_at,
    )


def parse_conversation_id(conversation_id: str) -> int | None:
    """The numeric id, or None when the string cannot name a conversation."""
    # ASCII digits only: str.isdigit() also accepts "¹" and "①", which int() refuses.
    digits = conversation_id.isascii() and conversation_id.isdigit()
    return int(conversation_id) if digits and len(conversation_id) < 19 else None


async def find_direct(first: str, second: str) -> Conversation | None:
    return await Conversation.get_or_none(direct_key=direct_key(first, second))


async def get_or_create_direct(first: str, second: str) -> Conversation:
    """The direct conversation of a pair, created with both participants on first need."""
    key = direct_key(first, second)
    conversation = await Conversation.get_or_none(direct_key=key)
    if conversation is not None:
        return conversation
    try:
        async with in_transaction() as connection:
            conversation = await Conversation.create(
                kind=ConversationKind.DIRECT, direct_key=key, using_db=connection
            )
            await Participant.bulk_create(
                [
                    Participant(conversation_id=conversation.id, user_id=user_id)
                    for user_id in {first, second}
                ],
                using_db=connection,
            )
    except IntegrityError:  # the other party created it at the same moment
        conversation = await Conversation.get(direct_key=key)
    return conversation


async def get_room(room_id: str) -> Conversation | None:
    numeric = parse_conversation_id(room_id)
    if numeric is None:
        return None
    return await Conversation.get_or_none(id=numeric, kind=ConversationKind.ROOM)


async def require_room(room_id: str) -> Conversation:
    room = await get_room(room_id)
    if room is None:
        raise NotFound(f"Unknown room {room_id!r}")
    return room


async def membership(conversation_id: int, user_id: str) -> Participant | None:
    return await Participant.get_or_none(conversation_id=conversation_id, user_id=user_id)


async def require_member(conversation_id: int, user_id: str) -> Participant:
    """The viewer's membership; FORBIDDEN for anyone else."""
    member = await membership(conversation_id, user_id)
    if member is None:
        raise Forbidden("You are not a participant of this conversation")
    return member


async def require_room_member(room_id: str, user_id: str) -> int:
    """The id of a room the user belongs to, in one query on the busy path of a room
    (sends, typing); NOT_FOUND for an unknown room, FORBIDDEN for a non-member."""
    numeric = parse_conversation_id(room_id)
    if numeric is not None and await Participant.exists(
        conversation_id=numeric, user_id=user_id, conversation__kind=ConversationKind.ROOM
    ):
        return numeric
    room = await require_room(room_id)
    raise Forbidden(f"You are not a member of room {room.id}")


async def conversation_ids_of(user_id: str) -> list[int]:
    rows = await Participant.filter(user_id=user_id).values("conversation_id")
    return [int(row["conversation_id"]) for row in rows]


async def last_seqs(conversation_ids: Iterable[int]) -> dict[int, int]:
    """The newest seq of each conversation."""
    rows = await Conversation.filter(id__in=list(conversation_ids)).values_list("id", "last_seq")
    return {int(conversation_id): int(last_seq) for conversation_id, last_seq in rows}


async def room_ids_of(user_id: str) -> list[str]:
    rows = await Participant.filter(
        user_id=user_id, conversation__kind=ConversationKind.ROOM
    ).values_list("conversation_id", flat=True)
    return [str(value) for value in rows]


async def member_ids(conversation_id: int) -> list[str]:
    return [
        str(value)
        for value in await Participant.filter(conversation_id=conversation_id).values_list(
            "user_id", flat=True
        )
    ]


async def contacts_of(user_id: str) -> list[str]:
    """Everyone who shares a conversation with the user."""
    mine = await conversation_ids_of(user_id)
    if not mine:
        return []
    rows = (
        await Participant.filter(conversation_id__in=mine)
        .exclude(user_id=user_id)
        .distinct()
        .values_list("user_id", flat=True)
    )
    return [str(value) for value in rows]


async def list_conversations(user_id: str, first: int) -> list[ConversationRecord]:
    """The viewer's conversations, most recent activity first; direct ones from their first
    message, rooms from when the viewer joined."""
    mine = await conversation_ids_of(user_id)
    if not mine or first == 0:
        return []
    conversations = (
        await Conversation.filter(id__in=mine)
        .filter(Q(kind=ConversationKind.ROOM) | Q(last_seq__gt=0))
        .order_by("-last_message_at", "-created_at", "-id")
        .limit(first)
    )
    # NULL sorts differently per database: rooms without messages go by creation time.
    records = [conversation_record(conversation) for conversation in conversations]
    records.sort(key=lambda record: record.last_message_at or record.created_at, reverse=True)
    return records


async def conversations_by_id(conversation_ids: Iterable[int]) -> dict[int, ConversationRecord]:
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    return {
        conversation.id: conversation_record(conversation)
        for conversation in await Conversation.filter(id__in=ids)
    }


async def peers(conversation_ids: Iterable[int], viewer_id: str) -> dict[int, str]:
    """For direct conversations, the participant who is not the viewer."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    rows = (
        await Participant.filter(conversation_id__in=ids)
        .exclude(user_id=viewer_id)
        .values("conversation_id", "user_id")
    )
    return {int(row["conversation_id"]): str(row["user_id"]) for row in rows}


async def read_points(conversation_ids: Iterable[int]) -> dict[int, dict[str, tuple[int, int]]]:
    """Each member's (read_seq, delivered_seq) per conversation."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    rows = await Participant.filter(conversation_id__in=ids).values(
        "conversation_id", "user_id", "read_seq", "delivered_seq"
    )
    points: dict[int, dict[str, tuple[int, int]]] = {}
    for row in rows:
        points.setdefault(int(row["conversation_id"]), {})[str(row["user_id"])] = (
            row["read_seq"],
            row["delivered_seq"],
        )
    return points


async def own_read_points(user_id: str, conversation_ids: Iterable[int]) -> dict[int, int]:
    """The user's own read point (seq) in those of these conversations they belong to."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    rows = await Participant.filter(user_id=user_id, conversation_id__in=ids).values_list(
        "conversation_id", "read_seq"
    )
    return {int(conversation_id): int(read_seq) for conversation_id, read_seq in rows}


async def unread_counts(viewer_id: str, conversation_ids: Iterable[int]) -> dict[int, int]:
    """Messages from others after the viewer's read point, per conversation, in one query."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    rows = await fetch_rows(
        "SELECT p.conversation_id AS conversation_id, COUNT(m.id) AS unread"
        " FROM participant p JOIN message m ON m.conversation_id = p.conversation_id"
        " AND m.seq > p.read_seq AND m.sender_id <> p.user_id"
        f" WHERE p.user_id = {placeholders(1)}"
        f" AND p.conversation_id IN ({placeholders(len(ids), start=2)})"
        " GROUP BY p.conversation_id",
        [viewer_id, *ids],
    )
    return {int(row["conversation_id"]): int(row["unread"]) for row in rows}


async def members_of(conversation_ids: Iterable[int]) -> dict[int, list[str]]:
    """Member ids per conversation, in joining order."""
    ids = list(set(conversation_ids))
    if not ids:
        return {}
    rows = (
        await Participant.filter(conversation_id__in=ids)
        .order_by("id")
        .values_list("conversation_id", "user_id")
    )
    members: dict[int, list[str]] = {conversation_id: [] for conversation_id in ids}
    for row in rows:
        conversation_id, user_id = row
        members[int(conversation_id)].append(str(user_id))
    return members
