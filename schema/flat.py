"""Subscription events of a flat selection, executed without graphql-core's engine.

Most subscriptions select plain fields of one object (`newMessage { id seq content }`):
executing one of their events is reading attributes and serialising scalars, which
graphql-core does through field collection, resolve infos, paths and completion at ten
times the cost. A `FlatPlan` reads the same fields through the same resolvers and
serialisers, and gives way to graphql-core (returns None) for anything that is not plain:
a field with a resolver of its own, arguments, directives, fragments, lists, an abstract
or type-checked type, a null where the type forbids it, or any exception. So the results
are graphql-core's, and so are the errors, since graphql-core produces every one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
)

Resolve = Callable[[Any, Any], Any]


@dataclass(frozen=True, slots=True)
class _Leaf:
    key: str
    resolve: Resolve | None  # None: __typename
    serialize: Callable[[Any], Any]
    non_null: bool


@dataclass(frozen=True, slots=True)
class FlatPlan:
    root_key: str
    root_resolve: Resolve
    object_type: GraphQLObjectType
    leaves: tuple[_Leaf, ...]

    def run(self, event: Any) -> dict[str, Any] | None:
        """The event's data, or None when graphql-core must execute it."""
        try:
            value = self.root_resolve(event, None)
            if value is None:
                return None
            data: dict[str, Any] = {}
            for leaf in self.leaves:
                if leaf.resolve is None:
                    data[leaf.key] = self.object_type.name
                    continue
                raw = leaf.resolve(value, None)
                if raw is None:
                    if leaf.non_null:
                        return None
                    data[leaf.key] = None
                    continue
                serialized = leaf.serialize(raw)
                if serialized is None or serialized is Undefined:
                    return None
                data[leaf.key] = serialized
        except Exception:  # graphql-core reports it, with its path
            return None
        return {self.root_key: data}


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
    leaves = []
    for selection in root.selection_set.selections:
        field = _only_field((selection,), arguments_allowed=False)
        if field is None or field.selection_set is not None:
            return None
        leaf = _leaf(object_type, field)
        if leaf is None:
            return None
        leaves.append(leaf)
    return FlatPlan(_key(root), root_def.resolve, object_type, tuple(leaves))


def _leaf(object_type: GraphQLObjectType, field: FieldNode) -> _Leaf | None:
    name = field.name.value
    if name == "__typename":
        return _Leaf(_key(field), None, str, True)
    field_def = object_type.fields.get(name)
    # Strawberry marks the resolver of a field without one of its own (an attribute).
    if field_def is None or not getattr(field_def.resolve, "_is_default", False):
        return None
    leaf_type = _unwrapped(field_def.type)
    if not isinstance(leaf_type, GraphQLScalarType | GraphQLEnumType):
        return None
    non_null = isinstance(field_def.type, GraphQLNonNull)
    return _Leaf(_key(field), field_def.resolve, leaf_type.serialize, non_null)


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
