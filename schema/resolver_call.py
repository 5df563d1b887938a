"""Strawberry resolvers called without Strawberry's wrapper around each call.

For each call, Strawberry's wrapper builds an `Info`, converts every argument by walking
its type again (optional, list, scalar, input object), and chains the field's extensions.
For a root field with no extensions whose arguments are scalars or plain inputs
(schema/plain_inputs.py), a `ResolverCall` does the same work with what was decided once:
each argument's name and converter, and which of `self`, the root and `info` the resolver
asks for. Any other field keeps Strawberry's wrapper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField, GraphQLSchema
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import InputContext, StrawberryArgument
from strawberry.types.base import StrawberryMaybe, StrawberryOptional, StrawberryType
from strawberry.types.field import StrawberryField

from schema.plain_inputs import is_plain_input

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Argument:
    graphql_name: str
    python_name: str
    convert: Convert | None  # None: the value as graphql-core coerced it


@dataclass(frozen=True, slots=True)
class ResolverCall:
    """One field's resolver, called as Strawberry's wrapper would call it."""

    field: StrawberryField
    resolver: Callable[..., Any]
    arguments: tuple[_Argument, ...]
    pass_self: bool
    source_names: tuple[str, ...]  # parameters that take the root value by name
    info_name: str | None
    info_class: type[Any]

    def __call__(self, source: Any, info: Any, arguments: Mapping[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for argument in self.arguments:
            if argument.graphql_name in arguments:
                value = arguments[argument.graphql_name]
                convert = argument.convert
                kwargs[argument.python_name] = (
                    value if value is None or convert is None else convert(value)
                )
        for name in self.source_names:
            kwargs[name] = source
        if self.info_name is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=info, _field=self.field)
        return self.resolver(source, **kwargs) if self.pass_self else self.resolver(**kwargs)


def resolver_call(schema: GraphQLSchema, field_def: GraphQLField) -> ResolverCall | None:
    """The direct call of a field's resolver, or None when Strawberry's wrapper must run."""
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    strawberry_schema = schema.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or strawberry_schema is None:
        return None
    resolver = field.base_resolver
    converter = strawberry_schema.schema_converter
    if resolver is None or field.extensions or converter._get_field_exception_handlers(field):
        return None
    function = resolver.wrapped_func
    if not callable(function):  # a static or class method not bound to its type
        return None
    config = strawberry_schema.config
    arguments = []
    for argument in field.arguments:
        graphql_name = config.name_converter.from_argument(argument)
        context = InputContext(
            info=None,
            config=config,
            scalar_registry=converter.scalar_registry,
            path=(graphql_name,),
        )
        plain, convert = _converter(argument, context)
        if not plain:
            return None
        arguments.append(_Argument(graphql_name, argument.python_name, convert))
    source_names = tuple(
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    )
    info = resolver.info_parameter
    return ResolverCall(
        field=field,
        resolver=function,
        arguments=tuple(arguments),
        pass_self=resolver.self_parameter is not None,
        source_names=source_names,
        info_name=None if info is None else info.name,
        info_class=config.info_class,
    )


def _converter(argument: StrawberryArgument, context: InputContext) -> tuple[bool, Convert | None]:
    """Whether the argument is plain, and how its coerced value becomes the resolver's."""
    type_: StrawberryType | type = argument.type
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        type_ = type_.of_type
    if isinstance(type_, type) and is_plain_input(type_):
        build = type_.__strawberry_definition__.from_input  # type: ignore[attr-defined]
        input_type = type_
        return True, lambda value: build(input_type, value, context)
    # A scalar graphql-core has coerced already (a GlobalID is not: Strawberry decodes it).
    if type_ is not GlobalID and not isinstance(type_, StrawberryType):
        return is_scalar(type_, context.scalar_registry), None
    return False, None
