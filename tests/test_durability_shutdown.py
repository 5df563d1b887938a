"""SIGTERM during a send storm: sends in flight answer, sockets close with 1001, nothing
acknowledged is lost, and the users of the closed sockets are announced offline."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from typing import Any

import websockets

from tests.clients import Http, connect
from tests.operations import NEW_MESSAGE
from tests.servers import start_server
from tests.storms import Storm, check_stored, resend, storm_room

TERM_AFTER = 60


async def test_sigterm_drains_sends_and_closes_sockets_with_1001(
    database_factory: Any, uid: Any
) -> None:
    database_url = database_factory("sqlite")
    server = start_server(database_url)
    http_senders = [uid(f"http{i}") for i in range(3)]
    ws_senders = [uid(f"ws{i}") for i in range(3)]
    receiver = uid("receiver")
    try:
        room_id = await storm_room(server, [*http_senders, *ws_senders], receiver)
        storm = Storm(server, [*http_senders, *ws_senders], receiver, room_id)
        listener = await connect(server.ws_url, server.token(receiver))
        await listener.subscribe(NEW_MESSAGE)
        tasks = [
            *(asyncio.create_task(storm.run_sender(sender)) for sender in http_senders),
            *(asyncio.create_task(storm.run_ws_sender(sender)) for sender in ws_senders),
        ]
        await storm.until_acknowledged(TERM_AFTER)
        terminated_at = datetime.now(UTC)
        server.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        try:
            async with asyncio.timeout(30):
                while True:
                    await listener.ws.recv()
        except websockets.ConnectionClosed as closed:
            listener_code = closed.rcvd.code if closed.rcvd else None
        await asyncio.to_thread(server.process.wait, 60)
    finally:
        server.stop()
    assert storm.ws_closed == [1001] * len(ws_senders)
    assert listener_code == 1001

    restarted = start_server(database_url)
    try:
        await check_stored(restarted, storm)
        await resend(restarted, storm)
        await check_stored(restarted, storm)
        # The receiver was announced offline as its socket closed.
        me = await Http(restarted.http_url, restarted.token(receiver)).data(
            "{ me { online lastSeenAt } }"
        )
        assert datetime.fromisoformat(me["me"]["lastSeenAt"]) >= terminated_at
    finally:
        restarted.stop()
