"""Events of flat selections skip graphql-core's engine and must give exactly its results.

Each event below is executed twice on the real schema: by graphql-core's own executor,
and by the flat plan our executor uses (schema/flat.py). The data must be the same, field
for field and in the same order; selections that are not flat must have no plan, so that
graphql-core executes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import Executor, execute_subscription_event, parse

from models.tables import ConversationKind
from resolvers.records import MessageRecord, PresenceRecord, ReceiptRecord, TypingRecord
from schema import build_schema
from schema.flat import FlatPlan, flat_plan
from schema.types import Message, PresenceEvent, ReceiptEvent, TypingEvent

SCHEMA = build_schema()
AT = datetime(2026, 11, 28, 5, 6, 7, 891011, tzinfo=UTC)
DIRECT = MessageRecord(
    id="7f1c", conversation_id="12", kind=ConversationKind.DIRECT, seq=3, position=99,
    sender_id="ann", sender_name="Ann", receiver_id="bob", content="hi \u00e9", timestamp=AT,
    client_message_id=None,
)  # fmt: skip
IN_ROOM = MessageRecord(
    id="8a2d", conversation_id="40", kind=ConversationKind.ROOM, seq=1, position=100,
    sender_id="ann", sender_name="Ann", receiver_id=None, content="all", timestamp=AT,
    client_message_id="c-1",
)  # fmt: skip

FLAT = [
    (
        "subscription { newMessage { id seq senderId content timestamp } }",
        Message.from_record(DIRECT),
    ),
    (
        "subscription($a: String) { m: newMessage(after: $a) { __typename id s: seq roomId"
        " receiverId clientMessageId conversationId cursor } }",
        Message.from_record(IN_ROOM),
    ),
    ("subscription { presence { userId online lastSeenAt } }", PresenceEvent.from_record(
        PresenceRecord(user_id="bob", online=False, last_seen_at=AT))),
    ("subscription { typing { userId conversationId roomId isTyping } }", TypingEvent.from_record(
        TypingRecord(user_id="bob", conversation_id="12", room_id=None, is_typing=True))),
    ("subscription { receipts { conversationId userId status upToSeq } }", ReceiptEvent.from_record(
        ReceiptRecord(conversation_id="12", user_id="bob", status="DELIVERED", up_to_seq=3))),
]  # fmt: skip

NOT_FLAT = [
    "subscription { newMessage { id status } }",  # a resolver of its own
    "subscription { newMessage { id sender { id } } }",  # a nested object
    "subscription { newMessage { id ... on Message { seq } } }",  # a fragment
    "subscription($x: Boolean!) { newMessage { id @include(if: $x) } }",  # a directive
    "subscription { newMessage { id } presence { userId } }",  # two root fields
]


def _plan(document: str) -> FlatPlan | None:
    return flat_plan(SCHEMA._schema, parse(document).definitions[0])


def _reference(document: str, event: Any) -> Any:
    executor = Executor.build(SCHEMA._schema, parse(document))
    assert isinstance(executor, Executor)
    result = execute_subscription_event(executor.build_per_event_executor(event))
    assert not result.errors
    return result.data


@pytest.mark.parametrize(("document", "event"), FLAT)
def test_a_flat_plan_gives_graphql_cores_data(document: str, event: Any) -> None:
    plan = _plan(document)
    assert plan is not None
    data = plan.run(event)
    expected = _reference(document, event)
    assert data == expected
    assert list(data) == list(expected)
    assert [list(value) for value in data.values()] == [list(v) for v in expected.values()]


@pytest.mark.parametrize("document", NOT_FLAT)
def test_other_selections_are_left_to_graphql_core(document: str) -> None:
    assert _plan(document) is None


def test_a_null_where_the_type_forbids_it_is_left_to_graphql_core() -> None:
    plan = _plan("subscription { newMessage { id content } }")
    assert plan is not None
    broken = Message.from_record(DIRECT)
    broken.content = None
    assert plan.run(broken) is None


# Values of another type than the field's own go through graphql-core's serialisers.
ODD_VALUES = [
    ("seq", True),  # a bool where an Int goes: 1
    ("content", 7),  # an int where a String goes: "7"
    ("id", 12),  # an int where an ID goes: "12"
]


@pytest.mark.parametrize(("attribute", "value"), ODD_VALUES)
def test_values_of_another_type_are_serialised_as_graphql_core_does(
    attribute: str, value: Any
) -> None:
    document = "subscription { newMessage { id seq content } }"
    event = Message.from_record(DIRECT)
    setattr(event, attribute, value)
    plan = _plan(document)
    assert plan is not None
    data = plan.run(event)
    assert data == _reference(document, event)
    assert data is not None and type(data["newMessage"][attribute]) is not type(value)


def test_an_int_past_32_bits_is_left_to_graphql_core() -> None:
    plan = _plan("subscription { newMessage { id seq } }")
    assert plan is not None
    event = Message.from_record(DIRECT)
    event.seq = 2**31
    assert plan.run(event) is None
    event.seq = 2**31 - 1
    assert plan.run(event) == {"newMessage": {"id": "7f1c", "seq": 2**31 - 1}}
