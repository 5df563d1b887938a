"""startTyping and stopTyping, for a direct peer or a room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from broker.channels import room_channel, user_channel
from resolvers.conversations import get_or_create_direct, require_room_member
from resolvers.errors import BadUserInput, Blocked
from resolvers.records import TypingRecord, UserRecord
from resolvers.users import is_blocked_between, require_user

if TYPE_CHECKING:
    from resolvers.services import Services


async def set_typing(
    services: Services,
    viewer: UserRecord,
    *,
    to: str | None,
    room_id: str | None,
    is_typing: bool,
) -> bool:
    """Announce that the viewer started or stopped typing; exactly one of `to`, `room_id`."""
    if (to is None) == (room_id is None):
        raise BadUserInput("Give exactly one of to and roomId")
    if is_typing:
        settings = services.settings
        # A burst of one call at least: below one per second a bucket never holds a token.
        burst = max(1.0, settings.typing_rate)
        await services.limiter.check(
            f"typing:{viewer.id}", settings.typing_rate, burst, "typing events"
        )
    if to is not None:
        if to == viewer.id:
            raise BadUserInput("You cannot type to yourself")
        await require_user(to)
        if await is_blocked_between(viewer.id, to):
            raise Blocked("One of you has blocked the other")
        conversation = await get_or_create_direct(viewer.id, to)
        channel = user_channel(to)
        record = TypingRecord(viewer.id, str(conversation.id), None, is_typing)
    else:
        assert room_id is not None
        # The id as stored names the room's channel ("007" and "7" are one room).
        room_id = str(await require_room_member(room_id, viewer.id))
        channel = room_channel(room_id)
        record = TypingRecord(viewer.id, room_id, room_id, is_typing)
    if is_typing:
        await services.typing.start(record, channel)
    else:
        await services.typing.stop(record, channel)
    return True
