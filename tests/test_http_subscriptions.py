"""Subscriptions over plain HTTP: streamed as multipart/mixed, refused clearly otherwise."""

from __future__ import annotations

from typing import Any

import httpx

from tests.clients import Http
from tests.node import on_sqlite
from tests.operations import NEW_MESSAGE, SEND
from tests.servers import Server

MULTIPART = 'multipart/mixed;subscriptionSpec="1.0", application/json'


@on_sqlite
async def test_a_subscription_without_a_stream_is_a_bad_request(server: Server, uid: Any) -> None:
    token = server.token(uid("bob"), "Bob")
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        response = await client.post(
            "/graphql",
            json={"query": NEW_MESSAGE},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 400
    assert "multipart/mixed" in response.text


@on_sqlite
async def test_multipart_streams_a_subscription_and_answers_queries_as_json(
    server: Server, uid: Any
) -> None:
    alice_id, bob_id = uid("alice"), uid("bob")
    alice = Http(server.http_url, server.token(alice_id, "Alice"))
    bob_headers = {"Authorization": f"Bearer {server.token(bob_id, 'Bob')}", "Accept": MULTIPART}
    await Http(server.http_url, server.token(bob_id, "Bob")).data("{ me { id } }")
    first = (await alice.data(SEND, {"to": bob_id, "content": "first"}))["sendMessage"]
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as client:
        # A mutation with the multipart Accept header still gets one JSON answer.
        answer = await client.post(
            "/graphql",
            json={"query": SEND, "variables": {"to": alice_id, "content": "hi"}},
            headers=bob_headers,
        )
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["data"]["sendMessage"]["content"] == "hi"

        body = {"query": NEW_MESSAGE, "variables": {"after": first["cursor"]}}
        async with client.stream("POST", "/graphql", json=body, headers=bob_headers) as stream:
            assert stream.headers["content-type"].startswith("multipart/mixed")
            received = ""
            async for chunk in stream.aiter_text():
                received += chunk
                if '"content":"hi"' in received:
                    break
    assert '{"payload":{"data":{"newMessage":' in received
