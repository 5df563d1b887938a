"""Rooms: conversations of kind ROOM, public to see and join, private to read and write.

Membership is checked on every read and write of a room's messages, events and typing
(FORBIDDEN). A member who joins reads the room's whole history, as in Slack; its unread
count starts at the join. Each join and leave is announced twice after commit: on the
member's own channel, so that their live subscriptions start or stop following the room
at once, and on the room's channel as a JOINED or LEFT room event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from broker.channels import room_channel, user_channel
from models.tables import Conversation, ConversationKind, Participant
from resolvers.conversations import get_room, require_room, require_room_member, room_ids_of
from resolvers.errors import BadUserInput, NotFound
from resolvers.events import membership_event, room_event
from resolvers.history import conversation_history
from resolvers.messages import (
    check_send_rate,
    message_by_client_id,
    submit_message,
)
from resolvers.moderation import Draft, moderate
from resolvers.reads import mark_conversation_read
from resolvers.records import MarkReadRecord, MessageRecord, PageRecord, RoomEventRecord, UserRecord
from resolvers.users import users_by_id
from resolvers.validation import check_client_message_id, check_content

if TYPE_CHECKING:
    from resolvers.services import Services

MAX_NAME_CHARS = 200


async def create_room(
    services: Services, viewer: UserRecord, name: str, participant_ids: list[str] | None
) -> Conversation:
    """A new room whose participants are the creator and the users named (NOT_FOUND for
    an unknown one)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise BadUserInput(f"A room name is 1 to {MAX_NAME_CHARS} characters")
    wanted = list(dict.fromkeys(participant_ids or []))
    if len(wanted) > services.settings.max_list_size:
        raise BadUserInput(f"At most {services.settings.max_list_size} participants at creation")
    known = await users_by_id(wanted)
    unknown = [user_id for user_id in wanted if user_id not in known]
    if unknown:
        raise NotFound(f"Unknown users: {', '.join(unknown[:10])}")
    members = list(dict.fromkeys([viewer.id, *wanted]))
    async with in_transaction() as connection:
        room = await Conversation.create(kind=ConversationKind.ROOM, name=name, using_db=connection)
        await Participant.bulk_create(
            [Participant(conversation_id=room.id, user_id=user_id) for user_id in members],
            using_db=connection,
        )
    for user_id in members:
        await _announce(services, str(room.id), user_id, joined=True, seq=0)
    return room


async def join_room(services: Services, viewer: UserRecord, room_id: str) -> Conversation:
    """Join a room (joining twice is harmless); its whole history becomes readable, and
    what was sent before the join does not count as unread."""
    room = await require_room(room_id)
    joined_at_seq = room.last_seq
    try:
        _, created = await Participant.get_or_create(
            conversation_id=room.id,
            user_id=viewer.id,
            defaults={"read_seq": joined_at_seq, "delivered_seq": joined_at_seq},
        )
    except IntegrityError:  # joined meanwhile from another device
        created = False
    if created:
        await _announce(services, str(room.id), viewer.id, joined=True, seq=joined_at_seq)
    return room


async def leave_room(services: Services, viewer: UserRecord, room_id: str) -> Conversation:
    """Leave a room (leaving twice is harmless); live subscriptions stop receiving it at
    once. The room stays, public and joinable, when its last member leaves."""
    room = await require_room(room_id)
    deleted = await Participant.filter(conversation_id=room.id, user_id=viewer.id).delete()
    if deleted:
        await _announce(services, str(room.id), viewer.id, joined=False, seq=room.last_seq)
    return room


async def send_room_message(
    services: Services,
    viewer: UserRecord,
    room_id: str,
    content: str,
    client_message_id: str | None,
) -> MessageRecord:
    """Store a room message; it is published once, on the room's channel, after commit.

    Only members may send (FORBIDDEN), also when retrying with a used clientMessageId.
    UNAVAILABLE when the store is overloaded or slower than the send timeout.
    """
    async with services.writer.admitted():
        return await _send_to_room(services, viewer, room_id, content, client_message_id)


async def _send_to_room(
    services: Services,
    viewer: UserRecord,
    room_id: str,
    content: str,
    client_message_id: str | None,
) -> MessageRecord:
    conversation_id = await require_room_member(room_id, viewer.id)
    client_message_id = check_client_message_id(client_message_id)
    if client_message_id is not None:
        existing = await message_by_client_id(viewer.id, client_message_id)
        if existing is not None:
            return existing
    check_content(content, services.settings.max_message_chars)
    await check_send_rate(services, viewer.id)
    content = await moderate(
        services.moderation,
        Draft(viewer.id, content, room_id=str(conversation_id)),
        services.settings.max_message_chars,
    )
    return await submit_message(
        services, viewer, conversation_id, ConversationKind.ROOM, None, content, client_message_id
    )


async def room_history(
    services: Services,
    viewer: UserRecord,
    room_id: str,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRecord:
    """A page of a room's messages, for members only; history from before the viewer
    joined included."""
    room = await require_room(room_id)
    return await conversation_history(
        services, viewer, room, first=first, after=after, last=last, before=before
    )


async def mark_room_read(
    services: Services, viewer: UserRecord, room_id: str, up_to_seq: int | None
) -> MarkReadRecord:
    """Move the viewer's own read point in a room; the other members' are untouched."""
    room = await require_room(room_id)
    return await mark_conversation_read(services, viewer, room, up_to_seq)


async def find_room(room_id: str) -> Conversation | None:
    """Any room by id, member or not (rooms are public to see); None when unknown."""
    return await get_room(room_id)


async def rooms_of(viewer: UserRecord) -> list[Conversation]:
    """The rooms the viewer is in, oldest first."""
    ids = [int(room_id) for room_id in await room_ids_of(viewer.id)]
    return list(await Conversation.filter(id__in=ids).order_by("id")) if ids else []


async def _announce(
    services: Services, room_id: str, user_id: str, *, joined: bool, seq: int
) -> None:
    # The member's own subscriptions start or stop following the room first.
    await services.broker.publish(user_channel(user_id), membership_event(room_id, joined, seq))
    kind = "JOINED" if joined else "LEFT"
    await services.broker.publish(
        room_channel(room_id), room_event(RoomEventRecord(room_id, user_id, kind))
    )
