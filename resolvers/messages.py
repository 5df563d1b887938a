"""Sending messages and looking stored ones up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from models.tables import ConversationKind, Message
from resolvers.conversations import direct_key, get_or_create_direct
from resolvers.direct_checks import DirectState
from resolvers.errors import BadUserInput, Blocked, NotFound
from resolvers.moderation import Draft, moderate
from resolvers.records import MessageRecord, UserRecord
from resolvers.validation import (
    check_client_message_id,
    check_content,
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
    return (await messages_by_client_ids([(sender_id, client_message_id)])).get(
        (sender_id, client_message_id)
    )


async def messages_by_client_ids(
    keys: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], MessageRecord]:
    """Stored messages by (sender id, clientMessageId), in one query."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = await Message.filter(
        sender_id__in={sender for sender, _ in wanted},
        client_message_id__in={client_id for _, client_id in wanted},
    ).values(*_FIELDS)
    found: dict[tuple[str, str], MessageRecord] = {}
    for row in rows:
        record = _record(row)
        key = (record.sender_id, record.client_message_id or "")
        if key in wanted:
            found[key] = record
    return found


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
    state = (
        await services.direct_checks.check(viewer.id, to, direct_key(viewer.id, to))
        if is_user_id(to)
        else DirectState(receiver_known=False, blocked=False, conversation_id=None)
    )
    if not state.receiver_known:
        raise NotFound(f"Unknown user {to!r}")
    if state.blocked:
        raise Blocked("One of you has blocked the other")
    conversation_id = state.conversation_id
    await check_send_rate(services, viewer.id)
    content = await moderate(
        services.moderation,
        Draft(viewer.id, content, receiver_id=to),
        services.settings.max_message_chars,
    )
    if conversation_id is None:
        conversation_id = (await get_or_create_direct(viewer.id, to)).id
    return await submit_message(
        services, viewer, conversation_id, ConversationKind.DIRECT, to, content, client_message_id
    )


async def submit_message(
    services: Services,
    viewer: UserRecord,
    conversation_id: int,
    kind: ConversationKind,
    receiver_id: str | None,
    content: str,
    client_message_id: str | None,
) -> MessageRecord:
    """Hand a checked message to the writer; returns once it is committed."""
    return await services.writer.submit(
        PendingSend(
            conversation_id=conversation_id,
            kind=kind,
            sender_id=viewer.id,
            sender_name=viewer.name,
            receiver_id=receiver_id,
            content=content,
            client_message_id=client_message_id,
        )
    )


async def check_send_rate(services: Services, user_id: str) -> None:
    settings = services.settings
    await services.limiter.check(
        f"send:{user_id}", settings.send_rate, settings.send_burst, "messages"
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
