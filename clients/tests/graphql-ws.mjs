// graphql-ws's createClient: Bob subscribes, Alice sends over HTTP, Bob receives it.
import { createClient } from "graphql-ws";
import { print } from "graphql";
import WebSocket from "ws";
import { aliceSends, deadline, openConversation, operations, receiveUntil, report, settings } from "./lib.mjs";

deadline(30);
const after = await openConversation();
const client = createClient({
  url: settings.ws,
  webSocketImpl: WebSocket,
  connectionParams: { authToken: settings.tokens.bob },
});
const received = receiveUntil(
  (onMessage, onError) =>
    client.subscribe(
      { query: print(operations.NewMessage), variables: { after } },
      { next: (result) => onMessage(result.data.newMessage), error: onError, complete: () => {} },
    ),
  "hello over graphql-ws",
);
const sent = await aliceSends("hello over graphql-ws");
const messages = await received;
report("received", { sentId: sent.id, messages });
await client.dispose();
report("done");
