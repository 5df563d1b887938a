// The demo chat page in two browser contexts: Alice and Bob log in with tokens and chat.
import { deadline, report, settings } from "./lib.mjs";
import { launchChromium, watchPage } from "./browser.mjs";

deadline(90);
const browser = await launchChromium();

async function logIn(name, peer) {
  const context = await browser.newContext({ viewport: { width: 720, height: 640 } });
  const page = await context.newPage();
  watchPage(page, (event, fields) => report(event, { user: name, ...fields }));
  await page.goto(settings.http + "/demo");
  await page.fill("#token", settings.tokens[name]);
  await page.fill("#peer", settings.users[peer]);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#chat:not([hidden])");
  await page.waitForFunction(() => document.getElementById("me").textContent !== "");
  return page;
}

const contents = (page) => page.$$eval("#messages li .content", (items) => items.map((item) => item.textContent));
const waitForMessage = (page, text) =>
  page.waitForFunction(
    (text) => [...document.querySelectorAll("#messages li .content")].some((item) => item.textContent === text),
    text,
    { timeout: 30000 },
  );
async function say(page, text) {
  await page.fill("#content", text);
  await page.press("#content", "Enter");
}

const alice = await logIn("alice", "bob");
const bob = await logIn("bob", "alice");
// Each sees the other online once its subscriptions are live.
await alice.waitForSelector("#status.online", { timeout: 30000 });
await bob.waitForSelector("#status.online", { timeout: 30000 });

await say(alice, "Hi Bob!");
await waitForMessage(bob, "Hi Bob!");
await say(bob, "Hello Alice, how are you?");
await waitForMessage(alice, "Hello Alice, how are you?");
await say(alice, "Great, thanks.");
await waitForMessage(bob, "Great, thanks.");
await waitForMessage(alice, "Great, thanks.");

for (const [name, page] of [["alice", alice], ["bob", bob]]) {
  report("page", {
    user: name,
    me: await page.textContent("#me"),
    status: await page.textContent("#status"),
    messages: await contents(page),
    mine: await page.$$eval("#messages li.mine .content", (items) => items.map((item) => item.textContent)),
    error: await page.textContent("#error"),
  });
  if (settings.screenshots) await page.screenshot({ path: `${settings.screenshots}/demo-${name}.png` });
}
await browser.close();
report("done");
