"""GraphQL over HTTP (and GraphiQL) through Strawberry's ASGI view."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from graphql import GraphQLError
from resolvers.errors import ChatError
from schema.context import ChatContext
from schema.errors import format_error
from server.auth import bearer
from server.state import AppState


def result_payload(result: ExecutionResult) -> dict[str, Any]:
    """A result as sent to clients, with every error carrying its code."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [format_error(error) for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


class ChatGraphQL(GraphQL[ChatContext, None]):
    def __init__(self, state: AppState) -> None:
        super().__init__(
            state.schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            allowed_origins=state.settings.origins or (),
        )
        self.state = state

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ChatContext:
        token = bearer(request.headers.get("authorization"))
        services = self.state.services
        if token is None:
            return ChatContext(services, None)
        try:
            viewer, _ = await self.state.authenticate(token)
        except ChatError as error:
            return ChatContext(services, None, auth_error=error.message)
        return ChatContext(services, viewer)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return result_payload(result)  # type: ignore[return-value]


__all__ = ["ChatGraphQL", "GraphQLError", "result_payload"]
