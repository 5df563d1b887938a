"""The moderation hook: a callable that sees each message before it is stored.

`CHAT_MODERATION="package.module:factory"` names a factory, called once at start with the
settings, that returns the hook. The hook gets a `Draft` and returns the content to store
(the same, or rewritten), or raises `Refused(reason)`; it may be a coroutine function.
A refusal is BAD_USER_INPUT with the reason in `extensions.reason`, and nothing is stored.
`resolvers.wordfilter:word_filter` is an example.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolvers.errors import BadUserInput
from resolvers.validation import check_content

if TYPE_CHECKING:
    from server.settings import Settings


@dataclass(frozen=True)
class Draft:
    """A message about to be stored: exactly one of `receiver_id` and `room_id` is set."""

    sender_id: str
    content: str
    receiver_id: str | None = None
    room_id: str | None = None


class Refused(Exception):
    """Raised by a hook to refuse a message; `reason` reaches the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Hook = Callable[[Draft], str | Awaitable[str]]


def load_hook(settings: Settings) -> Hook | None:
    """The hook that `settings.moderation` names, or None when it names none."""
    if not settings.moderation:
        return None
    module_name, _, attribute = settings.moderation.partition(":")
    if not module_name or not attribute:
        raise ValueError("CHAT_MODERATION must look like package.module:factory")
    factory = getattr(importlib.import_module(module_name), attribute)
    hook: Hook = factory(settings)
    if not callable(hook):
        raise TypeError(f"{settings.moderation} returned {hook!r}, which is not callable")
    return hook


async def moderate(hook: Hook | None, draft: Draft, max_chars: int) -> str:
    """The content to store: the hook's answer, checked like the sender's own content."""
    if hook is None:
        return draft.content
    try:
        result = hook(draft)
        content = await result if inspect.isawaitable(result) else result
    except Refused as refusal:
        raise BadUserInput(f"Message refused: {refusal.reason}", reason=refusal.reason) from None
    if not isinstance(content, str):
        raise TypeError(f"the moderation hook returned {content!r}, not a string")
    return check_content(content, max_chars)
