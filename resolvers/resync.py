"""Refilling streams from the store after the broker may have lost events.

The broker hands every subscription a RESYNC event when Redis was unreachable or an
instance could not publish; the store, the source of truth, then tells what was missed.
"""

from __future__ import annotations

from broker import Subscription
from broker.channels import room_channel
from models.tables import ConversationKind, Participant
from resolvers.conversations import conversation_ids_of, last_seqs, read_points, room_ids_of
from resolvers.errors import CursorExpired
from resolvers.messages import messages_after, messages_between
from resolvers.records import MessageRecord, ReceiptRecord

ReceiptKey = tuple[str, str, str]


async def refresh_rooms(
    subscription: Subscription, viewer_id: str, rooms: set[str]
) -> dict[int, int]:
    """Follow the rooms joined, and drop those left, while events were lost.

    Returns the viewer's read point in each room newly followed: its catch-up starts there.
    """
    current = set(await room_ids_of(viewer_id))
    for room_id in rooms - current:
        rooms.discard(room_id)
        await subscription.remove(room_channel(room_id))
    joined = current - rooms
    for room_id in joined:
        rooms.add(room_id)
        await subscription.add(room_channel(room_id))
    if not joined:
        return {}
    rows = await Participant.filter(
        user_id=viewer_id, conversation_id__in=[int(room_id) for room_id in joined]
    ).values_list("conversation_id", "read_seq")
    return {int(conversation_id): int(read_seq) for conversation_id, read_seq in rows}


async def catch_up(
    viewer_id: str, delivered: dict[int, int], floor: int, limit: int
) -> list[MessageRecord]:
    """What the store has in the viewer's conversations beyond what a newMessage stream
    yielded (`delivered`: the last seq per conversation; `floor`: the position it started
    after), in position order."""
    latest = await last_seqs(await conversation_ids_of(viewer_id))
    missed: list[MessageRecord] = []
    unseen: list[int] = []
    for conversation_id, last_seq in latest.items():
        last = delivered.get(conversation_id)
        if last is None:
            if last_seq > 0:
                unseen.append(conversation_id)
        elif last_seq > last:
            missed.extend(await messages_between(conversation_id, last, last_seq))
    fresh = await messages_after(unseen, floor, limit + 1)
    if len(fresh) > limit:
        raise CursorExpired("Too many messages missed while the broker was down; resubscribe")
    missed.extend(fresh)
    missed.sort(key=lambda message: message.position)
    return missed


async def receipt_points(viewer_id: str) -> dict[ReceiptKey, int]:
    """(conversation id, peer, status) -> seq: how far the viewer's direct peers have
    received and read."""
    rows = await Participant.filter(
        user_id=viewer_id, conversation__kind=ConversationKind.DIRECT
    ).values("conversation_id")
    ids = [int(row["conversation_id"]) for row in rows]
    points: dict[ReceiptKey, int] = {}
    for conversation_id, members in (await read_points(ids)).items():
        for user_id, (read_seq, delivered_seq) in members.items():
            if user_id != viewer_id:
                points[(str(conversation_id), user_id, "DELIVERED")] = delivered_seq
                points[(str(conversation_id), user_id, "READ")] = read_seq
    return points


async def missed_receipts(viewer_id: str, seen: dict[ReceiptKey, int]) -> list[ReceiptRecord]:
    """The receipts whose points moved beyond `seen` (which is brought up to date)."""
    missed = []
    for key, seq in sorted((await receipt_points(viewer_id)).items()):
        if seq > seen.get(key, 0):
            seen[key] = seq
            conversation_id, user_id, status = key
            missed.append(ReceiptRecord(conversation_id, user_id, status, seq))
    return missed
