"""Queries and mutations of one plain root field, run without an executor.

Most operations clients send are one root field whose object result selects plain leaves:
`sendMessage(input: ...) { id seq }`, `markRead(...) { ... }`, `me { id name }`. For each,
graphql-core builds an executor (variable coercion, field collection, a resolve info, the
serial reducer, completion under an abort signal), which cost about as much CPU as
sending the message. A `SingleField` is the plan of such an operation, made once per
cached document. It coerces the variables (their types read once) and the arguments with
graphql-core's own functions, calls the field's resolver (directly where
schema/resolver_call.py can, else through Strawberry's wrapper), and reads the result
through the field's flat selection (schema/flat.py).

The results and errors stay graphql-core's. Variables that do not fit are its errors; an
error raised by the arguments or the resolver is located at the field and nulls what
graphql-core would null; and a value the flat selection cannot read (a null, a field that
fails) is completed by an executor built for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    located_error,
)
from graphql import ExecutionResult as CoreResult
from graphql.execution import Executor
from graphql.execution.collect_fields import collect_fields
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_variable_values,
)
from graphql.pyutils import Path, Undefined
from graphql.utilities.coerce_input_value import coerce_input_value
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo

from schema.flat import FlatSelection, flat_selection
from schema.resolver_call import ResolverCall, resolver_call

# graphql-core's default for `Executor.build`.
MAX_COERCION_ERRORS = 50


@dataclass(frozen=True, slots=True)
class SingleField:
    """A query or mutation whose one root field selects plain leaves of an object."""

    operation: OperationDefinitionNode
    parent: GraphQLObjectType
    node: FieldNode
    field: GraphQLField
    key: str
    selection: FlatSelection
    # The variables' types, read from the document once; None: left to graphql-core.
    signatures: tuple[GraphQLVariableSignature, ...] | None
    call: ResolverCall | None  # None: Strawberry's wrapper calls the resolver

    def serves(self, operation_name: str | None) -> bool:
        name = self.operation.name
        return operation_name is None or (name is not None and name.value == operation_name)

    async def run(
        self,
        schema: GraphQLSchema,
        variables: dict[str, Any] | None,
        context: Any,
        root: Any,
        operation_extensions: dict[str, Any] | None,
    ) -> CoreResult | Unfinished:
        """The operation's result, or the resolved value graphql-core must complete."""
        coerced = self._coerce(schema, variables or {})
        if isinstance(coerced, list):
            return CoreResult(data=None, errors=coerced)
        path = Path(None, self.key, self.parent.name)
        info = _OperationContextAwareGraphQLResolveInfo(
            self.node.name.value,
            [self.node],
            self.field.type,
            self.parent,
            path,
            schema,
            {},
            root,
            self.operation,
            coerced.coerced,
            context,
            optimized_is_awaitable,
            None,  # no abort signal, as with the executor the transports build
            None,  # async helpers serve abstract types only, and the result is an object
            cast(dict[str, Any], operation_extensions),  # None when absent, as executors pass it
        )
        try:
            arguments = get_argument_values(self.field, self.node, coerced)
            if self.call is not None:
                value = self.call(root, info, arguments)
            else:
                assert self.field.resolve is not None  # SingleField is only made for these
                value = self.field.resolve(root, info, **arguments)
            if optimized_is_awaitable(value):
                value = await value
        except Exception as error:
            located = located_error(error, [self.node], path.as_list())
            data = None if isinstance(self.field.type, GraphQLNonNull) else {self.key: None}
            return CoreResult(data=data, errors=[located])
        read = None if value is None else self.selection.read(value)
        if read is not None:
            return CoreResult(data={self.key: read})
        return Unfinished(self, info, value)

    def _coerce(
        self, schema: GraphQLSchema, inputs: dict[str, Any]
    ) -> VariableValues | list[GraphQLError]:
        """The variables coerced as graphql-core coerces them, without reading their types
        from the document again; a variable left out or not fitting (defaults, errors) is
        left to graphql-core."""
        if self.signatures is not None:
            sources: dict[str, VariableValueSource] = {}
            coerced: dict[str, Any] = {}
            for signature in self.signatures:
                value = inputs.get(signature.name, Undefined)
                if value is Undefined:
                    break
                coerced_value = coerce_input_value(value, signature.type)
                if coerced_value is Undefined:
                    break
                sources[signature.name] = VariableValueSource(signature, value)
                coerced[signature.name] = coerced_value
            else:
                return VariableValues(sources, coerced)
        return get_variable_values(
            schema,
            self.operation.variable_definitions or (),
            inputs,
            max_errors=MAX_COERCION_ERRORS,
        )


@dataclass(frozen=True, slots=True)
class Unfinished:
    """A resolved value the flat selection could not read."""

    plan: SingleField
    info: Any
    value: Any

    async def complete(self, executor: Executor[Any]) -> CoreResult:
        """The value completed by graphql-core, as its executor would have."""
        plan = self.plan
        collected = collect_fields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            plan.parent,
            plan.operation,
            executor.hide_suggestions,
        )
        fields = collected.grouped_field_set[plan.key]
        path = self.info.path
        try:
            completed = executor.complete_value(
                plan.field.type, fields, self.info, path, self.value, None
            )
            if executor.is_awaitable(completed):
                completed = await completed
            data: dict[str, Any] | None = {plan.key: completed}
        except Exception as error:
            try:
                executor.handle_field_error(error, plan.field.type, fields, path)
                data = {plan.key: None}
            except GraphQLError as located:  # a non-null field: the whole result is null
                executor.collected_errors.add(located, None)
                data = None
        return cast(CoreResult, executor.build_response(data))


def single_field(schema: GraphQLSchema, document: DocumentNode) -> SingleField | None:
    """The plan of a document that is one query or mutation of one plain root field."""
    if len(document.definitions) != 1:
        return None
    [operation] = document.definitions
    if not isinstance(operation, OperationDefinitionNode):
        return None
    if operation.operation is OperationType.QUERY:
        parent = schema.query_type
    elif operation.operation is OperationType.MUTATION:
        parent = schema.mutation_type
    else:
        return None
    selections = operation.selection_set.selections
    if parent is None or len(selections) != 1:
        return None
    [node] = selections
    if not isinstance(node, FieldNode) or node.directives or node.name.value.startswith("__"):
        return None
    field = parent.fields.get(node.name.value)
    if field is None or field.resolve is None:
        return None
    object_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    # A type check of its own (an interface's implementation) wants graphql-core.
    if not isinstance(object_type, GraphQLObjectType) or object_type.is_type_of is not None:
        return None
    selection = flat_selection(object_type, node)
    if selection is None:
        return None
    key = node.alias.value if node.alias else node.name.value
    definitions = operation.variable_definitions or ()
    signatures = [get_variable_signature(schema, each) for each in definitions]
    plain = all(isinstance(each, GraphQLVariableSignature) for each in signatures)
    return SingleField(
        operation,
        parent,
        node,
        field,
        key,
        selection,
        tuple(cast(list[GraphQLVariableSignature], signatures)) if plain else None,
        resolver_call(schema, field),
    )
