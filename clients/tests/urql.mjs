// urql with subscriptionExchange over graphql-ws: Bob subscribes, Alice's mutation reaches him.
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { deadline, openConversation, operations, receiveUntil, report, settings } from "./lib.mjs";

deadline(30);
const wsClient = createClient({
  url: settings.ws,
  webSocketImpl: WebSocket,
  connectionParams: { authToken: settings.tokens.bob },
});
const urqlClient = (token) =>
  new Client({
    url: settings.http + "/graphql",
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
      fetchExchange,
    ],
  });
const bob = urqlClient(settings.tokens.bob);
const alice = urqlClient(settings.tokens.alice);

const after = await openConversation();
const received = receiveUntil((onMessage, onError) => {
  const { unsubscribe } = bob
    .subscription(operations.NewMessage, { after })
    .subscribe((result) => (result.error ? onError(result.error) : onMessage(result.data.newMessage)));
  return unsubscribe;
}, "hello over urql");
const result = await alice
  .mutation(operations.SendMessage, { input: { to: settings.users.bob, content: "hello over urql" } })
  .toPromise();
if (result.error) throw result.error;
const messages = await received;
report("received", { sentId: result.data.sendMessage.id, messages });
await wsClient.dispose();
report("done");
