"""SIGKILL during a send storm: no acknowledged message is lost, none is stored twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.servers import start_server
from tests.storms import Storm, check_stored, resend, storm_room

SENDERS = 8
KILL_AFTER = 100


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, database_factory: Any) -> str:
    """A fresh database of each backend, for a server of this test's own."""
    url: str = database_factory(request.param)
    return url


async def test_sigkill_mid_storm_loses_no_acknowledged_message(database_url: str, uid: Any) -> None:
    server = start_server(database_url)
    senders = [uid(f"sender{i}") for i in range(SENDERS)]
    receiver = uid("receiver")
    try:
        storm = Storm(server, senders, receiver, await storm_room(server, senders, receiver))
        tasks = [asyncio.create_task(storm.run_sender(sender)) for sender in senders]
        await storm.until_acknowledged(KILL_AFTER)
        server.process.kill()
        server.process.wait()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    finally:
        server.stop()
    assert len(storm.acknowledged) >= KILL_AFTER
    assert len(storm.attempted) > len(storm.acknowledged)  # sends were cut off mid-way

    restarted = start_server(database_url)
    try:
        await check_stored(restarted, storm)
        await resend(restarted, storm)
        assert len(storm.acknowledged) == len(storm.attempted)
        await check_stored(restarted, storm)
    finally:
        restarted.stop()
