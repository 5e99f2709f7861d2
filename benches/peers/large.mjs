// Large rule sets: our worker with the realistic migration (realistic.mjs), or a bundle of one
// of the shapes (shapes.mjs), built into the embedded artifact, in a fresh workerd isolate each
// time: the first request (the artifact opened, the parts it needs compiled), the isolate's
// memory after it (wasm linear memory and JS heap, through the inspector), then the sampled
// requests one after the other, each checked against the answer the rule it is meant for gives
// (a hit: a 308 to that rule's target; a miss: the origin) and, for the shapes, against the
// JSON engine's answer (expected.json, written by large-shapes.mjs with bench-oracle).
//
//   node large.mjs --sizes 1000,10000,100000 [--requests N] [--repeats R] [--out DIR]
//   node large.mjs --sets lang-10000,lang-600000,... [--requests N] [--repeats R] [--out DIR]
//
// Each size needs DIR/worker-real-{n}/ (the built worker and its modules.json) and
// DIR/rules/real-{n}/{rules.json,requests.json,rules.bin}; each set DIR/worker-{set}/ and
// DIR/rules/{set}/: scripts/bench.sh makes them. The shapes' table compares each set with the
// same shape at its smallest size (first request <= 1.5x, wasm memory <= 64 MiB).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { connectTo, isolateMemory } from '../../tests/load/inspector.mjs';
import { portFree, stageIn, start, stop } from './workerd-run.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const out = path.resolve(opt('--out', path.join(import.meta.dirname, '../../target/bench')));
const sets = args.includes('--sets') ? opt('--sets').split(',') : null;
const sizes = sets ? [] : opt('--sizes', '10,1000,10000,100000').split(',').map(Number);
const sampled = Number(opt('--requests', 2000));
const repeats = Number(opt('--repeats', 3));
const WebSocketClient = globalThis.WebSocket ?? createRequire(path.join(import.meta.dirname, '../../package.json'))('ws');

const lines = [];
const say = (s = '') => (lines.push(s), console.log(s));
const f = (x, d = 1) => x.toFixed(d);
const mib = (bytes) => bytes / 1048576;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function modules(set) {
  const dir = path.join(out, `worker-${set}`);
  return JSON.parse(readFileSync(path.join(dir, 'modules.json'), 'utf8')).map((m) => ({ ...m, file: path.join(dir, m.name) }));
}

/** Whether an answer is the one the request was generated for. */
function expected(request, response) {
  if (request.kind === 'miss') return response.status === 200;
  const location = response.headers.get('location');
  return response.status === 308 && location !== null && new URL(location).pathname === request.to;
}

const agent = new http.Agent({ keepAlive: true });

/**
 * GET over loopback with the request's own Host header (fetch does not send the Host it is
 * given, and the multi-host bundle's answers depend on it): { status, headers.get(name) }.
 */
function get(port, request) {
  const url = new URL(request.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: url.pathname + url.search, agent, headers: { host: url.host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: { get: (name) => res.headers[name.toLowerCase()] ?? null } }));
    });
    req.on('error', reject);
    req.setTimeout(STEP_MS, () => req.destroy(new Error(`no answer in ${STEP_MS} ms: ${request.url}`)));
    req.end();
  });
}

/** How long one request or one inspector step may take before the isolate counts as hung. */
const STEP_MS = 60000;

/** `promise`, or an error naming `what` once STEP_MS have passed. */
function bounded(promise, what) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing in ${STEP_MS} ms`)), STEP_MS); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** fresh(), once more when an isolate hangs or fails to start (the error is said, not hidden). */
async function freshRetried(set, requests, oracle) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fresh(set, requests, oracle);
    } catch (e) {
      if (attempt >= 3) throw e;
      console.error(`${set}: fresh isolate ${attempt} failed (${e.message}); again`);
    }
  }
}

/**
 * Whether an answer is the JSON engine's (`want`, from bench-oracle): same status and Location
 * (host, path and query: the worker is asked over http on loopback, the oracle for https).
 */
function sameAsOracle(request, want, response) {
  const location = response.headers.get('location');
  if (want.status === null) return ![301, 302, 303, 307, 308].includes(response.status);
  const where = (u) => { const url = new URL(u, request.url); return url.host + url.pathname + url.search; };
  return response.status === want.status && location !== null && where(location) === where(want.location);
}

async function fresh(set, requests, oracle) {
  const inspectorPort = await portFree();
  const server = await start(stageIn(path.join(out, 'workerd', set), modules(set)), { inspectorPort });
  try {
    const first = requests.find((r) => r.kind === 'exact' || r.kind === 'hit');
    let t = performance.now();
    const answer = await get(server.port, first);
    const firstMs = performance.now() - t;
    if (!expected(first, answer)) throw new Error(`first request: ${answer.status}`);
    const inspector = await bounded(connectTo(`ws://127.0.0.1:${inspectorPort}/main`, WebSocketClient), 'inspector');
    const memory = await bounded(isolateMemory(inspector), 'isolate memory');
    const times = [];
    let wrong = 0;
    let unlikeOracle = 0;
    for (const [k, r] of requests.slice(0, sampled).entries()) {
      t = performance.now();
      const res = await get(server.port, r);
      times.push(performance.now() - t);
      if (!expected(r, res)) wrong++;
      if (oracle && !sameAsOracle(r, oracle[k], res)) unlikeOracle++;
    }
    const after = await bounded(isolateMemory(inspector), 'isolate memory');
    inspector.close();
    return {
      firstMs,
      wasmMiB: mib(memory.wasmBytes.reduce((a, b) => a + b, 0)),
      heapMiB: mib(memory.after.usedSize),
      wasmAfterMiB: mib(after.wasmBytes.reduce((a, b) => a + b, 0)),
      warmP50Ms: median(times),
      wrong,
      unlikeOracle,
    };
  } finally {
    await stop(server);
  }
}

if (!sets) {
say(`### Large rule sets (realistic migration: 85 % exact, 10 % params, 5 % splats; artifact embedded; median of ${repeats} fresh isolates)`);
say();
say('| rules | rules.json MB | artifact MB | first request ms | wasm memory after it MiB | JS heap MiB | memory / artifact | warm p50 ms | sampled answers wrong |');
say('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const results = [];
for (const n of sizes) {
  const dir = path.join(out, 'rules', `real-${n}`);
  const requests = JSON.parse(readFileSync(path.join(dir, 'requests.json'), 'utf8'));
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push(await freshRetried(`real-${n}`, requests));
  const m = (k) => median(runs.map((r) => r[k]));
  const json = statSync(path.join(dir, 'rules.json')).size / 1e6;
  const artifact = statSync(path.join(dir, 'rules.bin')).size;
  const row = { n, json_mb: json, artifact_mb: artifact / 1e6, first_ms: m('firstMs'), wasm_mib: m('wasmMiB'), heap_mib: m('heapMiB'),
    warm_p50_ms: m('warmP50Ms'), wrong: Math.max(...runs.map((r) => r.wrong)), wasm_after_sampled_mib: m('wasmAfterMiB') };
  row.memory_ratio = (row.wasm_mib + row.heap_mib) * 1048576 / artifact;
  results.push(row);
  say(`| ${n.toLocaleString('en')} | ${f(json)} | ${f(row.artifact_mb)} | ${f(row.first_ms)} | ${f(row.wasm_mib)} | ${f(row.heap_mib)} | ${f(row.memory_ratio, 2)} | ${f(row.warm_p50_ms, 2)} | ${row.wrong} of ${Math.min(sampled, requests.length)} |`);
}
const smallest = results[0];
say();
for (const r of results.slice(1)) {
  say(`First request at ${r.n.toLocaleString('en')} rules: ${f(r.first_ms / smallest.first_ms, 2)}x the ${smallest.n.toLocaleString('en')}-rule figure (target <= 1.5x).`);
}
writeFileSync(path.join(out, 'large.json'), JSON.stringify(results, null, 2));
writeFileSync(path.join(out, 'large.md'), lines.join('\n') + '\n');
}

if (sets) {
say(`### Bundles of several shapes, embedded (the artifact uploaded beside the wasm; median of ${repeats} fresh isolates; targets against the same shape at its smallest size here)`);
say();
say('| shape | rules | artifact MB | upload MiB (every module) | first request ms | wasm memory after it MiB | JS heap MiB | warm p50 ms | answers wrong (unlike the JSON engine) | first request ratio (<= 1.5x) | wasm memory (<= 64 MiB) |');
say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
const rows = [];
for (const set of sets) {
  const [shape, n] = [set.slice(0, set.lastIndexOf('-')), Number(set.slice(set.lastIndexOf('-') + 1))];
  const dir = path.join(out, 'rules', set);
  const requests = JSON.parse(readFileSync(path.join(dir, 'requests.json'), 'utf8')).slice(0, sampled);
  const oracleFile = path.join(dir, 'expected.json');
  let oracle = null;
  try { oracle = JSON.parse(readFileSync(oracleFile, 'utf8')); } catch { /* not written: only the generator's answers */ }
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push(await freshRetried(set, requests, oracle));
  const m = (k) => median(runs.map((r) => r[k]));
  const row = { shape, n, artifact_mb: statSync(path.join(dir, 'rules.bin')).size / 1e6,
    upload_mib: modules(set).reduce((sum, m) => sum + statSync(m.file).size, 0) / 1048576,
    first_ms: m('firstMs'), wasm_mib: m('wasmMiB'), heap_mib: m('heapMiB'), warm_p50_ms: m('warmP50Ms'),
    wrong: Math.max(...runs.map((r) => r.wrong)), unlike_oracle: oracle ? Math.max(...runs.map((r) => r.unlikeOracle)) : null };
  rows.push(row);
  const base = rows.find((b) => b.shape === shape);
  const ratio = row.first_ms / base.first_ms;
  say(`| ${shape} | ${n.toLocaleString('en')} | ${f(row.artifact_mb)} | ${f(row.upload_mib)} | ${f(row.first_ms)} | ${f(row.wasm_mib)} | ${f(row.heap_mib)} | ${f(row.warm_p50_ms, 2)} | ${row.wrong} (${row.unlike_oracle ?? 'no oracle'}) of ${requests.length} | ${base === row ? 'base' : `${f(ratio, 2)}x ${ratio <= 1.5 ? 'MET' : 'NOT MET'}`} | ${row.wasm_mib <= 64 ? 'MET' : 'NOT MET'} |`);
}
writeFileSync(path.join(out, 'large-embedded-shapes.json'), JSON.stringify(rows, null, 2));
writeFileSync(path.join(out, 'large-embedded-shapes.md'), lines.join('\n') + '\n');
}
