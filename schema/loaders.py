"""Per-operation DataLoaders: nested fields of a list cost one query per field, not per item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from resolvers import conversations, messages, users
from resolvers.records import ConversationRecord, MessageRecord, UserRecord

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _loader(fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]], missing: V) -> DataLoader[K, V]:
    async def load(keys: Sequence[K]) -> list[V]:
        found = await fetch(list(keys))
        return [found.get(key, missing) for key in keys]

    return DataLoader(load_fn=load)


def _optional(
    fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
) -> DataLoader[K, V | None]:
    """A loader that answers None for keys the fetch does not find."""

    async def load(keys: Sequence[K]) -> list[V | None]:
        found = await fetch(list(keys))
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, viewer_id: str | None) -> None:
        viewer = viewer_id or ""
        self.user: DataLoader[str, UserRecord | None] = _optional(users.users_by_id)
        self.blocked_by_viewer: DataLoader[str, bool] = _loader(
            lambda ids: _as_flags(users.blocked_by_viewer(viewer, ids)), False
        )
        self.blocked_viewer: DataLoader[str, bool] = _loader(
            lambda ids: _as_flags(users.blockers_of(viewer, ids)), False
        )
        self.conversation: DataLoader[int, ConversationRecord | None] = _optional(
            conversations.conversations_by_id
        )
        self.peer: DataLoader[int, str | None] = _optional(
            lambda ids: conversations.peers(ids, viewer)
        )
        self.read_points: DataLoader[int, dict[str, tuple[int, int]]] = _loader(
            conversations.read_points, {}
        )
        self.unread: DataLoader[int, int] = _loader(
            lambda ids: conversations.unread_counts(viewer, ids), 0
        )
        self.message_at: DataLoader[tuple[int, int], MessageRecord | None] = _optional(
            messages.messages_at
        )
        self.members: DataLoader[int, list[str]] = _loader(conversations.members_of, [])


async def _as_flags(ids: Awaitable[set[str]]) -> dict[str, bool]:
    return dict.fromkeys(await ids, True)
