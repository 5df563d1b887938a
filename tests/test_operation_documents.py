"""graphql/operations/ holds one named, valid operation per root field of the schema."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    DocumentNode,
    GraphQLObjectType,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)
from graphql.language import FieldNode

ROOT = Path(__file__).resolve().parent.parent / "graphql"


def documents() -> DocumentNode:
    """Every operation file, parsed as the one document that codegen sees."""
    text = "\n".join(path.read_text() for path in sorted((ROOT / "operations").glob("*.graphql")))
    return parse(text)


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]


def test_every_document_is_valid_against_the_schema() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    errors = validate(schema, documents())
    assert errors == [], [error.message for error in errors]


def test_operations_are_named_once_each() -> None:
    names = [node.name.value if node.name else None for node in operations(documents())]
    assert None not in names
    assert len(names) == len(set(names)), sorted(names)  # type: ignore[type-var]


def test_each_root_field_has_an_operation() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    used: set[tuple[str, str]] = set()
    for node in operations(documents()):
        kind = node.operation.value
        for selection in node.selection_set.selections:
            assert isinstance(selection, FieldNode)
            used.add((kind, selection.name.value))
    roots: dict[str, GraphQLObjectType | None] = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }
    wanted = {(kind, name) for kind, root in roots.items() if root for name in root.fields}
    assert wanted - used == set()
