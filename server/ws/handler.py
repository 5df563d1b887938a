"""What both subprotocol handlers share: the connection, the init deadline, serving."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from server.ws import closecodes
from server.ws.connection import Connection, ProtocolError


class ProtocolHandler(ABC):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.acknowledged = False
        self.init_received = False
        self._init_deadline: asyncio.TimerHandle | None = None

    async def serve(self) -> None:
        connection = self.connection
        self._init_deadline = connection.call_later(
            connection.settings.connection_init_timeout, self._init_timeout
        )
        await connection.run(self._receive_loop)

    def _take_init(self) -> None:
        """Accept the socket's one `connection_init`: its deadline is met."""
        if self.init_received:
            raise ProtocolError(closecodes.TOO_MANY_INIT, "Too many initialisation requests")
        self.init_received = True
        if self._init_deadline is not None:
            self._init_deadline.cancel()

    def _init_timeout(self) -> None:
        if not self.init_received:
            self.connection.close_soon(closecodes.INIT_TIMEOUT, "Connection initialisation timeout")

    @abstractmethod
    async def _receive_loop(self) -> None:
        """Read and answer frames until the socket closes."""
