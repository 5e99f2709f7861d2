// Load on the built worker in workerd, on loopback: a bounded number of requests (default
// 1,000,000) at a fixed concurrency (default 64) over a mix of every rule kind of the embedded
// rules.json, with an origin worker behind it. Fails on any error, timeout or 5xx; prints
// latency percentiles and the memory of the worker before the load, after warm-up, half-way
// and at the end: the isolate's WebAssembly memory and JS heap, measured inside it through
// workerd's inspector, and workerd's resident set (the whole process, both workers included).
//
//   node tests/load/run.mjs [--requests N] [--connections C] [--rules embedded|N|Nk]
//                           [--no-inspector] [--out FILE.json]
//
// --rules 90k: the worker serves a bundle of rules.json's rules followed by 90,000 generated
// ones (benches/peers/ruleset.mjs, the benchmarks' mixed scheme), delivered the way a large
// bundle is deployed, through the REDIRECT_RULES KV binding (here a local service speaking
// workerd's KV protocol); the request mix adds requests for the generated rules. The worker
// refuses a KV value over 8 MiB (100,000 of these rules are 8.6 MB), and the run then fails.
// --no-inspector: workerd without the inspector, resident memory only (to check that the
// inspector itself changes nothing).
//
// scripts/load.sh builds the worker and installs the load generator first.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { connectTo, isolateMemory } from "./inspector.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const total = Number(opt("--requests", 1_000_000));
const connections = Number(opt("--connections", 64));
const rulesArg = opt("--rules", "embedded");
const inspect = !args.includes("--no-inspector");
const outFile = opt("--out", path.join(ROOT, "target/load/result.json"));
const require = createRequire(path.join(ROOT, "benches/peers/package.json"));
const autocannon = require("autocannon");
// Node 22 has a WebSocket client built in; on Node 20 the `ws` package that wrangler brings.
const WebSocketClient = globalThis.WebSocket ?? createRequire(path.join(ROOT, "package.json"))("ws");
const generated = rulesArg === "embedded" ? 0 : Number(rulesArg.replace(/k$/i, "000"));
if (!Number.isInteger(generated) || generated < 0) throw new Error(`--rules ${rulesArg}: use embedded, a count or Nk`);
const workerd = path.join(ROOT, "node_modules/@cloudflare/workerd-linux-64/bin/workerd");

// --- staging: the files wrangler uploads, plus an origin worker, in one workerd config --------
const stageDir = path.join(ROOT, "target/load/workerd");
mkdirSync(stageDir, { recursive: true });
const modules = [];
function addModule(relative, type) {
  const dest = path.join(stageDir, relative);
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(path.join(ROOT, "build", relative), dest);
  modules.push(`(name = "${relative}", ${type} = embed "${relative}")`);
}
addModule("worker.js", "esModule");
addModule("index.js", "esModule");
for (const dir of readdirSync(path.join(ROOT, "build/snippets"))) {
  for (const file of readdirSync(path.join(ROOT, "build/snippets", dir))) {
    addModule(`snippets/${dir}/${file}`, "esModule");
  }
}
addModule("index_bg.wasm", "wasm");
addModule("rules.bin", "data");
writeFileSync(
  path.join(stageDir, "origin.mjs"),
  `export default {
  async fetch(request) {
    if (request.body) await request.arrayBuffer();
    return new Response("origin page\\n", { status: 200, headers: { "content-type": "text/plain" } });
  },
};
`,
);
// The bundle of --rules N: rules.json's rules first (so every request of the mix below still
// meets the rule it expects), then N generated ones; served to the worker as KV would.
const { generateRequests, generateRules, toOurBundle } = await import(path.join(ROOT, "benches/peers/ruleset.mjs"));
const { workerdConfig } = await import(path.join(ROOT, "benches/peers/workerd-run.mjs"));
let extraMix = [];
let bundleBytes = readFileSync(path.join(ROOT, "rules.json")).length;
if (generated > 0) {
  const own = JSON.parse(readFileSync(path.join(ROOT, "rules.json"), "utf8"));
  const rules = generateRules(generated, "mixed");
  const bundle = { ...own, rules: [...own.rules, ...JSON.parse(toOurBundle(rules)).rules] };
  delete bundle.$schema;
  const text = JSON.stringify(bundle);
  bundleBytes = text.length;
  writeFileSync(path.join(stageDir, "bundle.json"), text);
  writeFileSync(
    path.join(stageDir, "kv.mjs"),
    `// workerd's KV binding asks this service GET /<key>: the one key the worker reads.
import bundle from "bundle.json";
export default {
  async fetch(request) {
    const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
    return key === "rules.json" && request.method === "GET" ? new Response(bundle) : new Response(null, { status: 404 });
  },
};
`,
  );
  // Generated requests: hits and misses on every kind. rules.json's /docs/* comes first and
  // takes the generated /docs/v{i}/* paths; without cf data the country rules never hold.
  extraMix = generateRequests(rules, 1000, "mixed").map((r) => {
    const p = r.url.replace("https://example.com", "");
    const expect = p.startsWith("/docs/") ? 308 : r.hit && !r.country ? 301 : 200;
    return { kind: "generated", path: p, expect };
  });
}
const date = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8").match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
const kvService =
  generated > 0
    ? `
    (name = "kv", worker = (
        modules = [ (name = "kv.mjs", esModule = embed "kv.mjs"), (name = "bundle.json", text = embed "bundle.json") ],
        compatibilityDate = "${date}",
    )),`
    : "";

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const port = await freePort();
writeFileSync(
  path.join(stageDir, "config.capnp"),
  workerdConfig({
    modules: modules.join(",\n          "),
    date,
    bindings: generated > 0 ? `\n        bindings = [ (name = "REDIRECT_RULES", kvNamespace = "kv") ],` : "",
    services: kvService,
    address: `127.0.0.1:${port}`,
  }),
);

const inspectorPort = await freePort();
const serveArgs = ["serve", "config.capnp", ...(inspect ? [`--inspector-addr=127.0.0.1:${inspectorPort}`] : [])];
const proc = spawn(workerd, serveArgs, { cwd: stageDir, stdio: ["ignore", "ignore", "pipe"] });
let stderr = "";
proc.stderr.on("data", (d) => (stderr += d));
const stopWorkerd = () => {
  if (proc.exitCode === null) proc.kill("SIGTERM");
};
process.on("exit", stopWorkerd);
for (let t0 = Date.now(); ; ) {
  if (proc.exitCode !== null) throw new Error(`workerd exited: ${stderr}`);
  const up = await new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1", () => (c.end(), resolve(true)));
    c.on("error", () => resolve(false));
  });
  if (up) break;
  if (Date.now() - t0 > 60_000) throw new Error(`workerd did not start: ${stderr}`);
  await new Promise((r) => setTimeout(r, 20));
}

/** workerd's resident set size in MiB. */
function rssMiB() {
  const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)[1]) / 1024;
}

// --- measuring inside the isolate: workerd's inspector (tests/load/inspector.mjs) -------------
// The worker is not changed for this: production runs the same code.
const connectInspector = (url) => connectTo(url, WebSocketClient);
const inspector = inspect ? await connectInspector(`ws://127.0.0.1:${inspectorPort}/main`) : null;
// The other isolates of the process (the origin, the KV service): their heaps are in the RSS too.
const others = inspect
  ? await Promise.all((generated > 0 ? ["origin", "kv"] : ["origin"]).map((name) => connectInspector(`ws://127.0.0.1:${inspectorPort}/${name}`)))
  : [];

/** The worker's memory now: wasm linear memory, JS heap (before and after a GC), workerd's RSS. */
async function memory() {
  const m = { rss_mib: round(rssMiB()) };
  if (!inspector) return m;
  const { before, wasmBytes, after } = await isolateMemory(inspector);
  // The other isolates collected too (queryObjects again), so the RSS read last shows what
  // the process keeps once no isolate holds garbage.
  let otherHeaps = 0;
  for (const other of others) {
    const p = await other.send("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype", contextId: other.context() });
    await other.send("Runtime.queryObjects", { prototypeObjectId: p.result.objectId });
    otherHeaps += (await other.send("Runtime.getHeapUsage")).totalSize;
  }
  const mib = (bytes) => round(bytes / 1048576);
  return {
    wasm_memories: wasmBytes.length,
    wasm_mib: mib(wasmBytes.reduce((a, b) => a + b, 0)),
    heap_used_mib: mib(before.usedSize),
    heap_total_mib: mib(before.totalSize),
    heap_used_after_gc_mib: mib(after.usedSize),
    heap_total_after_gc_mib: mib(after.totalSize),
    embedder_mib: mib(after.embedderHeapUsedSize ?? 0),
    other_isolates_heap_total_after_gc_mib: mib(otherHeaps),
    ...m,
    rss_after_gc_mib: round(rssMiB()),
  };
}
const round = (x) => Math.round(x * 10) / 10;
const describeMemory = (m) =>
  (m.wasm_mib === undefined
    ? ""
    : `wasm ${m.wasm_mib} MiB${m.wasm_memories === 1 ? "" : ` (${m.wasm_memories} memories)`}, ` +
      `JS heap ${m.heap_used_mib}/${m.heap_total_mib} MiB used/total (${m.heap_used_after_gc_mib}/${m.heap_total_after_gc_mib} after GC), ` +
      `other isolates' heaps ${m.other_isolates_heap_total_after_gc_mib} MiB after GC, `) +
  `workerd RSS ${m.rss_mib} MiB${m.rss_after_gc_mib === undefined ? "" : ` (${m.rss_after_gc_mib} after GC)`}`;

// --- the request mix: every rule kind of rules.json, and passthrough --------------------------
// (HEAD is left out: autocannon waits for a body after a HEAD response; tests/e2e covers it.)
const form = "name=Ada&message=hello";
const MIX = [
  { kind: "redirect (param)", path: "/blog/hello-world?ref=mail", expect: 308 },
  { kind: "redirect (splat)", path: "/api/v1/users/42/orders", expect: 308 },
  { kind: "redirect (absolute)", path: "/docs/guide/install", expect: 308 },
  { kind: "redirect (query capture)", path: "/product.php?id=42", expect: 308 },
  { kind: "unless holds: origin", path: "/product.php?id=42", headers: { "user-agent": "HealthCheck/1.0" }, expect: 200 },
  { kind: "host rule", path: "/cart", headers: { host: "shop.example.com" }, expect: 308 },
  { kind: "language", path: "/welcome", headers: { "accept-language": "de-AT,de;q=0.9,en;q=0.5" }, expect: 307 },
  { kind: "language, not matched: origin", path: "/welcome", headers: { "accept-language": "fr" }, expect: 200 },
  { kind: "geo (no cf data): origin", path: "/store", expect: 200 },
  { kind: "A/B fresh", path: "/pricing", expect: [200, 307] },
  { kind: "A/B sticky control", path: "/pricing", headers: { cookie: "ab_pricing=control" }, expect: 200 },
  { kind: "A/B sticky new", path: "/pricing", headers: { cookie: "ab_pricing=new-pricing" }, expect: 307 },
  { kind: "PRG through the origin", path: "/contact", method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" }, expect: 303 },
  { kind: "method not matched: origin", path: "/contact", expect: 200 },
  { kind: "no rule: origin", path: "/about/team", expect: 200 },
];
MIX.push(...extraMix);
const requests = MIX.map((m) => ({
  method: m.method ?? "GET",
  path: m.path,
  headers: { host: `127.0.0.1:${port}`, ...(m.headers ?? {}) },
  body: m.body,
}));

/** One request over node:http (fetch cannot set Host); resolves to the status. */
function once(r) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: r.method, path: r.path, headers: r.headers },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(r.body);
  });
}

// A KV bundle is compiled when the first request reads it; until then (and if it were
// rejected) the embedded one answers. Wait until a generated rule answers.
if (generated > 0) {
  const probe = requests[MIX.findIndex((m) => m.kind === "generated" && m.expect === 301)];
  for (let t0 = Date.now(); (await once(probe)) !== 301; ) {
    if (Date.now() - t0 > 120_000) throw new Error(`the ${generated}-rule bundle is not in use after 2 minutes: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Each mix entry once, checked, before any load.
for (const [i, m] of MIX.entries()) {
  const status = await once(requests[i]);
  const ok = Array.isArray(m.expect) ? m.expect.includes(status) : status === m.expect;
  if (!ok) throw new Error(`${m.kind}: ${requests[i].method} ${m.path} answered ${status}, expected ${m.expect}`);
}

function run(amount) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}`, connections, amount, requests, timeout: 10 },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on("error", reject);
  });
}

const say = (s) => process.stdout.write(`${s}\n`);
say(
  `workerd pid ${proc.pid} on 127.0.0.1:${port}; ${total.toLocaleString("en")} requests, ${connections} connections, ` +
    `${MIX.length} request kinds; bundle ${rulesArg === "embedded" ? "rules.json (embedded)" : `rules.json + ${generated.toLocaleString("en")} generated rules via KV`}, ${bundleBytes.toLocaleString("en")} bytes`,
);
const mem = { start: await memory() };
say(`memory before the load: ${describeMemory(mem.start)}`);
const warmup = Math.min(20_000, total);
await run(warmup); // warm-up: JIT, first compile of the bundle, connection pools
mem.warm = await memory();
say(`memory after ${warmup.toLocaleString("en")} warm-up requests: ${describeMemory(mem.warm)}`);
const half = Math.floor(total / 2);
const results = [];
for (const [label, key, amount] of [["first half", "half", half], ["second half", "end", total - half]]) {
  const r = await run(amount);
  results.push(r);
  mem[key] = await memory();
  const codes = Object.entries(r.statusCodeStats).map(([c, s]) => `${c}:${s.count}`).join(" ");
  say(
    `${label}: ${(r.requests.total).toLocaleString("en")} requests in ${(r.duration).toFixed(1)} s ` +
      `(${Math.round(r.requests.average)} req/s), latency p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms ` +
      `max ${r.latency.max} ms; errors ${r.errors}, timeouts ${r.timeouts}, non-2xx/3xx ${r.non2xx}; ` +
      `status ${codes}`,
  );
  say(`memory ${key === "half" ? "half-way" : "at the end"}: ${describeMemory(mem[key])}`);
}
for (const i of [inspector, ...others]) i?.close();
stopWorkerd();

const sum = (f) => results.reduce((a, r) => a + f(r), 0);
const status = {};
for (const r of results) {
  for (const [code, s] of Object.entries(r.statusCodeStats)) status[code] = (status[code] ?? 0) + s.count;
}
const fiveXX = Object.entries(status).filter(([c]) => c >= 500).reduce((a, [, n]) => a + n, 0);
const summary = {
  requests: sum((r) => r.requests.total),
  connections,
  seconds: sum((r) => r.duration),
  errors: sum((r) => r.errors),
  timeouts: sum((r) => r.timeouts),
  status,
  fiveXX,
  latency_ms: {
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    max: Math.max(...results.map((r) => r.latency.max)),
  },
  rules: rulesArg === "embedded" ? "embedded rules.json" : `rules.json + ${generated} generated (KV)`,
  bundle_bytes: bundleBytes,
  // Memory before the load, after the warm-up, half-way and at the end (MiB): wasm linear
  // memory and JS heap of the worker's isolate, and workerd's resident set.
  memory: mem,
};
summary.rps = Math.round(summary.requests / summary.seconds);
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(summary, null, 2) + "\n");
say(`total: ${summary.requests.toLocaleString("en")} requests, ${summary.rps} req/s, errors ${summary.errors}, ` +
  `timeouts ${summary.timeouts}, 5xx ${fiveXX}, p99 ${summary.latency_ms.p99} ms (worst half)`);
const series = (k) => ["start", "warm", "half", "end"].map((p) => mem[p][k]).join(" -> ");
if (inspector) say(`wasm memory ${series("wasm_mib")} MiB; JS heap used after GC ${series("heap_used_after_gc_mib")} MiB`);
say(`workerd RSS ${series("rss_mib")} MiB (start, after warm-up, half-way, end)`);
say(`written to ${path.relative(ROOT, outFile)}`);
if (summary.errors || summary.timeouts || fiveXX || summary.requests < total) {
  process.exitCode = 1;
  say("FAILED: errors, timeouts, 5xx or missing requests");
}
