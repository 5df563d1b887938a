"""The application factory: one `create_app(settings)`, nothing connected at import time."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from tortoise.contrib.starlette import RegisterTortoise

from models.db import migrate, tortoise_config
from resolvers.services import build_services, running
from schema import build_schema
from server import http_routes, pages
from server.auth import TokenAuthority, load_secret
from server.body_limit import BodyLimit
from server.collector import tune_after_start_up
from server.graphql_http import ChatGraphQL
from server.metrics import Metrics, metrics_endpoint
from server.settings import Settings
from server.shutdown import drain, drain_on_signals
from server.state import AppState
from server.ws.endpoint import serve_websocket
from server.ws.transport import keep_transport

log = logging.getLogger("chat.app")


class _LateASGI:
    """An ASGI app whose target is made in the lifespan, once the services exist."""

    app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the lifespan has not started"
        await self.app(scope, receive, send)


class ChatApp(Starlette):
    """Starlette, except that the GraphQL WebSocket is served straight from here: the
    frames of Starlette's middleware and routing would otherwise stay alive for as long as
    each socket (~5 KiB apiece), for nothing a WebSocket uses."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/graphql":
            scope["app"] = self
            keep_transport(scope, send)
            await serve_websocket(WebSocket(scope, receive, send), self.state.chat)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    schema = build_schema(
        introspection=settings.introspection,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
    )
    graphql_http = _LateASGI()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await migrate(settings.database_url, settings.db_pool_size)
        config = tortoise_config(settings.database_url, settings.db_pool_size)
        async with RegisterTortoise(app, config=config):
            metrics = Metrics()
            services = build_services(settings, telemetry=metrics)
            secret = await load_secret(settings.jwt_secret)
            state = AppState(settings, services, schema, TokenAuthority(secret), metrics=metrics)
            app.state.chat = state
            metrics.count_queries()
            metrics.watch(lambda: len(state.connections), lambda: services.writer.backlog)
            metrics.watch_broker(services.broker)
            graphql_http.app = ChatGraphQL(state)
            async with running(services):
                tune_after_start_up()
                with drain_on_signals(lambda: drain(state)):
                    log.info("chat server ready")
                    yield

    app = ChatApp(
        routes=[
            Route("/graphql", graphql_http, methods=["GET", "POST"]),
            Route("/messages", http_routes.history),
            Route("/healthz", http_routes.healthz),
            Route("/readyz", http_routes.readyz),
            Route("/metrics", metrics_endpoint),
            Route("/demo", pages.demo),
            Mount("/static", pages.static_files(), name="static"),
        ],
        middleware=[Middleware(BodyLimit, limit=settings.max_http_body_bytes)],
        lifespan=lifespan,
    )
    return app
