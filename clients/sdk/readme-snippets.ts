// The client setups the README shows, type-checked by tsc so that the docs stay right.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient } from "graphql-ws";
import { NewMessageDocument } from "../generated/graphql.js";

declare function getToken(): Promise<string>;

// --- Apollo Client 4 -------------------------------------------------------------------
let resumeAfter: string | null = null; // the newest Message.cursor this client has seen

const wsLink = new GraphQLWsLink(
  createClient({
    url: "wss://chat.example.com/graphql",
    // Evaluated on every (re)connect: a fresh token, and where to resume from.
    connectionParams: async () => ({ authToken: await getToken(), resumeAfter }),
  }),
);
const httpLink = new SetContextLink(async ({ headers }) => ({
  headers: { ...headers, authorization: `Bearer ${await getToken()}` },
})).concat(new HttpLink({ uri: "https://chat.example.com/graphql" }));

export const apollo = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    wsLink,
    httpLink,
  ),
});

apollo.subscribe({ query: NewMessageDocument }).subscribe(({ data }) => {
  if (data) resumeAfter = data.newMessage.cursor;
});

// --- urql ------------------------------------------------------------------------------
let currentToken = "";

const ws = createClient({
  url: "wss://chat.example.com/graphql",
  connectionParams: async () => ({ authToken: (currentToken = await getToken()), resumeAfter }),
});
export const urql = new Client({
  url: "https://chat.example.com/graphql",
  fetchOptions: () => ({ headers: { authorization: `Bearer ${currentToken}` } }),
  exchanges: [
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink) }),
      }),
    }),
    fetchExchange,
  ],
});

// --- multipart subscriptions over HTTP, no WebSocket -----------------------------------
export const apolloOverHttp = new ApolloClient({ cache: new InMemoryCache(), link: httpLink });
export const urqlOverHttp = new Client({
  url: "https://chat.example.com/graphql",
  fetchSubscriptions: true,
  fetchOptions: () => ({ headers: { authorization: `Bearer ${currentToken}` } }),
  exchanges: [fetchExchange],
});
