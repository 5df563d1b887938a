"""Mutation: thin fields over the functions of resolvers/."""

from __future__ import annotations

import strawberry

from resolvers import conversations, messages, reads, rooms, typing_actions, users
from resolvers.records import MarkReadRecord
from schema.inputs import (
    CreateRoomInput,
    MarkReadInput,
    MarkRoomReadInput,
    SendMessageInput,
    SendRoomMessageInput,
    TypingInput,
)
from schema.types import Conversation, Info, MarkReadPayload, Message, Room, User


def _unset_to_none(value: strawberry.ID | None) -> str | None:
    return None if value is strawberry.UNSET or value is None else str(value)


async def _payload(info: Info, result: MarkReadRecord) -> MarkReadPayload:
    record = await info.context.loaders.conversation.load(int(result.conversation_id))
    assert record is not None
    return MarkReadPayload(
        conversation_id=strawberry.ID(result.conversation_id),
        conversation=Conversation.from_record(record),
        up_to_seq=result.up_to_seq,
        updated_count=result.updated_count,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Returns only after the message is stored.")
    async def send_message(self, info: Info, input: SendMessageInput) -> Message:
        viewer = info.context.require_viewer()
        record = await messages.send_message(
            info.context.services, viewer, input.to, input.content, input.client_message_id
        )
        return Message.from_record(record)

    @strawberry.mutation
    async def send_room_message(self, info: Info, input: SendRoomMessageInput) -> Message:
        viewer = info.context.require_viewer()
        record = await rooms.send_room_message(
            info.context.services, viewer, input.room_id, input.content, input.client_message_id
        )
        return Message.from_record(record)

    @strawberry.mutation
    async def mark_read(self, info: Info, input: MarkReadInput) -> MarkReadPayload:
        viewer = info.context.require_viewer()
        result = await reads.mark_read(info.context.services, viewer, input.from_, input.up_to_seq)
        return await _payload(info, result)

    @strawberry.mutation
    async def mark_room_read(self, info: Info, input: MarkRoomReadInput) -> MarkReadPayload:
        viewer = info.context.require_viewer()
        result = await rooms.mark_room_read(
            info.context.services, viewer, input.room_id, input.up_to_seq
        )
        return await _payload(info, result)

    @strawberry.mutation
    async def start_typing(self, info: Info, input: TypingInput) -> bool:
        viewer = info.context.require_viewer()
        return await typing_actions.set_typing(
            info.context.services,
            viewer,
            to=_unset_to_none(input.to),
            room_id=_unset_to_none(input.room_id),
            is_typing=True,
        )

    @strawberry.mutation
    async def stop_typing(self, info: Info, input: TypingInput) -> bool:
        viewer = info.context.require_viewer()
        return await typing_actions.set_typing(
            info.context.services,
            viewer,
            to=_unset_to_none(input.to),
            room_id=_unset_to_none(input.room_id),
            is_typing=False,
        )

    @strawberry.mutation(description="The creator is a participant.")
    async def create_room(self, info: Info, input: CreateRoomInput) -> Room:
        viewer = info.context.require_viewer()
        participant_ids = [str(user_id) for user_id in input.participant_ids or []]
        room = await rooms.create_room(info.context.services, viewer, input.name, participant_ids)
        return Room.from_record(conversations.conversation_record(room))

    @strawberry.mutation
    async def join_room(self, info: Info, room_id: strawberry.ID) -> Room:
        viewer = info.context.require_viewer()
        room = await rooms.join_room(info.context.services, viewer, room_id)
        return Room.from_record(conversations.conversation_record(room))

    @strawberry.mutation(description="The room as it is after leaving.")
    async def leave_room(self, info: Info, room_id: strawberry.ID) -> Room:
        viewer = info.context.require_viewer()
        room = await rooms.leave_room(info.context.services, viewer, room_id)
        return Room.from_record(conversations.conversation_record(room))

    @strawberry.mutation(description="The blocked user, isBlocked true.")
    async def block_user(self, info: Info, user_id: strawberry.ID) -> User:
        viewer = info.context.require_viewer()
        return User.from_record(await users.block_user(viewer.id, user_id))

    @strawberry.mutation
    async def unblock_user(self, info: Info, user_id: strawberry.ID) -> User:
        viewer = info.context.require_viewer()
        return User.from_record(await users.unblock_user(viewer.id, user_id))
