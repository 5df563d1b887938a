"""A moderation hook for the test servers, built from the example word filter."""

from __future__ import annotations

from resolvers.moderation import Draft, Hook
from resolvers.wordfilter import WordFilter
from server.settings import Settings


def moderation(settings: Settings) -> Hook:
    """Refuses "forbidden", masks "darn"; a coroutine, as hooks that call out would be."""
    refuse = WordFilter(["forbidden"], refuse=True)
    mask = WordFilter(["darn"], refuse=False)

    async def hook(draft: Draft) -> str:
        return mask(Draft(draft.sender_id, refuse(draft), draft.receiver_id, draft.room_id))

    return hook
