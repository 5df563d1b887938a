"""Users: creation on first sight of a token, look-ups, and blocking."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterable

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from models.tables import Block, User
from resolvers.errors import BadUserInput, NotFound
from resolvers.records import UserRecord
from resolvers.validation import check_user_id, display_name, user_ids_only

_MAX_CACHED = 100_000


def _record(user: User) -> UserRecord:
    return UserRecord(id=user.id, name=user.name, last_seen_at=user.last_seen_at)


class UserDirectory:
    """Creates users on first sight and keeps their names current, with a bounded cache."""

    def __init__(self) -> None:
        self._names: OrderedDict[str, str] = OrderedDict()

    async def ensure(self, user_id: str, name: str | None) -> UserRecord:
        """The user named by a valid token, created or renamed as the token says."""
        check_user_id(user_id)
        name = display_name(name, user_id)
        if self._names.get(user_id) == name:
            self._names.move_to_end(user_id)
            return UserRecord(id=user_id, name=name)
        user = await User.get_or_none(id=user_id)
        if user is None:
            try:
                user = await User.create(id=user_id, name=name)
            except IntegrityError:  # created meanwhile by another request
                user = await User.get(id=user_id)
        if user.name != name:
            await User.filter(id=user_id).update(name=name)
            user.name = name
        self._names[user_id] = name
        if len(self._names) > _MAX_CACHED:
            self._names.popitem(last=False)
        return _record(user)


async def users_by_id(user_ids: Iterable[str]) -> dict[str, UserRecord]:
    ids = user_ids_only(user_ids)
    if not ids:
        return {}
    return {user.id: _record(user) for user in await User.filter(id__in=ids)}


async def get_user(user_id: str) -> UserRecord | None:
    return (await users_by_id([user_id])).get(user_id)


async def require_user(user_id: str) -> UserRecord:
    user = await get_user(user_id)
    if user is None:
        raise NotFound(f"Unknown user {user_id!r}")
    return user


async def users_in_order(user_ids: list[str]) -> list[UserRecord]:
    """The known users among the ids, in the order asked."""
    found = await users_by_id(user_ids)
    return [found[user_id] for user_id in dict.fromkeys(user_ids) if user_id in found]


async def block_user(viewer_id: str, user_id: str) -> UserRecord:
    """Block a user: direct messages either way are refused, typing and presence hidden."""
    if user_id == viewer_id:
        raise BadUserInput("You cannot block yourself")
    user = await require_user(user_id)
    with contextlib.suppress(IntegrityError):  # blocked meanwhile by another device
        await Block.get_or_create(blocker_id=viewer_id, blocked_id=user_id)
    return user


async def unblock_user(viewer_id: str, user_id: str) -> UserRecord:
    user = await require_user(user_id)
    await Block.filter(blocker_id=viewer_id, blocked_id=user_id).delete()
    return user


async def blocked_by_viewer(viewer_id: str, user_ids: Iterable[str]) -> set[str]:
    """Which of these users the viewer has blocked."""
    ids = user_ids_only(user_ids)
    if not ids:
        return set()
    rows = await Block.filter(blocker_id=viewer_id, blocked_id__in=ids).values_list(
        "blocked_id", flat=True
    )
    return {str(row) for row in rows}


async def blockers_of(user_id: str, user_ids: Iterable[str]) -> set[str]:
    """Which of these users have blocked `user_id`."""
    ids = user_ids_only(user_ids)
    if not ids:
        return set()
    rows = await Block.filter(blocked_id=user_id, blocker_id__in=ids).values_list(
        "blocker_id", flat=True
    )
    return {str(row) for row in rows}


async def is_blocked_between(first: str, second: str) -> bool:
    return await Block.filter(
        Q(blocker_id=first, blocked_id=second) | Q(blocker_id=second, blocked_id=first)
    ).exists()
