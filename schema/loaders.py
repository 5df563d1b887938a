"""Per-operation DataLoaders: nested fields of a list cost one query per field, not per item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from functools import cached_property
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
    """Each loader is made on first use: a subscription event that resolves no nested
    field (most of a busy room's fan-out) builds none."""

    def __init__(self, viewer_id: str | None) -> None:
        self._viewer = viewer_id or ""

    @cached_property
    def user(self) -> DataLoader[str, UserRecord | None]:
        return _optional(users.users_by_id)

    @cached_property
    def blocked_by_viewer(self) -> DataLoader[str, bool]:
        return _loader(lambda ids: _as_flags(users.blocked_by_viewer(self._viewer, ids)), False)

    @cached_property
    def blocked_viewer(self) -> DataLoader[str, bool]:
        return _loader(lambda ids: _as_flags(users.blockers_of(self._viewer, ids)), False)

    @cached_property
    def conversation(self) -> DataLoader[int, ConversationRecord | None]:
        return _optional(conversations.conversations_by_id)

    @cached_property
    def peer(self) -> DataLoader[int, str | None]:
        return _optional(lambda ids: conversations.peers(ids, self._viewer))

    @cached_property
    def read_points(self) -> DataLoader[int, dict[str, tuple[int, int]]]:
        return _loader(conversations.read_points, {})

    @cached_property
    def own_read_seq(self) -> DataLoader[int, int]:
        return _loader(lambda ids: conversations.own_read_points(self._viewer, ids), 0)

    @cached_property
    def unread(self) -> DataLoader[int, int]:
        return _loader(lambda ids: conversations.unread_counts(self._viewer, ids), 0)

    @cached_property
    def message_at(self) -> DataLoader[tuple[int, int], MessageRecord | None]:
        return _optional(messages.messages_at)

    @cached_property
    def members(self) -> DataLoader[int, list[str]]:
        return _loader(conversations.members_of, [])


async def _as_flags(ids: Awaitable[set[str]]) -> dict[str, bool]:
    return dict.fromkeys(await ids, True)
