"""The seed's GET /messages route, and the health checks."""

from __future__ import annotations

from datetime import datetime

from tests.actions import as_user, register, send_many
from tests.clients import Http
from tests.operations import MARK_READ
from tests.servers import Server


async def test_messages_route_shape_order_and_paging(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    sent = await send_many(server, alice, bob, 5)
    await as_user(server, bob).data(MARK_READ, {"from": alice, "upTo": 2})

    response = await as_user(server, bob).get("/messages", user1=alice, user2=bob)
    assert response.status_code == 200
    body = response.json()
    assert [item["content"] for item in body] == ["m0", "m1", "m2", "m3", "m4"]  # oldest first
    first = body[0]
    assert set(first) == {"id", "from", "to", "content", "timestamp", "isRead", "cursor"}
    assert (first["id"], first["from"], first["to"]) == (sent[0]["id"], alice, bob)
    assert first["cursor"] == sent[0]["cursor"]
    assert datetime.fromisoformat(first["timestamp"]).utcoffset() is not None
    assert [item["isRead"] for item in body] == [True, True, False, False, False]

    # The sender may ask too, with the users either way round.
    page = await as_user(server, alice).get(
        "/messages", user1=bob, user2=alice, limit="2", before=sent[3]["cursor"]
    )
    assert [item["content"] for item in page.json()] == ["m1", "m2"]


REFUSALS = [
    (None, {}, 401, "UNAUTHENTICATED"),
    ("not-a-jwt", {}, 401, "UNAUTHENTICATED"),
    ("carol", {}, 403, "FORBIDDEN"),
    ("alice", {"user2": None}, 400, "BAD_USER_INPUT"),
    ("alice", {"limit": "many"}, 400, "BAD_USER_INPUT"),
    ("alice", {"limit": "201"}, 400, "BAD_USER_INPUT"),
    ("alice", {"limit": "-1"}, 400, "BAD_USER_INPUT"),
    ("alice", {"before": "garbage"}, 400, "BAD_USER_INPUT"),
    ("alice", {"user2": "nobody"}, 404, "NOT_FOUND"),
]


async def test_messages_route_refusals(server: Server, uid) -> None:
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    await register(server, alice, bob, carol)
    users = {"alice": alice, "carol": carol}
    for token, params, status, code in REFUSALS:
        bearer = server.token(users[token]) if token in users else token
        query = {"user1": alice, "user2": bob, **params}
        if query["user2"] == "nobody":
            query["user2"] = "nobody-" + alice
        arguments = {key: value for key, value in query.items() if value is not None}
        response = await Http(server.http_url, bearer).get("/messages", **arguments)
        assert (response.status_code, response.json()["code"]) == (status, code), (token, params)


async def test_health_and_readiness(server: Server) -> None:
    http = Http(server.http_url)
    health = await http.get("/healthz")
    assert health.status_code == 200
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True
    assert body["checks"]["database"]["ok"] is True and body["checks"]["broker"]["ok"] is True
