// The legacy subscriptions-transport-ws client (subprotocol `graphql-ws`).
import transport from "subscriptions-transport-ws";
import { print } from "graphql";
import WebSocket from "ws";
import { aliceSends, deadline, openConversation, operations, receiveUntil, report, settings } from "./lib.mjs";

deadline(30);
const after = await openConversation();
const client = new transport.SubscriptionClient(
  settings.ws,
  { connectionParams: { authToken: settings.tokens.bob }, reconnect: false },
  WebSocket,
);
const received = receiveUntil((onMessage, onError) => {
  const subscription = client
    .request({ query: print(operations.NewMessage), variables: { after } })
    .subscribe({
      next: (result) => (result.errors ? onError(result.errors) : onMessage(result.data.newMessage)),
      error: onError,
    });
  return () => subscription.unsubscribe();
}, "hello over subscriptions-transport-ws");
const sent = await aliceSends("hello over subscriptions-transport-ws");
const messages = await received;
report("received", { sentId: sent.id, messages });
client.close();
report("done");
