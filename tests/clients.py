"""Real clients: GraphQL over HTTP with httpx, and both WebSocket subprotocols."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


class Http:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def client(self) -> httpx.AsyncClient:
        # The servers speak plain HTTP: no TLS context, which costs ~0.1 s of CPU to build.
        return httpx.AsyncClient(base_url=self.base_url, timeout=30, verify=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.client() as client:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers=self.headers(),
            )
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a result that must have no errors."""
        body = await self.execute(query, variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def error_code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        body = await self.execute(query, variables)
        assert body.get("errors"), body
        code: str = body["errors"][0]["extensions"]["code"]
        return code

    async def get(self, path: str, **params: str) -> httpx.Response:
        async with self.client() as client:
            return await client.get(path, params=params, headers=self.headers())


class Socket:
    """A GraphQL WebSocket client speaking either subprotocol."""

    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self._ids = 0
        self.pending: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, url: str, protocol: str = TRANSPORT_WS, **kwargs: Any) -> Socket:
        ws = await websockets.connect(url, subprotocols=[protocol], max_size=None, **kwargs)  # type: ignore[list-item]
        return cls(ws, protocol)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        return await self.receive(kinds={"connection_ack", "connection_error"})

    async def receive_raw(self, timeout: float = 10) -> dict[str, Any]:
        """The next message as it came, keep-alives included."""
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return message

    async def receive(self, timeout: float = 10, kinds: set[str] | None = None) -> dict[str, Any]:
        """The next message (of the given kinds; keep-alives are skipped)."""
        for index, message in enumerate(self.pending):
            if kinds is None or message["type"] in kinds:
                return self.pending.pop(index)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no message of {kinds} within {timeout} s")
            raw = await asyncio.wait_for(self.ws.recv(), remaining)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ka":
                continue
            if kinds is None or message["type"] in kinds:
                return message
            self.pending.append(message)

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, op_id: str | None = None
    ) -> str:
        self._ids += 1
        op_id = op_id or str(self._ids)
        payload = {"query": query, "variables": variables or {}}
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send({"id": op_id, "type": kind, "payload": payload})
        return op_id

    async def stop(self, op_id: str) -> None:
        kind = "complete" if self.protocol == TRANSPORT_WS else "stop"
        await self.send({"id": op_id, "type": kind})

    @property
    def data_kind(self) -> str:
        return "next" if self.protocol == TRANSPORT_WS else "data"

    async def next(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        """The next result payload of an operation; fails on error or complete."""
        message = await self.receive_for(op_id, timeout)
        assert message["type"] == self.data_kind, message
        payload: dict[str, Any] = message["payload"]
        return payload

    async def next_data(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        payload = await self.next(op_id, timeout)
        assert not payload.get("errors"), payload
        data: dict[str, Any] = payload["data"]
        return data

    async def receive_for(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        for index, message in enumerate(self.pending):
            if message.get("id") == op_id:
                return self.pending.pop(index)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"nothing for operation {op_id} within {timeout} s")
            raw = await asyncio.wait_for(self.ws.recv(), remaining)
            message: dict[str, Any] = json.loads(raw)
            if message.get("id") == op_id:
                return message
            if message["type"] != "ka":
                self.pending.append(message)

    async def expect_nothing(self, op_id: str, wait: float = 0.5) -> None:
        """Assert that no message for the operation arrives within `wait` seconds."""
        try:
            message = await self.receive_for(op_id, wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message}")

    async def closed(self, timeout: float = 10) -> tuple[int | None, str | None]:
        """Wait for the server to close the socket; its close code and reason. What arrives
        meanwhile is kept in `pending`."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self.pending.append(json.loads(await self.ws.recv()))
        except websockets.ConnectionClosed as closed:
            if closed.rcvd is None:
                return None, None
            return closed.rcvd.code, closed.rcvd.reason
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self.ws.close()


async def connect(
    server_ws_url: str, token: str, protocol: str = TRANSPORT_WS, **payload: Any
) -> Socket:
    """A socket that has completed connection_init with this token."""
    socket = await Socket.connect(server_ws_url, protocol)
    ack = await socket.init({"authToken": token, **payload})
    assert ack["type"] == "connection_ack", ack
    return socket
