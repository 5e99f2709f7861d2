// The playground page in real Chromium (headless, playwright-core): load it, break a rule and
// see the error at its line, fix it, explain one request of each outcome, import a _redirects
// text, open a shared link, read it at 375 px, draw a loop, and time validation + explain after
// a keystroke with 10,000 rules. A screenshot of each state lands in
// .state/test-output/playground/ (PLAYGROUND_SHOTS to change). Needs scripts/build-js.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, launchChromium } from "../e2e/harness.mjs";
import { serve } from "../../playground/serve.mjs";

const shots = process.env.PLAYGROUND_SHOTS ?? path.join(ROOT, ".state/test-output/playground");
mkdirSync(shots, { recursive: true });

let server;
let browser;
let base;

before(async () => {
  server = await serve(0);
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** A page of the playground, ready (wasm loaded, rules compiled), requests outside refused. */
async function open(url = base, viewport = { width: 1280, height: 1000 }) {
  const context = await browser.newContext({ viewport });
  const outside = [];
  await context.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.hostname !== "127.0.0.1") {
      outside.push(u.href);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(url);
  await page.waitForSelector("body[data-ready]");
  return { page, context, errors, outside };
}

async function shot(page, name) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const state = (page) => page.evaluate(() => ({
  valid: window.playground.validation.valid,
  rules: window.playground.validation.rules,
  errors: window.playground.errorPlaces,
  explanation: window.playground.explanation,
}));

/** Puts the cursor at the first occurrence of `needle` (plus `after` characters). */
async function caretAt(page, needle, after = 0) {
  await page.evaluate(
    ([n, a]) => {
      const editor = document.getElementById("rules");
      const at = editor.value.indexOf(n) + a;
      if (at < a) throw new Error(`${n} not in the editor`);
      editor.focus();
      editor.setSelectionRange(at, at);
    },
    [needle, after],
  );
}

async function ask(page, fields) {
  for (const [name, value] of Object.entries({ method: "GET", country: "", lang: "", random: "", cookies: "", ...fields })) {
    const field = page.locator(`#request [name="${name}"]`);
    if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
    else await field.fill(value);
  }
  return (await state(page)).explanation;
}

test("the playground, state by state", async () => {
  const { page, context, errors, outside } = await open();
  const bundled = JSON.parse(readFileSync(path.join(ROOT, "rules.json"), "utf8"));
  let s = await state(page);
  assert.equal(s.valid, true);
  assert.equal(s.rules, bundled.rules.length, "opens with the bundled rules.json");
  await shot(page, "01-opened");

  // A broken rule typed in: the error is marked at its line, with its message.
  await caretAt(page, '"rules": [', '"rules": ['.length);
  await page.keyboard.press("Enter");
  await page.keyboard.type('{ "id": "typed", "from": "old-page", "to": "/new-page" },');
  const typedLine = await page.evaluate(() => {
    const editor = document.getElementById("rules");
    return editor.value.slice(0, editor.value.indexOf('"typed"')).split("\n").length;
  });
  s = await state(page);
  assert.equal(s.valid, false);
  assert.equal(s.errors.length, 1, JSON.stringify(s.errors));
  assert.equal(s.errors[0].line, typedLine, "the error is placed on the typed rule's line");
  const mark = page.locator(`#marks .mark[data-line="${typedLine}"]`);
  await mark.waitFor({ state: "visible" });
  assert.match(await mark.innerText(), /does not start with `\/`/);
  assert.match(await page.locator("#errors li").first().innerText(), new RegExp(`line ${typedLine}:`));
  await shot(page, "02-error-at-its-place");

  // Fixed: a slash typed before the pattern.
  await caretAt(page, '"old-page"', 1);
  await page.keyboard.type("/");
  s = await state(page);
  assert.equal(s.valid, true, JSON.stringify(s.errors));
  assert.equal(s.rules, bundled.rules.length + 1);
  assert.equal(await page.locator("#marks .mark").count(), 0);
  await shot(page, "03-fixed");

  // One request of each outcome.
  let e = await ask(page, { url: "https://example.com/blog/hello-world" });
  assert.equal(e.outcome, "redirect");
  assert.equal(e.location, "https://example.com/posts/hello-world");
  assert.equal(e.rule, "blog-moved-to-posts");
  assert.match(e.note, /<a href="https:\/\/example.com\/posts\/hello-world">/);
  assert.match(await page.locator("#note").innerText(), /Redirecting to/);
  assert.equal(await page.locator("#decision").getAttribute("data-outcome"), "redirect");
  await shot(page, "04-redirect");

  e = await ask(page, { url: "https://example.com/contact", method: "POST" });
  assert.equal(e.outcome, "forward");
  assert.equal(e.rule, "contact-form-post-redirect-get");
  await shot(page, "05-forward");

  e = await ask(page, { url: "https://example.com/store", country: "US" });
  assert.equal(e.outcome, "origin");
  assert.ok(e.trace.length >= 2, "both store rules were candidates");
  assert.ok(e.trace.every((step) => step.verdict !== "applied"));
  assert.equal(await page.locator("#trace li").count(), e.trace.length);
  await shot(page, "06-origin");

  e = await ask(page, { url: "https://example.com/pricing", random: "0.95" });
  assert.equal(e.outcome, "redirect");
  assert.equal(e.location, "https://example.com/pricing/new");
  assert.match(JSON.stringify(e.headers), /new-pricing/, "the variant is named in the headers");
  const control = await ask(page, { url: "https://example.com/pricing", random: "0.1" });
  assert.equal(control.outcome, "origin", "the control variant stays on the origin");
  await ask(page, { url: "https://example.com/pricing", random: "0.95" });
  await shot(page, "07-split-variant");

  // A _redirects text imported in the page.
  await page.locator("#import-box summary").click();
  await page.locator("#import-format").selectOption("netlify");
  await page.locator("#import-text").fill("/old-shop/*  /shop/:splat  301\n/about  /company  302\n/bad  /x/:nope\n");
  await page.locator("#import-form button").click();
  s = await state(page);
  assert.equal(s.valid, true);
  assert.equal(s.rules, 2, "two of the three lines import");
  assert.match(await page.locator("#import-log").innerText(), /exit 1[\s\S]*not imported[\s\S]*imported 2 rules, 1 rule not imported/);
  e = await ask(page, { url: "https://example.com/old-shop/hats" });
  assert.equal(e.location, "https://example.com/shop/hats");
  await shot(page, "08-imported");

  // The link: rules and request come back in a fresh page.
  await page.waitForFunction(() => !window.playground.saving && location.hash === window.playground.savedHash);
  const link = page.url();
  assert.match(link, /#s=[A-Za-z0-9_-]+$/);
  const rulesText = await page.locator("#rules").inputValue();
  const shared = await open(link);
  assert.equal(await shared.page.locator("#rules").inputValue(), rulesText);
  assert.equal(await shared.page.locator('#request [name="url"]').inputValue(), "https://example.com/old-shop/hats");
  assert.equal((await state(shared.page)).explanation.location, "https://example.com/shop/hats");
  await shot(shared.page, "09-shared-link");
  await shared.context.close();

  assert.deepEqual(errors, []);
  assert.deepEqual(outside, [], "nothing leaves the browser");
  await context.close();
});

test("a file loaded: a Cloudflare CSV is imported in the page, a rules.json opened as it is", async () => {
  const { page, context, errors } = await open();
  await page.locator("#file").setInputFiles({
    name: "bulk.csv",
    mimeType: "text/csv",
    buffer: readFileSync(path.join(ROOT, "tests/cli/import/bulk-reordered.csv")),
  });
  await page.waitForFunction(() => window.playground.lastImport !== undefined);
  assert.equal(await page.locator("#import-format").inputValue(), "cloudflare-csv");
  assert.equal(await page.evaluate(() => window.playground.lastImport.code), 0);
  let s = await state(page);
  assert.equal(s.valid, true);
  const e = await ask(page, { url: "https://example.com/about" });
  assert.equal(e.location, "https://example.com/company");
  await page.locator("#file").setInputFiles(path.join(ROOT, "tests/cli/lint/patterns.json"));
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("loaded"));
  s = await state(page);
  const expected = JSON.parse(readFileSync(path.join(ROOT, "tests/cli/lint/patterns.json"), "utf8"));
  assert.equal(s.rules, expected.rules.length);
  assert.deepEqual(errors, []);
  await context.close();
});

test("readable at 375 px", async () => {
  const { page, context } = await open(base, { width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 375, `page is ${overflow} px wide at 375`);
  const editor = await page.locator("#rules").boundingBox();
  assert.ok(editor.width > 250, `editor ${editor.width} px wide`);
  await shot(page, "10-narrow-375px");
  await context.close();
});

test("a loop drawn, the rule that answered highlighted", async () => {
  const { page, context } = await open();
  const findings = readFileSync(path.join(ROOT, "tests/cli/lint/findings.json"), "utf8");
  await page.locator("#rules").fill(findings);
  await ask(page, { url: "https://example.com/ping" });
  await page.waitForFunction(() => window.playground.lint !== null);
  await page.waitForSelector('#graph g.node[data-rule="ping"]');
  assert.equal(await page.locator('#graph g.node[data-rule="ping"]').getAttribute("class"), "node selected in-loop");
  assert.ok((await page.locator("#graph path.edge.loop").count()) >= 2, "ping → pong → ping");
  assert.ok((await page.locator('#graph path.edge:not(.loop)[data-from="docs-v1"]').count()) >= 1, "a chain");
  assert.ok((await page.locator("#lint li.error").count()) >= 1);
  await shot(page, "11-graph");
  await context.close();
});

test("10,000 rules: validation and explain after each keystroke, timed and printed", async () => {
  const { page, context } = await open();
  const rules = [];
  for (let i = 0; i < 10000; i++) {
    const kind = i % 4;
    if (kind === 0) rules.push({ id: `exact-${i}`, from: `/page-${i}`, to: `/new/page-${i}` });
    else if (kind === 1) rules.push({ id: `param-${i}`, from: `/blog-${i}/:slug`, to: `/posts-${i}/:slug` });
    else if (kind === 2) rules.push({ id: `splat-${i}`, from: `/docs-${i}/*`, to: `https://docs.example.com/${i}/:splat` });
    else rules.push({ id: `geo-${i}`, from: `/store-${i}`, when: { country: ["DE", "AT"] }, to: `/de/store-${i}` });
  }
  const text = JSON.stringify({ version: 1, rules }, null, 2);
  // Pasted: the whole text arrives in one input event.
  await page.evaluate((t) => {
    const editor = document.getElementById("rules");
    editor.value = t;
    editor.dispatchEvent(new InputEvent("input", { inputType: "insertFromPaste" }));
  }, text);
  await page.locator('#request [name="url"]').fill("https://example.com/blog-9997/hello");
  let s = await state(page);
  assert.equal(s.rules, 10000);
  assert.equal(s.explanation.location, "https://example.com/posts-9997/hello");
  const before = await page.evaluate(() => window.playground.timings.length);
  // Keystrokes in the middle of the bundle: a valid edit, a breaking one, the fix.
  await caretAt(page, '"/new/page-5000"', "/new/page-5000".length);
  await page.keyboard.type("b");
  await caretAt(page, '"/page-6000"', 1);
  await page.keyboard.press("Delete");
  s = await state(page);
  assert.equal(s.valid, false, "the broken pattern is an error");
  assert.equal(s.errors.length, 1);
  await page.keyboard.type("/");
  s = await state(page);
  assert.equal(s.valid, true);
  assert.equal(s.explanation.location, "https://example.com/posts-9997/hello");
  for (let k = 0; k < 12; k++) await page.keyboard.type("x");
  const timings = await page.evaluate((n) => window.playground.timings.slice(n), before);
  const parts = await page.evaluate((n) => window.playground.breakdowns.slice(n), before);
  const part = (name) => parts.map((p) => p[name].toFixed(1)).join(", ");
  console.log(
    `# waiting for the main thread: ${part("waited")}; reading the text: ${part("read")}; compile: ${part("compile")}; ` +
      `errors as JSON: ${part("validate")}; errors placed: ${part("place")}; rendered and explained: ${part("rest")} (ms)`);
  assert.equal(timings.length, 15, "one update per keystroke");
  const sorted = [...timings].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  console.log(
    `# 10,000 rules (${(text.length / 1e6).toFixed(2)} MB): validation + explain after a keystroke, ` +
      `median ${median.toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms (${timings.map((t) => t.toFixed(1)).join(", ")})`,
  );
  await page.waitForFunction(() => window.playground.lintMillis !== undefined && window.playground.lint !== null, null, { timeout: 60000 });
  console.log(`# 10,000 rules: lint + graph after a pause in typing, ${(await page.evaluate(() => window.playground.lintMillis)).toFixed(0)} ms`);
  await shot(page, "12-ten-thousand-rules");
  // The target (under 100 ms after a keystroke) is printed, not asserted: a speed figure on
  // a shared machine is a measurement, and the test's job is that each update is right.
  console.log(`# ${median < 100 ? "MET" : "NOT MET"}: median update ${median.toFixed(1)} ms against 100 ms`);
  await context.close();
});
