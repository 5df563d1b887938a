"""Nested fields go through per-operation DataLoaders: the statements behind a page do not
grow with its size (counted by the server itself, at /metrics)."""

from __future__ import annotations

import asyncio

from tests.actions import as_user, db_queries, register, send
from tests.clients import Http, connect
from tests.operations import CONVERSATIONS, HISTORY, SEND
from tests.servers import Server

PAGE = """
query Page($with: ID!, $last: Int) {
  messages(withUser: $with, last: $last) {
    edges { node { id content isRead status sender { id name online isBlocked lastSeenAt } } }
  }
}
"""

PLAIN_PAGE = """
query Page($with: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(withUser: $with, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id seq senderId content timestamp } }
    pageInfo { hasNextPage hasPreviousPage startCursor }
  }
}
"""

ON_MESSAGE_WITH_SENDER = """
subscription { newMessage { id content sender { id name isBlocked } } }
"""


async def statements(server: Server, http: Http, query: str, variables: dict) -> float:
    """The fewest statements a query cost in three runs (other tests' stragglers only add)."""
    costs = []
    for _ in range(3):
        before = await db_queries(server)
        await http.data(query, variables)
        costs.append(await db_queries(server) - before)
    return min(costs)


async def test_a_page_with_senders_costs_the_same_for_5_and_50_messages(
    server: Server, uid
) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    for index in range(25):  # both senders on every page
        await send(server, alice, bob, f"a{index}")
        await send(server, bob, alice, f"b{index}")
    http = as_user(server, bob)
    small = await statements(server, http, PAGE, {"with": alice, "last": 5})
    large = await statements(server, http, PAGE, {"with": alice, "last": 50})
    assert small > 0
    assert large == small
    assert await statements(server, http, HISTORY, {"with": alice}) <= small


async def test_a_page_of_plain_fields_is_one_statement_either_way(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    for index in range(6):
        await send(server, alice, bob, f"m{index}")
    http = as_user(server, bob)
    newest = await http.data(PLAIN_PAGE, {"with": alice, "last": 2})
    cursor = newest["messages"]["pageInfo"]["startCursor"]
    for paging in ({"last": 2, "before": cursor}, {"first": 2, "after": cursor}):
        assert await statements(server, http, PLAIN_PAGE, {"with": alice, **paging}) == 1


async def test_conversations_cost_the_same_for_2_and_8_peers(server: Server, uid) -> None:
    alice = uid("alice")
    peers = [uid(f"peer{index}") for index in range(8)]
    await register(server, alice, *peers)
    for peer in peers:
        await send(server, peer, alice, f"hello from {peer}")
    http = as_user(server, alice)
    few = await statements(server, http, CONVERSATIONS, {"first": 2})
    many = await statements(server, http, CONVERSATIONS, {"first": 8})
    assert len((await http.data(CONVERSATIONS, {"first": 8}))["conversations"]) == 8
    assert few > 0 and many == few


async def test_loaders_do_not_outlive_a_subscription_event(server: Server, uid) -> None:
    """Each event of a subscription sees the current state, not what an earlier one loaded."""
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    socket = await connect(server.ws_url, server.token(bob))
    op = await socket.subscribe(ON_MESSAGE_WITH_SENDER)
    await asyncio.sleep(0.5)
    await send(server, alice, bob, "first")
    first = (await socket.next_data(op))["newMessage"]
    assert first["sender"]["name"] == "Alice" and first["sender"]["isBlocked"] is False
    renamed = Http(server.http_url, server.token(alice, "Alicia"))
    await renamed.data(SEND, {"to": bob, "content": "second", "cid": None})
    second = (await socket.next_data(op))["newMessage"]
    assert second["sender"]["name"] == "Alicia"
    await socket.close()
