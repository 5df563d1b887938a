// GraphiQL in headless Chromium: open /graphql, put Bob's token in the headers editor,
// start a subscription, let Alice send a message from another client, see it appear.
import { aliceSends, deadline, openConversation, report, settings } from "./lib.mjs";
import { launchChromium, watchPage } from "./browser.mjs";

deadline(90);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
watchPage(page, report);
await page.goto(settings.http + "/graphql");

const editor = (selector) => `${selector} .graphiql-editor:not(.hidden) .CodeMirror`;
const queryEditor = editor(".graphiql-query-editor");
const headersEditor = editor(".graphiql-editor-tool");
async function typeInto(selector, text) {
  await page.click(selector);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}
const valueOf = (selector) => page.$eval(selector, (element) => element.CodeMirror.getValue());

await page.waitForSelector(queryEditor, { timeout: 30000 });
await page.getByRole("button", { name: "Headers" }).click();
await typeInto(headersEditor, JSON.stringify({ Authorization: `Bearer ${settings.tokens.bob}` }));
const after = await openConversation();
await typeInto(
  queryEditor,
  `subscription Watch {\n  newMessage(after: "${after}") { id senderId content }\n}`,
);
report("editors", { headers: await valueOf(headersEditor), query: await valueOf(queryEditor) });
await page.click(".graphiql-execute-button");

const sent = await aliceSends("hello in GraphiQL");
const response = ".graphiql-response .CodeMirror";
await page.waitForFunction(
  ([selector, id]) => document.querySelector(selector)?.CodeMirror.getValue().includes(id),
  [response, sent.id],
  { timeout: 30000 },
);
report("response", { sentId: sent.id, result: JSON.parse(await valueOf(response)) });
if (settings.screenshot) await page.screenshot({ path: settings.screenshot });
await browser.close();
report("done");
