// The worker's own behaviour in workerd: passthrough, Post-Redirect-Get through the origin,
// the KV override, HEAD, A/B cookies, and resilience to hostile requests and a dead origin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { ROOT, startWorker } from "./harness.mjs";

const BUNDLE = readFileSync(path.join(ROOT, "tests/e2e/bundle.json"), "utf8");
const SITE = "https://example.com";

/** Runs `body` against a fresh worker and always disposes of it. */
async function withWorker(options, body) {
  const worker = await startWorker(options);
  try {
    await body(worker);
  } finally {
    await worker.close();
  }
}

/** An origin that answers `status` with `headers` and a short text body. */
function originAnswering(status, headers = {}) {
  return async (_req, seen) =>
    new Response(`origin answered ${status} to ${seen.method} ${new URL(seen.url).pathname}`, {
      status,
      headers: { "x-origin": "mock", ...headers },
    });
}

// The embedded rules.json has this rule: /blog/:slug -> /posts/:slug (308).
async function assertEmbeddedBundle(worker) {
  const res = await worker.fetch(`${SITE}/blog/hello?ref=mail`);
  await res.arrayBuffer();
  assert.equal(res.status, 308);
  assert.equal(res.headers.get("location"), `${SITE}/posts/hello?ref=mail`);
  assert.equal(worker.seen.length, 0);
}

test("embedded bundle: served when no KV namespace is bound", () =>
  withWorker({ kv: false }, assertEmbeddedBundle));

test("KV missing: the embedded bundle serves while the key is absent", () =>
  withWorker({}, assertEmbeddedBundle));

test("KV override: the bundle under REDIRECT_RULES/rules.json replaces the embedded one", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    const res = await worker.fetch(`${SITE}/old/page`);
    await res.arrayBuffer();
    assert.equal(res.status, 308);
    assert.equal(res.headers.get("location"), `${SITE}/new/page`);
    const embedded = await worker.fetch(`${SITE}/blog/hello`);
    assert.equal(embedded.status, 200, "the embedded rules are not in force");
    await embedded.arrayBuffer();
    assert.equal(worker.seen.length, 1);
  }));

test("KV override: read at most once per isolate per 60 s", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    const first = await worker.fetch(`${SITE}/old/a`);
    await first.arrayBuffer();
    assert.equal(first.status, 308);
    const ns = await worker.mf.getKVNamespace("REDIRECT_RULES");
    await ns.put("rules.json", JSON.stringify({ version: 1, rules: [] }));
    const second = await worker.fetch(`${SITE}/old/a`);
    await second.arrayBuffer();
    assert.equal(second.status, 308, "the bundle read a moment ago is still in force");
  }));

for (const [what, value] of [
  ["not JSON", "{ this is not json"],
  ["invalid bundle", JSON.stringify({ version: 2, rules: [{ id: "x", from: "nope", to: "/" }] })],
  ["empty value", ""],
]) {
  test(`KV bad value (${what}): ignored, the embedded bundle keeps serving`, () =>
    withWorker({ kvRules: value }, assertEmbeddedBundle));
}

test("passthrough: method, headers and body reach the origin; its answer comes back", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    const res = await worker.fetch(`${SITE}/api/items?x=1`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-request-id": "abc" },
      body: JSON.stringify({ name: "Ada" }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-origin"), "mock");
    const echoed = await res.json();
    assert.equal(echoed.method, "PUT");
    assert.equal(echoed.url, `${SITE}/api/items?x=1`);
    assert.equal(echoed.body, '{"name":"Ada"}');
    assert.equal(echoed.headers["x-request-id"], "abc");
    assert.equal(worker.seen.length, 1);
  }));

test("passthrough: the origin's status, headers and body pass unchanged", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    worker.origin = originAnswering(404, { "cache-control": "no-cache" });
    const res = await worker.fetch(`${SITE}/missing`, { method: "POST", body: "a=1" });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(await res.text(), "origin answered 404 to POST /missing");
    assert.equal(worker.seen[0].body, "a=1");
  }));

test("PRG: origin 2xx becomes a 303 to the rule's target", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    worker.origin = originAnswering(200);
    const res = await worker.fetch(`${SITE}/contact`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=Ada&msg=hi",
    });
    await res.arrayBuffer();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `${SITE}/contact/thanks`);
    assert.equal(worker.seen.length, 1, "the origin handled the POST first");
    assert.equal(worker.seen[0].method, "POST");
    assert.equal(worker.seen[0].body, "name=Ada&msg=hi");
  }));

test("PRG: origin 201 with Location, rule without target: 303 to the origin's Location", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    worker.origin = originAnswering(201, { location: "/accounts/7" });
    const res = await worker.fetch(`${SITE}/signup`, { method: "POST", body: "user=ada" });
    await res.arrayBuffer();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `${SITE}/accounts/7`);
    assert.equal(worker.seen[0].body, "user=ada");
  }));

test("PRG: origin 201 with Location, rule with target: 303 to the rule's target", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    worker.origin = originAnswering(201, { location: "/messages/9" });
    const res = await worker.fetch(`${SITE}/contact`, { method: "POST", body: "m=1" });
    await res.arrayBuffer();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `${SITE}/contact/thanks`);
  }));

test("PRG: origin 422 (form errors) passes through unchanged", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    worker.origin = originAnswering(422, { "content-type": "text/plain" });
    const res = await worker.fetch(`${SITE}/contact`, { method: "POST", body: "name=" });
    assert.equal(res.status, 422);
    assert.equal(res.headers.get("location"), null);
    assert.equal(await res.text(), "origin answered 422 to POST /contact");
  }));

test("PRG: an origin redirect (3xx) passes through unchanged, never followed", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    worker.origin = originAnswering(302, { location: "/login" });
    const res = await worker.fetch(`${SITE}/contact`, { method: "POST", body: "m=1" });
    await res.arrayBuffer();
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "/login");
    assert.equal(worker.seen.length, 1, "the origin's redirect is the visitor's to follow");
  }));

test("passthrough: an origin redirect reaches the visitor as it is", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    worker.origin = originAnswering(301, { location: `${SITE}/elsewhere` });
    const res = await worker.fetch(`${SITE}/moved-by-origin`);
    await res.arrayBuffer();
    assert.equal(res.status, 301);
    assert.equal(res.headers.get("location"), `${SITE}/elsewhere`);
    assert.equal(worker.seen.length, 1);
  }));

test("HEAD: a redirect has no body", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    const res = await worker.fetch(`${SITE}/old/page`, { method: "HEAD" });
    assert.equal(res.status, 308);
    assert.equal(res.headers.get("location"), `${SITE}/new/page`);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    const get = await worker.fetch(`${SITE}/old/page`);
    assert.ok((await get.text()).includes(`${SITE}/new/page`), "GET carries the HTML note");
  }));

test("A/B: a fresh visitor is assigned, the cookie is set and then honoured", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    // Weights control 0 / new 1: a fresh visitor always lands in "new".
    const fresh = await worker.fetch(`${SITE}/pricing`);
    await fresh.arrayBuffer();
    assert.equal(fresh.status, 307);
    assert.equal(fresh.headers.get("location"), `${SITE}/pricing-v2`);
    const cookie = fresh.headers.get("set-cookie");
    assert.match(cookie, /^ab_pricing=new; Path=\/; Max-Age=\d+; SameSite=Lax; HttpOnly; Secure$/);

    const again = await worker.fetch(`${SITE}/pricing`, { headers: { cookie: "ab_pricing=new" } });
    await again.arrayBuffer();
    assert.equal(again.status, 307);
    assert.equal(again.headers.get("set-cookie"), null, "an assigned visitor is not reassigned");

    // A visitor holding "control" keeps it, although its weight is 0: the origin answers.
    const control = await worker.fetch(`${SITE}/pricing`, {
      headers: { cookie: "theme=dark; ab_pricing=control" },
    });
    assert.equal(control.status, 200);
    assert.equal(control.headers.get("set-cookie"), null);
    assert.equal((await control.json()).url, `${SITE}/pricing`);
    assert.equal(worker.seen.length, 1);
  }));

test("A/B: a variant that stays passes to the origin, whose cookies are kept beside the assignment", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    // Weights stay 1 / new 0: a fresh visitor always stays on the origin's page.
    worker.origin = originAnswering(200, {
      "set-cookie": "session=abc; Path=/",
      "cache-control": "public, max-age=600",
    });
    const fresh = await worker.fetch(`${SITE}/welcome`, { method: "POST", body: "x=1" });
    assert.equal(fresh.status, 200);
    assert.equal(await fresh.text(), "origin answered 200 to POST /welcome");
    assert.deepEqual(fresh.headers.getSetCookie(), [
      "session=abc; Path=/",
      "ab_welcome=stay; Path=/; Max-Age=2592000; SameSite=Lax; HttpOnly; Secure",
    ]);
    assert.equal(
      fresh.headers.get("cache-control"),
      "private, no-store",
      "a page carrying a fresh assignment is never stored by a shared cache",
    );
    assert.equal(worker.seen[0].body, "x=1", "the body still reaches the origin");

    const again = await worker.fetch(`${SITE}/welcome`, { headers: { cookie: "ab_welcome=stay" } });
    await again.arrayBuffer();
    assert.equal(again.status, 200);
    assert.deepEqual(again.headers.getSetCookie(), ["session=abc; Path=/"], "no reassignment");
    // Another visitor's cookie could pick the other variant: the page stays private, with what
    // the origin allows the visitor's own browser kept.
    assert.equal(again.headers.get("cache-control"), "private, max-age=600");
    assert.equal(again.headers.get("vary"), "Cookie");
  }));

test("hostile requests never produce a 500", () =>
  withWorker({ kvRules: BUNDLE }, async (worker) => {
    const urls = [
      `${SITE}/old/%FF%FE`,
      `${SITE}/old/%00`,
      `${SITE}/old/${"a".repeat(8000)}`,
      `${SITE}/old/%0D%0ALocation:%20https://evil.example`,
      `${SITE}/pricing?%%%`,
      `${SITE}/${"x/".repeat(2000)}`,
    ];
    for (const url of urls) {
      const res = await worker.fetch(url, {
        headers: { cookie: "ab_pricing=%FF; =; ;;", "accept-language": "*;q=abc,,", "x-big": "v".repeat(6000) },
        cf: { country: 42, city: { nested: true } },
      });
      await res.arrayBuffer();
      assert.notEqual(res.status, 500, url.slice(0, 80));
      if (res.status >= 300 && res.status < 400) {
        assert.ok(!/[\r\n]/.test(res.headers.get("location")), "no header injection");
      }
    }
  }));

test("an unreachable origin answers 502, not 500", async () => {
  // A loopback port nothing listens on: the origin fetch fails in workerd's network stack.
  const closed = await new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  await withWorker({ kvRules: BUNDLE, network: ["127.0.0.1/32"] }, async (worker) => {
    const res = await worker.fetch(`http://127.0.0.1:${closed}/not-a-rule`);
    await res.arrayBuffer();
    assert.equal(res.status, 502);
    const redirect = await worker.fetch(`http://127.0.0.1:${closed}/old/x`);
    await redirect.arrayBuffer();
    assert.equal(redirect.status, 308, "redirects still answer without an origin");
  });
});

test("ORIGIN variable: passthrough reaches that server for real, redirects keep the visitor's host", async () => {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, host: req.headers.host, body });
      if (req.url === "/go-away") {
        res.writeHead(302, { location: "/elsewhere" });
        return res.end();
      }
      res.writeHead(201, { "x-served-by": "loopback-origin" });
      res.end(`origin saw ${req.method} ${req.url}`);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  try {
    await withWorker(
      { kvRules: BUNDLE, network: ["127.0.0.1/32"], vars: { ORIGIN: `http://127.0.0.1:${port}` } },
      async (worker) => {
        const res = await worker.fetch(`${SITE}/orders/new?draft=1`, { method: "POST", body: "qty=2" });
        assert.equal(res.status, 201);
        assert.equal(res.headers.get("x-served-by"), "loopback-origin");
        assert.equal(await res.text(), "origin saw POST /orders/new?draft=1");
        assert.deepEqual(received, [
          { method: "POST", url: "/orders/new?draft=1", host: `127.0.0.1:${port}`, body: "qty=2" },
        ]);
        const redirect = await worker.fetch(`${SITE}/old/a`);
        await redirect.arrayBuffer();
        assert.equal(redirect.headers.get("location"), `${SITE}/new/a`);
        const away = await worker.fetch(`${SITE}/go-away`);
        await away.arrayBuffer();
        assert.equal(away.status, 302, "the origin's redirect is passed on, not followed");
        assert.equal(received.length, 2);
      },
    );
  } finally {
    server.close();
  }
});
