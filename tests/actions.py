"""Steps many tests take: make users known, send as a user, read the server's counters."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from tests.clients import Http
from tests.operations import SEND
from tests.servers import Server


def display_name(user_id: str) -> str:
    """The name tests give a user: `alice-1a2b` is Alice."""
    return user_id.split("-")[0].title()


def as_user(server: Server, user_id: str) -> Http:
    """A GraphQL client authenticated as the user (with its display name)."""
    return Http(server.http_url, server.token(user_id, display_name(user_id)))


async def register(server: Server, *user_ids: str) -> None:
    """Make users known to the server, as their first request would."""
    for user_id in user_ids:
        await as_user(server, user_id).data("{ me { id } }")


async def send(
    server: Server, sender: str, to: str, content: str, cid: str | None = None
) -> dict[str, Any]:
    data = await as_user(server, sender).data(SEND, {"to": to, "content": content, "cid": cid})
    message: dict[str, Any] = data["sendMessage"]
    return message


async def send_many(server: Server, sender: str, to: str, count: int) -> list[dict[str, Any]]:
    """`count` messages, "m0", "m1", ..., one after the other."""
    return [await send(server, sender, to, f"m{index}") for index in range(count)]


async def eventually(check: Callable[[], object], timeout: float = 10) -> None:
    """Poll `check` (bounded) until it passes, for what the server does in the background."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def db_queries(server: Server) -> float:
    """How many database statements the server has issued so far (from /metrics)."""
    text = (await Http(server.http_url).get("/metrics")).text
    match = re.search(r"^chat_db_queries_total ([0-9.e+]+)$", text, re.MULTILINE)
    assert match, text
    return float(match.group(1))
