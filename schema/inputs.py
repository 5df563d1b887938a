"""Input types of the mutations."""

from __future__ import annotations

import strawberry


@strawberry.input
class SendMessageInput:
    to: strawberry.ID
    content: str
    client_message_id: str | None = None


@strawberry.input
class SendRoomMessageInput:
    room_id: strawberry.ID
    content: str
    client_message_id: str | None = None


@strawberry.input
class MarkReadInput:
    from_: strawberry.ID = strawberry.field(name="from")
    up_to_seq: int | None = None


@strawberry.input
class MarkRoomReadInput:
    room_id: strawberry.ID
    up_to_seq: int | None = None


@strawberry.input(one_of=True)
class TypingInput:
    to: strawberry.ID | None = strawberry.UNSET
    room_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class CreateRoomInput:
    name: str
    participant_ids: list[strawberry.ID] | None = None
