"""GraphQL documents against a live server: valid ones built from the schema, invalid ones,
truncated, deeply nested and alias-bombed ones. Every answer is JSON whose errors carry a
code of the contract, none is an internal error, a stack trace or SQL; and the server
keeps serving a healthy client throughout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from tests.clients import Http, connect
from tests.operations import NEW_MESSAGE, SEND
from tests.servers import Server

SDL = (Path(__file__).parent.parent / "graphql" / "schema.graphql").read_text()
CODES = {
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BLOCKED",
    "RATE_LIMITED",
    "LIMIT_EXCEEDED",
    "BAD_REQUEST",  # a request that is not GraphQL at all (no query, a body not JSON)
}
LEAKS = ("Traceback", 'File "', "sqlite", "asyncpg", "SELECT ", "INSERT ", "tortoise")


def as_text(document: object) -> str:
    return document.decode(errors="replace") if isinstance(document, bytes) else str(document)


valid = from_schema(SDL).map(as_text)
invalid = from_schema(SDL, mode=Mode.NEGATIVE).map(as_text)
truncated = valid.flatmap(lambda text: st.integers(0, len(text)).map(lambda end: text[:end]))
nested = st.integers(5, 400).map(lambda depth: "{ me " + "{ me " * depth + "}" * (depth + 1))
aliased = st.integers(20, 400).map(
    lambda count: "{ " + " ".join(f"a{n}: conversations {{ id }}" for n in range(count)) + " }"
)
documents = st.one_of(valid, invalid, truncated, nested, aliased, st.text(max_size=100))
variables = st.none() | st.dictionaries(
    st.sampled_from(["to", "input", "first", "id"]),
    st.none() | st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=3),
    max_size=2,
)


def check_answer(response: httpx.Response) -> None:
    """A well-formed GraphQL answer: JSON, errors with a contract code, nothing leaked."""
    assert response.status_code < 500, response.text
    assert not any(leak in response.text for leak in LEAKS), response.text
    body = response.json()
    assert isinstance(body, dict), body
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] in CODES, error


def test_documents_get_coded_answers_and_the_server_keeps_serving(server: Server, uid: Any) -> None:
    viewer, listener = uid("fuzzer"), uid("listener")
    headers = {"Authorization": f"Bearer {server.token(viewer)}"}
    log_start = len(server.log())

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(document=documents, values=variables, method=st.sampled_from(["POST", "GET"]))
    def run(document: str, values: dict[str, Any] | None, method: str) -> None:
        if method == "GET":
            response = client.get("/graphql", params={"query": document}, headers=headers)
        else:
            body = {"query": document, "variables": values}
            response = client.post("/graphql", json=body, headers=headers)
        check_answer(response)

    async def healthy_client_receives() -> None:
        socket = await connect(server.ws_url, server.token(listener))
        op_id = await socket.subscribe(NEW_MESSAGE)
        await asyncio.sleep(0.2)
        await Http(server.http_url, server.token(viewer)).data(
            SEND, {"to": listener, "content": "still served"}
        )
        assert (await socket.next_data(op_id))["newMessage"]["content"] == "still served"
        await socket.close()

    with httpx.Client(base_url=server.http_url, timeout=30) as client:
        run()
    assert server.process.poll() is None
    asyncio.run(healthy_client_receives())
    new_log = server.log()[log_start:]
    assert "unexpected error" not in new_log, new_log


def test_the_schema_driven_fuzz_of_graphql(server: Server) -> None:
    """schemathesis reads the schema by introspection and sends each root field's cases."""
    schema = schemathesis.graphql.from_url(f"{server.http_url}/graphql")
    headers = {"Authorization": f"Bearer {server.token('schemathesis')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"Query.messages", "Mutation.sendMessage"} <= {op.label for op in operations}
    cases = st.one_of([operation.as_strategy() for operation in operations])

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        # Not schemathesis's own checks: they count every GraphQL error (NOT_FOUND for the
        # random ids it sends) as a failure. Ours: no 5xx, no internal error, nothing leaked.
        check_answer(httpx.Response(response.status_code, content=response.content))

    run()
