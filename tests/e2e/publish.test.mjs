// Publishing through Workers KV: `redirects publish`, `rollback` and `promote` drive the real
// `wrangler kv` commands into wrangler's local storage, and the built worker, in workerd
// through Miniflare, reads the same storage. Every answer must come from one version whole,
// never an error; a damaged or missing version leaves the last good one serving.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { BUILT_MODULES_RULES, ROOT, cfFor } from "./harness.mjs";

const run = promisify(execFile);
const NS = "publish-test";
const SITE = "https://example.com";
const persist = mkdtempSync(path.join(os.tmpdir(), "redirects-publish-"));
const N = 400;

/**
 * Bundle `name` (a or b). Their rules for /p/<i> are in opposite orders: in a, the exact rule
 * comes first (/p/1 -> /a/1); in b, the pattern does (/p/1 -> /b-pat/1). A request answered
 * from parts of both would get /b/1 or /a-pat/1, which neither version gives.
 */
function bundle(name) {
  const exact = [];
  for (let i = 0; i < N; i++) exact.push({ id: `${name}-e${i}`, from: `/p/${i}`, to: `/${name}/${i}` });
  const pattern = { id: `${name}-pat`, from: "/p/:n", to: `/${name}-pat/:n` };
  const rules = name === "b" ? [pattern, ...exact] : [...exact, pattern];
  rules.push({ id: `${name}-same`, from: "/same", to: "/same-target" });
  rules.push({ id: `${name}-only`, from: `/only-${name}`, to: `/${name}-only` });
  return JSON.stringify({ version: 1, rules });
}
const expectedFor = { a: (i) => `${SITE}/a/${i}`, b: (i) => `${SITE}/b-pat/${i}`, c: (i) => `${SITE}/c/${i}` };

const files = {};
for (const name of ["a", "b", "c"]) {
  files[name] = path.join(persist, `${name}.json`);
  writeFileSync(files[name], bundle(name));
}

/** `redirects <args>` against the test namespace; its stdout. */
async function redirects(...args) {
  const { stdout } = await run(
    "cargo",
    ["run", "--quiet", "--bin", "redirects", "--", ...args, "--namespace-id", NS, "--local", "--persist-to", persist],
    { cwd: ROOT, env: { ...process.env, REDIRECTS_WRANGLER: path.join(ROOT, "node_modules/.bin/wrangler") }, maxBuffer: 1 << 24 },
  );
  return stdout;
}

let mf;
let logs = "";
const fetchPath = (p, ip = "203.0.113.1") =>
  mf.dispatchFetch(`${SITE}${p}`, { redirect: "manual", headers: { "cf-connecting-ip": ip }, cf: cfFor({}) });

/** Which version answered /p/<i>: "a", "b" or "c"; fails on anything else. */
async function versionOf(i, ip) {
  const res = await fetchPath(`/p/${i}`, ip);
  await res.arrayBuffer();
  const location = res.headers.get("location");
  assert.equal(res.status, 308, `/p/${i}: ${res.status} ${location}`);
  for (const [name, expected] of Object.entries(expectedFor)) if (location === expected(i)) return name;
  assert.fail(`/p/${i} answered ${location}: from no version whole`);
}

/** Waits for `check` to hold (an assertion failing in it counts as not yet). */
async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms (${last?.message}); logs: ${logs.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  await redirects("publish", files.a);
  mf = new Miniflare({
    modules: true,
    scriptPath: path.join(ROOT, "build/worker.js"),
    modulesRules: BUILT_MODULES_RULES,
    compatibilityDate: "2026-04-20",
    bindings: { REDIRECT_RULES_REFRESH_SECONDS: "1" },
    kvNamespaces: { REDIRECT_RULES: NS },
    kvPersist: path.join(persist, "v3/kv"),
    outboundService: () => new Response("origin page", { status: 200 }),
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (c) => (logs += c));
      stderr.on("data", (c) => (logs += c));
    },
  });
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
  rmSync(persist, { recursive: true, force: true });
});

test("version B published while requests run against A: every answer from A or B whole, then rollback", async () => {
  await until("version a in use", async () => (await versionOf(1)) === "a");
  const seen = { a: 0, b: 0 };
  let publishing = true;
  const load = (async () => {
    let k = 0;
    while (publishing || seen.b < 50) {
      seen[await versionOf(k++ % N)]++;
      const only = await fetchPath(k % 2 ? "/only-a" : "/only-b");
      await only.arrayBuffer();
      assert.ok([200, 308].includes(only.status), `${only.status}`);
    }
  })();
  await redirects("publish", files.b);
  publishing = false;
  await load;
  assert.ok(seen.a > 0 && seen.b >= 50, JSON.stringify(seen));
  assert.match(logs, /version [0-9a-f]{16} in use/);

  await redirects("rollback");
  await until("version a back in use", async () => (await versionOf(7)) === "a");
});

test("a canary serves B to a sticky share of visitors, privately where the versions differ; promote ends it", async () => {
  await until("version a in use", async () => (await versionOf(2)) === "a");
  await redirects("publish", files.b, "--canary", "50");
  const ips = Array.from({ length: 40 }, (_, k) => `198.51.100.${k}`);
  await until("the canary in use", async () => {
    const got = await Promise.all(ips.map((ip) => versionOf(3, ip)));
    return got.includes("a") && got.includes("b");
  });
  for (const ip of ips) {
    const first = await versionOf(5, ip);
    assert.equal(await versionOf(5, ip), first, `${ip} keeps its version`);
    assert.equal(await versionOf(9, ip), first, `${ip} keeps its version on another path`);
    const res = await fetchPath("/p/5", ip);
    await res.arrayBuffer();
    assert.equal(res.headers.get("cache-control"), "private, no-store", "the versions differ here");
    const same = await fetchPath("/same", ip);
    await same.arrayBuffer();
    assert.equal(same.status, 308);
    assert.match(same.headers.get("cache-control"), /public/, "both versions answer /same alike");
  }
  await redirects("promote");
  await until("version b for everyone", async () => {
    const got = await Promise.all(ips.map((ip) => versionOf(3, ip)));
    return got.every((v) => v === "b");
  });
});

test("a missing or damaged version in KV leaves the last good one serving", async () => {
  const kv = await mf.getKVNamespace("REDIRECT_RULES");
  const manifest = JSON.parse(await kv.get("manifest"));
  const good = await versionOf(4);
  // A manifest naming a version that is not there, then one whose head is garbage.
  await kv.put("manifest", JSON.stringify({ ...manifest, current: "00000000deadbeef", canary: null }));
  // (The manifest is re-read when requests come.)
  const logged = (pattern) => async () => (await versionOf(4)) && pattern.test(logs);
  await until("the missing version logged", logged(/00000000deadbeef has no head/));
  assert.equal(await versionOf(4), good);
  await kv.put("artifact/00000000feedface/head", new Uint8Array([1, 2, 3, 4]));
  await kv.put("manifest", JSON.stringify({ ...manifest, current: "00000000feedface", canary: null }));
  await until("the damaged head logged", logged(/00000000feedface is refused/));
  for (let i = 0; i < 20; i++) assert.equal(await versionOf(i), good);

  // Version c built with `redirects build` and its artifact published, and two of its parts
  // damaged before any request needs them: the requests that need them are answered by the
  // version in use before, whole; the others by c.
  const built = path.join(persist, "c.bin");
  await run("cargo", ["run", "--quiet", "--bin", "redirects", "--", "build", files.c, "-o", built], { cwd: ROOT });
  await redirects("publish", built);
  const id = JSON.parse(await kv.get("manifest")).current;
  const keys = (await kv.list({ prefix: `artifact/${id}/part/` })).keys.map((k) => k.name);
  assert.ok(keys.length > 2, `${keys.length} parts`);
  await kv.put(keys[0], "garbage");
  await kv.put(keys[1], new Uint8Array([0xff]));
  await until("version c in use", async () => {
    for (let i = 0; i < N; i += 7) if ((await versionOf(i)) === "c") return true;
    return false;
  });
  const counts = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < N; i++) counts[await versionOf(i)]++;
  assert.ok(counts[good] > 0 && counts.c > 0, JSON.stringify(counts));
  assert.match(logs, /is refused|could not be read|is missing/);
});
