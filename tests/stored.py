"""What the server kept, read back through the API, and what it costs in memory."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.clients import Http

_PAGE_FIELDS = """
edges { node { id seq senderId clientMessageId content } }
pageInfo { hasNextPage endCursor }
"""

DIRECT_PAGE = f"""
query DirectPage($with: ID!, $after: String) {{
  page: messages(withUser: $with, first: 200, after: $after) {{ {_PAGE_FIELDS} }}
}}
"""

ROOM_PAGE = f"""
query RoomPage($room: ID!, $after: String) {{
  page: roomMessages(roomId: $room, first: 200, after: $after) {{ {_PAGE_FIELDS} }}
}}
"""


async def whole_history(http: Http, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message of a conversation, oldest first, page by page."""
    messages: list[dict[str, Any]] = []
    after = None
    for _ in range(1000):
        page = (await http.data(query, {**variables, "after": after}))["page"]
        messages.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return messages
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("history did not end")


def assert_whole_and_unique(history: list[dict[str, Any]], acknowledged: dict[str, str]) -> None:
    """seq is 1..n without gaps, no clientMessageId is stored twice, and every acknowledged
    send (clientMessageId -> message id) is there under the id its sender was given."""
    assert [message["seq"] for message in history] == list(range(1, len(history) + 1))
    counts = Counter(message["clientMessageId"] for message in history)
    assert not [cid for cid, count in counts.items() if count > 1]
    stored = {message["clientMessageId"]: message["id"] for message in history}
    missing = {cid: id_ for cid, id_ in acknowledged.items() if stored.get(cid) != id_}
    assert not missing, f"acknowledged but not stored as acknowledged: {missing}"


def rss_bytes(pid: int) -> int:
    """The resident memory of a process, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")
