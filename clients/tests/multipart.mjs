// Subscriptions over plain HTTP (multipart/mixed), for networks that block WebSockets:
// Apollo Client's HttpLink speaks it natively, urql with `fetchSubscriptions`. Same auth.
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { Client, fetchExchange } from "@urql/core";
import { aliceSends, deadline, openConversation, operations, receiveUntil, report, settings } from "./lib.mjs";

deadline(40);
const http = settings.http + "/graphql";
const headers = (token) => ({ authorization: `Bearer ${token}` });

function apolloSubscription(token, variables) {
  const client = new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: http, headers: headers(token) }) });
  return (onMessage, onError) => {
    const subscription = client.subscribe({ query: operations.NewMessage, variables }).subscribe({
      next: ({ data, error }) => (error ? onError(error) : onMessage(data.newMessage)),
      error: onError,
    });
    return () => subscription.unsubscribe();
  };
}

function urqlSubscription(token, variables) {
  const client = new Client({
    url: http,
    fetchSubscriptions: true,
    fetchOptions: { headers: headers(token) },
    exchanges: [fetchExchange],
  });
  return (onMessage, onError) => {
    const { unsubscribe } = client
      .subscription(operations.NewMessage, variables)
      .subscribe((result) => (result.error ? onError(result.error) : onMessage(result.data.newMessage)));
    return unsubscribe;
  };
}

const clients = { apollo: apolloSubscription, urql: urqlSubscription };
for (const [name, subscribe] of Object.entries(clients)) {
  const after = await openConversation();
  const content = `hello over multipart to ${name}`;
  const received = receiveUntil(subscribe(settings.tokens.bob, { after }), content);
  const sent = await aliceSends(content);
  report("received", { client: name, sentId: sent.id, messages: await received });

  // A bad token: the stream's first result is UNAUTHENTICATED, nothing else.
  const refused = await new Promise((resolve) => {
    const stop = subscribe("not-a-token", {})(
      (message) => resolve({ message }),
      (error) => {
        resolve({ codes: (error.graphQLErrors ?? error.errors ?? []).map((e) => e.extensions?.code) });
        queueMicrotask(() => stop());
      },
    );
  });
  report("refused", { client: name, ...refused });
}
report("done");
