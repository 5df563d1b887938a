"""Direct chat over real sockets: send, live delivery on both subprotocols, history."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.actions import send
from tests.clients import LEGACY_WS, TRANSPORT_WS, Http, connect
from tests.operations import CONVERSATIONS, HISTORY, MARK_READ, NEW_MESSAGE
from tests.servers import Server


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_sent_message_reaches_the_receivers_subscription(
    server: Server, uid, protocol: str
) -> None:
    alice, bob = uid("alice"), uid("bob")
    await Http(server.http_url, server.token(bob, "Bob")).data("{ me { id } }")
    socket = await connect(server.ws_url, server.token(bob, "Bob"), protocol)
    op = await socket.subscribe(NEW_MESSAGE)
    await asyncio.sleep(0.2)
    sent = await send(server, alice, bob, "hello bob")
    assert sent["seq"] == 1 and sent["senderId"] == alice and sent["receiverId"] == bob
    assert sent["sender"] == {"id": alice, "name": "Alice"}
    received = (await socket.next_data(op))["newMessage"]
    assert received["id"] == sent["id"]
    assert received["content"] == "hello bob"
    assert received["cursor"] == sent["cursor"]
    await socket.close()


async def test_send_returns_the_stored_message_and_history_has_it(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await Http(server.http_url, server.token(bob, "Bob")).data("{ me { id } }")
    sent = [await send(server, alice, bob, f"m{i}") for i in range(5)]
    assert [m["seq"] for m in sent] == [1, 2, 3, 4, 5]
    history = await Http(server.http_url, server.token(bob)).data(HISTORY, {"with": alice})
    nodes = [edge["node"] for edge in history["messages"]["edges"]]
    assert [n["content"] for n in nodes] == ["m0", "m1", "m2", "m3", "m4"]
    assert all(edge["cursor"] == edge["node"]["cursor"] for edge in history["messages"]["edges"])


async def test_client_message_id_is_idempotent(server: Server, uid) -> None:
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    for user in (bob, carol):
        await Http(server.http_url, server.token(user)).data("{ me { id } }")
    first = await send(server, alice, bob, "once", cid="c-1")
    again = await send(server, alice, carol, "different", cid="c-1")
    assert again["id"] == first["id"] and again["content"] == "once"
    history = await Http(server.http_url, server.token(bob)).data(HISTORY, {"with": alice})
    assert len(history["messages"]["edges"]) == 1


async def test_concurrent_duplicates_store_one_message(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await Http(server.http_url, server.token(bob)).data("{ me { id } }")
    results = await asyncio.gather(
        *(send(server, alice, bob, f"try {i}", cid="same") for i in range(20))
    )
    assert len({r["id"] for r in results}) == 1
    history = await Http(server.http_url, server.token(bob)).data(HISTORY, {"with": alice})
    assert len(history["messages"]["edges"]) == 1


async def test_conversations_and_mark_read(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await Http(server.http_url, server.token(bob, "Bob")).data("{ me { id } }")
    for i in range(3):
        await send(server, alice, bob, f"unread {i}")
    bob_http = Http(server.http_url, server.token(bob, "Bob"))
    [conversation] = (await bob_http.data(CONVERSATIONS))["conversations"]
    assert conversation["kind"] == "DIRECT"
    assert conversation["unreadCount"] == 3
    assert conversation["peer"] == {"id": alice, "name": "Alice"}
    assert conversation["lastMessage"]["content"] == "unread 2"
    assert conversation["room"] is None
    read = (await bob_http.data(MARK_READ, {"from": alice, "upTo": 2}))["markRead"]
    assert read["upToSeq"] == 2 and read["updatedCount"] == 2
    assert read["conversation"]["unreadCount"] == 1
    read = (await bob_http.data(MARK_READ, {"from": alice}))["markRead"]
    assert read["upToSeq"] == 3 and read["updatedCount"] == 1
    alice_http = Http(server.http_url, server.token(alice, "Alice"))
    history = await alice_http.data(HISTORY, {"with": bob})
    assert [e["node"]["isRead"] for e in history["messages"]["edges"]] == [True, True, True]
    assert [e["node"]["status"] for e in history["messages"]["edges"]] == ["READ"] * 3


async def test_message_ids_are_uuids_in_the_order_they_were_sent(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await Http(server.http_url, server.token(bob, "Bob")).data("{ me { id } }")
    ids = []
    for index in range(3):
        ids.append((await send(server, alice, bob, f"m{index}"))["id"])
        await asyncio.sleep(0.002)  # ids order by the millisecond they were made in
    assert [uuid.UUID(id).version for id in ids] == [7, 7, 7]
    assert [str(uuid.UUID(id)) for id in ids] == ids  # the canonical text
    assert ids == sorted(ids) and len(set(ids)) == 3
