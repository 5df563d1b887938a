"""Receipts (promise 7): DELIVERED when a live subscription of the receiver gets the message
(also by replay), READ on markRead; Message.status as the sender sees it."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.actions import as_user, db_queries, register, send, send_many
from tests.clients import Socket, connect
from tests.operations import HISTORY, MARK_READ, NEW_MESSAGE, RECEIPTS
from tests.servers import Server

SETTLE = 0.5  # time for a fresh subscription to be listening


async def statuses(server: Server, viewer: str, peer: str) -> list[str]:
    history = await as_user(server, viewer).data(HISTORY, {"with": peer})
    return [edge["node"]["status"] for edge in history["messages"]["edges"]]


async def receipt_up_to(socket: Socket, op: str, status: str, seq: int) -> dict[str, Any]:
    """Receipts may be merged: wait for the one of this status that covers `seq`."""
    while True:
        receipt: dict[str, Any] = (await socket.next_data(op))["receipts"]
        if receipt["status"] == status and receipt["upToSeq"] >= seq:
            return receipt


async def test_delivered_then_read(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    sender = await connect(server.ws_url, server.token(alice))
    receipts = await sender.subscribe(RECEIPTS)
    await asyncio.sleep(SETTLE)

    first = await send(server, alice, bob, "nobody listens yet")
    await asyncio.sleep(SETTLE)
    assert first["status"] == "SENT"
    assert await statuses(server, alice, bob) == ["SENT"]  # history is not delivery

    receiver = await connect(server.ws_url, server.token(bob))
    live = await receiver.subscribe(NEW_MESSAGE)
    await asyncio.sleep(SETTLE)
    second = await send(server, alice, bob, "now bob listens")
    assert (await receiver.next_data(live))["newMessage"]["id"] == second["id"]
    delivered = await receipt_up_to(sender, receipts, "DELIVERED", 2)
    assert delivered == {
        "conversationId": second["conversationId"],
        "userId": bob,
        "status": "DELIVERED",
        "upToSeq": 2,
    }
    assert await statuses(server, alice, bob) == ["DELIVERED", "DELIVERED"]

    read = (await as_user(server, bob).data(MARK_READ, {"from": alice, "upTo": 1}))["markRead"]
    assert read["upToSeq"] == 1 and read["updatedCount"] == 1
    receipt = (await sender.next_data(receipts))["receipts"]
    assert receipt == {**delivered, "status": "READ", "upToSeq": 1}
    assert await statuses(server, alice, bob) == ["READ", "DELIVERED"]
    # A read point never moves back, and nothing is announced when it does not move.
    again = (await as_user(server, bob).data(MARK_READ, {"from": alice, "upTo": 1}))["markRead"]
    assert again["upToSeq"] == 1 and again["updatedCount"] == 0
    await sender.expect_nothing(receipts, wait=0.3)
    await receiver.close()
    await sender.close()


async def test_a_replay_to_the_receiver_counts_as_delivery(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    sent = await send_many(server, alice, bob, 3)
    sender = await connect(server.ws_url, server.token(alice))
    receipts = await sender.subscribe(RECEIPTS)
    await asyncio.sleep(SETTLE)
    receiver = await connect(server.ws_url, server.token(bob))
    op = await receiver.subscribe(NEW_MESSAGE, {"after": sent[0]["cursor"]})
    assert [(await receiver.next_data(op))["newMessage"]["seq"] for _ in range(2)] == [2, 3]
    receipt = await receipt_up_to(sender, receipts, "DELIVERED", 3)
    assert receipt["userId"] == bob and receipt["upToSeq"] == 3
    await receiver.close()
    await sender.close()


async def test_mark_read_is_one_write_whatever_the_count(server: Server, uid) -> None:
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    await register(server, alice, bob, carol)
    await send_many(server, alice, bob, 2)
    await send_many(server, carol, bob, 12)
    http = as_user(server, bob)

    async def cost(peer: str, unread: int) -> float:
        before = await db_queries(server)
        read = (await http.data(MARK_READ, {"from": peer}))["markRead"]
        assert read["updatedCount"] == unread
        return await db_queries(server) - before

    assert await cost(carol, 12) == await cost(alice, 2)
