"""What the people who run the server see: /metrics, JSON logs with ids, /readyz detail."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.actions import eventually
from tests.clients import Http, connect
from tests.operations import NEW_MESSAGE, SEND, TYPING
from tests.servers import Server, start_server


@pytest.fixture(scope="module")
def observed(database_factory: Any) -> Iterator[Server]:
    """A server of its own: JSON logs at INFO, and a send rate low enough to hit."""
    make = database_factory
    assert callable(make)
    instance = start_server(
        make("sqlite"), log_format="json", log_level="info", send_rate="0.01", send_burst="2"
    )
    yield instance
    instance.stop()


def samples(server: Server) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"{server.http_url}/metrics").text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(server: Server, name: str, **labels: str) -> float:
    return samples(server).get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_what_happened(observed: Server, uid: Any) -> None:
    alice_id, bob_id = uid("alice"), uid("bob")
    alice = Http(observed.http_url, observed.token(alice_id, "Alice"))
    bob_socket = await connect(observed.ws_url, observed.token(bob_id, "Bob"))
    try:
        messages = await bob_socket.subscribe(NEW_MESSAGE)
        await bob_socket.subscribe(TYPING)
        await eventually(lambda: _assert_subscribed(observed, "newMessage"))
        assert value(observed, "chat_subscriptions", kind="typing") == 1
        assert value(observed, "chat_connections") == 1

        for content in ("one", "two"):
            await alice.data(SEND, {"to": bob_id, "content": content})
            data = await bob_socket.next_data(messages)
            assert data["newMessage"]["content"] == content
        # The burst is 2: the third send is refused and counted.
        assert await alice.error_code(SEND, {"to": bob_id, "content": "three"}) == "RATE_LIMITED"

        metrics = samples(observed)
        assert metrics[("chat_messages_stored_total", frozenset())] == 2
        assert metrics[("chat_deliveries_total", frozenset())] == 2
        assert metrics[("chat_delivery_latency_seconds_count", frozenset())] == 2
        assert metrics[("chat_db_commit_seconds_count", frozenset())] >= 1
        assert metrics[("chat_broker_lag_seconds_count", frozenset())] >= 2
        assert metrics[("chat_rate_limited_total", frozenset({("limit", "messages")}))] == 1
        assert metrics[("chat_db_queries_total", frozenset())] > 0
        assert metrics[("chat_write_backlog", frozenset())] == 0

        ready = (await Http(observed.http_url).get("/readyz")).json()
        assert ready["ready"] is True
        assert ready["connections"] == 1
        assert ready["checks"]["database"]["ok"] is True
        assert ready["checks"]["database"]["backend"] == "sqlite"
        assert ready["checks"]["database"]["latencyMs"] >= 0
        assert ready["checks"]["broker"] == {"ok": True, "reason": "ok", "backend": "memory"}
        assert ready["checks"]["writer"]["backlog"] == 0
        assert ready["checks"]["writer"]["lastCommitMs"] > 0
        assert ready["version"]
    finally:
        await bob_socket.close()

    def closed() -> None:
        assert value(observed, "chat_connections") == 0
        assert value(observed, "chat_subscriptions", kind="newMessage") == 0
        assert value(observed, "chat_subscriptions", kind="typing") == 0

    await eventually(closed)


def _assert_subscribed(server: Server, kind: str) -> None:
    assert value(server, "chat_subscriptions", kind=kind) == 1


async def test_logs_are_json_lines_with_connection_and_operation_ids(
    observed: Server, uid: Any
) -> None:
    bob_id = uid("bob")
    socket = await connect(observed.ws_url, observed.token(bob_id, "Bob"))
    payload = {"query": NEW_MESSAGE, "operationName": "OnMessage"}
    await socket.send({"id": "watch-1", "type": "subscribe", "payload": payload})
    await asyncio.sleep(0.3)
    await socket.close()

    def logged() -> list[dict[str, Any]]:
        lines = [line for line in observed.log().splitlines() if line.strip()]
        return [json.loads(line) for line in lines]  # every line is one JSON object

    def story() -> list[dict[str, Any]]:
        """Every entry of Bob's connection, found by its id."""
        entries = logged()
        [authenticated] = [
            e
            for e in entries
            if e.get("userId") == bob_id and e["message"] == "connection authenticated"
        ]
        return [e for e in entries if e.get("connectionId") == authenticated["connectionId"]]

    await eventually(lambda: _assert_ends_with(story(), "connection closed"))
    entries = story()
    assert entries[0]["message"] == "connection opened (graphql-transport-ws)"
    [started] = [e for e in entries if e["message"] == "operation OnMessage started"]
    assert started["operationId"] == "watch-1"
    assert started["userId"] == bob_id
    assert started["level"] == "info" and started["logger"] == "chat.ws"
    assert any(entry["logger"] == "uvicorn.access" for entry in logged())


def _assert_ends_with(entries: list[dict[str, Any]], message: str) -> None:
    assert entries and entries[-1]["message"] == message, entries
