"""An example moderation hook: a word list that masks or refuses (off by default).

`CHAT_MODERATION=resolvers.wordfilter:word_filter` turns it on, with the words in
`CHAT_MODERATION_WORDS` (comma-separated, matched as whole words, any case) and
`CHAT_MODERATION_ACTION` `mask` (each letter becomes `*`, the default) or `refuse`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from resolvers.moderation import Draft, Refused

if TYPE_CHECKING:
    from server.settings import Settings


class WordFilter:
    def __init__(self, words: list[str], refuse: bool) -> None:
        alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
        self._pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE) if words else None
        self._refuse = refuse

    def __call__(self, draft: Draft) -> str:
        if self._pattern is None:
            return draft.content
        if self._refuse:
            found = self._pattern.search(draft.content)
            if found:
                raise Refused(f"the word {found.group(0)!r} is not allowed here")
            return draft.content
        return self._pattern.sub(lambda found: "*" * len(found.group(0)), draft.content)


def word_filter(settings: Settings) -> WordFilter:
    """The hook for `CHAT_MODERATION`, configured by the moderation_* settings."""
    words = [word.strip() for word in (settings.moderation_words or "").split(",")]
    return WordFilter([word for word in words if word], settings.moderation_action == "refuse")
