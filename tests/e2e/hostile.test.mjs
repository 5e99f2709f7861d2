// The hostile-input suite through the built worker in workerd: every request of
// tests/hostile.rs that can cross a real HTTP stack, against tests/hostile/bundle.json (stored
// in KV). Each answer must keep the invariants: never a 5xx or an exception page, every
// Location absolute on an allowed origin, no CR/LF or raw non-ASCII in any header, no redirect
// to the URL requested.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ROOT, startWorker } from "./harness.mjs";

const BUNDLE_PATH = path.join(ROOT, "tests/hostile/bundle.json");
const BUNDLE = JSON.parse(readFileSync(BUNDLE_PATH, "utf8"));
const REQUESTS = path.join(ROOT, "target/tmp/hostile-requests.json");

/** The requests, written by `cargo test --test hostile hostile_cases_json` (run if stale). */
function hostileRequests() {
  const sources = ["tests/hostile.rs", "tests/hostile/bundle.json"].map((f) => path.join(ROOT, f));
  const stale =
    !existsSync(REQUESTS) ||
    sources.some((f) => statSync(f).mtimeMs > statSync(REQUESTS).mtimeMs);
  if (stale) {
    const run = spawnSync(
      "cargo",
      ["test", "--quiet", "--test", "hostile", "--", "--exact", "hostile_cases_json"],
      { cwd: ROOT, stdio: "inherit" },
    );
    assert.equal(run.status, 0, "cargo test --test hostile hostile_cases_json failed");
  }
  return JSON.parse(readFileSync(REQUESTS, "utf8"));
}

/** Whether `host` matches an allowed-host pattern (`example.com` or `*.example.com`). */
function hostMatches(pattern, host) {
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1);
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/** Whether a Location on `loc` is on an origin the rule's `target` allows for `requestUrl`. */
function allowedFor(target, loc, requestUrl) {
  if (target.startsWith("/")) {
    return loc.host === requestUrl.host && loc.protocol === requestUrl.protocol;
  }
  const [, scheme, authority] = target.match(/^([a-z]+):\/\/([^/?#]*)/i) ?? [];
  if (!authority) return false;
  if (/:[A-Za-z_]/.test(authority)) {
    return (BUNDLE.settings.allowed_hosts ?? []).some((p) => hostMatches(p, loc.hostname));
  }
  const literal = new URL(`${scheme}://${authority}/`);
  return literal.host === loc.host && literal.protocol === loc.protocol;
}

function targetsOf(ruleId) {
  const rule = BUNDLE.rules.find((r) => r.id === ruleId);
  if (!rule) return [];
  const targets = rule.to ? [rule.to] : [];
  for (const v of rule.split?.variants ?? []) if (v.to) targets.push(v.to);
  return targets;
}

/** Visible ASCII, space and tab only. */
const CLEAN_HEADER = /^[\t\x20-\x7e]*$/;

/** Same resource: origin, path segment by segment (`%2F` is not `/`), decoded query. */
function sameResource(a, b) {
  const dec = (s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const segments = (u) => u.pathname.split("/").map(dec).join("\u0000");
  return a.origin === b.origin && segments(a) === segments(b) && dec(a.search) === dec(b.search);
}

let worker;
before(async () => {
  worker = await startWorker({ kvRules: JSON.stringify(BUNDLE) });
});
after(async () => {
  await worker?.close();
});

test("hostile requests through the worker keep every invariant", async () => {
  const cases = hostileRequests();
  assert.ok(cases.length >= 200, `only ${cases.length} hostile requests`);
  const failures = [];
  let redirects = 0;
  let sent = 0;
  for (const c of cases) {
    const label = `[${c.category}] ${c.method} ${c.url.slice(0, 120)}`;
    let res;
    try {
      res = await worker.fetch(c.url, {
        method: c.method,
        headers: c.headers,
        cf: c.cf,
      });
    } catch (error) {
      // The request could not even be built (Node's fetch refuses it): nothing reached workerd.
      if (error instanceof TypeError) continue;
      throw error;
    }
    sent++;
    const body = await res.text();
    const fail = (why) => failures.push(`${label}: ${why}`);
    if (res.status >= 500) fail(`status ${res.status}: ${body.slice(0, 200)}`);
    if (/Worker threw exception|Error 1101|Uncaught/i.test(body)) fail("exception page");
    for (const [name, value] of res.headers) {
      if (!CLEAN_HEADER.test(value)) fail(`header ${name} carries a control or non-ASCII byte`);
    }
    if (res.status >= 300 && res.status < 400) {
      redirects++;
      const location = res.headers.get("location");
      const rule = res.headers.get("x-redirect-rule");
      let loc;
      try {
        loc = new URL(location);
      } catch {
        fail(`Location ${location} is not an absolute URL`);
        continue;
      }
      if (loc.protocol !== "https:" && loc.protocol !== "http:") fail(`Location scheme ${loc.protocol}`);
      if (loc.username || loc.password) fail(`Location has user info: ${location}`);
      const requestUrl = new URL(c.url);
      if (!targetsOf(rule).some((t) => allowedFor(t, loc, requestUrl))) {
        fail(`rule ${rule} sent the visitor to ${loc.host}: ${location.slice(0, 160)}`);
      }
      const exempt = res.status === 303 && !["GET", "HEAD"].includes(c.method.toUpperCase());
      if (!exempt && sameResource(loc, requestUrl)) fail(`redirects to itself: ${location}`);
    } else if (res.status === 431 && c.url.length > 8192) {
      // The loopback HTTP hop to the mock origin refuses request heads over 16 KiB: that is
      // the origin's answer, passed through.
    } else if (res.headers.get("x-origin") !== "mock") {
      fail(`status ${res.status} neither a redirect nor the origin's answer`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${sent} broke an invariant`);
  assert.ok(sent >= 200, `only ${sent} of ${cases.length} requests could be sent`);
  console.log(`${sent} of ${cases.length} hostile requests sent through workerd, ${redirects} redirected`);
  assert.ok(redirects * 4 > cases.length, `only ${redirects} redirects: the rules were not reached`);
});
