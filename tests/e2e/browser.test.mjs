// A real browser (Chromium, headless, driven by playwright-core) against the built worker served
// by workerd on loopback. The mock origin serves the forms and echoes what reaches it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, launchChromium, startWorker } from "./harness.mjs";

function formPage(action, fields) {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input name="${name}" value="${value}">`)
    .join("");
  return `<!doctype html><title>form</title>
    <form method="post" action="${action}">${inputs}<button id="send">Send</button></form>`;
}

/** The origin: /form-* pages hold forms, everything else echoes method, path and body. */
async function origin(_request, seen) {
  const url = new URL(seen.url);
  const html = (body) =>
    new Response(`<!doctype html><title>origin</title>${body}`, {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  if (seen.method === "GET" && url.pathname === "/contact-form") {
    return html(formPage("/contact", { name: "Ada", msg: "hello" }));
  }
  if (seen.method === "GET" && url.pathname === "/old-form-page") {
    return html(formPage("/form-old", { name: "Grace", topic: "compilers" }));
  }
  return html(
    `<pre id="echo">${JSON.stringify({ method: seen.method, path: url.pathname, body: seen.body })}</pre>`,
  );
}

let worker;
let browser;

before(async () => {
  worker = await startWorker({
    kvRules: readFileSync(path.join(ROOT, "tests/e2e/bundle.json"), "utf8"),
    origin,
    port: 0,
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await worker?.close();
});

/** Opens a page that records every response of the main frame's navigation chain. */
async function openPage() {
  const page = await browser.newPage();
  const chain = [];
  page.on("response", (res) => {
    if (res.request().isNavigationRequest()) {
      chain.push({ status: res.status(), method: res.request().method(), url: res.url() });
    }
  });
  return { page, chain };
}

async function echoed(page) {
  return JSON.parse(await page.locator("#echo").textContent());
}

test("form POST to a PRG rule: the origin handles it, the browser ends on a GET of the target (303)", async () => {
  const { page, chain } = await openPage();
  worker.seen.length = 0;
  await page.goto(new URL("/contact-form", worker.url).href);
  await Promise.all([page.waitForURL("**/contact/thanks"), page.click("#send")]);
  const seen = worker.seen
    .filter((s) => new URL(s.url).pathname !== "/favicon.ico")
    .map((s) => `${s.method} ${new URL(s.url).pathname} ${s.body ?? ""}`);
  assert.deepEqual(seen, [
    "GET /contact-form ",
    "POST /contact name=Ada&msg=hello",
    "GET /contact/thanks ",
  ]);
  assert.deepEqual(await echoed(page), { method: "GET", path: "/contact/thanks", body: null });
  assert.ok(chain.some((r) => r.status === 303 && r.method === "POST"), JSON.stringify(chain));
  await page.close();
});

test("form POST to a 307 rule arrives at the target as a POST with the same body", async () => {
  const { page, chain } = await openPage();
  worker.seen.length = 0;
  await page.goto(new URL("/old-form-page", worker.url).href);
  await Promise.all([page.waitForURL("**/form-new"), page.click("#send")]);
  assert.deepEqual(await echoed(page), {
    method: "POST",
    path: "/form-new",
    body: "name=Grace&topic=compilers",
  });
  assert.ok(chain.some((r) => r.status === 307), JSON.stringify(chain));
  assert.ok(!worker.seen.some((s) => new URL(s.url).pathname === "/form-old"), "the edge answered");
  await page.close();
});

test("GET to a 308 rule lands on the new URL", async () => {
  const { page, chain } = await openPage();
  const response = await page.goto(new URL("/old/launch?ref=news", worker.url).href);
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, "/new/launch?ref=news");
  assert.equal(response.status(), 200);
  assert.deepEqual(await echoed(page), { method: "GET", path: "/new/launch", body: null });
  assert.equal(chain[0].status, 308, JSON.stringify(chain));
  await page.close();
});
