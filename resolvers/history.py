"""Reading history: Relay pages of a conversation, by stream position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from models.db import fetch_rows, fetch_tuples, marker, stored_datetime
from models.tables import Conversation, ConversationKind
from resolvers.conversations import direct_key, require_member
from resolvers.cursors import decode_cursor
from resolvers.errors import BadUserInput, NotFound
from resolvers.records import MessageRecord, PageRecord, UserRecord
from resolvers.users import require_user
from resolvers.validation import check_page_size, is_user_id

if TYPE_CHECKING:
    from resolvers.services import Services

# How a page's query names its conversation: by id, or by a direct pair's key.
_BY_ID = "{}"
_BY_DIRECT_KEY = "(SELECT id FROM conversation WHERE direct_key = {})"

# In the order _record unpacks them, after the page query's first column.
_COLUMNS = (
    "m.id, m.conversation_id, m.seq, m.position, m.sender_id, u.name, m.receiver_id,"
    " m.content, m.created_at, m.client_message_id"
)


async def direct_history(
    services: Services,
    viewer: UserRecord,
    with_user: str,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRecord:
    """A page of the direct conversation with a user; empty before its first message."""
    if not is_user_id(with_user):
        raise NotFound(f"Unknown user {with_user!r}")
    try:
        bounds = _page_bounds(services, first, after, last, before)
    except BadUserInput:
        await require_user(with_user)  # an unknown user is the error to report first
        raise
    # The page's query finds the conversation by its key. A page with messages proves the
    # user exists (users are never deleted), so only an empty one costs a look-up.
    key = direct_key(viewer.id, with_user)
    page = await _page(_BY_DIRECT_KEY, key, ConversationKind.DIRECT, *bounds)
    if not page.messages:
        await require_user(with_user)
    return page


async def conversation_history(
    services: Services,
    viewer: UserRecord,
    conversation: Conversation,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRecord:
    """A page of a conversation the viewer belongs to (FORBIDDEN otherwise)."""
    bounds = _page_bounds(services, first, after, last, before)
    await require_member(conversation.id, viewer.id)
    return await _page(_BY_ID, conversation.id, ConversationKind(conversation.kind), *bounds)


def _page_bounds(
    services: Services, first: int | None, after: str | None, last: int | None, before: str | None
) -> tuple[int | None, int | None, int | None, int | None]:
    maximum = services.settings.max_page_size
    first = check_page_size(first, maximum, "first")
    last = check_page_size(last, maximum, "last")
    if first is not None and last is not None:
        raise BadUserInput("Pass first or last, not both")
    after_position = decode_cursor(after) if after is not None else None
    before_position = decode_cursor(before) if before is not None else None
    if first is None and last is None:
        if after_position is not None:
            first = services.settings.default_page_size
        else:
            last = services.settings.default_page_size
    return first, after_position, last, before_position


async def _page(
    conversation: str,
    key: int | str,
    kind: ConversationKind,
    first: int | None,
    after: int | None,
    last: int | None,
    before: int | None,
) -> PageRecord:
    """One round trip on the (conversation_id, position) index: the rows, one more to tell
    whether the page could go on, and whether any message lies past the cursor the page
    starts from (hasPreviousPage after `after`, hasNextPage before `before`). The
    subqueries are uncorrelated: each runs once per query, not per row."""
    values: list[Any] = []

    def param(value: Any) -> str:
        values.append(value)
        return marker(len(values))

    forward = first is not None
    size = first if forward else last
    assert size is not None
    start = after if forward else before
    past_start = "<=" if forward else ">="
    beyond = "NULL"
    if start is not None:
        beyond = f"({_any_sql(conversation.format(param(key)), past_start, param(start))})"
    where = f"m.conversation_id = {conversation.format(param(key))}"
    if after is not None:
        where += f" AND m.position > {param(after)}"
    if before is not None:
        where += f" AND m.position < {param(before)}"
    order = "ASC" if forward else "DESC"
    rows = await fetch_tuples(
        f"SELECT {beyond}, {_COLUMNS} FROM message m JOIN chat_user u ON u.id = m.sender_id"
        f" WHERE {where} ORDER BY m.position {order} LIMIT {param(size + 1)}",
        values,
    )
    if rows:
        any_beyond = rows[0][0] is not None
    else:
        any_beyond = start is not None and await _any(conversation, key, past_start, start)
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    return PageRecord(
        messages=[_record(row, kind) for row in rows],
        has_next_page=more if forward else any_beyond,
        has_previous_page=any_beyond if forward else more,
    )


def _any_sql(conversation_id: str, comparison: str, position: str) -> str:
    return (
        f"SELECT 1 FROM message WHERE conversation_id = {conversation_id}"
        f" AND position {comparison} {position} LIMIT 1"
    )


async def _any(conversation: str, key: int | str, comparison: str, position: int) -> bool:
    sql = _any_sql(conversation.format(marker(1)), comparison, marker(2))
    return bool(await fetch_rows(sql, [key, position]))


def _record(row: Sequence[Any], kind: ConversationKind) -> MessageRecord:
    (
        _,
        message_id,
        conversation_id,
        seq,
        position,
        sender_id,
        sender_name,
        receiver_id,
        content,
        created_at,
        client_message_id,
    ) = row
    return MessageRecord(
        id=str(message_id),
        conversation_id=str(conversation_id),
        kind=kind,
        seq=seq,
        position=position,
        sender_id=sender_id,
        sender_name=sender_name,
        receiver_id=receiver_id,
        content=content,
        timestamp=stored_datetime(created_at),
        client_message_id=client_message_id,
    )
