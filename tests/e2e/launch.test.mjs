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

/** The seconds a shared cache may keep `res` (s-maxage, else max-age); 0 when it may not. */
function sharedLifetime(res) {
  const cc = res.headers.get("cache-control") ?? "";
  if (/private|no-store/.test(cc)) return 0;
  const directive = (name) => cc.match(new RegExp(`(?:^|,)\\s*${name}=(\\d+)`))?.[1];
  return Number(directive("s-maxage") ?? directive("max-age") ?? 0);
}

/** What a visitor sees of an answer. */
const seenAs = (res) => `${res.status} ${res.headers.get("location") ?? "(origin)"}`;

test("a cached answer never outlives a window bound: a shared cache in front, the clock moved", async () => {
  const launch = Date.parse("2027-03-01T09:00:00Z") / 1000;
  const close = launch + 600;
  const iso = (t) => new Date(t * 1000).toISOString().replace(".000Z", "Z");
  const bundle = JSON.stringify({
    version: 1,
    rules: [
      { id: "launch", from: "/sale", when: { after: iso(launch), before: iso(close) }, to: "/sale/live", status: 308 },
      { id: "teaser", from: "/sale", to: "/sale/soon" },
    ],
  });
  // A shared cache as RFC 9111 keeps it: a stored answer is served while its age is under its
  // lifetime. Each step restarts the worker with its clock moved to `t`.
  let stored = null;
  const steps = [launch - 100, launch - 1, launch, close - 1, close, close + 3600];
  const seen = [];
  for (const t of steps) {
    const worker = await startWorker({ kvRules: bundle, vars: { REDIRECT_TEST_CLOCK: iso(t) } });
    try {
      const res = await worker.fetch("https://example.com/sale", { redirect: "manual" });
      await res.text();
      const fresh = seenAs(res);
      if (stored && t < stored.until) {
        assert.equal(stored.answer, fresh, `at ${iso(t)} the cache would serve an answer stored at ${iso(stored.at)}`);
      }
      const lifetime = sharedLifetime(res);
      if (lifetime > 0) stored = { answer: fresh, at: t, until: t + lifetime };
      seen.push(`${iso(t)} ${fresh} kept ${lifetime} s`);
    } finally {
      await worker.close();
    }
  }
  // The teaser's answer is kept exactly until the launch; the launch's until the close.
  assert.deepEqual(seen, [
    `${iso(launch - 100)} 308 https://example.com/sale/soon kept 100 s`,
    `${iso(launch - 1)} 308 https://example.com/sale/soon kept 1 s`,
    `${iso(launch)} 308 https://example.com/sale/live kept 600 s`,
    `${iso(close - 1)} 308 https://example.com/sale/live kept 1 s`,
    `${iso(close)} 308 https://example.com/sale/soon kept 86400 s`,
    `${iso(close + 3600)} 308 https://example.com/sale/soon kept 86400 s`,
  ]);
});

test("10,000 ip ranges: an address just outside each range is outside, the edges inside", async () => {
  // Disjoint /24s with a gap of one /24 between each pair, so the address before a range's
  // first and after its last belongs to no range.
  const ranges = Array.from({ length: 10_000 }, (_, i) => {
    const n = (10 << 24) + i * 512;
    return [n, n + 255];
  });
  const dotted = (n) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
  const bundle = JSON.stringify({
    version: 1,
    rules: [{ id: "office", from: "/net", when: { ip: ranges.map(([f]) => `${dotted(f)}/24`) }, to: "/inside" }],
  });
  const worker = await startWorker({ kvRules: bundle });
  try {
    const sample = ranges.filter((_, i) => i % 97 === 0 || i === ranges.length - 1);
    for (const [first, last] of sample) {
      for (const [address, inside] of [
        [first - 1, false],
        [first, true],
        [last, true],
        [last + 1, false],
      ]) {
        const res = await worker.fetch("https://example.com/net", {
          headers: { "cf-connecting-ip": dotted(address) },
          redirect: "manual",
        });
        await res.text();
        assert.equal(res.status === 307, inside, `${dotted(address)}: ${res.status}`);
      }
    }
  } finally {
    await worker.close();
  }
});
