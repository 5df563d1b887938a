"""Subscription: each field maps a stream of resolvers/subscriptions.py to its type, as a
source (schema/live.py) that opens the stream when it is first used."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable

import strawberry

from resolvers import subscriptions
from resolvers.cursors import decode_cursor
from resolvers.records import MessageRecord
from schema.context import ChatContext
from schema.fanout import Memo
from schema.live import Live
from schema.types import Info, Message, PresenceEvent, ReceiptEvent, RoomEvent, TypingEvent


def resume_position(info: Info, after: str | None) -> int | None:
    """The later of the `after` argument and the connection's `resumeAfter`."""
    positions = [decode_cursor(after)] if after is not None else []
    resume_after = info.context.connection_params.get("resumeAfter")
    if isinstance(resume_after, str):
        positions.append(decode_cursor(resume_after))
    return max(positions) if positions else None


# A message reaches its sender's and receiver's subscriptions (every member's, in a room)
# as one record; one Message, which holds nothing of any viewer, serves them all.
_MESSAGES: Memo[Message] = Memo(4096)


def _message_event(context: ChatContext) -> Callable[[MessageRecord], Message]:
    def convert(record: MessageRecord) -> Message:
        context.refresh_loaders()
        return _MESSAGES.get(Message.from_record, record)

    return convert


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every message to or from the viewer, direct and in its rooms, from any "
        "of its devices. With `after` (a Message.cursor): first everything stored since "
        "then, then live; no gap, no duplicate, each conversation in seq order."
    )
    def new_message(self, info: Info, after: str | None = None) -> AsyncIterable[Message]:
        context = info.context
        return Live(
            "newMessage",
            lambda: subscriptions.NewMessages(
                context.services, context.require_viewer(), resume_position(info, after)
            ),
            _message_event(context),
        )

    @strawberry.subscription(
        description="Given ids, or by default everyone the viewer shares a conversation with."
    )
    def presence(
        self, info: Info, user_ids: list[strawberry.ID] | None = None
    ) -> AsyncIterable[PresenceEvent]:
        context = info.context
        ids = [str(user_id) for user_id in user_ids] if user_ids is not None else None
        return Live(
            "presence",
            lambda: subscriptions.PresenceChanges(context.services, context.require_viewer(), ids),
            PresenceEvent.from_record,
        )

    @strawberry.subscription(description="In the viewer's conversations; never its own.")
    def typing(self, info: Info) -> AsyncIterable[TypingEvent]:
        context = info.context
        return Live(
            "typing",
            lambda: subscriptions.TypingChanges(context.services, context.require_viewer()),
            TypingEvent.from_record,
        )

    @strawberry.subscription(description="DELIVERED / READ for messages the viewer sent.")
    def receipts(self, info: Info) -> AsyncIterable[ReceiptEvent]:
        context = info.context
        return Live(
            "receipts",
            lambda: subscriptions.ReceiptChanges(context.services, context.require_viewer()),
            ReceiptEvent.from_record,
        )

    @strawberry.subscription
    def room_events(self, info: Info, room_id: strawberry.ID) -> AsyncIterable[RoomEvent]:
        context = info.context
        return Live(
            "roomEvents",
            lambda: subscriptions.RoomChanges(
                context.services, context.require_viewer(), str(room_id)
            ),
            RoomEvent.from_record,
        )
