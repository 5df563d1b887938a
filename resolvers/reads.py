"""Marking read: one write that moves the viewer's read point, and a READ receipt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from broker.channels import user_channel
from models.tables import Conversation, ConversationKind, Message, Participant
from resolvers.conversations import get_or_create_direct, require_member
from resolvers.errors import BadUserInput
from resolvers.events import receipt_event
from resolvers.records import MarkReadRecord, ReceiptRecord, UserRecord
from resolvers.users import require_user

if TYPE_CHECKING:
    from resolvers.services import Services


async def mark_read(
    services: Services, viewer: UserRecord, from_user: str, up_to_seq: int | None
) -> MarkReadRecord:
    """Mark the direct conversation with `from_user` read up to a seq (default: all)."""
    if from_user == viewer.id:
        raise BadUserInput("There is no direct conversation with yourself")
    await require_user(from_user)
    conversation = await get_or_create_direct(viewer.id, from_user)
    return await mark_conversation_read(services, viewer, conversation, up_to_seq)


async def mark_conversation_read(
    services: Services, viewer: UserRecord, conversation: Conversation, up_to_seq: int | None
) -> MarkReadRecord:
    """Move the viewer's read point (never backwards) and tell the senders in direct chat."""
    if up_to_seq is not None and up_to_seq < 0:
        raise BadUserInput("upToSeq must not be negative")
    member = await require_member(conversation.id, viewer.id)
    await conversation.refresh_from_db(fields=["last_seq"])
    target = conversation.last_seq if up_to_seq is None else min(up_to_seq, conversation.last_seq)
    previous = member.read_seq
    if target <= previous:
        return MarkReadRecord(str(conversation.id), previous, 0)
    # Only a move forward is written; a concurrent mark from another device may win.
    await Participant.filter(id=member.id, read_seq__lt=target).update(read_seq=target)
    await Participant.filter(id=member.id, delivered_seq__lt=target).update(delivered_seq=target)
    updated = (
        await Message.filter(conversation_id=conversation.id, seq__gt=previous, seq__lte=target)
        .exclude(sender_id=viewer.id)
        .count()
    )
    if conversation.kind is ConversationKind.DIRECT:
        receipt = ReceiptRecord(
            conversation_id=str(conversation.id),
            user_id=viewer.id,
            status="READ",
            up_to_seq=target,
        )
        for peer_id in await _others(conversation.id, viewer.id):
            await services.broker.publish(user_channel(peer_id), receipt_event(receipt))
    return MarkReadRecord(str(conversation.id), target, updated)


async def _others(conversation_id: int, viewer_id: str) -> list[str]:
    rows = (
        await Participant.filter(conversation_id=conversation_id)
        .exclude(user_id=viewer_id)
        .values_list("user_id", flat=True)
    )
    return [str(row) for row in rows]
