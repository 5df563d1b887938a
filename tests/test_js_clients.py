"""The JavaScript clients our users build on, from npm, against a live server.

The server under test is the shared SQLite one: these tests are about the transports and
the clients, which do not depend on the database backend.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.node import chat_settings, events_of, on_sqlite, run_check
from tests.servers import Server


def contents(messages: list[dict[str, Any]]) -> list[str]:
    return [message["content"] for message in messages]


@on_sqlite
@pytest.mark.parametrize(
    ("script", "content"),
    [
        ("graphql-ws.mjs", "hello over graphql-ws"),
        ("urql.mjs", "hello over urql"),
        ("legacy.mjs", "hello over subscriptions-transport-ws"),
    ],
)
def test_a_websocket_client_receives_a_message_sent_by_a_mutation(
    server: Server, uid: Any, script: str, content: str
) -> None:
    settings = chat_settings(server, uid)
    [received] = events_of(run_check(script, settings), "received")
    # The subscription starts after Alice's first message, so the only message is the new one.
    [message] = received["messages"]
    assert message["id"] == received["sentId"]
    assert message["content"] == content
    assert message["senderId"] == settings["users"]["alice"]
    assert message["receiverId"] == settings["users"]["bob"]
    assert message["seq"] == 2


@on_sqlite
def test_apollo_reconnects_with_a_fresh_token_after_4403_and_resumes(
    server: Server, uid: Any
) -> None:
    # The check mints Bob's first token (3 s) as it connects, with the test secret.
    settings = chat_settings(server, uid, secret=server.secret)
    events = run_check("apollo.mjs", settings)
    before, after = events_of(events, "received")
    assert before["messages"] == ["before expiry"]
    assert (before["connections"], before["closeCodes"]) == (1, [])
    [closed] = events_of(events, "closed")
    assert closed["codes"] == [4403]
    # Reconnected once with the fresh token; the message sent meanwhile arrives once.
    assert after["messages"] == ["before expiry", "after reconnect"]
    assert after["connections"] == 2
    assert after["closeCodes"] == [4403]
    assert events_of(events, "query") == [{"event": "query", "me": settings["users"]["bob"]}]


@on_sqlite
def test_apollo_and_urql_subscribe_over_multipart_http_with_the_same_auth(
    server: Server, uid: Any
) -> None:
    events = run_check("multipart.mjs", chat_settings(server, uid))
    received = {event["client"]: event for event in events_of(events, "received")}
    assert set(received) == {"apollo", "urql"}
    for client, event in received.items():
        [message] = event["messages"]
        assert message["id"] == event["sentId"]
        assert message["content"] == f"hello over multipart to {client}"
    refused = {event["client"]: event for event in events_of(events, "refused")}
    assert refused["apollo"]["codes"] == ["UNAUTHENTICATED"]
    assert refused["urql"]["codes"] == ["UNAUTHENTICATED"]
