"""The committed SDL is what `chat-server export-schema` prints, and it keeps API.md's names."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema
from graphql.utilities import find_breaking_changes

from server.cli import export_schema

COMMITTED = Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql"

# The required part of the public contract (API.md), verbatim. Additions are allowed;
# anything here renamed, dropped or retyped is a breaking change.
CONTRACT = """
scalar DateTime

type User {
  id: ID!
  name: String!
  online: Boolean!
  lastSeenAt: DateTime
  isBlocked: Boolean!
}

enum ConversationKind { DIRECT ROOM }
enum MessageStatus { SENT DELIVERED READ }

type Message {
  id: ID!
  conversationId: ID!
  seq: Int!
  senderId: ID!
  sender: User!
  receiverId: ID
  roomId: ID
  content: String!
  timestamp: DateTime!
  isRead: Boolean!
  status: MessageStatus!
  clientMessageId: String
  cursor: String!
}

type PageInfo {
  hasNextPage: Boolean!  hasPreviousPage: Boolean!  startCursor: String  endCursor: String
}
type MessageEdge { cursor: String!  node: Message! }
type MessageConnection { edges: [MessageEdge!]!  pageInfo: PageInfo! }

type Room {
  id: ID!
  name: String!
  participants(first: Int = 200): [User!]!
  participantCount: Int!
  createdAt: DateTime!
}

type Conversation {
  id: ID!
  kind: ConversationKind!
  peer: User
  room: Room
  lastMessage: Message
  unreadCount: Int!
}

type Query {
  me: User!
  user(id: ID!): User
  users(ids: [ID!]!): [User!]!
  messages(withUser: ID!, first: Int, after: String, last: Int, before: String): MessageConnection!
  roomMessages(
    roomId: ID!, first: Int, after: String, last: Int, before: String
  ): MessageConnection!
  conversations(first: Int = 100): [Conversation!]!
  rooms: [Room!]!
  room(id: ID!): Room
}

input SendMessageInput { to: ID!  content: String!  clientMessageId: String }
input SendRoomMessageInput { roomId: ID!  content: String!  clientMessageId: String }
input MarkReadInput { from: ID!  upToSeq: Int }
input MarkRoomReadInput { roomId: ID!  upToSeq: Int }
input TypingInput @oneOf { to: ID  roomId: ID }
input CreateRoomInput { name: String!  participantIds: [ID!] }

type MarkReadPayload {
  conversationId: ID!  conversation: Conversation!  upToSeq: Int!  updatedCount: Int!
}

type Mutation {
  sendMessage(input: SendMessageInput!): Message!
  sendRoomMessage(input: SendRoomMessageInput!): Message!
  markRead(input: MarkReadInput!): MarkReadPayload!
  markRoomRead(input: MarkRoomReadInput!): MarkReadPayload!
  startTyping(input: TypingInput!): Boolean!
  stopTyping(input: TypingInput!): Boolean!
  createRoom(input: CreateRoomInput!): Room!
  joinRoom(roomId: ID!): Room!
  leaveRoom(roomId: ID!): Room!
  blockUser(userId: ID!): User!
  unblockUser(userId: ID!): User!
}

type PresenceEvent { userId: ID!  online: Boolean!  lastSeenAt: DateTime }
type TypingEvent { userId: ID!  conversationId: ID!  roomId: ID  isTyping: Boolean! }
type ReceiptEvent { conversationId: ID!  userId: ID!  status: MessageStatus!  upToSeq: Int! }
enum RoomEventKind { JOINED LEFT }
type RoomEvent { roomId: ID!  userId: ID!  kind: RoomEventKind! }

type Subscription {
  newMessage(after: String): Message!
  presence(userIds: [ID!]): PresenceEvent!
  typing: TypingEvent!
  receipts: ReceiptEvent!
  roomEvents(roomId: ID!): RoomEvent!
}
"""


def test_the_committed_sdl_is_the_exported_one() -> None:
    # What `chat-server export-schema` prints.
    assert export_schema() == COMMITTED.read_text(), (
        "graphql/schema.graphql is stale: chat-server export-schema > graphql/schema.graphql"
    )


def test_the_schema_keeps_every_name_of_the_contract() -> None:
    contract = build_schema(CONTRACT)
    ours = build_schema(COMMITTED.read_text())
    assert find_breaking_changes(contract, ours) == []
    typing_input = ours.get_type("TypingInput")
    assert typing_input is not None and getattr(typing_input, "is_one_of", False)
