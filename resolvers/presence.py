"""Presence: a user is online while any connection of theirs is live."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from broker import Broker
from broker.channels import presence_channel
from models.tables import User
from resolvers.events import presence_event
from resolvers.records import PresenceRecord


class Presence:
    """Counts this process's live connections per user and announces the first and last.

    The Redis-backed tracker extends it so that the count spans every instance.
    """

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._local: Counter[str] = Counter()

    async def start(self) -> None:
        """Begin any background work (heartbeats)."""

    async def stop(self) -> None:
        """Announce this process's users offline where no other instance holds them."""
        for user_id in list(self._local):
            self._local[user_id] = 1
            await self.disconnected(user_id)

    def local_connections(self, user_id: str) -> int:
        return self._local[user_id]

    async def connected(self, user_id: str) -> None:
        self._local[user_id] += 1
        if self._local[user_id] == 1 and await self._first_anywhere(user_id):
            await self._announce(user_id, online=True)

    async def disconnected(self, user_id: str) -> None:
        if self._local[user_id] <= 0:
            return
        self._local[user_id] -= 1
        if self._local[user_id] == 0:
            del self._local[user_id]
            if await self._last_anywhere(user_id):
                await self._announce(user_id, online=False)

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users are online."""
        return {user_id for user_id in user_ids if self._local[user_id] > 0}

    async def _first_anywhere(self, user_id: str) -> bool:
        return True

    async def _last_anywhere(self, user_id: str) -> bool:
        return True

    async def _announce(self, user_id: str, *, online: bool) -> None:
        now = datetime.now(UTC)
        record = PresenceRecord(user_id=user_id, online=online, last_seen_at=now)
        # The event carries the time itself: it need not wait for a slow database.
        await self._broker.publish(presence_channel(user_id), presence_event(record))
        await User.filter(id=user_id).update(last_seen_at=now)
