// Load on the built worker in workerd, on loopback: a bounded number of requests (default
// 1,000,000) at a fixed concurrency (default 64) over a mix of every rule kind of the embedded
// rules.json, with an origin worker behind it. Fails on any error, timeout or 5xx; prints
// latency percentiles and workerd's resident memory after warm-up, half-way and at the end.
//
//   node tests/load/run.mjs [--requests N] [--connections C] [--out FILE.json]
//
// scripts/load.sh builds the worker and installs the load generator first.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import http from "node:http";
import net from "node:net";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const total = Number(opt("--requests", 1_000_000));
const connections = Number(opt("--connections", 64));
const outFile = opt("--out", path.join(ROOT, "target/load/result.json"));
const require = createRequire(path.join(ROOT, "benches/peers/package.json"));
const autocannon = require("autocannon");
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
const date = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8").match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];

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
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
        modules = [
          ${modules.join(",\n          ")}
        ],
        compatibilityDate = "${date}",
        globalOutbound = "origin",
    )),
    (name = "origin", worker = (
        modules = [ (name = "origin.mjs", esModule = embed "origin.mjs") ],
        compatibilityDate = "${date}",
    )),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
`,
);

const proc = spawn(workerd, ["serve", "config.capnp"], { cwd: stageDir, stdio: ["ignore", "ignore", "pipe"] });
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
say(`workerd pid ${proc.pid} on 127.0.0.1:${port}; ${total.toLocaleString("en")} requests, ${connections} connections, ${MIX.length} request kinds`);
await run(20_000); // warm-up: JIT, first compile of the bundle, connection pools
const rss = { warm: rssMiB() };
say(`RSS after warm-up: ${rss.warm.toFixed(1)} MiB`);
const half = Math.floor(total / 2);
const results = [];
for (const [label, amount] of [["first half", half], ["second half", total - half]]) {
  const r = await run(amount);
  results.push(r);
  rss[label] = rssMiB();
  const codes = Object.entries(r.statusCodeStats).map(([c, s]) => `${c}:${s.count}`).join(" ");
  say(
    `${label}: ${(r.requests.total).toLocaleString("en")} requests in ${(r.duration).toFixed(1)} s ` +
      `(${Math.round(r.requests.average)} req/s), latency p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms ` +
      `max ${r.latency.max} ms; errors ${r.errors}, timeouts ${r.timeouts}, non-2xx/3xx ${r.non2xx}; ` +
      `status ${codes}; RSS ${rss[label].toFixed(1)} MiB`,
  );
}
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
  rss_mib: rss,
};
summary.rps = Math.round(summary.requests / summary.seconds);
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(summary, null, 2) + "\n");
say(`total: ${summary.requests.toLocaleString("en")} requests, ${summary.rps} req/s, errors ${summary.errors}, ` +
  `timeouts ${summary.timeouts}, 5xx ${fiveXX}, p99 ${summary.latency_ms.p99} ms (worst half), ` +
  `RSS ${rss.warm.toFixed(1)} -> ${rss["first half"].toFixed(1)} -> ${rss["second half"].toFixed(1)} MiB`);
say(`written to ${path.relative(ROOT, outFile)}`);
if (summary.errors || summary.timeouts || fiveXX || summary.requests < total) {
  process.exitCode = 1;
  say("FAILED: errors, timeouts, 5xx or missing requests");
}
