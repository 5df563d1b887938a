"""Rooms over real sockets: every operation, membership on every read and write, history
after joining, per-member read points, and live subscriptions that follow joins and leaves."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.actions import as_user, register
from tests.clients import Socket, connect
from tests.operations import (
    CONVERSATIONS,
    CREATE_ROOM,
    JOIN_ROOM,
    LEAVE_ROOM,
    MARK_ROOM_READ,
    NEW_MESSAGE,
    ROOM,
    ROOM_EVENTS,
    ROOM_HISTORY,
    ROOMS,
    SEND_ROOM,
    START_ROOM_TYPING,
    STOP_ROOM_TYPING,
    TYPING,
)
from tests.servers import Server

ROOM_MESSAGE = "subscription { newMessage { id seq roomId content } }"
# Subscriptions have no acknowledgement: time for a new one to be set up on the server.
SETTLE = 0.5


async def create_room(server: Server, creator: str, *members: str) -> dict[str, Any]:
    data = await as_user(server, creator).data(
        CREATE_ROOM, {"name": "general", "ids": list(members)}
    )
    room: dict[str, Any] = data["createRoom"]
    return room


async def say(server: Server, user_id: str, room_id: str, content: str) -> dict[str, Any]:
    data = await as_user(server, user_id).data(SEND_ROOM, {"room": room_id, "content": content})
    message: dict[str, Any] = data["sendRoomMessage"]
    return message


async def history(server: Server, user_id: str, room_id: str, **page: Any) -> dict[str, Any]:
    data = await as_user(server, user_id).data(ROOM_HISTORY, {"room": room_id, **page})
    connection: dict[str, Any] = data["roomMessages"]
    return connection


async def test_create_a_room_see_it_and_list_it(server: Server, uid) -> None:
    alice, bob, carol, outsider = uid("alice"), uid("bob"), uid("carol"), uid("outsider")
    await register(server, alice, bob, carol, outsider)
    room = await create_room(server, alice, bob, carol, bob)
    assert room["name"] == "general" and room["participantCount"] == 3
    assert [p["id"] for p in room["participants"]] == [alice, bob, carol]
    assert room["participants"][1]["name"] == "Bob"
    for member in (alice, bob, carol):
        rooms = (await as_user(server, member).data(ROOMS))["rooms"]
        assert rooms == [{"id": room["id"], "name": "general", "participantCount": 3}]
    # Rooms are public to see, not to read: the outsider sees it but is not in it.
    seen = (await as_user(server, outsider).data(ROOM, {"id": room["id"], "first": 2}))["room"]
    assert seen["name"] == "general" and seen["participantCount"] == 3
    assert [p["id"] for p in seen["participants"]] == [alice, bob]
    assert seen["createdAt"] == room["createdAt"]
    assert (await as_user(server, outsider).data(ROOMS))["rooms"] == []
    for unknown in ("999999999", "not-a-room"):
        assert (await as_user(server, outsider).data(ROOM, {"id": unknown}))["room"] is None


async def test_room_input_is_checked(server: Server, uid) -> None:
    alice = uid("alice")
    http = as_user(server, alice)
    await register(server, alice)
    room = await create_room(server, alice)
    assert room["participantCount"] == 1
    code = await http.error_code(CREATE_ROOM, {"name": "x", "ids": [uid("nobody")]})
    assert code == "NOT_FOUND"
    assert await http.error_code(CREATE_ROOM, {"name": "   "}) == "BAD_USER_INPUT"
    bad_first = {"id": room["id"], "first": -1}
    assert await http.error_code(ROOM, bad_first) == "BAD_USER_INPUT"
    big_first = (await http.data(ROOM, {"id": room["id"], "first": 5000}))["room"]
    assert [p["id"] for p in big_first["participants"]] == [alice]
    assert (await http.data(ROOMS))["rooms"][0]["id"] == room["id"]
    blank = {"room": room["id"], "content": " \n\t "}
    assert await http.error_code(SEND_ROOM, blank) == "BAD_USER_INPUT"
    assert (await history(server, alice, room["id"]))["edges"] == []


async def test_unknown_rooms_are_not_found(server: Server, uid) -> None:
    alice = uid("alice")
    http = as_user(server, alice)
    await register(server, alice)
    for room_id in ("999999999", "nope"):
        assert await http.error_code(JOIN_ROOM, {"room": room_id}) == "NOT_FOUND"
        assert await http.error_code(LEAVE_ROOM, {"room": room_id}) == "NOT_FOUND"
        assert await http.error_code(SEND_ROOM, {"room": room_id, "content": "hi"}) == "NOT_FOUND"
        assert await http.error_code(ROOM_HISTORY, {"room": room_id}) == "NOT_FOUND"
        assert await http.error_code(MARK_ROOM_READ, {"room": room_id}) == "NOT_FOUND"
        assert await http.error_code(START_ROOM_TYPING, {"room": room_id}) == "NOT_FOUND"
    socket = await connect(server.ws_url, server.token(alice))
    op = await socket.subscribe(ROOM_EVENTS, {"room": "999999999"})
    error = await socket.receive_for(op)
    assert error["type"] == "error" and error["payload"][0]["extensions"]["code"] == "NOT_FOUND"
    await socket.close()


async def test_messages_history_reads_and_conversations(server: Server, uid) -> None:
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    await register(server, alice, bob, carol)
    room = await create_room(server, alice, bob, carol)
    sent = [await say(server, (alice, bob)[i % 2], room["id"], f"r{i}") for i in range(5)]
    first = sent[0]
    assert [m["seq"] for m in sent] == [1, 2, 3, 4, 5]
    assert first["roomId"] == room["id"] and first["conversationId"] == room["id"]
    assert first["receiverId"] is None and first["status"] == "SENT"
    assert first["sender"] == {"id": alice, "name": "Alice"} and first["isRead"] is True

    # Relay paging: the newest page by default, then forwards and backwards by cursor.
    newest = await history(server, carol, room["id"], last=2)
    assert [e["node"]["content"] for e in newest["edges"]] == ["r3", "r4"]
    assert newest["pageInfo"]["hasPreviousPage"] is True
    older = await history(server, carol, room["id"], last=2, before=newest["edges"][0]["cursor"])
    assert [e["node"]["content"] for e in older["edges"]] == ["r1", "r2"]
    assert older["pageInfo"]["hasNextPage"] is True
    forward = await history(server, carol, room["id"], first=2, after=sent[1]["cursor"])
    assert [e["node"]["seq"] for e in forward["edges"]] == [3, 4]
    everything = await history(server, carol, room["id"])
    assert [e["node"]["id"] for e in everything["edges"]] == [m["id"] for m in sent]
    assert everything["pageInfo"]["hasPreviousPage"] is False
    assert all(e["cursor"] == e["node"]["cursor"] for e in everything["edges"])
    bad_cursor = {"room": room["id"], "after": "garbage"}
    assert await as_user(server, carol).error_code(ROOM_HISTORY, bad_cursor) == "BAD_USER_INPUT"

    # Each member has a read point of their own: carol reads up to 3, bob reads nothing.
    read = (await as_user(server, carol).data(MARK_ROOM_READ, {"room": room["id"], "upTo": 3}))[
        "markRoomRead"
    ]
    assert read["conversationId"] == room["id"] and read["upToSeq"] == 3
    assert read["updatedCount"] == 3
    assert read["conversation"] == {"id": room["id"], "kind": "ROOM", "unreadCount": 2}
    carol_view = await history(server, carol, room["id"])
    assert [e["node"]["isRead"] for e in carol_view["edges"]] == [True, True, True, False, False]
    bob_view = await history(server, bob, room["id"])
    # Bob's own messages (seq 2 and 4) count as read for him; alice's are not.
    assert [e["node"]["isRead"] for e in bob_view["edges"]] == [False, True, False, True, False]
    assert {e["node"]["status"] for e in bob_view["edges"]} == {"SENT"}

    unread = {}
    for member in (alice, bob, carol):
        conversations = (await as_user(server, member).data(CONVERSATIONS))["conversations"]
        [listed] = [c for c in conversations if c["id"] == room["id"]]
        assert listed["kind"] == "ROOM" and listed["peer"] is None
        assert listed["room"] == {"id": room["id"], "name": "general"}
        assert listed["lastMessage"] == {"id": sent[4]["id"], "content": "r4", "seq": 5}
        unread[member] = listed["unreadCount"]
    # Messages from others after each member's own read point.
    assert unread == {alice: 2, bob: 3, carol: 2}
    again = (await as_user(server, carol).data(MARK_ROOM_READ, {"room": room["id"]}))[
        "markRoomRead"
    ]
    assert again["upToSeq"] == 5 and again["updatedCount"] == 2
    assert again["conversation"]["unreadCount"] == 0


async def test_non_members_are_refused_everywhere(server: Server, uid) -> None:
    alice, bob, outsider = uid("alice"), uid("bob"), uid("outsider")
    await register(server, alice, bob, outsider)
    room = await create_room(server, alice, bob)
    http = as_user(server, outsider)
    room_id = room["id"]
    assert await http.error_code(ROOM_HISTORY, {"room": room_id}) == "FORBIDDEN"
    assert await http.error_code(SEND_ROOM, {"room": room_id, "content": "hi"}) == "FORBIDDEN"
    assert await http.error_code(MARK_ROOM_READ, {"room": room_id}) == "FORBIDDEN"
    assert await http.error_code(START_ROOM_TYPING, {"room": room_id}) == "FORBIDDEN"
    assert await http.error_code(STOP_ROOM_TYPING, {"room": room_id}) == "FORBIDDEN"

    socket = await connect(server.ws_url, server.token(outsider))
    events = await socket.subscribe(ROOM_EVENTS, {"room": room_id})
    error = await socket.receive_for(events)
    assert error["type"] == "error" and error["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    messages = await socket.subscribe(NEW_MESSAGE)
    typing = await socket.subscribe(TYPING)
    await asyncio.sleep(SETTLE)
    await say(server, alice, room_id, "members only")
    assert await as_user(server, bob).data(START_ROOM_TYPING, {"room": room_id})
    await socket.expect_nothing(messages, 0.5)
    await socket.expect_nothing(typing, 0.1)
    await socket.close()


async def test_a_joiner_reads_history_and_a_leaver_stops_receiving_at_once(
    server: Server, uid
) -> None:
    alice, bob, carol = uid("alice"), uid("bob"), uid("carol")
    await register(server, alice, bob, carol)
    room = await create_room(server, alice, bob)
    room_id = room["id"]
    before = [await say(server, alice, room_id, f"before {i}") for i in range(3)]

    bob_socket = await connect(server.ws_url, server.token(bob))
    bob_events = await bob_socket.subscribe(ROOM_EVENTS, {"room": room_id})
    carol_socket = await connect(server.ws_url, server.token(carol))
    carol_messages = await carol_socket.subscribe(ROOM_MESSAGE)
    carol_typing = await carol_socket.subscribe(TYPING)
    await asyncio.sleep(SETTLE)

    # A room id with a leading zero names the same room, and the same channels.
    padded = "0" + room_id
    joined = (await as_user(server, carol).data(JOIN_ROOM, {"room": padded}))["joinRoom"]
    assert joined["participantCount"] == 3 and joined["participants"][-1]["id"] == carol
    assert (await bob_socket.next_data(bob_events))["roomEvents"] == {
        "roomId": room_id,
        "userId": carol,
        "kind": "JOINED",
    }
    # Joining again changes nothing and announces nothing.
    assert (await as_user(server, carol).data(JOIN_ROOM, {"room": room_id}))["joinRoom"][
        "participantCount"
    ] == 3
    # The whole history is readable after joining, and none of it counts as unread.
    old = await history(server, carol, room_id)
    assert [e["node"]["id"] for e in old["edges"]] == [m["id"] for m in before]
    conversations = (await as_user(server, carol).data(CONVERSATIONS))["conversations"]
    assert [(c["id"], c["unreadCount"]) for c in conversations] == [(room_id, 0)]

    # Carol's subscriptions, opened before she joined, follow the room at once.
    live = await say(server, bob, room_id, "welcome carol")
    assert (await carol_socket.next_data(carol_messages))["newMessage"] == {
        "id": live["id"],
        "seq": 4,
        "roomId": room_id,
        "content": "welcome carol",
    }
    assert await as_user(server, bob).data(START_ROOM_TYPING, {"room": padded})
    typing = (await carol_socket.next_data(carol_typing))["typing"]
    assert typing == {"userId": bob, "conversationId": room_id, "roomId": room_id, "isTyping": True}
    carol_events = await carol_socket.subscribe(ROOM_EVENTS, {"room": room_id})
    await asyncio.sleep(0.2)

    left = (await as_user(server, carol).data(LEAVE_ROOM, {"room": room_id}))["leaveRoom"]
    assert left["participantCount"] == 2 and carol not in [p["id"] for p in left["participants"]]
    assert (await bob_socket.next_data(bob_events))["roomEvents"]["kind"] == "LEFT"
    # Her roomEvents subscription ends; nothing sent after the leave returned reaches her.
    assert (await carol_socket.receive_for(carol_events))["type"] == "complete"
    await say(server, alice, room_id, "after carol left")
    assert await as_user(server, alice).data(START_ROOM_TYPING, {"room": room_id})
    await carol_socket.expect_nothing(carol_messages, 0.5)
    await carol_socket.expect_nothing(carol_typing, 0.1)
    assert await as_user(server, carol).error_code(ROOM_HISTORY, {"room": room_id}) == "FORBIDDEN"
    assert (await as_user(server, carol).data(ROOMS))["rooms"] == []
    # Leaving again is harmless.
    await as_user(server, carol).data(LEAVE_ROOM, {"room": room_id})
    await bob_socket.expect_nothing(bob_events, 0.3)
    await asyncio.gather(bob_socket.close(), carol_socket.close())


async def test_joins_and_leaves_while_messages_flow(server: Server, uid) -> None:
    alice, bob, carol, dave = uid("alice"), uid("bob"), uid("carol"), uid("dave")
    await register(server, alice, bob, carol, dave)
    room_id = (await create_room(server, alice, bob, dave))["id"]
    sockets = {
        user: await connect(server.ws_url, server.token(user)) for user in (alice, carol, dave)
    }
    subscriptions = {user: await socket.subscribe(ROOM_MESSAGE) for user, socket in sockets.items()}
    await asyncio.sleep(SETTLE)

    total = 40
    seqs: list[int] = []
    changed = {"join": asyncio.Event(), "leave": asyncio.Event()}

    async def flow() -> None:
        for index in range(total):
            seqs.append((await say(server, bob, room_id, f"flow {index}"))["seq"])
            if index == 12:
                changed["join"].set()
            if index == 26:
                changed["leave"].set()

    async def change(event: str, user: str, mutation: str) -> tuple[int, int]:
        """The seqs stored before the change started, and sends begun after it returned."""
        await changed[event].wait()
        stored_before = len(seqs)
        await as_user(server, user).data(mutation, {"room": room_id})
        return stored_before, len(seqs) + 1

    _, join, leave = await asyncio.gather(
        flow(), change("join", carol, JOIN_ROOM), change("leave", dave, LEAVE_ROOM)
    )
    assert seqs == list(range(1, total + 1))

    async def drain(user: str, count: int, timeout: float = 10) -> list[int]:
        return [
            (await sockets[user].next_data(subscriptions[user], timeout))["newMessage"]["seq"]
            for _ in range(count)
        ]

    # Alice is in throughout: all of it, in order.
    assert await drain(alice, total) == seqs
    # Carol gets a gapless run from her join to the end: nothing from before the join
    # started, everything sent after it returned.
    carol_first = (await drain(carol, 1))[0]
    assert join[0] < carol_first <= join[1]
    assert await drain(carol, total - carol_first) == list(range(carol_first + 1, total + 1))
    # Dave gets a gapless run from the start to his leave, and nothing sent after it.
    dave_seqs = await drain(dave, leave[0])
    assert dave_seqs == list(range(1, leave[0] + 1))
    for _ in range(leave[1] - leave[0] - 1):
        try:
            dave_seqs += await drain(dave, 1, timeout=0.3)
        except TimeoutError:
            break
    assert dave_seqs == list(range(1, len(dave_seqs) + 1)) and len(dave_seqs) < leave[1]
    for user, socket in sockets.items():
        await socket.expect_nothing(subscriptions[user], 0.3)
    await asyncio.gather(*(socket.close() for socket in sockets.values()))


async def test_room_typing_is_coalesced_and_stops_by_itself(server: Server, uid) -> None:
    alice, bob = uid("alice"), uid("bob")
    await register(server, alice, bob)
    room_id = (await create_room(server, alice, bob))["id"]
    sockets = [await connect(server.ws_url, server.token(user)) for user in (alice, bob)]
    alice_typing, bob_typing = [await socket.subscribe(TYPING) for socket in sockets]
    await asyncio.sleep(SETTLE)
    alice_http = as_user(server, alice)
    loop = asyncio.get_running_loop()

    # Seven startTyping calls over about 1.5 s reach bob as one event a second at most.
    calls = []
    for _ in range(7):
        calls.append(loop.time())
        assert await alice_http.data(START_ROOM_TYPING, {"room": room_id})
        await asyncio.sleep(0.25)
    events = await _typing_until_stopped(sockets[1], bob_typing)
    stopped_after = loop.time() - calls[-1]
    starts, stop = events[:-1], events[-1]
    assert starts, "the first startTyping is announced at once"
    assert all(e == {"userId": alice, "roomId": room_id, "isTyping": True} for e in starts)
    assert len(starts) <= int(calls[-1] - calls[0] + 0.2) + 1
    assert stop == {"userId": alice, "roomId": room_id, "isTyping": False}
    # It stopped by itself 5 s after the last start (generous bounds on a loaded machine).
    assert 4.5 <= stopped_after <= 12
    await sockets[0].expect_nothing(alice_typing, 0.1)

    # An explicit stop is announced at once.
    assert await alice_http.data(START_ROOM_TYPING, {"room": room_id})
    assert (await sockets[1].next_data(bob_typing))["typing"]["isTyping"] is True
    assert await alice_http.data(STOP_ROOM_TYPING, {"room": room_id})
    assert (await sockets[1].next_data(bob_typing, timeout=2))["typing"]["isTyping"] is False
    await asyncio.gather(*(socket.close() for socket in sockets))


async def _typing_until_stopped(socket: Socket, op: str) -> list[dict[str, Any]]:
    """Typing events of an operation, up to and including the first stop."""
    events: list[dict[str, Any]] = []
    while not events or events[-1]["isTyping"]:
        typing = (await socket.next_data(op, timeout=15))["typing"]
        assert typing["conversationId"] == typing["roomId"]
        events.append({key: typing[key] for key in ("userId", "roomId", "isTyping")})
    return events
