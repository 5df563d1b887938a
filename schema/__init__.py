"""The Strawberry schema: types, inputs, the three root types, and how operations run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.execution import Documents, Runner
from schema.fanout import shared_event_executor
from schema.limits import alias_rule, depth_rule
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription


class ChatSchema(strawberry.Schema):
    """Runs operations through `schema.execution` rather than Strawberry's extension
    lifecycle (see there why); every transport, HTTP and WebSocket, goes through here."""

    def __init__(
        self, *, rules: Iterable[type[ASTValidationRule]], max_tokens: int, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        documents = Documents(self._schema, rules, max_tokens)
        self.runner = Runner(self._schema, documents, self.execution_context_class)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        ready = self.runner.ready(query, operation_name, allowed_operation_types)
        if isinstance(ready, ExecutionResult):
            return ready
        document, _ = ready
        return await self.runner.execute(
            document,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
        )

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        return self.runner.stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: refusals are answers, not faults, and `format_error` logs the
        unexpected ones with their detail when it masks them."""


def build_schema(
    *,
    introspection: bool = True,
    max_depth: int = 10,
    max_aliases: int = 30,
    max_tokens: int = 5000,
) -> strawberry.Schema:
    rules: list[type[ASTValidationRule]] = [depth_rule(max_depth), alias_rule(max_aliases)]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return ChatSchema(
        rules=rules,
        max_tokens=max_tokens,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=shared_event_executor(),
    )
