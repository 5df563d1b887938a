"""Input types of the mutations; the plain ones are built in one call (schema/plain_inputs.py)."""

from __future__ import annotations

import strawberry

from schema.plain_inputs import plain_input


@plain_input
@strawberry.input
class SendMessageInput:
    to: strawberry.ID
    content: str
    client_message_id: str | None = None


@plain_input
@strawberry.input
class SendRoomMessageInput:
    room_id: strawberry.ID
    content: str
    client_message_id: str | None = None


@plain_input
@strawberry.input
class MarkReadInput:
    from_: strawberry.ID = strawberry.field(name="from")
    up_to_seq: int | None = None


@plain_input
@strawberry.input
class MarkRoomReadInput:
    room_id: strawberry.ID
    up_to_seq: int | None = None


@strawberry.input(one_of=True)
class TypingInput:
    to: strawberry.ID | None = strawberry.UNSET
    room_id: strawberry.ID | None = strawberry.UNSET


@plain_input
@strawberry.input
class CreateRoomInput:
    name: str
    participant_ids: list[strawberry.ID] | None = None
