"""The Strawberry schema: types, inputs, the three root types and the extensions."""

from __future__ import annotations

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription

_CACHE_SIZE = 1024


def build_schema(
    *,
    introspection: bool = True,
    max_depth: int = 10,
    max_aliases: int = 30,
    max_tokens: int = 5000,
) -> strawberry.Schema:
    extensions: list[object] = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        ParserCache(maxsize=_CACHE_SIZE),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        ValidationCache(maxsize=_CACHE_SIZE),
    ]
    if not introspection:
        extensions.append(AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(auto_camel_case=True),
    )
