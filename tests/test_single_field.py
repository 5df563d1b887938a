"""Operations of one plain root field skip graphql-core's executor and must give exactly
its results and errors.

Each operation below runs twice on a Strawberry schema: by graphql-core's executor with
Strawberry's execution context, and by the runner, which takes the single-field path
(schema/single_field.py) wherever a plan exists, calling the resolver directly
(schema/resolver_call.py) where it can. Data, errors, their paths, locations and
extensions must be the same.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import Documents, Runner
from schema.plain_inputs import plain_input
from schema.single_field import Unfinished, single_field


@strawberry.type
class Item:
    id: strawberry.ID
    name: str | None
    size: int


@strawberry.type
class Edge:
    cursor: str
    node: Item | None


@strawberry.type
class Page:
    edges: list[Edge]
    items: list[Item | None]
    first: Item


def _page(holes: bool, broken: bool) -> Page:
    items: list[Item | None] = [
        Item(id=strawberry.ID(str(i)), name=f"n{i}", size=i) for i in range(3)
    ]
    edges = [Edge(cursor=f"c{i}", node=item) for i, item in enumerate(items)]
    first = items[0]
    assert first is not None
    if holes:
        edges[1].node = items[1] = None
    if broken:
        first = Item(id=strawberry.ID("x"), name=None, size=None)  # type: ignore[arg-type]
    return Page(edges=edges, items=items, first=first)


@plain_input
@strawberry.input
class ItemInput:
    name: str
    size: int = 1


@strawberry.input
class Tagged:  # not plain: the resolver is called through Strawberry's wrapper
    tags: list[ItemInput]


@strawberry.enum
class Kind(Enum):
    SMALL = "small"
    LARGE = "large"


class Refused(Exception):
    pass


@strawberry.type
class Query:
    @strawberry.field
    def item(self, id: strawberry.ID) -> Item:
        return Item(id=id, name=f"item {id}", size=len(id))

    @strawberry.field
    async def maybe(self, fail: bool) -> Item | None:
        if fail:
            raise Refused("not today")
        return None

    @strawberry.field
    def viewer(self, info: strawberry.Info, name: str | None = None) -> Item:
        return Item(id=strawberry.ID(info.context["viewer"]), name=name, size=info.path.key)

    @strawberry.field
    def page(self, holes: bool = False, broken: bool = False) -> Page:
        return _page(holes, broken)

    @strawberry.field
    def pick(self, kind: Kind) -> Item:
        return Item(id=strawberry.ID(kind.name), name=kind.value, size=len(kind.value))


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def make(self, input: ItemInput) -> Item:
        if input.name == "refuse":
            raise GraphQLError("refused", extensions={"code": "FORBIDDEN"})
        if input.name == "none":
            return None  # type: ignore[return-value]  # graphql-core must report it
        if input.name == "broken":
            return Item(id=strawberry.ID("1"), name=None, size=None)  # type: ignore[arg-type]
        return Item(id=strawberry.ID("1"), name=input.name, size=input.size)

    @strawberry.mutation
    def tag(self, input: Tagged) -> Item:
        return Item(id=strawberry.ID("t"), name=",".join(t.name for t in input.tags), size=0)


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)
CORE = SCHEMA._schema
RUNNER = Runner(CORE, Documents(CORE, (), max_tokens=10_000), StrawberryGraphQLCoreExecutionContext)

CASES: list[tuple[str, dict[str, Any] | None]] = [
    ("{ item(id: 7) { id name size } }", None),
    ("query Q($id: ID!) { it: item(id: $id) { __typename n: name id } }", {"id": "abc"}),
    ("{ maybe(fail: false) { id } }", None),
    ("{ maybe(fail: true) { id } }", None),
    ("{ viewer { id name size } }", None),
    ("query($n: String) { viewer(name: $n) { id name } }", {"n": "vi"}),
    ("{ pick(kind: LARGE) { id name size } }", None),
    # Objects and lists of objects selecting plain fields, read in one pass.
    ("{ page { edges { cursor node { id name } } first { __typename size } } }", None),
    ("{ page(holes: true) { edges { cursor node { id } } } }", None),  # a null object
    ("{ page(holes: true) { items { id } } }", None),  # a null item: graphql-core's
    ("{ page(broken: true) { items { id } first { id size } } }", None),  # a null non-null
    ('mutation { tag(input: {tags: [{name: "a"}, {name: "b"}]}) { name } }', None),
    ("mutation($n: String!) { make(input: {name: $n, size: 3}) { id name size } }", {"n": "x"}),
    ("mutation($i: ItemInput!) { make(input: $i) { name size } }", {"i": {"name": "y"}}),
    ("mutation($n: String!) { make(input: {name: $n}) { id } }", {"n": "refuse"}),
    ("mutation($n: String!) { make(input: {name: $n}) { id } }", {"n": "none"}),
    ("mutation($n: String!) { make(input: {name: $n}) { id name size } }", {"n": "broken"}),
    ("mutation($n: String) { make(input: {name: $n}) { id } }", {"n": None}),
    ("mutation($n: String!) { make(input: {name: $n}) { id } }", {"n": 5}),
    ("mutation($n: String!) { make(input: {name: $n}) { id } }", {}),
    ('mutation($n: String = "d", $s: Int) { make(input: {name: $n, size: $s}) { name } }', {}),
    ("mutation($n: String!, $s: Int) { make(input: {name: $n, size: $s}) { size } }", {"n": "z"}),
    (
        "mutation($n: String!, $s: Int!) { make(input: {name: $n, size: $s}) { size } }",
        {"n": "z", "s": "4"},
    ),
    ("mutation($i: ItemInput!) { make(input: $i) { name } }", {"i": {"name": "y", "extra": 1}}),
]


def _shape(data: Any, errors: list[GraphQLError] | None) -> Any:
    return data, [error.formatted for error in errors or ()]


CONTEXT = {"viewer": "ann"}


async def _reference(document: str, variables: dict[str, Any] | None) -> Any:
    executor = StrawberryGraphQLCoreExecutionContext.build(
        CORE, parse(document), None, CONTEXT, variables
    )
    if isinstance(executor, list):
        return _shape(None, executor)
    result = executor.execute_operation()
    if executor.is_awaitable(result):
        result = await result
    return _shape(result.data, result.errors)


@pytest.mark.parametrize(("document", "variables"), CASES)
async def test_the_single_field_path_gives_graphql_cores_result(
    document: str, variables: dict[str, Any] | None
) -> None:
    assert single_field(CORE, parse(document)) is not None
    result = await RUNNER.execute(parse(document), variables, CONTEXT, None, None, None)
    assert _shape(result.data, result.errors) == await _reference(document, variables)


@pytest.mark.parametrize(
    ("document", "direct"),
    [
        ("{ item(id: 1) { id } }", True),
        ("{ viewer { id } }", True),
        ('mutation { make(input: {name: "a"}) { id } }', True),
        ("{ pick(kind: SMALL) { id } }", False),  # an enum argument
        ("mutation { tag(input: {tags: []}) { id } }", False),  # an input that is not plain
    ],
)
def test_resolvers_are_called_directly_only_where_arguments_are_plain(
    document: str, direct: bool
) -> None:
    plan = single_field(CORE, parse(document))
    assert plan is not None
    assert (plan.call is not None) is direct


@pytest.mark.parametrize(
    "document",
    [
        "{ item(id: 1) { id } maybe(fail: false) { id } }",  # two root fields
        "{ __typename }",  # introspection
        "query($x: Boolean!) { item(id: 1) @include(if: $x) { id } }",  # a directive
        "{ item(id: 1) { ... on Item { id } } }",  # a fragment
        "{ item(id: 1) { id } } query Other { item(id: 2) { id } }",  # two operations
        "subscription { item { id } }",  # not a query or mutation
        "{ page { edges { cursor } edges { node { id } } } }",  # selections merged by key
    ],
)
def test_other_operations_are_left_to_graphql_core(document: str) -> None:
    assert single_field(CORE, parse(document)) is None


@pytest.mark.parametrize("name", ["none", "broken"])
async def test_a_value_the_flat_selection_cannot_read_is_left_to_graphql_core(name: str) -> None:
    document = "mutation($n: String!) { make(input: {name: $n}) { id name size } }"
    plan = single_field(CORE, parse(document))
    assert plan is not None
    assert isinstance(await plan.run(CORE, {"n": name}, CONTEXT, None, None), Unfinished)
