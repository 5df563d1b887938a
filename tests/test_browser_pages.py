"""GraphiQL and the demo chat page in headless Chromium, against a live server."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path
from typing import Any

import httpx

from tests.node import CLIENTS, chat_settings, events_of, on_sqlite, require_node_modules, run_check
from tests.servers import Server

VENDOR = Path(__file__).resolve().parent.parent / "server" / "static" / "vendor"
PNG = b"\x89PNG\r\n\x1a\n"


def assert_page_was_clean(events: list[dict[str, Any]]) -> None:
    for kind in ("pageerror", "requestfailed", "console"):
        assert events_of(events, kind) == [], events_of(events, kind)


@on_sqlite
def test_graphiql_shows_a_subscription_result_sent_by_another_client(
    server: Server, uid: Any, tmp_path: Path
) -> None:
    screenshot = tmp_path / "graphiql.png"
    settings = chat_settings(server, uid, screenshot=str(screenshot))
    events = run_check("graphiql.mjs", settings)
    assert_page_was_clean(events)
    [response] = events_of(events, "response")
    message = response["result"]["data"]["newMessage"]
    assert message == {
        "id": response["sentId"],
        "senderId": settings["users"]["alice"],
        "content": "hello in GraphiQL",
    }
    assert screenshot.read_bytes().startswith(PNG)


@on_sqlite
def test_two_people_chat_on_the_demo_page(server: Server, uid: Any, tmp_path: Path) -> None:
    settings = chat_settings(server, uid, screenshots=str(tmp_path))
    events = run_check("demo.mjs", settings)
    assert_page_was_clean(events)
    pages = {event["user"]: event for event in events_of(events, "page")}
    conversation = ["Hi Bob!", "Hello Alice, how are you?", "Great, thanks."]
    assert pages["alice"]["messages"] == conversation
    assert pages["bob"]["messages"] == conversation
    assert pages["alice"]["mine"] == ["Hi Bob!", "Great, thanks."]
    assert pages["bob"]["mine"] == ["Hello Alice, how are you?"]
    assert pages["alice"]["me"] == "Alice"
    assert pages["bob"]["status"] == f"{settings['users']['alice']} online"
    assert pages["alice"]["error"] == pages["bob"]["error"] == ""
    for name in ("alice", "bob"):
        assert (tmp_path / f"demo-{name}.png").read_bytes().startswith(PNG)


@on_sqlite
def test_pages_load_nothing_from_other_hosts(server: Server) -> None:
    for path in ("/graphql", "/demo"):
        page = httpx.get(server.http_url + path, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert re.findall(r"(?:src|href)=\"(?:https?:)?//", page.text) == []
        for asset in re.findall(r"(?:src|href)=\"(static/[^\"]+)\"", page.text):
            assert httpx.get(f"{server.http_url}/{asset}").status_code == 200, asset


def test_vendored_assets_are_the_npm_builds() -> None:
    require_node_modules()
    versions = (VENDOR / "VERSIONS").read_text().split()
    for name_version in versions:
        name, version = name_version.rsplit("@", 1)
        package = CLIENTS / "node_modules" / name
        assert f'"version": "{version}"' in (package / "package.json").read_text()
        for vendored in (VENDOR / name).iterdir():
            candidates = [
                path
                for path in package.rglob(vendored.name)
                if "node_modules" not in path.relative_to(package).parts
            ]
            assert any(filecmp.cmp(vendored, path, shallow=False) for path in candidates), vendored
