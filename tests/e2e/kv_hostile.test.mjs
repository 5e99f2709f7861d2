// Published versions in KV that are damaged or hostile, in workerd: a canary whose part is
// garbage, a crafted head of two million listed hosts, a manifest of 24 MiB. The values are
// written straight into the namespace (artifacts built by `redirects build` and cut here as
// `redirects publish` cuts them, or crafted byte by byte); the isolate's wasm memory is read
// through workerd's inspector. Memory figures are printed; the assertions on them are generous
// caps that the fixed worker stays far under.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { ROOT, builtWorker, cfFor } from "./harness.mjs";
import { connectTo, isolateMemory } from "../load/inspector.mjs";
import { portFree } from "../../benches/peers/workerd-run.mjs";

const run = promisify(execFile);
const require = createRequire(path.join(ROOT, "package.json"));
const WebSocketClient = globalThis.WebSocket ?? require("ws");
const SITE = "https://example.com";
const dir = mkdtempSync(path.join(os.tmpdir(), "redirects-kv-hostile-"));
const MiB = 1024 * 1024;

/** FNV-1a 64 of `bytes` as 16 hex digits (in 16-bit limbs: no BigInt in the loop). */
function fnv1a(bytes) {
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + h0 * 0x100 + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + h1 * 0x100 + (t2 >>> 16);
    h0 = t0 & 0xffff; h1 = t1 & 0xffff; h2 = t2 & 0xffff; h3 = t3 & 0xffff;
  }
  return [h3, h2, h1, h0].map((x) => x.toString(16).padStart(4, "0")).join("");
}

/** Writes FNV-1a 64 of `bytes[from..to]` little-endian at `at`. */
function putChecksum(bytes, at, from, to) {
  const hex = fnv1a(bytes.subarray(from, to));
  for (let k = 0; k < 8; k++) bytes[at + k] = parseInt(hex.slice(14 - 2 * k, 16 - 2 * k), 16);
}

/** `bundle` built by `redirects build` and cut as `redirects publish` cuts it. */
async function built(name, bundle) {
  const file = path.join(dir, `${name}.json`);
  const out = path.join(dir, `${name}.bin`);
  writeFileSync(file, JSON.stringify(bundle));
  await run("cargo", ["run", "--quiet", "--bin", "redirects", "--", "build", file, "-o", out], { cwd: ROOT });
  const bytes = new Uint8Array(readFileSync(out));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at) => view.getUint32(at, true);
  // Format 3: the head (header, settings, listed hosts), then the page directory; each page
  // names its parts (crates/engine/src/artifact/page.rs).
  const headEnd = 80 + u32(44) + 8 * u32(52);
  const id = [...bytes.subarray(24, 32)].reverse().map((b) => b.toString(16).padStart(2, "0")).join("");
  const pages = [];
  const parts = [];
  for (let g = 0; g < 2 ** u32(40); g++) {
    const at = u32(headEnd + 8 * g);
    pages.push(bytes.subarray(at, at + u32(headEnd + 8 * g + 4)));
    const [m, k] = [u32(at + 20), u32(at + 24)];
    for (let j = 0; j < k; j++) {
      const e = at + 32 + 4 * m + 32 * j;
      parts[u32(e + 4)] = bytes.subarray(u32(e + 8), u32(e + 8) + u32(e + 16));
    }
  }
  return { id, head: bytes.subarray(0, headEnd), pages, parts };
}

const b64 = (bytes) => Buffer.from(bytes).toString("base64");

/** Writes a version's values as `redirects publish` does (base64 text). */
async function put(kv, version) {
  for (const [n, part] of version.parts.entries()) await kv.put(`artifact/${version.id}/part/${n}`, b64(part));
  for (const [g, page] of version.pages.entries()) await kv.put(`artifact/${version.id}/page/${g}`, b64(page));
  await kv.put(`artifact/${version.id}/head`, b64(version.head));
}

const manifest = (current, canary = null) => JSON.stringify({ format: 1, current, previous: null, canary });

/** The bucket `in_canary` puts an address in (src/published.rs): FNV-1a 32 mod 100. */
function bucket(address) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(address)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % 100;
}

let mf;
let kv;
let logs = "";
let inspector;

before(async () => {
  const inspectorPort = await portFree();
  mf = new Miniflare({
    ...builtWorker(),
    name: "redirects",
    inspectorPort,
    bindings: { REDIRECT_RULES_REFRESH_SECONDS: "1" },
    kvNamespaces: ["REDIRECT_RULES"],
    outboundService: () => new Response("origin page", { status: 200 }),
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (c) => (logs += c));
      stderr.on("data", (c) => (logs += c));
    },
  });
  await mf.ready;
  kv = await mf.getKVNamespace("REDIRECT_RULES");
  inspector = await connectTo(`ws://127.0.0.1:${inspectorPort}/core:user:redirects`, WebSocketClient);
});

after(async () => {
  inspector?.close();
  await mf?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const fetchPath = (p, ip = "203.0.113.1") =>
  mf.dispatchFetch(`${SITE}${p}`, { redirect: "manual", headers: { "cf-connecting-ip": ip }, cf: cfFor({}) });

async function answer(p, ip) {
  const res = await fetchPath(p, ip);
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get("location"), cacheControl: res.headers.get("cache-control") };
}

/** Waits for `check` to hold, sending a request between tries (the manifest is re-read then). */
async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    await answer("/warm");
    if (await check()) return;
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms; logs: ${logs.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The isolate's wasm memory, in bytes. */
async function wasmBytes() {
  const memory = await isolateMemory(inspector);
  return memory.wasmBytes.reduce((a, b) => a + b, 0);
}

const blog = (to) => ({ version: 1, rules: [{ id: "blog", from: "/blog/:slug", to }, { id: "same", from: "/same", to: "/same-target" }] });

let A;

test("a canary's damaged part is answered by the stable version, never shared-cacheable", async () => {
  A = await built("a", blog("/a-blog/:slug"));
  const B = await built("b", blog("/b-blog/:slug"));
  await put(kv, A);
  await put(kv, B);
  // Every part of B is garbage: its answer for /blog/x cannot be known.
  for (const n of B.parts.keys()) await kv.put(`artifact/${B.id}/part/${n}`, "Z2FyYmFnZQ==");
  await kv.put("manifest", manifest(A.id, { id: B.id, percent: 50 }));
  await until("version a in use", () => /in use, [0-9a-f]+ for 50 %/.test(logs));
  const ips = Array.from({ length: 20 }, (_, k) => `198.51.100.${k}`);
  assert.ok(ips.some((ip) => bucket(ip) < 50) && ips.some((ip) => bucket(ip) >= 50), "both sides of the canary");
  for (const ip of ips) {
    const got = await answer("/blog/x", ip);
    const side = bucket(ip) < 50 ? "canary" : "stable";
    assert.deepEqual(
      got,
      { status: 308, location: `${SITE}/a-blog/x`, cacheControl: "private, no-store" },
      `${ip} (${side} side)`,
    );
  }
  assert.match(logs, /is refused/);
});

test("a crafted head of two million listed hosts is refused without its memory", async () => {
  const marker = logs.length;
  await kv.put("manifest", manifest(A.id));
  await until("version a alone in use", () => new RegExp(`version ${A.id} in use(?!,)`).test(logs.slice(marker)));
  const control = await wasmBytes();

  // 2.2 million listed hosts, the checksum valid: 17.6 MB of head, 23.5 MB of base64.
  const hosts = 2_200_000;
  const settings = Buffer.from('{"version":1,"settings":{},"rules":[]}');
  const end = 80 + settings.length + 8 * hosts;
  const head = new Uint8Array(end);
  const view = new DataView(head.buffer);
  head.set(Buffer.from("EDGERDR\x01", "latin1"), 0);
  view.setUint32(8, 3, true);
  view.setUint32(12, 2 | 8, true); // host homes, every host listed
  view.setUint32(32, 1, true);
  view.setUint32(36, 1, true);
  view.setUint32(44, settings.length, true);
  view.setUint32(52, hosts, true);
  head.set(settings, 80);
  for (let i = 0; i < hosts; i++) view.setUint32(80 + settings.length + 8 * i, i, true);
  head.set([0xde, 0xc0, 0xad, 0xde, 0, 0, 0, 0], 24);
  putChecksum(head, 16, 24, end);
  const id = "00000000deadc0de";
  await kv.put(`artifact/${id}/head`, b64(head));
  const logged = logs.length;
  await kv.put("manifest", manifest(id));
  await until("the crafted head read", () => new RegExp(`${id} (in use|is refused|could not)`).test(logs.slice(logged)));
  const hostile = await wasmBytes();
  const grew = (hostile - control) / MiB;
  console.log(`wasm memory: ${(control / MiB).toFixed(1)} MiB with version a; after the crafted head: +${grew.toFixed(1)} MiB`);
  assert.ok(grew < 20, `the crafted head cost +${grew.toFixed(1)} MiB of wasm memory`);
  assert.match(logs.slice(logged), new RegExp(`${id} (is refused|could not be read: \\d+ characters of base64)`));
  assert.equal((await answer("/blog/z")).location, `${SITE}/a-blog/z`, "version a keeps serving");
});

test("a manifest of 24 MiB is refused by its length, not copied into wasm memory", async () => {
  await kv.put("manifest", manifest(A.id));
  await until("version a in use", async () => (await answer("/blog/y")).location === `${SITE}/a-blog/y`);
  const control = await wasmBytes();
  const logged = logs.length;
  const padded = JSON.stringify({ format: 1, current: A.id, previous: null, canary: null, pad: "x".repeat(24 * MiB) });
  await kv.put("manifest", padded);
  await until("the large manifest read", () => new RegExp(`manifest|version ${A.id} in use`).test(logs.slice(logged)));
  for (let k = 0; k < 10; k++) await answer("/blog/w");
  const after = await wasmBytes();
  const grew = (after - control) / MiB;
  console.log(`wasm memory: ${(control / MiB).toFixed(1)} MiB; after a 24 MiB manifest: +${grew.toFixed(1)} MiB`);
  assert.ok(grew < 8, `the manifest cost +${grew.toFixed(1)} MiB of wasm memory`);
  assert.match(logs.slice(logged), /manifest could not be read \(\d+ characters long/);
  assert.equal((await answer("/blog/w")).location, `${SITE}/a-blog/w`, "version a keeps serving");
});

test("the compiled rules a version keeps are bounded in bytes, not in rules", async () => {
  // 120 homes of 40 rules with 8 KB targets: 39 MB of rules, 8 KB each, few enough in number
  // that a budget counted in rules kept them all.
  const long = "x".repeat(8000);
  const rules = [];
  for (let h = 0; h < 120; h++) {
    for (let k = 0; k < 40; k++) rules.push({ id: `h${h}-${k}`, from: `/h${h}/:x`, when: { query: { v: `${k}` } }, to: `/${long}/${h}/${k}/:x` });
  }
  const big = await built("big", { version: 1, rules });
  await put(kv, big);
  const marker = logs.length;
  await kv.put("manifest", manifest(big.id));
  await until("the large version in use", () => new RegExp(`version ${big.id} in use`).test(logs.slice(marker)));
  const control = await wasmBytes();
  for (let round = 0; round < 2; round++) {
    for (let h = 0; h < 120; h++) {
      const got = await answer(`/h${h}/p?v=3`);
      assert.equal(got.status, 308, `/h${h}/p`);
    }
  }
  const grew = (await wasmBytes() - control) / MiB;
  console.log(`wasm memory: ${(control / MiB).toFixed(1)} MiB; after 240 requests over 120 homes of 320 KB of rules each: +${grew.toFixed(1)} MiB`);
  assert.ok(grew < 40, `the kept rules cost +${grew.toFixed(1)} MiB of wasm memory`);
});

test("a part value far longer than its page says is refused by its length", async () => {
  const C = await built("c", blog("/c-blog/:slug"));
  await put(kv, C);
  // Every part of C replaced by 20 MiB of base64: refused before it is copied into wasm memory.
  const junk = "A".repeat(20 * MiB);
  for (const n of C.parts.keys()) await kv.put(`artifact/${C.id}/part/${n}`, junk);
  const marker = logs.length;
  await kv.put("manifest", manifest(C.id));
  await until("version c in use", () => new RegExp(`version ${C.id} in use`).test(logs.slice(marker)));
  const control = await wasmBytes();
  for (let k = 0; k < 3; k++) {
    const got = await answer(`/blog/v${k}`);
    assert.ok([200, 308].includes(got.status), `${got.status}`);
  }
  const grew = (await wasmBytes() - control) / MiB;
  console.log(`wasm memory: ${(control / MiB).toFixed(1)} MiB; after reading parts of 20 MiB: +${grew.toFixed(1)} MiB`);
  assert.ok(grew < 8, `the long parts cost +${grew.toFixed(1)} MiB of wasm memory`);
  assert.match(logs.slice(marker), /part\/\d+ could not be read: \d+ characters of base64/);
});
