"""Input types whose values Strawberry builds with one constructor call.

For each argument of each request, Strawberry converts an input object field by field,
resolving every field's type and GraphQL name again: for `sendMessage`'s three fields, a
tenth of the server's CPU per message under load. The inputs marked here hold only
scalars, enums and lists of them, which graphql-core has already coerced, so building one
is naming its fields: `plain_input` gives the type Strawberry's `from_input` hook with a
plan made once (GraphQL name, Python name, whether the value is a list to copy), giving
the same value Strawberry's conversion gives. A field of any other type is refused when
the plan is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass
from typing import Any, TypeVar

from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Field:
    graphql_name: str
    python_name: str
    is_list: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    fields: tuple[_Field, ...]
    # Fields without a default are None when left out, as Strawberry makes them.
    implicit_none: tuple[str, ...]


_PLAIN: set[type] = set()


def is_plain_input(cls: type) -> bool:
    """Whether `plain_input` made this input type."""
    return cls in _PLAIN


def plain_input(cls: type[T]) -> type[T]:
    definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    plans: list[_Plan] = []  # made on first use, when names and scalars are known

    def from_input(type_: type, value: Mapping[str, Any], context: InputContext) -> Any:
        if not plans:
            plans.append(_plan(definition, context))
        plan = plans[0]
        kwargs: dict[str, Any] = dict.fromkeys(plan.implicit_none)
        for field in plan.fields:
            if field.graphql_name in value:
                given = value[field.graphql_name]
                kwargs[field.python_name] = (
                    list(given) if field.is_list and given is not None else given
                )
        return type_(**kwargs)

    definition.from_input = from_input
    _PLAIN.add(cls)
    return cls


def _plan(definition: StrawberryObjectDefinition, context: InputContext) -> _Plan:
    fields = []
    for field in definition.fields:
        type_ = field.resolve_type(type_definition=definition)
        is_list = False
        if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
            type_ = type_.of_type
        if isinstance(type_, StrawberryList):
            is_list, type_ = True, type_.of_type
            if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
                type_ = type_.of_type
        if not _is_plain_leaf(type_, context):
            raise TypeError(f"{definition.name}.{field.python_name} is not a plain input field")
        graphql_name = context.config.name_converter.from_field(field)
        fields.append(_Field(graphql_name, field.python_name, is_list))
    implicit_none = tuple(
        field.python_name
        for field in definition.fields
        if field.default_value is MISSING and field.default_factory is MISSING
    )
    return _Plan(tuple(fields), implicit_none)


def _is_plain_leaf(type_: StrawberryType | type, context: InputContext) -> bool:
    """A scalar graphql-core has coerced to its value (a GlobalID is not: Strawberry
    decodes it), or an enum, which graphql-core coerces to its member."""
    if type_ is GlobalID:
        return False
    if isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_):
        return True
    return not isinstance(type_, StrawberryType) and is_scalar(type_, context.scalar_registry)
