"""The Python client that ariadne-codegen generates from our schema and operations.

scripts/sdk generates it into clients/generated/python (ariadne-codegen runs in its own
virtualenv); here it runs in the project's environment against a live server.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest

from tests.node import CLIENTS, chat_settings, on_sqlite, require
from tests.servers import Server

GENERATED = CLIENTS / "generated" / "python"


@pytest.fixture
def chat_client(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    require((GENERATED / "chat_client").is_dir(), "the generated Python client", "run scripts/sdk")
    monkeypatch.syspath_prepend(str(GENERATED))
    import chat_client

    return chat_client


def client_for(sdk: ModuleType, server: Server, token: str) -> Any:
    return sdk.ChatClient(
        url=f"{server.http_url}/graphql",
        headers={"Authorization": f"Bearer {token}"},
        ws_url=server.ws_url,
        ws_connection_init_payload={"authToken": token},
    )


@on_sqlite
async def test_the_generated_client_chats_with_typed_results(
    server: Server, uid: Any, chat_client: ModuleType
) -> None:
    settings = chat_settings(server, uid)
    alice_id, bob_id = settings["users"]["alice"], settings["users"]["bob"]
    alice = client_for(chat_client, server, settings["tokens"]["alice"])
    bob = client_for(chat_client, server, settings["tokens"]["bob"])
    send_input = chat_client.SendMessageInput

    me = await bob.me()
    assert (me.me.id, me.me.name, me.me.is_blocked) == (bob_id, "Bob", False)
    first = (await alice.send_message(send_input(to=bob_id, content="first"))).send_message

    async def next_message() -> Any:
        async for event in bob.new_message(after=first.cursor):
            return event.new_message
        raise AssertionError("the subscription ended")

    receiving = asyncio.create_task(next_message())
    sent = (await alice.send_message(send_input(to=bob_id, content="typed hello"))).send_message
    received = await asyncio.wait_for(receiving, 30)
    assert (received.id, received.seq, received.content) == (sent.id, 2, "typed hello")
    assert received.sender_id == alice_id
    assert isinstance(received.timestamp, datetime)
    assert isinstance(received.status, chat_client.MessageStatus)

    history = await bob.messages(with_user=alice_id, last=10)
    assert [edge.node.content for edge in history.messages.edges] == ["first", "typed hello"]
    assert history.messages.edges[-1].cursor == sent.cursor

    read = await bob.mark_read(chat_client.MarkReadInput(from_=alice_id))
    assert (read.mark_read.up_to_seq, read.mark_read.updated_count) == (2, 2)
    assert read.mark_read.conversation.unread_count == 0

    typing = await bob.start_typing(chat_client.TypingInput(to=alice_id))
    assert typing.start_typing is True

    with pytest.raises(chat_client.GraphQLClientGraphQLMultiError) as refused:
        await alice.send_message(send_input(to=uid("nobody"), content="hello?"))
    assert [error.extensions["code"] for error in refused.value.errors] == ["NOT_FOUND"]
