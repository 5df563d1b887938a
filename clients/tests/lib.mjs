// What every client check shares: its settings, the operation documents, and its report.
import { createHmac } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { Kind, parse, print, visit } from "graphql";

/** Settings from pytest: {"http": url, "ws": url, "tokens": {...}, ...}. */
export const settings = JSON.parse(process.argv[2] ?? "{}");

const operationsDir = new URL("../../graphql/operations/", import.meta.url);

function loadOperations() {
  const text = readdirSync(operationsDir)
    .filter((name) => name.endsWith(".graphql"))
    .sort()
    .map((name) => readFileSync(new URL(name, operationsDir), "utf8"))
    .join("\n");
  const definitions = parse(text).definitions;
  const fragments = new Map(
    definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const spreadsOf = (node) => {
    const names = [];
    visit(node, { FragmentSpread: (spread) => void names.push(spread.name.value) });
    return names;
  };
  const documents = {};
  for (const operation of definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)) {
    // A document carries only the fragments it uses: servers refuse unused ones.
    const used = new Set();
    const pending = spreadsOf(operation);
    while (pending.length) {
      const name = pending.pop();
      if (!used.has(name)) {
        used.add(name);
        pending.push(...spreadsOf(fragments.get(name)));
      }
    }
    documents[operation.name.value] = {
      kind: Kind.DOCUMENT,
      definitions: [operation, ...[...used].map((name) => fragments.get(name))],
    };
  }
  return documents;
}

/** graphql/operations/*.graphql as DocumentNodes by operation name. */
export const operations = loadOperations();

/** One line of JSON on stdout, which the pytest side reads. */
export function report(event, fields = {}) {
  console.log(JSON.stringify({ event, ...fields }));
}

/** Fail the check, instead of hanging, when it has not finished in time. */
export function deadline(seconds) {
  setTimeout(() => {
    report("timeout", { seconds });
    process.exit(2);
  }, seconds * 1000).unref();
}

/** An HS256 token signed with the test server's secret, valid for `ttl` seconds from now. */
export function mintToken(sub, name, ttl) {
  const now = Math.floor(Date.now() / 1000);
  const encode = (part) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub, name, iat: now, exp: now + ttl })}`;
  const signature = createHmac("sha256", settings.secret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

/** A plain GraphQL-over-HTTP request with a bearer token: the "other client". */
export async function execute(token, operationName, variables) {
  const response = await fetch(settings.http + "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(operations[operationName]), operationName, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Alice's first message to Bob; its cursor lets a subscription start right after it. */
export async function openConversation() {
  const { sendMessage } = await execute(settings.tokens.alice, "SendMessage", {
    input: { to: settings.users.bob, content: "warm-up" },
  });
  return sendMessage.cursor;
}

/** Alice sends `content` to Bob over plain HTTP; the stored message. */
export async function aliceSends(content) {
  const { sendMessage } = await execute(settings.tokens.alice, "SendMessage", {
    input: { to: settings.users.bob, content },
  });
  return sendMessage;
}

/**
 * Collects the messages a subscription yields until one has `content`.
 * `start(onMessage, onError)` subscribes and returns a function that unsubscribes.
 */
export function receiveUntil(start, content) {
  return new Promise((resolve, reject) => {
    const received = [];
    const stop = start((message) => {
      received.push(message);
      if (message.content === content) {
        queueMicrotask(() => stop());
        resolve(received);
      }
    }, reject);
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
