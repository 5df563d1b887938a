"""Every limit from the settings refuses with its code, stores nothing, and spares others."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.clients import LEGACY_WS, TRANSPORT_WS, Http, Socket, connect
from tests.operations import CONVERSATIONS, HISTORY, NEW_MESSAGE, SEND
from tests.servers import Server

# strict_server (STRICT_LIMITS): 200 characters, 3 connections per user, 3 operations,
# 16 KiB frames and HTTP bodies.
MAX_CHARS = 200
HTTP_BODY_LIMIT = 16384


async def pair(server: Server, uid: Any) -> tuple[Http, Http, str, str]:
    ann, bob = uid("ann"), uid("bob")
    ann_http = Http(server.http_url, server.token(ann))
    bob_http = Http(server.http_url, server.token(bob))
    await ann_http.data("{ me { id } }")
    await bob_http.data("{ me { id } }")
    return ann_http, bob_http, ann, bob


async def test_content_over_the_limit_is_refused_and_nothing_is_stored(
    strict_server: Server, uid: Any
) -> None:
    ann_http, _, _, bob = await pair(strict_server, uid)
    code = await ann_http.error_code(SEND, {"to": bob, "content": "é" * (MAX_CHARS + 1)})
    assert code == "BAD_USER_INPUT"
    history = await ann_http.data(HISTORY, {"with": bob})
    assert history["messages"]["edges"] == []
    stored = await ann_http.data(SEND, {"to": bob, "content": "é" * MAX_CHARS})
    assert len(stored["sendMessage"]["content"]) == MAX_CHARS


@pytest.mark.parametrize("first", [-1, 201])
async def test_a_page_size_out_of_range_is_bad_user_input(
    strict_server: Server, uid: Any, first: int
) -> None:
    ann_http, _, _, bob = await pair(strict_server, uid)
    assert await ann_http.error_code(HISTORY, {"with": bob, "first": first}) == "BAD_USER_INPUT"


async def test_a_negative_list_size_is_bad_user_input(strict_server: Server, uid: Any) -> None:
    http = Http(strict_server.http_url, strict_server.token(uid("ann")))
    assert await http.error_code(CONVERSATIONS, {"first": -1}) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ('mutation { startTyping(input: {to: "a", roomId: "b"}) }', None),
        ("mutation { startTyping(input: {}) }", None),
        (
            "mutation($i: TypingInput!) { startTyping(input: $i) }",
            {"i": {"to": "a", "roomId": "b"}},
        ),
        ("mutation($i: TypingInput!) { startTyping(input: $i) }", {"i": {}}),
        ("mutation($i: TypingInput!) { startTyping(input: $i) }", {"i": {"to": None}}),
    ],
)
async def test_a_one_of_input_with_both_or_neither_is_bad_user_input(
    strict_server: Server, uid: Any, document: str, variables: dict[str, Any] | None
) -> None:
    http = Http(strict_server.http_url, strict_server.token(uid("ann")))
    assert await http.error_code(document, variables) == "BAD_USER_INPUT"


def nested(depth: int) -> str:
    """A document whose fields nest `depth` levels below the root field."""
    return "{ me " + "{ a " * depth + "}" * depth + " }"


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{index}: me {{ id }}" for index in range(count)) + " }"


# 16 aliases written, 32 executed: a fragment counts each time it is spread.
FRAGMENT_BOMB = "query { ...F ...F } fragment F on Query { " + aliased(16)[2:]


@pytest.mark.parametrize(
    "document",
    [
        nested(11),
        nested(1200),  # under the token limit, deeper than the parser goes
        aliased(31),
        FRAGMENT_BOMB,
        "{ me { id } }" + "\n#" * 5001,
        "{" + "me{id}" * 1300 + "}",
    ],
    ids=["depth", "parser-depth", "aliases", "fragment-aliases", "comment-tokens", "tokens"],
)
@pytest.mark.parametrize("transport", ["http", TRANSPORT_WS, LEGACY_WS])
async def test_documents_over_the_query_limits_are_limit_exceeded(
    strict_server: Server, uid: Any, document: str, transport: str
) -> None:
    server = strict_server
    token = server.token(uid("ann"))
    if transport == "http":
        assert await Http(server.http_url, token).error_code(document) == "LIMIT_EXCEEDED"
        return
    socket = await connect(server.ws_url, token, transport)
    op_id = await socket.subscribe(document)
    error = await socket.receive_for(op_id)
    assert error["type"] == "error", error
    payload = error["payload"]
    first = payload[0] if isinstance(payload, list) else payload
    assert first["extensions"]["code"] == "LIMIT_EXCEEDED"
    await socket.close()


@pytest.mark.parametrize("document", [nested(9), aliased(30)], ids=["depth", "aliases"])
async def test_documents_at_the_query_limits_are_not_refused_for_them(
    strict_server: Server, uid: Any, document: str
) -> None:
    http = Http(strict_server.http_url, strict_server.token(uid("ann")))
    body = await http.execute(document)
    codes = {error["extensions"]["code"] for error in body.get("errors", [])}
    assert "LIMIT_EXCEEDED" not in codes


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_operations_over_the_per_connection_limit_are_limit_exceeded(
    strict_server: Server, uid: Any, protocol: str
) -> None:
    ann_http, _, _, bob = await pair(strict_server, uid)
    socket = await connect(strict_server.ws_url, strict_server.token(bob), protocol)
    running = [await socket.subscribe(NEW_MESSAGE) for _ in range(3)]
    refused = await socket.subscribe(NEW_MESSAGE)
    error = await socket.receive_for(refused)
    payload = error["payload"]
    assert error["type"] == "error"
    assert (payload[0] if isinstance(payload, list) else payload)["extensions"]["code"] == (
        "LIMIT_EXCEEDED"
    )
    # The running ones are unharmed, and a slot freed is usable again.
    await ann_http.data(SEND, {"to": bob, "content": "hi"})
    for op_id in running:
        assert (await socket.next_data(op_id))["newMessage"]["content"] == "hi"
    await socket.stop(running[0])
    again = await socket.subscribe(NEW_MESSAGE)
    await ann_http.data(SEND, {"to": bob, "content": "again"})
    assert (await socket.next_data(again))["newMessage"]["content"] == "again"
    await socket.close()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_connections_over_the_per_user_limit_are_closed_4429(
    strict_server: Server, uid: Any, protocol: str
) -> None:
    token = strict_server.token(uid("ann"))
    sockets = [await connect(strict_server.ws_url, token, protocol) for _ in range(3)]
    extra = await Socket.connect(strict_server.ws_url, protocol)
    await extra.send({"type": "connection_init", "payload": {"authToken": token}})
    assert (await extra.closed())[0] == 4429
    await sockets.pop().close()
    for _ in range(50):  # the server notices the close a moment later
        replacement = await Socket.connect(strict_server.ws_url, protocol)
        reply = await replacement.init({"authToken": token})
        if reply["type"] == "connection_ack":
            break
        await asyncio.sleep(0.1)
    assert reply["type"] == "connection_ack"
    for socket in [*sockets, replacement]:
        await socket.close()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_frame_over_the_limit_closes_1009_and_others_are_served(
    strict_server: Server, uid: Any, protocol: str
) -> None:
    ann_http, _, _, bob = await pair(strict_server, uid)
    bystander = await connect(strict_server.ws_url, strict_server.token(bob), protocol)
    op_id = await bystander.subscribe(NEW_MESSAGE)
    socket = await connect(strict_server.ws_url, strict_server.token(uid("big")), protocol)
    query = "{ me { id } }" + " " * 20_000
    await socket.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    assert (await socket.closed())[0] == 1009
    await ann_http.data(SEND, {"to": bob, "content": "still here"})
    assert (await bystander.next_data(op_id))["newMessage"]["content"] == "still here"
    await bystander.close()


async def _chunks(body: bytes, size: int = 4096) -> Any:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_http_body_over_the_limit_is_refused_before_it_is_read(
    strict_server: Server, uid: Any, chunked: bool
) -> None:
    server = strict_server
    headers = {
        "Authorization": f"Bearer {server.token(uid('ann'))}",
        "Content-Type": "application/json",
    }
    query = "{ me { id } }"
    big = json.dumps({"query": query, "variables": {"padding": "x" * HTTP_BODY_LIMIT}}).encode()
    small = json.dumps({"query": query}).encode()
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as client:
        for body, status in ((big, 413), (small, 200)):
            content = _chunks(body) if chunked else body
            response = await client.post("/graphql", content=content, headers=headers)
            assert response.status_code == status, response.text
            if status == 413:
                assert response.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
            else:
                assert response.json()["data"]["me"]["id"] == uid("ann")
