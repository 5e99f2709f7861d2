// Time windows and networks in workerd, beyond the shared fixtures: the origin's own caching
// capped at a window's bound, and a clock no request can move.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";

const LAUNCH = JSON.stringify({
  version: 1,
  rules: [
    { id: "launch", from: "/product", when: { after: "2026-12-24T09:00:00Z" }, to: "/product/v2" },
    { id: "ever", from: "/ever", when: { after: "2000-01-01T00:00:00Z", before: "2999-01-01T00:00:00Z" }, to: "/ever/yes" },
    { id: "future", from: "/future", when: { after: "2999-01-01T00:00:00Z" }, to: "/future/yes" },
    { id: "office", from: "/internal", when: { ip: ["192.0.2.0/24"] }, to: "/office" },
  ],
});

/** An origin that lets every cache keep its page for a day. */
async function cacheableOrigin() {
  return new Response("page", {
    status: 200,
    headers: {
      "cache-control": "public, max-age=86400, s-maxage=86400",
      "cdn-cache-control": "max-age=86400",
      "x-origin": "mock",
    },
  });
}

/**
 * Runs `check(get)` against a worker serving LAUNCH with the cacheable origin, its clock set to
 * `clock` (an REDIRECT_TEST_CLOCK binding) when given; `get(path, headers)` answers with the
 * response, its body read.
 */
async function withLaunch(clock, check) {
  const worker = await startWorker({
    kvRules: LAUNCH,
    origin: cacheableOrigin,
    vars: clock === undefined ? undefined : { REDIRECT_TEST_CLOCK: clock },
  });
  const get = async (path, headers = {}) => {
    const res = await worker.fetch(`https://example.com${path}`, { headers });
    await res.text();
    return res;
  };
  try {
    await check(get, worker);
  } finally {
    await worker.close();
  }
}

test("before a launch, the origin's page is cached no longer than the launch", () =>
  withLaunch("2026-12-24T08:00:00Z", async (get) => {
    const res = await get("/product");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-origin"), "mock");
    assert.equal(res.headers.get("cache-control"), "public, max-age=3600, s-maxage=3600");
    assert.equal(res.headers.get("cdn-cache-control"), null);
    // A path without windows keeps the origin's caching.
    const other = await get("/elsewhere");
    assert.equal(other.headers.get("cache-control"), "public, max-age=86400, s-maxage=86400");
    assert.equal(other.headers.get("cdn-cache-control"), "max-age=86400");
  }));

test("at the launch instant the rule applies, and its 307 is not stored", () =>
  withLaunch("2026-12-24T09:00:00Z", async (get, worker) => {
    const res = await get("/product");
    assert.equal(res.status, 307);
    assert.equal(res.headers.get("location"), "https://example.com/product/v2");
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    assert.equal(worker.seen.length, 0);
  }));

test("without the binding the real clock decides, whatever a request says", () =>
  withLaunch(undefined, async (get) => {
    const forged = {
      "redirect-test-clock": "3000-01-01T00:00:00Z",
      "x-redirect-test-clock": "3000-01-01T00:00:00Z",
      date: "Wed, 01 Jan 3000 00:00:00 GMT",
    };
    assert.equal((await get("/ever", forged)).status, 307, "a window around now is open");
    const future = await get("/future", forged);
    assert.equal(future.status, 200, "no request header opens a window in the future");
  }));

test("a test clock that is not an instant is ignored for the real clock", () =>
  withLaunch("tomorrow", async (get) => {
    assert.equal((await get("/ever")).status, 307);
  }));

test("CF-Connecting-IP decides an ip rule; X-Forwarded-For and True-Client-IP do not", () =>
  withLaunch(undefined, async (get) => {
    const inside = await get("/internal", { "cf-connecting-ip": "::ffff:192.0.2.8" });
    assert.equal(inside.status, 307);
    const forged = await get("/internal", {
      "cf-connecting-ip": "203.0.113.1",
      "x-forwarded-for": "192.0.2.8",
      "true-client-ip": "192.0.2.8",
    });
    assert.equal(forged.status, 200);
    assert.equal(forged.headers.get("cache-control"), "private, max-age=86400");
  }));
