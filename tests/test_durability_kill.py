"""SIGKILL during a send storm: no acknowledged message is lost, none is stored twice."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest

from tests.clients import Http
from tests.operations import CREATE_ROOM, SEND, SEND_ROOM
from tests.servers import Server, start_server
from tests.stored import DIRECT_PAGE, ROOM_PAGE, assert_whole_and_unique, whole_history

SENDERS = 8
KILL_AFTER = 100


class Storm:
    """Senders that each send, one at a time, alternately to a room and to one receiver,
    every send with its own clientMessageId, until their server goes away."""

    def __init__(self, server: Server, senders: list[str], receiver: str, room_id: str) -> None:
        self.server = server
        self.senders = senders
        self.receiver = receiver
        self.room_id = room_id
        self.attempted: list[tuple[str, str, bool]] = []  # sender, cid, to the room
        self.acknowledged: dict[str, dict[str, Any]] = {}  # cid -> the message returned

    async def send(self, client: httpx.AsyncClient, sender: str, cid: str, room: bool) -> None:
        query, variables = (
            (SEND_ROOM, {"room": self.room_id, "content": cid, "cid": cid})
            if room
            else (SEND, {"to": self.receiver, "content": cid, "cid": cid})
        )
        token = self.server.token(sender)
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        self.acknowledged[cid] = next(iter(body["data"].values()))

    async def run_sender(self, sender: str) -> None:
        async with httpx.AsyncClient(base_url=self.server.http_url, timeout=30) as client:
            for n in itertools.count():
                cid, room = f"{sender}:{n}", n % 2 == 0
                self.attempted.append((sender, cid, room))
                try:
                    await self.send(client, sender, cid, room)
                except httpx.HTTPError:
                    return  # the server is gone


async def _setup(server: Server, senders: list[str], receiver: str) -> str:
    for user in (*senders, receiver):
        await Http(server.http_url, server.token(user)).data("{ me { id } }")
    creator = Http(server.http_url, server.token(senders[0]))
    data = await creator.data(CREATE_ROOM, {"name": "storm", "ids": [*senders[1:], receiver]})
    room_id: str = data["createRoom"]["id"]
    return room_id


async def check_stored(server: Server, storm: Storm) -> None:
    """Each conversation whole and unique, holding every acknowledged send."""
    acknowledged = {cid: message["id"] for cid, message in storm.acknowledged.items()}
    receiver = Http(server.http_url, server.token(storm.receiver))
    room = await whole_history(receiver, ROOM_PAGE, {"room": storm.room_id})
    assert_whole_and_unique(room, {c: i for c, i in acknowledged.items() if _to_room(storm, c)})
    for sender in storm.senders:
        direct = await whole_history(receiver, DIRECT_PAGE, {"with": sender})
        expected = {
            c: i
            for c, i in acknowledged.items()
            if c.startswith(f"{sender}:") and not _to_room(storm, c)
        }
        assert_whole_and_unique(direct, expected)


def _to_room(storm: Storm, cid: str) -> bool:
    return int(cid.rsplit(":", 1)[1]) % 2 == 0


async def resend(server: Server, storm: Storm) -> None:
    """Each sender's sends cut off by the kill, and its last acknowledged one, again with
    their clientMessageId: the acknowledged one comes back as it was, the rest are stored
    now (or come back, when the kill struck after their commit)."""
    before = dict(storm.acknowledged)
    storm.server = server
    again = [send for send in storm.attempted if send[1] not in before]
    for sender in storm.senders:
        again.append(
            next(s for s in reversed(storm.attempted) if s[0] == sender and s[1] in before)
        )

    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as client:
        await asyncio.gather(*(storm.send(client, *send) for send in again))
    for cid, message in before.items():
        assert storm.acknowledged[cid] == message


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
        storm = Storm(server, senders, receiver, await _setup(server, senders, receiver))
        tasks = [asyncio.create_task(storm.run_sender(sender)) for sender in senders]
        for _ in range(600):
            if len(storm.acknowledged) >= KILL_AFTER:
                break
            await asyncio.sleep(0.05)
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
