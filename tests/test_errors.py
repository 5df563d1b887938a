"""Error codes of GraphQL itself, and unexpected faults masked with the detail in the log."""

from __future__ import annotations

import json

from tests.actions import as_user, register
from tests.clients import connect
from tests.operations import BLOCK
from tests.servers import Server, run_sql


async def test_parse_and_validation_failures(server: Server, uid) -> None:
    http = as_user(server, uid("alice"))
    assert await http.error_code("{ me { id ") == "GRAPHQL_PARSE_FAILED"
    assert await http.error_code("{ me { nope } }") == "GRAPHQL_VALIDATION_FAILED"
    assert await http.error_code('{ user(id: 1, extra: "x") { id } }') == (
        "GRAPHQL_VALIDATION_FAILED"
    )
    socket = await connect(server.ws_url, server.token(uid("alice")))
    op = await socket.subscribe("subscription { newMessage { nope } }")
    message = await socket.receive_for(op)
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await socket.close()


def rename_table(database_url: str, old: str, new: str) -> None:
    run_sql(database_url, f"ALTER TABLE {old} RENAME TO {new}")


async def test_an_unexpected_fault_is_masked_and_logged(tight_server: Server, uid) -> None:
    """A real fault: the table behind blocking goes missing under the running server."""
    server = tight_server
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    database_url = server.env["CHAT_DATABASE_URL"]
    log_before = len(server.log())
    rename_table(database_url, "block", "block_elsewhere")
    try:
        body = await as_user(server, alice).execute(BLOCK, {"id": bob})
    finally:
        rename_table(database_url, "block_elsewhere", "block")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    text = json.dumps(body).lower()
    assert "block" not in text.replace("blockuser", "") and "select" not in text
    assert "traceback" not in text
    log = server.log()[log_before:]
    assert "Traceback" in log
    assert "no such table: block" in log or 'relation "block" does not exist' in log
    # The server keeps serving.
    assert (await as_user(server, alice).data(BLOCK, {"id": bob}))["blockUser"]["isBlocked"]
