"""Authentication: tokens over HTTP, every connection_init form, 4403, expiry on a live socket."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt

from tests.actions import as_user
from tests.clients import LEGACY_WS, TRANSPORT_WS, Http, Socket, connect
from tests.servers import Server

ME = "{ me { id name } }"


def init_forms(token: str) -> list[dict[str, Any]]:
    """Every connection_init payload API.md allows, in several spellings."""
    return [
        {"authToken": token},
        {"token": token},
        {"Authorization": f"Bearer {token}"},
        {"headers": {"Authorization": f"Bearer {token}"}},
        {"AUTHTOKEN": token},
        {"Token": f"Bearer {token}"},
        {"authorization": token},
        {"HEADERS": {"authorization": f"bearer {token}"}},
        {"headers": {"AUTHORIZATION": token}},
    ]


def forged(user_id: str) -> str:
    return jwt.encode({"sub": user_id, "exp": int(time.time()) + 60}, "another-secret-" + "y" * 32)


def unsigned(user_id: str) -> str:
    return jwt.encode({"sub": user_id}, None, algorithm="none")


def without_subject(server: Server) -> str:
    assert server.secret is not None
    return jwt.encode({"name": "Nobody", "exp": int(time.time()) + 60}, server.secret)


async def query_over(socket: Socket, query: str) -> dict[str, Any]:
    op = await socket.subscribe(query)
    data = await socket.next_data(op)
    assert (await socket.receive_for(op))["type"] == "complete"
    return data


async def test_every_connection_init_form_authenticates(server: Server, uid) -> None:
    alice = uid("alice")
    # Both subprotocols read the payload alike: each form goes over one, in turn.
    for index, payload in enumerate(init_forms(server.token(alice, "Alice"))):
        socket = await Socket.connect(server.ws_url, (TRANSPORT_WS, LEGACY_WS)[index % 2])
        ack = await socket.init(payload)
        assert ack["type"] == "connection_ack", (payload, ack)
        assert (await query_over(socket, ME))["me"] == {"id": alice, "name": "Alice"}, payload
        await socket.close()


def rejected_payloads(server: Server, user_id: str) -> list[dict[str, Any] | None]:
    return [
        None,
        {},
        {"authToken": ""},
        {"authToken": "not-a-jwt"},
        {"authToken": forged(user_id)},
        {"authToken": unsigned(user_id)},
        {"token": without_subject(server)},
        {"Authorization": "Bearer " + server.token(user_id, ttl=-10)},
        {"headers": {"Authorization": "Basic dXNlcjpwYXNz"}},
    ]


async def test_missing_bad_or_expired_tokens_close_with_4403(server: Server, uid) -> None:
    for payload in rejected_payloads(server, uid("alice")):
        socket = await Socket.connect(server.ws_url, TRANSPORT_WS)
        await socket.send({"type": "connection_init", "payload": payload})
        # An operation sent at once must not run before the refusal.
        await socket.send({"id": "1", "type": "subscribe", "payload": {"query": ME}})
        code, _ = await socket.closed()
        assert code == 4403, payload
        assert socket.pending == [], payload


async def test_legacy_refusal_is_connection_error_then_close(server: Server, uid) -> None:
    for payload in rejected_payloads(server, uid("alice")):
        socket = await Socket.connect(server.ws_url, LEGACY_WS)
        answer = await socket.init(payload)
        assert answer["type"] == "connection_error", (payload, answer)
        assert answer["payload"]["message"]
        code, _ = await socket.closed()
        assert code == 4403, payload


async def test_a_token_that_expires_on_a_live_socket_closes_it(server: Server, uid) -> None:
    alice = uid("alice")
    token = server.token(alice, "Alice", ttl=2)
    sockets = [
        await connect(server.ws_url, token, protocol) for protocol in (TRANSPORT_WS, LEGACY_WS)
    ]
    started = time.monotonic()
    codes = await asyncio.gather(*(socket.closed(timeout=15) for socket in sockets))
    assert [code for code, _ in codes] == [4403, 4403]
    assert time.monotonic() - started > 0.5  # closed because it expired, not at once


async def test_http_refuses_missing_bad_and_expired_tokens(server: Server, uid) -> None:
    alice = uid("alice")
    tokens = [
        None,
        "not-a-jwt",
        forged(alice),
        unsigned(alice),
        without_subject(server),
        server.token(alice, ttl=-10),
    ]
    for token in tokens:
        assert await Http(server.http_url, token).error_code(ME) == "UNAUTHENTICATED", token
    body = await Http(server.http_url, "not-a-jwt").execute(ME)
    assert body["data"] is None


async def test_introspection_needs_no_token(server: Server) -> None:
    data = await Http(server.http_url).data(
        '{ __schema { queryType { name } } __type(name: "Message") { fields { name } } }'
    )
    assert data["__schema"]["queryType"]["name"] == "Query"
    assert "cursor" in {field["name"] for field in data["__type"]["fields"]}


async def test_a_new_name_in_the_token_renames_the_user(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    assert (await as_user(server, alice).data(ME))["me"]["name"] == "Alice"
    renamed = Http(server.http_url, server.token(alice, "Alicia"))
    assert (await renamed.data(ME))["me"] == {"id": alice, "name": "Alicia"}
    seen = await as_user(server, bob).data(
        "query($id: ID!) { user(id: $id) { name } }", {"id": alice}
    )
    assert seen["user"]["name"] == "Alicia"
    socket = await connect(server.ws_url, server.token(alice, "Ally"))
    assert (await query_over(socket, ME))["me"]["name"] == "Ally"
    await socket.close()


async def test_a_subject_that_cannot_name_a_user_is_refused(server: Server) -> None:
    for subject in ("nul\x00inside", "bell\x07", "x" * 129):
        token = server.token(subject)
        assert await Http(server.http_url, token).error_code(ME) == "UNAUTHENTICATED"
        socket = await Socket.connect(server.ws_url, TRANSPORT_WS)
        await socket.send({"type": "connection_init", "payload": {"authToken": token}})
        assert (await socket.closed())[0] == 4403, subject


async def test_control_characters_are_dropped_from_names(server: Server, uid) -> None:
    alice = uid("alice")
    http = Http(server.http_url, server.token(alice, "Ali\x00ce\x07"))
    assert (await http.data(ME))["me"] == {"id": alice, "name": "Alice"}
