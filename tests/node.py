"""Running the JavaScript checks in clients/ with node, against a live server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import Server

CLIENTS = Path(__file__).resolve().parent.parent / "clients"

# Client and browser checks exercise transports, not storage: the shared SQLite server.
on_sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def require(present: bool, what: str, how: str) -> None:
    """Skip locally when a client tool is missing; in CI (which installs it) fail instead."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} is missing: {how}")


def require_node_modules() -> None:
    present = shutil.which("node") is not None and (CLIENTS / "node_modules").is_dir()
    require(present, "clients/node_modules", "run scripts/clients-setup")


def chat_settings(server: Server, uid: Any, **extra: Any) -> dict[str, Any]:
    """What a check needs: the server's URLs, and Alice and Bob with their tokens."""
    users = {"alice": uid("alice"), "bob": uid("bob")}
    tokens = {name: server.token(user_id, name.title()) for name, user_id in users.items()}
    for token in tokens.values():  # a user exists from the first request with its token
        response = httpx.post(
            f"{server.http_url}/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert "errors" not in response.json(), response.text
    return {"http": server.http_url, "ws": server.ws_url, "users": users, "tokens": tokens, **extra}


def run_check(script: str, settings: dict[str, Any], timeout: float = 90) -> list[dict[str, Any]]:
    """Runs clients/tests/SCRIPT; the JSON events it reported, which must end with `done`."""
    require_node_modules()
    completed = subprocess.run(
        ["node", f"tests/{script}", json.dumps(settings)],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    assert completed.returncode == 0, output
    events = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert events and events[-1]["event"] == "done", output
    return events


def events_of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["event"] == kind]
