"""Keep-alive: WebSocket pings from the server, and `ka` on the legacy protocol."""

from __future__ import annotations

import asyncio
import logging

from tests.clients import LEGACY_WS, TRANSPORT_WS, Socket, connect
from tests.servers import Server


class _Pings(logging.Handler):
    """Counts the pings a websockets connection logs receiving (at DEBUG level)."""

    def __init__(self, wanted: int) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.wanted = wanted
        self.enough = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("< PING"):
            self.count += 1
            if self.count >= self.wanted:
                self.enough.set()


async def test_the_server_pings_idle_sockets(tight_server: Server, uid) -> None:
    pings = _Pings(wanted=1)
    logger = logging.getLogger(f"tests.ws.{uid('pings')}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(pings)
    socket = await Socket.connect(tight_server.ws_url, TRANSPORT_WS, logger=logger)
    ack = await socket.init({"authToken": tight_server.token(uid("alice"))})
    assert ack["type"] == "connection_ack"
    await asyncio.wait_for(pings.enough.wait(), 15)
    await socket.close()


async def test_legacy_keep_alive_messages_arrive(tight_server: Server, uid) -> None:
    socket = await connect(tight_server.ws_url, tight_server.token(uid("alice")), LEGACY_WS)
    # The first `ka` follows the ack at once; the next comes an interval later.
    kinds = []
    async with asyncio.timeout(15):
        while kinds.count("ka") < 2:
            kinds.append((await socket.receive_raw())["type"])
    assert set(kinds) == {"ka"}
    await socket.close()
