// Debian's Chromium driven by playwright-core, with the flags this closed network needs.
import { chromium } from "playwright-core";

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}

/** Fails the check on any page error or failed request, which a blank page would hide. */
export function watchPage(page, report) {
  page.on("pageerror", (error) => report("pageerror", { message: String(error) }));
  page.on("requestfailed", (request) => report("requestfailed", { url: request.url() }));
  page.on("console", (message) => {
    if (message.type() === "error") report("console", { text: message.text() });
  });
}
