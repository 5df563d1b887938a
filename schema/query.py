"""Query: thin fields over the functions of resolvers/."""

from __future__ import annotations

import strawberry

from resolvers import conversations, history, rooms, users
from resolvers.validation import check_list_size
from schema.types import Conversation, Info, MessageConnection, Room, User


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info) -> User:
        viewer = info.context.require_viewer()
        return User.from_record(await users.get_user(viewer.id) or viewer)

    @strawberry.field
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        info.context.require_viewer()
        record = await info.context.loaders.user.load(id)
        return User.from_record(record) if record else None

    @strawberry.field
    async def users(self, info: Info, ids: list[strawberry.ID]) -> list[User]:
        info.context.require_viewer()
        wanted = [str(user_id) for user_id in ids[: info.context.services.settings.max_list_size]]
        return [User.from_record(record) for record in await users.users_in_order(wanted)]

    @strawberry.field(
        description="Relay-style; edges oldest first; no paging arguments = the newest 50."
    )
    async def messages(
        self,
        info: Info,
        with_user: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MessageConnection:
        viewer = info.context.require_viewer()
        page = await history.direct_history(
            info.context.services,
            viewer,
            with_user,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return MessageConnection.from_page(page)

    @strawberry.field
    async def room_messages(
        self,
        info: Info,
        room_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MessageConnection:
        viewer = info.context.require_viewer()
        page = await rooms.room_history(
            info.context.services,
            viewer,
            room_id,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return MessageConnection.from_page(page)

    @strawberry.field(description="Most recent activity first; at most 1,000.")
    async def conversations(self, info: Info, first: int | None = 100) -> list[Conversation]:
        viewer = info.context.require_viewer()
        limit = check_list_size(
            100 if first is None else first, info.context.services.settings.max_list_size
        )
        records = await conversations.list_conversations(viewer.id, limit)
        return [Conversation.from_record(record) for record in records]

    @strawberry.field(description="Rooms the viewer is in.")
    async def rooms(self, info: Info) -> list[Room]:
        viewer = info.context.require_viewer()
        return [
            Room.from_record(conversations.conversation_record(room))
            for room in await rooms.rooms_of(viewer)
        ]

    @strawberry.field
    async def room(self, info: Info, id: strawberry.ID) -> Room | None:
        info.context.require_viewer()
        room = await rooms.find_room(id)
        return Room.from_record(conversations.conversation_record(room)) if room else None
