"""What the application holds for its lifetime: settings, services, schema, token authority."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from resolvers.errors import Unauthenticated
from resolvers.records import UserRecord
from resolvers.services import Services
from server.auth import Claims, TokenAuthority
from server.metrics import Metrics
from server.settings import Settings
from server.ws.expiries import TokenExpiries


class ConnectionRegistry:
    """The live WebSocket connections of this process, by user."""

    def __init__(self) -> None:
        self._by_user: dict[str, set[object]] = {}

    def add(self, user_id: str, connection: object) -> None:
        self._by_user.setdefault(user_id, set()).add(connection)

    def remove(self, user_id: str, connection: object) -> None:
        connections = self._by_user.get(user_id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._by_user[user_id]

    def count(self, user_id: str) -> int:
        return len(self._by_user.get(user_id, ()))

    def all(self) -> list[object]:
        return [connection for group in self._by_user.values() for connection in group]

    def __len__(self) -> int:
        return sum(len(group) for group in self._by_user.values())


@dataclass
class AppState:
    settings: Settings
    services: Services
    schema: strawberry.Schema
    authority: TokenAuthority
    connections: ConnectionRegistry = field(default_factory=ConnectionRegistry)
    token_expiries: TokenExpiries = field(default_factory=TokenExpiries)
    metrics: Metrics = field(default_factory=Metrics)
    draining: bool = False

    async def authenticate(self, token: str | None) -> tuple[UserRecord, Claims]:
        """The user a token names, created on first sight; UNAUTHENTICATED otherwise."""
        if token is None:
            raise Unauthenticated("A bearer token is required")
        claims = self.authority.verify(token)
        user = await self.services.users.ensure(claims.user_id, claims.name)
        return user, claims
