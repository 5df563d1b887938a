"""The Strawberry schema: types, inputs, the three root types and the extensions."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.fanout import shared_event_executor
from schema.limits import LimitedParser, alias_rule, depth_rule
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

_CACHE_SIZE = 1024  # validation results of this many distinct documents


class ChatSchema(strawberry.Schema):
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
    extensions: list[object] = [
        lambda: LimitedParser(max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=_CACHE_SIZE),  # the cache itself is shared
    ]
    return ChatSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=shared_event_executor(),
    )
