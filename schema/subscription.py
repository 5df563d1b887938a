"""Subscription: each field maps a stream of resolvers/subscriptions.py to its type."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers import subscriptions
from resolvers.cursors import decode_cursor
from schema.types import Info, Message, PresenceEvent, ReceiptEvent, RoomEvent, TypingEvent


def resume_position(info: Info, after: str | None) -> int | None:
    """The later of the `after` argument and the connection's `resumeAfter`."""
    positions = [decode_cursor(after)] if after is not None else []
    resume_after = info.context.connection_params.get("resumeAfter")
    if isinstance(resume_after, str):
        positions.append(decode_cursor(resume_after))
    return max(positions) if positions else None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every message to or from the viewer, direct and in its rooms, from any "
        "of its devices. With `after` (a Message.cursor): first everything stored since "
        "then, then live; no gap, no duplicate, each conversation in seq order."
    )
    async def new_message(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[Message, None]:
        viewer = info.context.require_viewer()
        position = resume_position(info, after)
        with info.context.services.telemetry.subscribed("newMessage"):
            async for record in subscriptions.new_messages(info.context.services, viewer, position):
                info.context.refresh_loaders()
                yield Message.from_record(record)

    @strawberry.subscription(
        description="Given ids, or by default everyone the viewer shares a conversation with."
    )
    async def presence(
        self, info: Info, user_ids: list[strawberry.ID] | None = None
    ) -> AsyncGenerator[PresenceEvent, None]:
        viewer = info.context.require_viewer()
        ids = [str(user_id) for user_id in user_ids] if user_ids is not None else None
        with info.context.services.telemetry.subscribed("presence"):
            async for record in subscriptions.presence_changes(info.context.services, viewer, ids):
                yield PresenceEvent.from_record(record)

    @strawberry.subscription(description="In the viewer's conversations; never its own.")
    async def typing(self, info: Info) -> AsyncGenerator[TypingEvent, None]:
        viewer = info.context.require_viewer()
        with info.context.services.telemetry.subscribed("typing"):
            async for record in subscriptions.typing_changes(info.context.services, viewer):
                yield TypingEvent.from_record(record)

    @strawberry.subscription(description="DELIVERED / READ for messages the viewer sent.")
    async def receipts(self, info: Info) -> AsyncGenerator[ReceiptEvent, None]:
        viewer = info.context.require_viewer()
        with info.context.services.telemetry.subscribed("receipts"):
            async for record in subscriptions.receipt_changes(info.context.services, viewer):
                yield ReceiptEvent.from_record(record)

    @strawberry.subscription
    async def room_events(
        self, info: Info, room_id: strawberry.ID
    ) -> AsyncGenerator[RoomEvent, None]:
        viewer = info.context.require_viewer()
        with info.context.services.telemetry.subscribed("roomEvents"):
            async for record in subscriptions.room_changes(info.context.services, viewer, room_id):
                yield RoomEvent.from_record(record)
