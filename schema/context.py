"""What every resolver gets: the services, the viewer, and this operation's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers.errors import Unauthenticated
from resolvers.records import UserRecord
from resolvers.services import Services
from schema.loaders import Loaders


@dataclass(slots=True)
class ChatContext:
    services: Services
    viewer: UserRecord | None
    auth_error: str | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)
    # Subscription events may be executed once for every subscriber that shares them
    # (schema/fanout.py); set by transports that encode results with orjson.
    shared_results: bool = False
    # Made on first use: a subscription lives long and most of its events, or all of
    # them, resolve no nested field.
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.viewer.id if self.viewer else None)
        return self._loaders

    def refresh_loaders(self) -> None:
        """Forget what the loaders cached: each subscription event sees current state."""
        self._loaders = None

    def require_viewer(self) -> UserRecord:
        if self.viewer is None:
            raise Unauthenticated(self.auth_error or "A bearer token is required")
        return self.viewer

    def for_operation(self) -> ChatContext:
        """A copy with fresh loaders: loaders must not outlive one operation or event."""
        return ChatContext(
            self.services,
            self.viewer,
            self.auth_error,
            self.connection_params,
            self.shared_results,
        )
