"""The GraphQL documents the tests send, named as clients would name them."""

SEND = """
mutation Send($to: ID!, $content: String!, $cid: String) {
  sendMessage(input: {to: $to, content: $content, clientMessageId: $cid}) {
    id conversationId seq senderId receiverId roomId content timestamp isRead status
    clientMessageId cursor sender { id name }
  }
}
"""

NEW_MESSAGE = """
subscription OnMessage($after: String) {
  newMessage(after: $after) { id conversationId seq senderId receiverId content cursor status }
}
"""

HISTORY = """
query History($with: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(withUser: $with, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id seq content senderId cursor isRead status sender { id name } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

MARK_READ = """
mutation Read($from: ID!, $upTo: Int) {
  markRead(input: {from: $from, upToSeq: $upTo}) {
    conversationId upToSeq updatedCount conversation { id unreadCount }
  }
}
"""

CONVERSATIONS = """
query Conversations($first: Int) {
  conversations(first: $first) {
    id kind unreadCount peer { id name } room { id name } lastMessage { id content seq }
  }
}
"""

PRESENCE = """
subscription Presence($ids: [ID!]) { presence(userIds: $ids) { userId online lastSeenAt } }
"""

TYPING = "subscription { typing { userId conversationId roomId isTyping } }"

RECEIPTS = "subscription { receipts { conversationId userId status upToSeq } }"

START_TYPING = "mutation($to: ID!) { startTyping(input: {to: $to}) }"
STOP_TYPING = "mutation($to: ID!) { stopTyping(input: {to: $to}) }"

BLOCK = "mutation($id: ID!) { blockUser(userId: $id) { id isBlocked } }"
UNBLOCK = "mutation($id: ID!) { unblockUser(userId: $id) { id isBlocked } }"

ROOM_FIELDS = "id name participantCount createdAt participants { id name }"

CREATE_ROOM = f"""
mutation CreateRoom($name: String!, $ids: [ID!]) {{
  createRoom(input: {{name: $name, participantIds: $ids}}) {{ {ROOM_FIELDS} }}
}}
"""

JOIN_ROOM = f"mutation Join($room: ID!) {{ joinRoom(roomId: $room) {{ {ROOM_FIELDS} }} }}"
LEAVE_ROOM = f"mutation Leave($room: ID!) {{ leaveRoom(roomId: $room) {{ {ROOM_FIELDS} }} }}"

ROOM = """
query Room($id: ID!, $first: Int) {
  room(id: $id) { id name participantCount createdAt participants(first: $first) { id } }
}
"""

ROOMS = "query Rooms { rooms { id name participantCount } }"

SEND_ROOM = """
mutation SendRoom($room: ID!, $content: String!, $cid: String) {
  sendRoomMessage(input: {roomId: $room, content: $content, clientMessageId: $cid}) {
    id conversationId seq senderId receiverId roomId content isRead status clientMessageId
    cursor sender { id name }
  }
}
"""

ROOM_HISTORY = """
query RoomHistory($room: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  roomMessages(roomId: $room, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id seq content senderId roomId receiverId cursor isRead status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

MARK_ROOM_READ = """
mutation ReadRoom($room: ID!, $upTo: Int) {
  markRoomRead(input: {roomId: $room, upToSeq: $upTo}) {
    conversationId upToSeq updatedCount conversation { id kind unreadCount }
  }
}
"""

ROOM_EVENTS = """
subscription RoomEvents($room: ID!) { roomEvents(roomId: $room) { roomId userId kind } }
"""

START_ROOM_TYPING = "mutation($room: ID!) { startTyping(input: {roomId: $room}) }"
STOP_ROOM_TYPING = "mutation($room: ID!) { stopTyping(input: {roomId: $room}) }"
