"""Plain inputs are built in one call and must equal what Strawberry's conversion builds.

Each case converts the same coerced argument twice on the real schema: through the
`from_input` hook of schema/plain_inputs.py, and through Strawberry's own field-by-field
conversion (the hook set aside).
"""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.arguments import convert_argument

from schema import build_schema
from schema.inputs import (
    CreateRoomInput,
    MarkReadInput,
    MarkRoomReadInput,
    SendMessageInput,
    SendRoomMessageInput,
)

SCHEMA = build_schema()

CASES = [
    (SendMessageInput, {"to": "bob", "content": "hi"}),
    (SendMessageInput, {"to": "bob", "content": "hi", "clientMessageId": "c-1"}),
    (SendMessageInput, {"to": "bob", "content": "hi", "clientMessageId": None}),
    (SendRoomMessageInput, {"roomId": "7", "content": "all"}),
    (MarkReadInput, {"from": "ann"}),
    (MarkReadInput, {"from": "ann", "upToSeq": 4}),
    (MarkRoomReadInput, {"roomId": "7", "upToSeq": None}),
    (CreateRoomInput, {"name": "r"}),
    (CreateRoomInput, {"name": "r", "participantIds": ["a", "b"]}),
    (CreateRoomInput, {"name": "r", "participantIds": None}),
]


def _convert(type_: type, value: dict[str, Any]) -> Any:
    return convert_argument(
        value, type_, SCHEMA.schema_converter.scalar_registry, SCHEMA.config, path=("input",)
    )


@pytest.mark.parametrize(("type_", "value"), CASES)
def test_a_plain_input_is_what_strawberry_would_build(type_: type, value: dict[str, Any]) -> None:
    built = _convert(type_, value)
    definition = type_.__strawberry_definition__
    hook, definition.from_input = definition.from_input, None
    try:
        expected = _convert(type_, value)
    finally:
        definition.from_input = hook
    assert hook is not None
    assert built == expected
    assert vars(built) == vars(expected)


def test_a_list_is_copied_so_that_a_resolver_cannot_change_a_shared_default() -> None:
    ids = ["a", "b"]
    built = _convert(CreateRoomInput, {"name": "r", "participantIds": ids})
    assert built.participant_ids == ids and built.participant_ids is not ids
