// The generated SDK in use with Apollo Client and urql: tsc checks that variables and
// results are typed from graphql/schema.graphql and graphql/operations/.
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { Client, fetchExchange } from "@urql/core";
import {
  MarkReadDocument,
  MessagesDocument,
  NewMessageDocument,
  SendMessageDocument,
  StartTypingDocument,
  type MessageFieldsFragment,
  type MessageStatus,
} from "../generated/graphql.js";

const apollo = new ApolloClient({
  cache: new InMemoryCache(),
  link: new HttpLink({ uri: "http://127.0.0.1:8000/graphql" }),
});
const urql = new Client({ url: "http://127.0.0.1:8000/graphql", exchanges: [fetchExchange] });

export async function sendWithApollo(to: string, content: string): Promise<number> {
  const { data } = await apollo.mutate({
    mutation: SendMessageDocument,
    variables: { input: { to, content, clientMessageId: "c-1" } },
  });
  const status: MessageStatus | undefined = data?.sendMessage.status;
  void status;
  return data ? data.sendMessage.seq : 0;
}

export function watchWithApollo(after: string | null, seen: (m: MessageFieldsFragment) => void) {
  return apollo.subscribe({ query: NewMessageDocument, variables: { after } }).subscribe({
    next: ({ data }) => data && seen(data.newMessage),
  });
}

export async function historyWithUrql(withUser: string): Promise<string[]> {
  const result = await urql.query(MessagesDocument, { withUser, last: 20 }).toPromise();
  const edges = result.data?.messages.edges ?? [];
  return edges.map((edge) => `${edge.node.sender.name}: ${edge.node.content} @ ${edge.cursor}`);
}

export async function readAndTypeWithUrql(from: string): Promise<number> {
  await urql.mutation(StartTypingDocument, { input: { to: from } }).toPromise();
  const read = await urql.mutation(MarkReadDocument, { input: { from } }).toPromise();
  return read.data?.markRead.updatedCount ?? 0;
}

// @ts-expect-error: `content` is required by SendMessageInput.
export const missingContent = apollo.mutate({ mutation: SendMessageDocument, variables: { input: { to: "bob" } } });
