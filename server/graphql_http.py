"""GraphQL over HTTP (and GraphiQL) through Strawberry's ASGI view."""

from __future__ import annotations

from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.streaming import (
    MULTIPART_SUBSCRIPTION_BOUNDARY,
    MultipartSubscriptionTransport,
)
from strawberry.subscriptions import MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionResult

from resolvers.errors import ChatError
from schema.context import ChatContext
from schema.errors import format_error, request_error_code
from server import logs
from server.auth import bearer
from server.pages import GRAPHIQL_PAGE
from server.state import AppState


def result_payload(result: ExecutionResult) -> dict[str, Any]:
    """A result as sent to clients, with every error carrying its code."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [format_error(error) for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


class MultipartSubscriptions(MultipartSubscriptionTransport):
    """Multipart subscriptions for Apollo Client and for urql's `fetchSubscriptions`.

    Apollo asks for `multipart/mixed;subscriptionSpec=1.0`; urql lists plain
    `multipart/mixed` among other types (for queries and mutations too), and reads the
    same framing. `ChatGraphQL.parse_http_body` streams only subscriptions.
    """

    def accepts(self, accept: str) -> bool:
        for media_range in accept.split(","):
            if not media_range.strip():
                continue
            media_type, params = parse_content_type(media_range)
            boundary = params.get("boundary", MULTIPART_SUBSCRIPTION_BOUNDARY).strip("'\"")
            if media_type == "multipart/mixed" and boundary == MULTIPART_SUBSCRIPTION_BOUNDARY:
                return True
        return False


def _is_subscription(data: GraphQLRequestData, max_tokens: int) -> bool:
    try:
        document = parse(data.query or "", max_tokens=max_tokens)
        operation = get_operation_ast(document, data.operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


class ChatGraphQL(GraphQL[ChatContext, None]):
    stream_transport_classes_by_protocol = {MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptions}

    def __init__(self, state: AppState) -> None:
        super().__init__(
            state.schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            allowed_origins=state.settings.origins or (),
            # WebSockets are served by server/ws; HTTP streams subscriptions as multipart
            # for networks that block WebSockets.
            subscription_protocols=(MULTIPART_SUBSCRIPTION_PROTOCOL,),
        )
        self.state = state
        self.graphiql_page = GRAPHIQL_PAGE.read_text()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as refusal:
            # Strawberry answers a request it cannot run in plain text; clients expect JSON.
            error = {"message": refusal.reason, "extensions": {"code": request_error_code(refusal)}}
            response = JSONResponse({"errors": [error]}, status_code=refusal.status_code)
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's own page loads React and GraphiQL from a CDN; ours serves them.
        return HTMLResponse(self.graphiql_page)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if not isinstance(data, GraphQLRequestData):
            return data
        subscription = "subscription" in (data.query or "") and _is_subscription(
            data, self.state.settings.max_tokens
        )
        if data.protocol == MULTIPART_SUBSCRIPTION_PROTOCOL and not subscription:
            # A query or mutation from a client that also accepts multipart: plain JSON.
            data.protocol = "http"
        elif data.protocol == "http" and subscription:
            raise HTTPException(
                400,
                "A subscription needs a WebSocket, or Accept: multipart/mixed "
                'with subscriptionSpec="1.0"',
            )
        return data

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ChatContext:
        logs.operation_id.set(logs.new_id())
        token = bearer(request.headers.get("authorization"))
        services = self.state.services
        if token is None:
            return ChatContext(services, None)
        try:
            viewer, _ = await self.state.authenticate(token)
        except ChatError as error:
            return ChatContext(services, None, auth_error=error.message)
        logs.user_id.set(viewer.id)
        return ChatContext(services, viewer)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return result_payload(result)  # type: ignore[return-value]


__all__ = ["ChatGraphQL", "GraphQLError", "result_payload"]
