"""One event, many subscribers: shared execution keeps each viewer's fields its own.

A room message reaches every member's `newMessage`. Subscribers with the same document
share one execution and one encoding (schema/fanout.py); fields that depend on the viewer
(`isRead` in rooms, `sender.isBlocked`) must still be each viewer's own, on both
subprotocols.
"""

from __future__ import annotations

import asyncio

from tests.actions import db_queries
from tests.clients import LEGACY_WS, TRANSPORT_WS, Http, Socket, connect
from tests.operations import BLOCK
from tests.servers import Server

PER_VIEWER = """
subscription { newMessage { id seq content roomId isRead sender { id isBlocked } } }
"""
SHARED = "subscription { newMessage { id seq content roomId sender { id name } } }"
CREATE_ROOM = """
mutation($name: String!, $ids: [ID!]) {
  createRoom(input: {name: $name, participantIds: $ids}) { id }
}
"""
SEND_DIRECT = """
mutation($to: ID!, $content: String!) {
  sendMessage(input: {to: $to, content: $content}) { id }
}
"""
SEND_ROOM = """
mutation($room: ID!, $content: String!) {
  sendRoomMessage(input: {roomId: $room, content: $content}) { id seq }
}
"""


async def test_room_subscribers_share_a_payload_but_not_their_own_fields(
    server: Server, uid
) -> None:
    alice, bob, carol, dave = (uid(name) for name in ("alice", "bob", "carol", "dave"))
    http = {
        user: Http(server.http_url, server.token(user, user)) for user in (alice, bob, carol, dave)
    }
    for client in http.values():
        await client.data("{ me { id } }")
    room = (await http[alice].data(CREATE_ROOM, {"name": "fan", "ids": [bob, carol, dave]}))[
        "createRoom"
    ]["id"]
    await http[carol].data(BLOCK, {"id": alice})

    listeners: list[tuple[str, Socket, str]] = []
    for user, protocol, document in [
        (alice, TRANSPORT_WS, PER_VIEWER),
        (bob, TRANSPORT_WS, PER_VIEWER),
        (carol, LEGACY_WS, PER_VIEWER),
        (bob, LEGACY_WS, SHARED),
        (dave, TRANSPORT_WS, SHARED),
        (carol, TRANSPORT_WS, SHARED),
    ]:
        socket = await connect(server.ws_url, server.token(user, user), protocol)
        listeners.append((user, socket, await socket.subscribe(document)))
    await asyncio.sleep(0.3)

    sent = [
        (await http[alice].data(SEND_ROOM, {"room": room, "content": f"hi {n}"}))["sendRoomMessage"]
        for n in range(2)
    ]

    seen: dict[tuple[str, str], list[dict]] = {}
    for user, socket, op in listeners:
        messages = [(await socket.next_data(op))["newMessage"] for _ in sent]
        seen[(user, socket.protocol + op)] = messages
        assert [m["id"] for m in messages] == [m["id"] for m in sent]
        assert [m["seq"] for m in messages] == [1, 2]
        assert [m["content"] for m in messages] == ["hi 0", "hi 1"]
        assert all(m["roomId"] == room and m["sender"]["id"] == alice for m in messages)
        if "isRead" in messages[0]:
            # Room messages are read by the viewer's own read point; the sender has read
            # its own. Carol blocked Alice, which only Carol sees.
            assert all(m["isRead"] is (user == alice) for m in messages), (user, messages)
            assert all(m["sender"]["isBlocked"] is (user == carol) for m in messages)
        else:
            assert all(m["sender"]["name"] == alice for m in messages)
    for _, socket, _ in listeners:
        await socket.close()


async def test_a_direct_message_is_executed_once_for_its_sender_and_its_receiver(
    server: Server, uid
) -> None:
    """A direct message reaches the sender's devices and the receiver's on two channels; a
    selection asked by both is executed once, so a nested field loads once."""
    alice, bob = uid("alice"), uid("bob")
    for user in (alice, bob):
        await Http(server.http_url, server.token(user, user)).data("{ me { id } }")
    sockets = {
        user: await connect(server.ws_url, server.token(user, user)) for user in (alice, bob)
    }
    sender = Http(server.http_url, server.token(alice, alice))

    async def queries_to_deliver(selection: str, content: str) -> float:
        document = f"subscription {{ newMessage {selection} }}"
        operations = {user: await socket.subscribe(document) for user, socket in sockets.items()}
        await asyncio.sleep(0.3)

        async def exchange(text: str) -> None:
            await sender.data(SEND_DIRECT, {"to": bob, "content": text})
            for user, socket in sockets.items():
                assert (await socket.next_data(operations[user]))["newMessage"]["content"] == text
            await asyncio.sleep(0.5)  # the delivered point is written just after

        await exchange(f"{content}: warm")
        before = await db_queries(server)
        await exchange(content)
        spent = await db_queries(server) - before
        for user, socket in sockets.items():
            await socket.stop(operations[user])
        return spent

    bare = await queries_to_deliver("{ content }", "bare")
    nested = await queries_to_deliver("{ content sender { name } }", "nested")
    assert nested - bare == 1, (bare, nested)
    await asyncio.gather(*(socket.close() for socket in sockets.values()))


async def test_a_conversations_first_message_reaches_live_subscribers_without_a_read(
    server: Server, uid
) -> None:
    """A subscription meeting a conversation for the first time reads what it may have
    missed of it, unless the message is the conversation's first: then nothing came
    before. So delivering it costs only the delivered point's write."""
    alice, bob, carol, dave = (uid(name) for name in ("alice", "bob", "carol", "dave"))
    for user in (alice, bob, carol, dave):
        await Http(server.http_url, server.token(user, user)).data("{ me { id } }")

    async def statements_to_send(sender: str, receiver: str) -> float:
        before = await db_queries(server)
        await Http(server.http_url, server.token(sender, sender)).data(
            SEND_DIRECT, {"to": receiver, "content": "first"}
        )
        await asyncio.sleep(0.5)  # the delivered point is written just after
        return await db_queries(server) - before

    unheard = await statements_to_send(carol, dave)  # nobody subscribed
    sockets = [await connect(server.ws_url, server.token(user, user)) for user in (alice, bob)]
    flat = "subscription { newMessage { id content } }"  # loads nothing of its own
    operations = [await socket.subscribe(flat) for socket in sockets]
    await asyncio.sleep(0.3)
    heard = await statements_to_send(alice, bob)
    for socket, operation in zip(sockets, operations, strict=True):
        assert (await socket.next_data(operation))["newMessage"]["content"] == "first"
    assert heard - unheard == 1, (unheard, heard)
    await asyncio.gather(*(socket.close() for socket in sockets))
