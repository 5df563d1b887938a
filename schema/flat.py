"""Flat selections, completed without graphql-core's engine.

Most selections of an object end in plain fields (`newMessage { id seq content }`, a
mutation's `{ id seq }`, a history page's `edges { cursor node { ... } }`): completing one
is reading attributes and serialising scalars, which graphql-core does through field
collection, resolve infos, paths and completion at ten times the cost. A `FlatSelection`
reads the same fields through the same resolvers and serialisers, into plain objects and
lists of them, and a `FlatPlan` does so for a whole subscription event. Both give way to
graphql-core (return None) for anything that is not plain: a field with a resolver of its
own, arguments, directives, fragments, fields merged under one key, an abstract or
type-checked type, a null list item, a null where the type forbids it, or any exception.
So the results are graphql-core's, and so are the errors, since graphql-core produces
every one of them.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    Undefined,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

Resolve = Callable[[Any, Any], Any]
Read = Callable[[Any], Any]

# graphql-core's own scalars whose serialisers return a value of this type unchanged
# (an int only within GraphQL's 32 bits).
_UNCHANGED: tuple[tuple[GraphQLScalarType, type], ...] = (
    (GraphQLString, str),
    (GraphQLID, str),
    (GraphQLBoolean, bool),
    (GraphQLInt, int),
)


@dataclass(frozen=True, slots=True)
class _Leaf:
    key: str
    resolve: Read | None  # None: __typename
    serialize: Callable[[Any], Any]
    non_null: bool
    # A value of exactly this type is its own serialisation (a str for String and ID, a
    # bool for Boolean, an int of 32 bits for Int): the serialiser is not called for it.
    unchanged: type | None = None


@dataclass(frozen=True, slots=True)
class _Nested:
    """A plain field whose value is an object, or a list of objects, of a flat selection
    (a history page's `edges { cursor node { ... } }`)."""

    key: str
    resolve: Read
    selection: FlatSelection
    non_null: bool
    is_list: bool

    def read(self, raw: Any) -> Any:
        """The object's data, or the list of its items' (a null item is graphql-core's
        to complete); None when graphql-core must complete it."""
        if not self.is_list:
            return self.selection.read(raw)
        items = []
        for item in raw:
            data = None if item is None else self.selection.read(item)
            if data is None:
                return None
            items.append(data)
        return items


@dataclass(frozen=True, slots=True)
class FlatSelection:
    """Plain leaves selected on one object type, and objects selecting only such."""

    type_name: str
    leaves: tuple[_Leaf | _Nested, ...]

    def read(self, value: Any) -> dict[str, Any] | None:
        """The selection's data on a value, or None when graphql-core must complete it."""
        data: dict[str, Any] = {}
        try:
            for leaf in self.leaves:
                if leaf.resolve is None:
                    data[leaf.key] = self.type_name
                    continue
                raw = leaf.resolve(value)
                if raw is None:
                    if leaf.non_null:
                        return None
                    data[leaf.key] = None
                    continue
                if isinstance(leaf, _Nested):
                    nested = leaf.read(raw)
                    if nested is None:
                        return None
                    data[leaf.key] = nested
                    continue
                kind = type(raw)
                if kind is leaf.unchanged and (
                    kind is not int or GRAPHQL_MIN_INT <= raw <= GRAPHQL_MAX_INT
                ):
                    data[leaf.key] = raw
                    continue
                serialized = leaf.serialize(raw)
                if serialized is None or serialized is Undefined:
                    return None
                data[leaf.key] = serialized
        except Exception:  # graphql-core reports it, with its path
            return None
        return data


@dataclass(frozen=True, slots=True)
class FlatPlan:
    """A subscription's one root field with a flat selection."""

    root_key: str
    root_resolve: Resolve
    selection: FlatSelection

    def run(self, event: Any) -> dict[str, Any] | None:
        """The event's data, or None when graphql-core must execute it."""
        try:
            value = self.root_resolve(event, None)
        except Exception:
            return None
        data = None if value is None else self.selection.read(value)
        return None if data is None else {self.root_key: data}


def flat_plan(schema: GraphQLSchema, operation: OperationDefinitionNode) -> FlatPlan | None:
    """The plan of a subscription whose one root field selects plain leaves, or None."""
    subscription = schema.subscription_type
    if operation.operation is not OperationType.SUBSCRIPTION or subscription is None:
        return None
    # The root field's arguments choose the events, not how each one executes.
    root = _only_field(operation.selection_set.selections, arguments_allowed=True)
    if root is None or root.selection_set is None:
        return None
    root_def = subscription.fields.get(root.name.value)
    if root_def is None or root_def.resolve is None:
        return None
    object_type = _unwrapped(root_def.type)
    # A type check of its own (an interface's implementation) wants a resolve info.
    if not isinstance(object_type, GraphQLObjectType) or object_type.is_type_of is not None:
        return None
    selection = flat_selection(object_type, root)
    return None if selection is None else FlatPlan(_key(root), root_def.resolve, selection)


def flat_selection(object_type: GraphQLObjectType, field: FieldNode) -> FlatSelection | None:
    """The selection of this field on its object type, when it is only plain leaves and
    plain objects (or lists of them) selecting only such."""
    if field.selection_set is None:
        return None
    leaves: list[_Leaf | _Nested] = []
    for selection in field.selection_set.selections:
        leaf_field = _only_field((selection,), arguments_allowed=False)
        if leaf_field is None:
            return None
        leaf = _leaf(object_type, leaf_field)
        if leaf is None:
            return None
        leaves.append(leaf)
    if len({leaf.key for leaf in leaves}) < len(leaves):
        return None  # fields merged under one key: graphql-core merges their selections
    return FlatSelection(object_type.name, tuple(leaves))


def _leaf(object_type: GraphQLObjectType, field: FieldNode) -> _Leaf | _Nested | None:
    name = field.name.value
    if name == "__typename":
        return None if field.selection_set else _Leaf(_key(field), None, str, True)
    field_def = object_type.fields.get(name)
    read = None if field_def is None else _attribute_reader(field_def)
    if field_def is None or read is None:
        return None
    non_null = isinstance(field_def.type, GraphQLNonNull)
    leaf_type = _unwrapped(field_def.type)
    if field.selection_set is None:
        if not isinstance(leaf_type, GraphQLScalarType | GraphQLEnumType):
            return None
        unchanged = next((kind for scalar, kind in _UNCHANGED if scalar is leaf_type), None)
        return _Leaf(_key(field), read, leaf_type.serialize, non_null, unchanged)
    is_list = False
    if isinstance(leaf_type, GraphQLList):
        is_list, leaf_type = True, _unwrapped(leaf_type.of_type)
    # A type check of its own (an interface's implementation) wants a resolve info.
    if not isinstance(leaf_type, GraphQLObjectType) or leaf_type.is_type_of is not None:
        return None
    selection = flat_selection(leaf_type, field)
    if selection is None:
        return None
    return _Nested(_key(field), read, selection, non_null, is_list)


def _attribute_reader(field_def: GraphQLField) -> Read | None:
    """How Strawberry reads the field from its object, when it reads an attribute: no
    resolver of its own and no extensions (which would want a resolve info). The attribute
    is read directly where the default resolver is `getattr`, as Strawberry's would."""
    strawberry_field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    if (
        resolve is None
        or not isinstance(strawberry_field, StrawberryField)
        or not strawberry_field.is_basic_field
        or not getattr(resolve, "_is_default", False)
    ):
        return None
    if strawberry_field.default_resolver is getattr:
        return operator.attrgetter(strawberry_field.python_name)
    return functools.partial(resolve, info=None)


def _only_field(selections: Any, *, arguments_allowed: bool) -> FieldNode | None:
    """The one field of these selections, when it has no directives (nor arguments)."""
    if len(selections) != 1:
        return None
    [field] = selections
    if not isinstance(field, FieldNode) or field.directives:
        return None
    if field.arguments and not arguments_allowed:
        return None
    return field


def _unwrapped(type_: GraphQLOutputType) -> GraphQLOutputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _key(field: FieldNode) -> str:
    return field.alias.value if field.alias else field.name.value
