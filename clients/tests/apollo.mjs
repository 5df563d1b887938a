// Apollo Client 4 with GraphQLWsLink: a subscription receives a message sent by a mutation;
// when the token expires the server closes with 4403 and the link reconnects with a fresh
// token and `resumeAfter`, so the next message arrives once, with nothing lost.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { deadline, mintToken, openConversation, operations, report, settings, sleep } from "./lib.mjs";

deadline(60);
const http = settings.http + "/graphql";
// Bob's first connection gets a token that expires 3 s after it is made; later ones get
// the long-lived token, as an app would fetch a fresh one.
let firstConnection = true;
const bobToken = () => {
  if (!firstConnection) return settings.tokens.bob;
  firstConnection = false;
  return mintToken(settings.users.bob, "Bob", 3);
};
let resumeAfter = null;
const closeCodes = [];
let connections = 0;

const wsClient = createClient({
  url: settings.ws,
  webSocketImpl: WebSocket,
  connectionParams: () => ({ authToken: bobToken(), resumeAfter }),
  retryWait: () => sleep(200),
  on: {
    connected: () => void connections++,
    closed: (event) => void closeCodes.push(event.code),
  },
});
const isSubscription = ({ query }) => {
  const definition = getMainDefinition(query);
  return definition.kind === "OperationDefinition" && definition.operation === "subscription";
};
const bob = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.split(
    isSubscription,
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: http, headers: { authorization: `Bearer ${settings.tokens.bob}` } }),
  ),
});
const alice = new ApolloClient({
  cache: new InMemoryCache(),
  link: new HttpLink({ uri: http, headers: { authorization: `Bearer ${settings.tokens.alice}` } }),
});

const send = async (content) => {
  const { data } = await alice.mutate({
    mutation: operations.SendMessage,
    variables: { input: { to: settings.users.bob, content } },
  });
  return data.sendMessage;
};

const after = await openConversation();
const received = [];
const waiters = [];
const subscription = bob.subscribe({ query: operations.NewMessage, variables: { after } }).subscribe({
  next: ({ data, error }) => {
    if (error) throw error;
    received.push(data.newMessage);
    resumeAfter = data.newMessage.cursor;
    for (const waiter of waiters.splice(0)) waiter();
  },
  error: (error) => {
    report("error", { message: String(error) });
    process.exit(1);
  },
});
const until = async (predicate) => {
  while (!predicate()) await new Promise((resolve) => waiters.push(resolve) && setTimeout(resolve, 100));
};

const first = await send("before expiry");
await until(() => received.some((message) => message.id === first.id));
report("received", { phase: "before expiry", messages: received.map((m) => m.content), connections, closeCodes });

await until(() => closeCodes.length > 0);
report("closed", { codes: closeCodes });
const second = await send("after reconnect");
await until(() => received.some((message) => message.id === second.id));
await sleep(500); // room for a duplicate to show up, if the server sent one
report("received", {
  phase: "after reconnect",
  messages: received.map((m) => m.content),
  connections,
  closeCodes,
});

const { data } = await bob.query({ query: operations.Me });
report("query", { me: data.me.id });
subscription.unsubscribe();
await wsClient.dispose();
report("done");
