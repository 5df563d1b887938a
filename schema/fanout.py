"""Subscription events executed once per distinct selection, not once per subscriber.

The broker fans one event out to every local subscription as the same record object (a
room message reaches each member's `newMessage`). Executing the selection for each of them
costs ~0.1 ms of CPU per subscriber; here the first subscriber to meet an event executes it
and encodes the data once, and every other subscription of this process with the same
operation and variables reuses that result. The data travels as an `orjson.Fragment`, which
each socket's `next` (or legacy `data`) envelope splices in as it is, around its own
operation id.

Fields that depend on the viewer (`isRead` of room messages, `isBlocked`, and presence a
block hides) make the viewer part of the key, so those selections stay exact per viewer.
Only contexts that ask for it (`shared_results`, the WebSocket transport) take this path.
"""

from __future__ import annotations

import asyncio
import operator
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

import orjson
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.flat import FlatPlan, FlatSelection, flat_plan, flat_selection

# Fields whose value differs between viewers of the same event.
VIEWER_FIELDS = frozenset({"isRead", "isBlocked", "online", "lastSeenAt"})

CacheKey = tuple[int, int, str, str | None]


def _field_names(selection_set: SelectionSetNode, fragments: dict[str, Any]) -> Iterator[str]:
    seen: set[str] = set()
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection.name.value
                if selection.selection_set is not None:
                    stack.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)


def _variables_key(variables: dict[str, Any]) -> str:
    try:
        return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(sorted(variables.items(), key=lambda item: item[0]))


def _encoded(result: ExecutionResult) -> ExecutionResult:
    if result.data is None:
        return result
    data: Any = orjson.Fragment(orjson.dumps(result.data))
    return ExecutionResult(data=data, errors=result.errors, extensions=result.extensions)


V = TypeVar("V")


class SharedResults:
    """The results of recent events by key: at most `size`, the oldest dropped first."""

    __slots__ = ("_entries", "_size")

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[
            CacheKey, tuple[object, object, asyncio.Future[ExecutionResult]]
        ] = OrderedDict()
        self._size = size

    def get(
        self, key: CacheKey, shared: object, operation: object
    ) -> asyncio.Future[ExecutionResult] | None:
        entry = self._entries.get(key)
        # The entry holds the record and the operation, so their ids cannot be reused
        # while it lives; the identity checks are a guard, not a necessity.
        if entry is None or entry[0] is not shared or entry[1] is not operation:
            return None
        self._entries.move_to_end(key)
        return entry[2]

    def put(
        self,
        key: CacheKey,
        shared: object,
        operation: object,
        future: asyncio.Future[ExecutionResult],
    ) -> None:
        self._entries[key] = (shared, operation, future)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


class EventLookup:
    """An event's result when it needs no executor: what another subscriber's execution
    of the same event left in the cache, or a flat selection's (schema/flat.py), which is
    then cached for the others. A subscription keeps this, and builds an executor only for
    an event it cannot answer."""

    __slots__ = ("_results", "flat", "operation", "variables_key", "viewer")

    def __init__(
        self,
        results: SharedResults,
        operation: OperationDefinitionNode,
        flat: FlatPlan | None,
        variables_key: str | None,
        viewer: str | None,
    ) -> None:
        self._results = results
        self.operation = operation
        self.flat = flat
        self.variables_key = variables_key  # None: results are not shared
        self.viewer = viewer

    def key(self, root: object) -> tuple[CacheKey, object] | None:
        """The cache key of an event, or None when it is not shared."""
        shared = getattr(root, "record", None)
        if self.variables_key is None or shared is None:
            return None
        return (id(shared), id(self.operation), self.variables_key, self.viewer), shared

    def entry(self, key: CacheKey, shared: object) -> asyncio.Future[ExecutionResult] | None:
        return self._results.get(key, shared, self.operation)

    def store(self, key: CacheKey, shared: object, future: asyncio.Future[ExecutionResult]) -> None:
        self._results.put(key, shared, self.operation, future)

    def keep(self, key: CacheKey, shared: object, result: ExecutionResult) -> ExecutionResult:
        """Cache an event's result, done already, for the other subscribers; it encoded."""
        encoded = _encoded(result)
        future = asyncio.get_running_loop().create_future()
        future.set_result(encoded)
        self.store(key, shared, future)
        return encoded

    def executed(self, root: object) -> ExecutionResult | None:
        """Every event meets this before any executor is built for it."""
        keyed = self.key(root)
        if keyed is None:
            if self.flat is not None and (data := self.flat.run(root)) is not None:
                return ExecutionResult(data=data)
            return None
        key, shared = keyed
        future = self.entry(key, shared)
        if future is not None:
            if future.done() and future.exception() is None:
                # Already executed for another subscriber: no execution.
                return future.result()
            return None
        if self.flat is None or (data := self.flat.run(root)) is None:
            return None
        return self.keep(key, shared, ExecutionResult(data=data))


class Memo(Generic[V]):
    """What `make` gives for some objects, made once while among the `size` latest made.
    Keyed by the objects' identities; each entry holds its objects, so that their ids
    cannot be reused while it lives."""

    __slots__ = ("_entries", "_size")

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[tuple[int, ...], tuple[tuple[Any, ...], V]] = OrderedDict()
        self._size = size

    def get(self, make: Callable[..., V], *objects: Any) -> V:
        key = tuple(map(id, objects))
        entry = self._entries.get(key)
        if entry is not None and all(map(operator.is_, entry[0], objects)):
            return entry[1]
        entry = (objects, make(*objects))
        self._entries[key] = entry
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return entry[1]


def shared_event_executor(size: int = 4096) -> type[StrawberryGraphQLCoreExecutionContext]:
    """An executor class whose subscription events are executed once per selection; the
    cache of at most `size` recent results belongs to the class, one per schema."""
    results = SharedResults(size)
    plans: Memo[FlatPlan | None] = Memo(size)  # by operation
    selections: Memo[FlatSelection | None] = Memo(size)  # by object type and field node

    class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            operation = self.operation
            self.lookup: EventLookup | None = None
            if operation.operation is OperationType.SUBSCRIPTION:
                self.lookup = EventLookup(
                    results,
                    operation,
                    plans.get(flat_plan, self.schema, operation),
                    *self._sharing(),
                )

        def _sharing(self) -> tuple[str | None, str | None]:
            """The variables key and the viewer that key this subscription's shared
            results; no variables key when they are not shared."""
            context = self.context_value
            if not getattr(context, "shared_results", False):
                return None, None
            names = set(_field_names(self.operation.selection_set, self.fragment_definitions))
            viewer_dependent = not names.isdisjoint(VIEWER_FIELDS)
            viewer = context.viewer.id if viewer_dependent and context.viewer else None
            return _variables_key(self.variable_values.coerced), viewer

        def build_per_event_executor(self, payload: Any) -> Any:
            executed = self.lookup.executed(payload) if self.lookup is not None else None
            if executed is not None:
                return _Executed(executed)
            return super().build_per_event_executor(payload)

        def collect_and_execute_subfields(
            self,
            return_type: GraphQLObjectType,
            field_details_list: Any,
            path: Any,
            result: Any,
            position_context: Any,
        ) -> Any:
            """An object's plain leaves read at once (schema/flat.py); anything else, and
            anything unexpected on the way, completed by graphql-core."""
            if len(field_details_list) == 1:
                [details] = field_details_list
                if details.defer_usage is None and details.fragment_variable_values is None:
                    selection = selections.get(flat_selection, return_type, details.node)
                    if selection is not None and (data := selection.read(result)) is not None:
                        return data
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )

        def execute_operation(self, serially: bool | None = None) -> Any:
            """An event that `EventLookup.executed` could not answer (its flat plan was
            tried there), executed and shared with the other subscribers."""
            lookup = self.lookup
            keyed = None if lookup is None else lookup.key(self.root_value)
            if keyed is None:
                return super().execute_operation(serially)
            assert lookup is not None
            key, shared = keyed
            future = lookup.entry(key, shared)
            if future is not None:
                return asyncio.shield(future)
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                assert isinstance(result, ExecutionResult)
                return lookup.keep(key, shared, result)
            # Its own task: a subscriber cancelled mid-execution must not fail the rest.
            future = asyncio.ensure_future(_finish(result))
            lookup.store(key, shared, future)
            return asyncio.shield(future)

    return SharedEventExecutor


class _Executed:
    """Stands in for a per-event executor when the event's result is already known."""

    __slots__ = ("result",)

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self.result


async def _finish(result: Awaitable[Any]) -> ExecutionResult:
    done = await result
    assert isinstance(done, ExecutionResult)
    return _encoded(done)
