"""Rooms: conversations of kind ROOM, public to see and join, private to read and write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from broker.channels import room_channel, user_channel
from models.tables import Conversation, ConversationKind, Participant
from resolvers.conversations import require_member, require_room, room_ids_of
from resolvers.errors import BadUserInput
from resolvers.events import membership_event, room_event
from resolvers.messages import check_send_rate, message_by_client_id
from resolvers.records import MessageRecord, RoomEventRecord, UserRecord
from resolvers.users import users_by_id
from resolvers.validation import check_client_message_id, check_content
from resolvers.writer import PendingSend

if TYPE_CHECKING:
    from resolvers.services import Services


async def create_room(
    services: Services, viewer: UserRecord, name: str, participant_ids: list[str] | None
) -> Conversation:
    """A new room whose participants are the creator and the known users named."""
    name = name.strip()
    if not name or len(name) > 200:
        raise BadUserInput("A room name is 1 to 200 characters")
    wanted = list(dict.fromkeys(participant_ids or []))
    if len(wanted) > services.settings.max_list_size:
        raise BadUserInput(f"At most {services.settings.max_list_size} participants at creation")
    known = await users_by_id(wanted)
    unknown = [user_id for user_id in wanted if user_id not in known]
    if unknown:
        raise BadUserInput(f"Unknown participants: {', '.join(unknown[:10])}")
    members = list(dict.fromkeys([viewer.id, *wanted]))
    async with in_transaction() as connection:
        room = await Conversation.create(kind=ConversationKind.ROOM, name=name, using_db=connection)
        await Participant.bulk_create(
            [Participant(conversation_id=room.id, user_id=user_id) for user_id in members],
            using_db=connection,
        )
    for user_id in members:
        await _announce(services, str(room.id), user_id, joined=True)
    return room


async def join_room(services: Services, viewer: UserRecord, room_id: str) -> Conversation:
    """Join a room (joining twice is harmless); its history becomes readable."""
    room = await require_room(room_id)
    try:
        _, created = await Participant.get_or_create(conversation_id=room.id, user_id=viewer.id)
    except IntegrityError:  # joined meanwhile from another device
        created = False
    if created:
        await _announce(services, room_id, viewer.id, joined=True)
    return room


async def leave_room(services: Services, viewer: UserRecord, room_id: str) -> Conversation:
    """Leave a room; live subscriptions stop receiving it at once."""
    room = await require_room(room_id)
    deleted = await Participant.filter(conversation_id=room.id, user_id=viewer.id).delete()
    if deleted:
        await _announce(services, room_id, viewer.id, joined=False)
    return room


async def send_room_message(
    services: Services,
    viewer: UserRecord,
    room_id: str,
    content: str,
    client_message_id: str | None,
) -> MessageRecord:
    """Store a room message and publish it once on the room's channel."""
    client_message_id = check_client_message_id(client_message_id)
    if client_message_id is not None:
        existing = await message_by_client_id(viewer.id, client_message_id)
        if existing is not None:
            return existing
    check_content(content, services.settings.max_message_chars)
    room = await require_room(room_id)
    await require_member(room.id, viewer.id)
    await check_send_rate(services, viewer.id)
    return await services.writer.submit(
        PendingSend(
            conversation_id=room.id,
            kind=ConversationKind.ROOM,
            sender_id=viewer.id,
            sender_name=viewer.name,
            receiver_id=None,
            content=content,
            client_message_id=client_message_id,
        )
    )


async def rooms_of(viewer: UserRecord) -> list[Conversation]:
    ids = [int(room_id) for room_id in await room_ids_of(viewer.id)]
    return list(await Conversation.filter(id__in=ids).order_by("id")) if ids else []


async def _announce(services: Services, room_id: str, user_id: str, *, joined: bool) -> None:
    # The member's own subscriptions start or stop following the room first.
    await services.broker.publish(user_channel(user_id), membership_event(room_id, joined))
    kind = "JOINED" if joined else "LEFT"
    await services.broker.publish(
        room_channel(room_id), room_event(RoomEventRecord(room_id, user_id, kind))
    )
