"""Order and exactly once (promises 2 and 3) with many senders writing at the same time."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from tests.actions import register, send
from tests.clients import LEGACY_WS, TRANSPORT_WS, connect
from tests.operations import NEW_MESSAGE
from tests.servers import Server

SENDERS = 4
PER_SENDER = 6


async def test_concurrent_senders_arrive_in_seq_order_once_each(server: Server, uid) -> None:
    bob = uid("bob")
    senders = [uid(f"sender{index}") for index in range(SENDERS)]
    await register(server, bob)
    # Two devices of the receiver, one per subprotocol.
    devices = [
        await connect(server.ws_url, server.token(bob), p) for p in (TRANSPORT_WS, LEGACY_WS)
    ]
    ops = [await device.subscribe(NEW_MESSAGE) for device in devices]
    await asyncio.sleep(0.5)

    async def write(sender: str) -> list[int]:
        sent = [await send(server, sender, bob, f"{sender} {i}") for i in range(PER_SENDER)]
        return [message["seq"] for message in sent]

    seqs = await asyncio.gather(*(write(sender) for sender in senders))
    assert all(s == list(range(1, PER_SENDER + 1)) for s in seqs), seqs

    for device, op in zip(devices, ops, strict=True):
        by_sender: dict[str, list[int]] = defaultdict(list)
        contents: dict[str, list[str]] = defaultdict(list)
        ids = set()
        for _ in range(SENDERS * PER_SENDER):
            message = (await device.next_data(op, timeout=20))["newMessage"]
            ids.add(message["id"])
            by_sender[message["senderId"]].append(message["seq"])
            contents[message["senderId"]].append(message["content"])
        assert len(ids) == SENDERS * PER_SENDER  # none twice
        for sender in senders:  # none lost, each conversation in seq order
            assert by_sender[sender] == list(range(1, PER_SENDER + 1)), device.protocol
            assert contents[sender] == [f"{sender} {i}" for i in range(PER_SENDER)]
        await device.expect_nothing(op, wait=0.3)
        await device.close()


async def test_the_senders_other_devices_see_its_messages(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, bob)
    phone = await connect(server.ws_url, server.token(alice))
    op = await phone.subscribe(NEW_MESSAGE)
    await asyncio.sleep(0.5)
    sent = await send(server, alice, bob, "from the laptop")
    received = (await phone.next_data(op))["newMessage"]
    assert received["id"] == sent["id"] and received["senderId"] == alice
    await phone.close()


async def test_both_parties_writing_at_once_share_one_gapless_order(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    watchers = [await connect(server.ws_url, server.token(user)) for user in (alice, bob)]
    ops = [await watcher.subscribe(NEW_MESSAGE) for watcher in watchers]
    await asyncio.sleep(0.5)

    async def write(sender: str, receiver: str) -> None:
        for index in range(PER_SENDER):
            await send(server, sender, receiver, f"{sender} {index}")

    await asyncio.gather(write(alice, bob), write(bob, alice))
    for watcher, op in zip(watchers, ops, strict=True):
        received = [(await watcher.next_data(op))["newMessage"] for _ in range(2 * PER_SENDER)]
        assert [message["seq"] for message in received] == list(range(1, 2 * PER_SENDER + 1))
        for sender in (alice, bob):
            mine = [m["content"] for m in received if m["senderId"] == sender]
            assert mine == [f"{sender} {index}" for index in range(PER_SENDER)]
        await watcher.expect_nothing(op, wait=0.3)
        await watcher.close()
