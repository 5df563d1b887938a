"""A client that stops reading is cut off; the server's memory stays flat; others go on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import websockets

from tests.clients import Http, Socket, connect
from tests.operations import CREATE_ROOM, NEW_MESSAGE, PRESENCE, SEND_ROOM
from tests.servers import Server, start_server
from tests.stored import rss_bytes

BUFFER = 256 * 1024
CONTENT_CHARS = 32_000
FLOOD = 300  # 300 x 32 KB: ~10 MB towards each stalled reader
CLOSE_TIMEOUT = 10


@pytest.fixture
def flood_server(database_factory: Any) -> Any:
    server = start_server(
        database_factory("sqlite"),
        OUTBOUND_BUFFER_BYTES=str(BUFFER),
        MAX_MESSAGE_CHARS=str(CONTENT_CHARS),
        WS_CLOSE_TIMEOUT=str(CLOSE_TIMEOUT),
    )
    yield server
    server.stop()


async def stalled_reader(server: Server, user: str) -> Socket:
    """Subscribed to its messages, and then reading nothing (no pings either: those would
    need reading too)."""
    socket = await Socket.connect(server.ws_url, ping_interval=None, max_queue=1)
    ack = await socket.init({"authToken": server.token(user)})
    assert ack["type"] == "connection_ack"
    await socket.subscribe(NEW_MESSAGE)
    return socket


async def flood(server: Server, sender: str, room_id: str, count: int, start: int) -> None:
    headers = {"Authorization": f"Bearer {server.token(sender)}"}
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as client:

        async def send(n: int) -> None:
            content = f"{n:06d}" + "x" * (CONTENT_CHARS - 6)
            variables = {"room": room_id, "content": content, "cid": str(n)}
            response = await client.post(
                "/graphql", json={"query": SEND_ROOM, "variables": variables}, headers=headers
            )
            assert "errors" not in response.json()

        for n in range(start, start + count, 4):
            await asyncio.gather(*(send(k) for k in range(n, min(n + 4, start + count))))


async def read_all(socket: Socket, op: str, count: int) -> list[int]:
    """The seqs of the next `count` messages on a reading socket."""
    return [(await socket.next_data(op, 60))["newMessage"]["seq"] for _ in range(count)]


async def until_presence(socket: Socket, op: str, users: set[str], *, online: bool) -> None:
    """Wait until each of these users has been announced online (or offline)."""
    while users:
        event = (await socket.next_data(op, 120))["presence"]
        if event["online"] is online:
            users.discard(event["userId"])


async def drain_to_close(socket: Socket) -> tuple[int, int | None]:
    """Read what the server still sent; how many frames, and the close code (None when the
    server cut the connection off without a close frame)."""
    frames = 0
    try:
        async with asyncio.timeout(60):
            while True:
                await socket.ws.recv()
                frames += 1
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


async def test_a_stalled_reader_is_cut_off_without_growing_memory(
    flood_server: Server, uid: Any
) -> None:
    server = flood_server
    sender, healthy, resumer, lost = (
        uid(name) for name in ("sender", "healthy", "resumer", "lost")
    )
    for user in (sender, healthy, resumer, lost):
        await Http(server.http_url, server.token(user)).data("{ me { id } }")
    room = await Http(server.http_url, server.token(sender)).data(
        CREATE_ROOM, {"name": "flood", "ids": [healthy, resumer, lost]}
    )
    room_id = room["createRoom"]["id"]

    reader = await connect(server.ws_url, server.token(healthy))
    reading = await reader.subscribe(NEW_MESSAGE)
    watcher = await connect(server.ws_url, server.token(sender))
    watching = await watcher.subscribe(PRESENCE, {"ids": [resumer, lost]})
    await asyncio.sleep(0.3)
    # A flood with only a reader that reads: what memory the flood itself costs (the
    # server keeps recent events, encoded, for its subscribers to share).
    before = rss_bytes(server.process.pid)
    await asyncio.gather(flood(server, sender, room_id, FLOOD, 0), read_all(reader, reading, FLOOD))
    flood_cost = rss_bytes(server.process.pid) - before

    stalled = {
        resumer: await stalled_reader(server, resumer),
        lost: await stalled_reader(server, lost),
    }
    await until_presence(watcher, watching, {resumer, lost}, online=True)
    baseline = rss_bytes(server.process.pid)
    received = asyncio.create_task(read_all(reader, reading, FLOOD))
    flooding = asyncio.create_task(flood(server, sender, room_id, FLOOD, FLOOD))
    # Both stalled readers are dropped (announced offline) while the flood goes on.
    await until_presence(watcher, watching, {resumer, lost}, online=False)
    dropped_at = asyncio.get_running_loop().time()
    # The one that reads again gets what was already on its way, then 1013.
    frames, code = await drain_to_close(stalled[resumer])
    assert code == 1013
    await flooding
    # The reader that kept reading got everything, in order.
    assert await received == list(range(FLOOD + 1, 2 * FLOOD + 1))
    # The same flood with two stalled readers costs no more: keeping their frames would
    # add twice FLOOD * CONTENT_CHARS.
    extra = rss_bytes(server.process.pid) - baseline - flood_cost
    assert extra < FLOOD * CONTENT_CHARS, f"{extra} bytes more than the flood alone"

    # The one that never reads again is cut off after the close timeout: the socket ends
    # without a close frame, and what it still gets is a small part of the flood.
    await asyncio.sleep(
        max(0.0, dropped_at + CLOSE_TIMEOUT + 2 - asyncio.get_running_loop().time())
    )
    lost_frames, lost_code = await drain_to_close(stalled[lost])
    assert lost_code is None
    assert frames < FLOOD // 2 and lost_frames < FLOOD // 2
    await reader.close()
    await watcher.close()
