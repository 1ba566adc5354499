// End-to-end test of the browser example in headless Chromium (Debian's
// `chromium`, driven by playwright-core): loads the page, clicks, checks a
// call result, an error URI and a live event on the page.
//
//   node examples/web/test/e2e.js http://127.0.0.1:PORT/
//
// CHROMIUM names the browser (default /usr/bin/chromium). Exit 0 when every
// check passed; otherwise 1, with the page's text and console.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const url = process.argv[2];
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 30000;

async function main() {
  if (!url) {
    throw new Error("usage: e2e.js URL");
  }
  // A fresh profile each run; the flags suit root on a closed network.
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "wamp-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: TIMEOUT,
  });
  const console_ = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(TIMEOUT);
    page.on("console", (m) => console_.push(m.type() + ": " + m.text()));
    page.on("pageerror", (e) => console_.push("pageerror: " + e.message));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("connected"));
    console.log("page connected: " + (await page.textContent("#status")));

    await page.fill("#item", "1");
    await page.click("#get-name");
    await page.waitForFunction(() => document.getElementById("result").textContent === "banana");
    console.log("call result on the page: " + (await page.textContent("#result")));

    await page.fill("#item", "7");
    await page.click("#get-name");
    await page.waitForFunction(() =>
      document.getElementById("result").textContent.startsWith("com.example.web.error.not_found")
    );
    const error = await page.textContent("#result");
    if (error !== 'com.example.web.error.not_found {"id":7}') {
      throw new Error("unexpected error text: " + error);
    }
    console.log("error on the page: " + error);

    await page.waitForFunction(() => /^#\d+ at \d{4}-/.test(document.getElementById("tick").textContent));
    console.log("event on the page: " + (await page.textContent("#tick")));
    console.log("browser e2e: ok");
  } catch (e) {
    console.error("browser e2e failed: " + e.message);
    for (const page of context.pages()) {
      console.error("--- page text ---\n" + (await page.innerText("body").catch(() => "?")));
    }
    console.error("--- console ---\n" + console_.join("\n"));
    process.exitCode = 1;
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error("browser e2e failed: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
