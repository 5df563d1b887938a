"""Operations run straight on graphql-core; each distinct document is parsed and validated
once.

Strawberry's `Schema.execute` and `Schema.stream` wrap every operation, and every event of
every subscription, in an extension lifecycle: an execution context, extension instances,
their hooks as context managers, and post-processing of each result. Under load that
wrapper cost more CPU than the send resolver it wrapped. Nothing here needs those hooks:
the token, depth and alias limits and the introspection switch belong to parsing and
validation, which `Documents` does once per distinct document and caches.

`ChatSchema` therefore runs operations itself, keeping the contract Strawberry's
transports rely on: the same exceptions for a missing query, an operation that cannot be
found and an operation type the transport does not allow; `PreExecutionError` for errors
before execution; an exception raised by a subscription's source ends its stream as one
error result.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from contextlib import aclosing
from functools import lru_cache, partial
from typing import Any, cast

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    create_source_event_stream,
    execute_subscription_event,
)
from graphql import ExecutionResult as CoreResult
from graphql.execution import Executor
from graphql.validation import ASTValidationRule, specified_rules
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import validate_document
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe
from strawberry.utils.operation import get_operation_type

from schema.fanout import EventLookup, Memo
from schema.limits import parse_limited
from schema.single_field import SingleField, Unfinished, single_field

ALL_OPERATION_TYPES = frozenset(OperationType)


class Documents:
    """Parsed and validated documents by their text, the most recent `size` of them."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Iterable[type[ASTValidationRule]],
        max_tokens: int,
        size: int = 1024,
    ) -> None:
        self._schema = schema
        self._rules = (*specified_rules, *rules)
        self._max_tokens = max_tokens
        self.size = size
        self.prepare = lru_cache(maxsize=size)(self._prepare)

    def _prepare(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        """The document with its validation errors, or None with its parse error."""
        try:
            document = parse_limited(query, self._max_tokens)
        except GraphQLError as error:
            return None, [error]
        except Exception as error:  # e.g. a RecursionError: reported, never raised
            return None, [GraphQLError(str(error), original_error=error)]
        return document, validate_document(self._schema, document, self._rules)


class Runner:
    """Runs operations of one schema with one executor class."""

    def __init__(self, schema: GraphQLSchema, documents: Documents, executor: type[Executor[Any]]):
        self._schema = schema
        self._documents = documents
        self._executor = executor
        self._single_fields: Memo[SingleField | None] = Memo(documents.size)

    def ready(
        self,
        query: str | None,
        operation_name: str | None,
        allowed: Iterable[OperationType] | None,
    ) -> tuple[DocumentNode, OperationType] | PreExecutionError:
        """The document and its operation's type, or the errors that stop it before
        execution; raises as Strawberry does for what a transport answers itself."""
        if not query:
            raise MissingQueryError
        document, errors = self._documents.prepare(query)
        if document is None:
            return PreExecutionError(data=None, errors=errors)
        try:
            kind = get_operation_type(document, operation_name)
        except RuntimeError as error:
            raise CannotGetOperationTypeError(operation_name) from error
        if kind not in (ALL_OPERATION_TYPES if allowed is None else allowed):
            raise InvalidOperationTypeError(kind)
        if errors:
            return PreExecutionError(data=None, errors=errors)
        return document, kind

    async def execute(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        context: Any,
        root: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        try:
            result = await self._result(
                document, variables, context, root, operation_name, operation_extensions
            )
        except Exception as error:  # graphql-core raises for inputs nested too deeply
            return PreExecutionError(data=None, errors=[_as_graphql_error(error)])
        return ExecutionResult(data=result.data, errors=result.errors)

    async def _result(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        context: Any,
        root: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> CoreResult:
        """A query's or mutation's result: through its single-field plan where it has one
        (schema/single_field.py), an executor built for what the plan leaves unfinished."""
        unfinished = None
        plan = self._single_fields.get(partial(single_field, self._schema), document)
        if plan is not None and plan.serves(operation_name):
            result = await plan.run(self._schema, variables, context, root, operation_extensions)
            if not isinstance(result, Unfinished):
                return result
            unfinished = result
        executor = self._build(
            document, variables, context, root, operation_name, operation_extensions
        )
        if isinstance(executor, list):
            return CoreResult(data=None, errors=executor)
        try:
            if unfinished is not None:
                return await unfinished.complete(executor)
            # Without @defer or @stream in the schema, always one result.
            return cast(CoreResult, await await_maybe(executor.execute_operation()))
        finally:
            _release(executor)

    async def source(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        context: Any,
        root: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> Source | ExecutionResult:
        """The subscription's source, or the result that ends it at once."""
        executor = None
        try:
            executor = self._build(
                document, variables, context, root, operation_name, operation_extensions
            )
            if isinstance(executor, list):
                return PreExecutionError(data=None, errors=executor)
            events = await await_maybe(create_source_event_stream(executor))
        except Exception as error:  # graphql-core raises for inputs nested too deeply
            return failure(error)
        finally:
            if isinstance(executor, Executor):
                _release(executor)
        if isinstance(events, CoreResult):
            return PreExecutionError(data=None, errors=events.errors)
        lookup: EventLookup | None = getattr(executor, "lookup", None)
        arguments = (document, variables, context, operation_name, operation_extensions)
        return Source(self, cast(AsyncIterable[Any], events), lookup, arguments)

    async def follow(self, source: Source) -> AsyncGenerator[ExecutionResult, None]:
        """The results of a subscription: each source event executed in turn, without a
        wrapper per event."""
        try:
            async with aclosing(aiter(source.events)) as events:  # type: ignore[type-var]
                async for event in events:
                    yield await source.result(event)
        except Exception as error:  # the source failed: its stream ends with the error
            yield failure(error)

    def _build(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        context: Any,
        root: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> Executor[Any] | list[GraphQLError]:
        """An executor, or the errors of variables that do not fit the operation."""
        return self._executor.build(
            self._schema,
            document,
            root,
            context,
            variables,
            operation_name,
            is_awaitable=cast(Any, optimized_is_awaitable),  # a TypeGuard in all but name
            operation_extensions=operation_extensions,
        )

    async def stream(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        root: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
        allowed: Iterable[OperationType] | None,
    ) -> AsyncGenerator[ExecutionResult, None]:
        """Any operation's results: one for a query or mutation, a stream for a
        subscription."""
        opened = await self.open(
            query, variables, context, root, operation_name, operation_extensions, allowed
        )
        if isinstance(opened, ExecutionResult):
            yield opened
            return
        async with aclosing(self.follow(opened)) as results:
            async for result in results:
                yield result

    async def open(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        root: Any,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
        allowed: Iterable[OperationType] | None,
    ) -> Source | ExecutionResult:
        """A subscription's source, or the one result of any other operation (or of a
        refusal)."""
        try:
            ready = self.ready(query, operation_name, allowed)
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError) as e:
            return PreExecutionError(data=None, errors=[_refusal(e)])
        if isinstance(ready, PreExecutionError):
            return ready
        document, kind = ready
        arguments = (document, variables, context, root, operation_name, operation_extensions)
        if kind is not OperationType.SUBSCRIPTION:
            return await self.execute(*arguments)
        return await self.source(*arguments)


class Source:
    """A subscription's source event stream, and how to run its events. It keeps no
    executor (~3.6 KiB, and one per idle subscription adds up): an event another
    subscriber's execution (or a flat selection) already answered needs none, and any other
    has one built for it."""

    __slots__ = ("_arguments", "_lookup", "_runner", "events")

    def __init__(
        self,
        runner: Runner,
        events: AsyncIterable[Any],
        lookup: EventLookup | None,
        arguments: tuple[DocumentNode, dict[str, Any] | None, Any, str | None, Any],
    ) -> None:
        self._runner = runner
        self.events = events
        self._lookup = lookup
        self._arguments = arguments

    async def result(self, event: Any) -> ExecutionResult:
        done = self._lookup.executed(event) if self._lookup is not None else None
        if done is None:
            document, variables, context, operation_name, extensions = self._arguments
            executor = self._runner._build(
                document, variables, context, event, operation_name, extensions
            )
            # The variables fitted when the subscription started, and they still do.
            assert isinstance(executor, Executor)
            try:
                done = await await_maybe(execute_subscription_event(executor))
            finally:
                _release(executor)
        return ExecutionResult(data=done.data, errors=done.errors)


def failure(error: Exception) -> ExecutionResult:
    """The result that ends a subscription whose source failed."""
    return ExecutionResult(data=None, errors=[_as_graphql_error(error)])


def _release(executor: Executor[Any]) -> None:
    """Break the executor's reference to itself (bound methods in `async_helpers`), so
    that it, the operation's context and all it reached are freed as soon as the operation
    ends rather than by a cyclic collection: under load those collections, walking
    thousands of finished executors, took a quarter of the server's CPU."""
    del executor.async_helpers


def _as_graphql_error(error: Exception) -> GraphQLError:
    return (
        error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
    )


def _refusal(error: Exception) -> GraphQLError:
    """A refusal a streaming transport reports as an error result, worded as Strawberry's."""
    if isinstance(error, CannotGetOperationTypeError):
        return GraphQLError(error.as_http_error_reason(), original_error=error)
    if isinstance(error, InvalidOperationTypeError):
        plural = {
            OperationType.QUERY: "queries",
            OperationType.MUTATION: "mutations",
            OperationType.SUBSCRIPTION: "subscriptions",
        }[error.operation_type]
        return GraphQLError(f"{plural} are not allowed", original_error=error)
    return GraphQLError(str(error), original_error=error)
