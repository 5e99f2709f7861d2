// Replays every tests/fixtures/decisions/*.json file against the built worker in workerd.
// Each file's bundle is served through the KV override (REDIRECT_RULES/rules.json) by a fresh
// worker, so the embedded bundle and the 60 s KV cache never leak from one file to the next.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { ROOT, readJson, startWorker } from "./harness.mjs";

const DIR = "tests/fixtures/decisions";
const files = readdirSync(path.join(ROOT, DIR)).filter((f) => f.endsWith(".json")).sort();

/** Where the mock origin points when a forward rule has no `to` of its own. */
const ORIGIN_LOCATION = "/from-origin";

function mentionsDebugHeader(fixture) {
  return fixture.cases.some((c) =>
    [...(c.expect.absent_headers ?? []), ...Object.keys(c.expect.headers ?? {})].some(
      (h) => h.toLowerCase() === "x-redirect-rule",
    ),
  );
}

/**
 * The bundle served for a file. When the file says nothing about the debug header, it is
 * switched on so that every answer names its rule and `expect.rule` can be checked too.
 */
function bundleFor(fixture) {
  const bundle = structuredClone(fixture.bundle ?? readJson(fixture.bundle_file));
  const checkRule = bundle.settings?.debug_header === undefined && !mentionsDebugHeader(fixture);
  if (checkRule) bundle.settings = { ...(bundle.settings ?? {}), debug_header: true };
  return { text: JSON.stringify(bundle), checkRule };
}

function checkHeaders(res, expect, where) {
  for (const [name, value] of Object.entries(expect.headers ?? {})) {
    assert.equal(res.headers.get(name), value, `${where}: header ${name}`);
  }
  for (const name of expect.absent_headers ?? []) {
    assert.equal(res.headers.get(name), null, `${where}: header ${name} must be absent`);
  }
}

async function replay(worker, c, checkRule) {
  const { request, expect } = c;
  const method = (request.method ?? "GET").toUpperCase();
  worker.seen.length = 0;
  let originLocation = null;
  worker.origin = async (_req, seen) => {
    const headers = { "content-type": "application/json", "x-origin": "mock" };
    if (expect.outcome === "forward" && expect.location === null) {
      headers.location = ORIGIN_LOCATION;
      originLocation = new URL(ORIGIN_LOCATION, request.url).href;
    }
    return new Response(method === "HEAD" ? null : JSON.stringify(seen), { status: 200, headers });
  };
  // `ip` is what Cloudflare puts in CF-Connecting-IP; `asn` is cf.asn; `at` is the worker's
  // test clock, set for the whole worker (see `clocks`).
  const headers = { ...(request.headers ?? {}) };
  if (request.ip !== undefined) headers["cf-connecting-ip"] = request.ip;
  const cf = request.asn === undefined ? request.cf : { ...(request.cf ?? {}), asn: request.asn };
  const res = await worker.fetch(request.url, {
    method: request.method ?? "GET",
    headers,
    cf,
  });
  const body = await res.text();

  if (expect.outcome === "redirect") {
    assert.equal(worker.seen.length, 0, "a redirect is answered at the edge, not by the origin");
    if (expect.status !== undefined) assert.equal(res.status, expect.status, "status");
    else assert.ok([301, 302, 303, 307, 308].includes(res.status), `status ${res.status}`);
    if (expect.location !== undefined) {
      assert.equal(res.headers.get("location"), expect.location, "location");
    }
    if (expect.body === true) assert.ok(body.length > 0, "the redirect carries an HTML note");
    if (expect.body === false) assert.equal(body, "", "no body");
  } else {
    assert.equal(worker.seen.length, 1, "the request reaches the origin exactly once");
    assert.equal(worker.seen[0].method, method, "the origin sees the same method");
    assert.equal(worker.seen[0].url, new URL(request.url).href, "the origin sees the same URL");
    if (expect.outcome === "origin") {
      assert.equal(res.status, 200, "the origin's answer passes through");
      assert.equal(res.headers.get("x-origin"), "mock", "the origin's headers pass through");
    } else {
      assert.equal(expect.outcome, "forward");
      assert.equal(res.status, 303, "a 2xx from the origin becomes a 303");
      const target = expect.location ?? originLocation;
      if (expect.location !== undefined) assert.equal(res.headers.get("location"), target, "location");
    }
  }
  checkHeaders(res, expect, c.name);
  if (checkRule) {
    assert.equal(res.headers.get("x-redirect-rule"), expect.rule ?? null, "deciding rule");
  }
}

/** Whether a bundle has a time window anywhere (`after` / `before` in `when` or `unless`). */
function hasWindow(bundle) {
  return bundle.rules.some((r) =>
    [r.when, r.unless].some((c) => c && ("after" in c || "before" in c)),
  );
}

/** Cases this runner cannot reproduce in workerd, with the reason. */
function skipReason(c, windows) {
  if (c.needs_random) return "depends on randomness the worker draws itself";
  if (windows && c.request.at === undefined) {
    return "a request without a time: the worker always has one";
  }
  if (Object.values(c.request.headers ?? {}).some((v) => v === "")) {
    return "workerd's local HTTP front drops empty header values before the worker runs";
  }
  return false;
}

/**
 * The cases of a file by the clock they need: the worker reads the time from the environment
 * binding REDIRECT_TEST_CLOCK (never from a request), so each `at` gets a worker of its own;
 * cases without one run on the real clock.
 */
function clocks(cases) {
  const byClock = new Map();
  for (const c of cases) {
    const at = c.request.at ?? null;
    if (!byClock.has(at)) byClock.set(at, []);
    byClock.get(at).push(c);
  }
  return byClock;
}

for (const file of files) {
  const fixture = readJson(path.join(DIR, file));
  test(`fixtures/${file}`, async (t) => {
    const { text, checkRule } = bundleFor(fixture);
    const windows = hasWindow(JSON.parse(text));
    for (const [at, cases] of clocks(fixture.cases)) {
      const runnable = cases.filter((c) => !skipReason(c, windows));
      const worker =
        runnable.length > 0
          ? await startWorker({
              kvRules: text,
              vars: at === null ? undefined : { REDIRECT_TEST_CLOCK: at },
            })
          : null;
      try {
        for (const c of cases) {
          await t.test(c.name, { skip: skipReason(c, windows) }, () =>
            replay(worker, c, checkRule),
          );
        }
      } finally {
        await worker?.close();
      }
    }
  });
}
