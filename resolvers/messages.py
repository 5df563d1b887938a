"""Sending messages and reading history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from models.db import fetch_rows, marker
from models.tables import Conversation, ConversationKind, Message
from resolvers.conversations import direct_key, find_direct, get_or_create_direct, require_member
from resolvers.cursors import decode_cursor
from resolvers.errors import BadUserInput, Blocked, NotFound
from resolvers.records import MessageRecord, PageRecord, UserRecord
from resolvers.users import require_user
from resolvers.validation import (
    check_client_message_id,
    check_content,
    check_page_size,
    is_user_id,
)
from resolvers.writer import PendingSend

if TYPE_CHECKING:
    from resolvers.services import Services

_FIELDS = (
    "id",
    "conversation_id",
    "conversation__kind",
    "seq",
    "position",
    "sender_id",
    "sender__name",
    "receiver_id",
    "content",
    "created_at",
    "client_message_id",
)


def _record(row: dict[str, Any]) -> MessageRecord:
    return MessageRecord(
        id=str(row["id"]),
        conversation_id=str(row["conversation_id"]),
        kind=ConversationKind(row["conversation__kind"]),
        seq=row["seq"],
        position=row["position"],
        sender_id=row["sender_id"],
        sender_name=row["sender__name"],
        receiver_id=row["receiver_id"],
        content=row["content"],
        timestamp=row["created_at"],
        client_message_id=row["client_message_id"],
    )


async def message_by_client_id(sender_id: str, client_message_id: str) -> MessageRecord | None:
    rows = await Message.filter(sender_id=sender_id, client_message_id=client_message_id).values(
        *_FIELDS
    )
    return _record(rows[0]) if rows else None


async def send_message(
    services: Services, viewer: UserRecord, to: str, content: str, client_message_id: str | None
) -> MessageRecord:
    """Store a direct message and publish it; returns once it is committed.

    A clientMessageId already used by the viewer returns the message stored under it.
    UNAVAILABLE when the store is overloaded or slower than the send timeout.
    """
    async with services.writer.admitted():
        return await _send_direct(services, viewer, to, content, client_message_id)


async def _send_direct(
    services: Services, viewer: UserRecord, to: str, content: str, client_message_id: str | None
) -> MessageRecord:
    client_message_id = check_client_message_id(client_message_id)
    if client_message_id is not None:
        existing = await message_by_client_id(viewer.id, client_message_id)
        if existing is not None:
            return existing
    check_content(content, services.settings.max_message_chars)
    if to == viewer.id:
        raise BadUserInput("You cannot send a direct message to yourself")
    known, blocked, conversation_id = (
        await _direct_send_state(viewer.id, to) if is_user_id(to) else (False, False, None)
    )
    if not known:
        raise NotFound(f"Unknown user {to!r}")
    if blocked:
        raise Blocked("One of you has blocked the other")
    await check_send_rate(services, viewer.id)
    if conversation_id is None:
        conversation_id = (await get_or_create_direct(viewer.id, to)).id
    return await services.writer.submit(
        PendingSend(
            conversation_id=conversation_id,
            kind=ConversationKind.DIRECT,
            sender_id=viewer.id,
            sender_name=viewer.name,
            receiver_id=to,
            content=content,
            client_message_id=client_message_id,
        )
    )


async def _direct_send_state(sender: str, receiver: str) -> tuple[bool, bool, int | None]:
    """Whether the receiver exists, whether a block stands between the two, and their
    conversation if it exists: one round trip, as this runs on every direct send."""
    m = [marker(index) for index in range(1, 7)]
    rows = await fetch_rows(
        f"SELECT (SELECT 1 FROM chat_user WHERE id = {m[0]}) AS known,"
        f" (SELECT 1 FROM block WHERE (blocker_id = {m[1]} AND blocked_id = {m[2]})"
        f" OR (blocker_id = {m[3]} AND blocked_id = {m[4]}) LIMIT 1) AS blocked,"
        f" (SELECT id FROM conversation WHERE direct_key = {m[5]}) AS conversation_id",
        [receiver, sender, receiver, receiver, sender, direct_key(sender, receiver)],
    )
    row = rows[0]
    conversation_id = row["conversation_id"]
    return (
        row["known"] is not None,
        row["blocked"] is not None,
        None if conversation_id is None else int(conversation_id),
    )


async def check_send_rate(services: Services, user_id: str) -> None:
    settings = services.settings
    await services.limiter.check(
        f"send:{user_id}", settings.send_rate, settings.send_burst, "messages"
    )


async def direct_history(
    services: Services,
    viewer: UserRecord,
    with_user: str,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRecord:
    """A page of the direct conversation with a user; empty before its first message."""
    await require_user(with_user)
    bounds = _page_bounds(services, first, after, last, before)
    conversation = await find_direct(viewer.id, with_user)
    if conversation is None:
        return PageRecord(messages=[], has_next_page=False, has_previous_page=False)
    return await _page(conversation, *bounds)


async def conversation_history(
    services: Services,
    viewer: UserRecord,
    conversation: Conversation,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRecord:
    """A page of a conversation the viewer belongs to (FORBIDDEN otherwise)."""
    bounds = _page_bounds(services, first, after, last, before)
    await require_member(conversation.id, viewer.id)
    return await _page(conversation, *bounds)


def _page_bounds(
    services: Services, first: int | None, after: str | None, last: int | None, before: str | None
) -> tuple[int | None, int | None, int | None, int | None]:
    maximum = services.settings.max_page_size
    first = check_page_size(first, maximum, "first")
    last = check_page_size(last, maximum, "last")
    if first is not None and last is not None:
        raise BadUserInput("Pass first or last, not both")
    after_position = decode_cursor(after) if after is not None else None
    before_position = decode_cursor(before) if before is not None else None
    if first is None and last is None:
        if after_position is not None:
            first = services.settings.default_page_size
        else:
            last = services.settings.default_page_size
    return first, after_position, last, before_position


async def _page(
    conversation: Conversation,
    first: int | None,
    after: int | None,
    last: int | None,
    before: int | None,
) -> PageRecord:
    query = Message.filter(conversation_id=conversation.id)
    if after is not None:
        query = query.filter(position__gt=after)
    if before is not None:
        query = query.filter(position__lt=before)
    if first is not None:
        rows = await query.order_by("position").limit(first + 1).values(*_FIELDS)
        has_next = len(rows) > first
        rows = rows[:first]
        has_previous = (
            after is not None
            and await Message.filter(conversation_id=conversation.id, position__lte=after).exists()
        )
    else:
        assert last is not None
        rows = await query.order_by("-position").limit(last + 1).values(*_FIELDS)
        has_previous = len(rows) > last
        rows = list(reversed(rows[:last]))
        has_next = (
            before is not None
            and await Message.filter(conversation_id=conversation.id, position__gte=before).exists()
        )
    return PageRecord(
        messages=[_record(row) for row in rows],
        has_next_page=has_next,
        has_previous_page=has_previous,
    )


async def messages_after(
    conversation_ids: Iterable[int], position: int, limit: int
) -> list[MessageRecord]:
    """Messages of these conversations stored after a stream position, in position order."""
    ids = list(conversation_ids)
    if not ids:
        return []
    rows = (
        await Message.filter(conversation_id__in=ids, position__gt=position)
        .order_by("position")
        .limit(limit)
        .values(*_FIELDS)
    )
    return [_record(row) for row in rows]


async def messages_between(
    conversation_id: int, after_seq: int, up_to_seq: int
) -> list[MessageRecord]:
    """A conversation's messages with after_seq < seq <= up_to_seq, in seq order."""
    rows = (
        await Message.filter(conversation_id=conversation_id, seq__gt=after_seq, seq__lte=up_to_seq)
        .order_by("seq")
        .values(*_FIELDS)
    )
    return [_record(row) for row in rows]


async def messages_at(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], MessageRecord]:
    """Messages by (conversation id, seq), for lastMessage of many conversations at once."""
    wanted = set(keys)
    if not wanted:
        return {}
    conversation_ids = {conversation_id for conversation_id, _ in wanted}
    seqs = {seq for _, seq in wanted}
    rows = await Message.filter(conversation_id__in=conversation_ids, seq__in=seqs).values(*_FIELDS)
    found: dict[tuple[int, int], MessageRecord] = {}
    for row in rows:
        key = (int(row["conversation_id"]), row["seq"])
        if key in wanted:
            found[key] = _record(row)
    return found


def latest_position(messages: Iterable[MessageRecord]) -> int:
    return max((message.position for message in messages), default=0)
