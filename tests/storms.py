"""Send storms for the failure tests: many senders, each send with its own
clientMessageId, and the checks that nothing acknowledged was lost or stored twice."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import websockets

from tests.clients import Http, connect
from tests.operations import CREATE_ROOM, SEND, SEND_ROOM
from tests.servers import Server
from tests.stored import DIRECT_PAGE, ROOM_PAGE, assert_whole_and_unique, whole_history


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

        self.ws_closed: list[int | None] = []  # close codes seen by WebSocket senders

    def operation(self, cid: str, room: bool) -> dict[str, Any]:
        if room:
            return {
                "query": SEND_ROOM,
                "variables": {"room": self.room_id, "content": cid, "cid": cid},
            }
        return {"query": SEND, "variables": {"to": self.receiver, "content": cid, "cid": cid}}

    async def send(self, client: httpx.AsyncClient, sender: str, cid: str, room: bool) -> None:
        token = self.server.token(sender)
        response = await client.post(
            "/graphql",
            json=self.operation(cid, room),
            headers={"Authorization": f"Bearer {token}"},
        )
        self.acknowledge(cid, response.json())

    def acknowledge(self, cid: str, body: dict[str, Any]) -> None:
        """Record a send's answer; UNAVAILABLE (refused while shutting down) is no answer."""
        if body.get("errors") and body["errors"][0]["extensions"]["code"] == "UNAVAILABLE":
            return
        assert "errors" not in body, body
        self.acknowledged[cid] = next(iter(body["data"].values()))

    async def until_acknowledged(self, count: int) -> None:
        for _ in range(1200):
            if len(self.acknowledged) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"only {len(self.acknowledged)} sends acknowledged")

    async def run_sender(self, sender: str) -> None:
        async with httpx.AsyncClient(base_url=self.server.http_url, timeout=30) as client:
            for n in itertools.count():
                cid, room = f"{sender}:{n}", n % 2 == 0
                self.attempted.append((sender, cid, room))
                try:
                    await self.send(client, sender, cid, room)
                except httpx.HTTPError:
                    return  # the server is gone

    async def run_ws_sender(self, sender: str) -> None:
        """The same over a graphql-transport-ws socket, until the server closes it."""
        socket = await connect(self.server.ws_url, self.server.token(sender))
        try:
            for n in itertools.count():
                cid, room = f"{sender}:{n}", n % 2 == 0
                self.attempted.append((sender, cid, room))
                op = await socket.subscribe(
                    self.operation(cid, room)["query"], self.operation(cid, room)["variables"]
                )
                message = await socket.receive_for(op, 30)
                if message["type"] == "next":
                    self.acknowledge(cid, message["payload"])
        except websockets.ConnectionClosed as closed:
            self.ws_closed.append(closed.rcvd.code if closed.rcvd else None)


async def storm_room(server: Server, senders: list[str], receiver: str) -> str:
    """Register everyone; a room of the senders and the receiver."""
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
        again_message = storm.acknowledged[cid]
        assert (again_message["id"], again_message["seq"]) == (message["id"], message["seq"])
