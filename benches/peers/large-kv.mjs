// A million rules through Workers KV: the realistic migration (realistic.mjs) published with
// `redirects publish` into wrangler's local storage, and the built worker (build/) in workerd
// through Miniflare reading it. The KV binding is wrapped by a small module that counts every
// read, so the reads of each request are known. Sampled requests (hits of every kind and
// misses) are sent one after the other and each is checked against the rule it is meant for;
// the isolate's memory is read through workerd's inspector.
//
//   node large-kv.mjs --sizes 10000,1000000 [--requests N] [--out DIR]
//
// Each size needs DIR/rules/real-{n}/{rules.json,requests.json} (scripts/bench.sh makes them)
// and the CLI built (target/release/redirects).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { connectTo, isolateMemory } from '../../tests/load/inspector.mjs';
import { countingMiniflare, NS } from './counting-kv.mjs';
import { portFree } from './workerd-run.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(path.join(ROOT, 'package.json'));
const WebSocketClient = globalThis.WebSocket ?? require('ws');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const out = path.resolve(opt('--out', path.join(ROOT, 'target/bench')));
const sizes = opt('--sizes', '10000,1000000').split(',').map(Number);
const sampled = Number(opt('--requests', 10000));

const lines = [];
const say = (s = '') => (lines.push(s), console.log(s));
const f = (x, d = 1) => x.toFixed(d);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function expected(request, response) {
  if (request.kind === 'miss') return response.status === 200;
  const location = response.headers.get('location');
  return response.status === 308 && location !== null && new URL(location).pathname === request.to;
}

async function measure(n) {
  const dir = path.join(out, 'rules', `real-${n}`);
  const persist = mkdtempSync(path.join(os.tmpdir(), `redirects-kv-${n}-`));
  try {
    let t = performance.now();
    execFileSync(path.join(ROOT, 'target/release/redirects'),
      ['publish', path.join(dir, 'rules.json'), '--no-lint', '--namespace-id', NS, '--local', '--persist-to', persist],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, REDIRECTS_WRANGLER: path.join(ROOT, 'node_modules/.bin/wrangler') } });
    const publishS = (performance.now() - t) / 1000;
    const inspectorPort = await portFree();
    const mf = countingMiniflare(persist, inspectorPort);
    await mf.ready;
    const requests = JSON.parse(readFileSync(path.join(dir, 'requests.json'), 'utf8')).slice(0, sampled);
    const send = (r) => mf.dispatchFetch(r.url, { redirect: 'manual' });
    t = performance.now();
    const first = await send(requests.find((r) => r.kind === 'exact'));
    await first.arrayBuffer();
    const firstMs = performance.now() - t;
    const inspector = await connectTo(`ws://127.0.0.1:${inspectorPort}/core:user:redirects`, WebSocketClient);
    const readsSoFar = async () => {
      const r = await inspector.send('Runtime.evaluate', { expression: 'globalThis.__kvReads ?? 0', contextId: inspector.context(), returnByValue: true });
      return r.result.value;
    };
    let readsSeen = await readsSoFar();
    if (readsSeen === 0) throw new Error('the counting KV wrapper counted no read for the first request');
    const times = [];
    const readsBy = { exact: 0, param: 0, splat: 0, miss: 0 };
    const countBy = { exact: 0, param: 0, splat: 0, miss: 0 };
    let wrong = 0;
    for (const r of requests) {
      t = performance.now();
      const res = await send(r);
      await res.arrayBuffer();
      times.push(performance.now() - t);
      const readsNow = await readsSoFar();
      readsBy[r.kind] += readsNow - readsSeen;
      readsSeen = readsNow;
      countBy[r.kind]++;
      if (!expected(r, res)) wrong++;
    }
    // Warm: every request again, now that the parts they need are in the isolate.
    const warm = [];
    for (const r of requests) {
      t = performance.now();
      const res = await send(r);
      await res.arrayBuffer();
      warm.push(performance.now() - t);
      if (!expected(r, res)) wrong++;
    }
    // A hot set: the first 200 requests, ten times over (traffic that comes back to the same
    // pages, whose parts the isolate keeps).
    const hot = [];
    const hotReadsBefore = await readsSoFar();
    for (let k = 0; k < 10; k++) {
      for (const r of requests.slice(0, 200)) {
        t = performance.now();
        const res = await send(r);
        await res.arrayBuffer();
        hot.push(performance.now() - t);
        if (!expected(r, res)) wrong++;
      }
    }
    const hotReads = (await readsSoFar()) - hotReadsBefore;
    const memory = await isolateMemory(inspector);
    inspector.close();
    await mf.dispose();
    return {
      n, publishS, firstMs, wrong, requests: requests.length,
      p50Ms: median(times), warmP50Ms: median(warm), hotP50Ms: median(hot), hotReads,
      readsPerMiss: readsBy.miss / Math.max(1, countBy.miss),
      readsPerHit: (readsBy.exact + readsBy.param + readsBy.splat) / Math.max(1, countBy.exact + countBy.param + countBy.splat),
      misses: countBy.miss,
      wasmMiB: memory.wasmBytes.reduce((a, b) => a + b, 0) / 1048576,
      heapMiB: memory.after.usedSize / 1048576,
    };
  } finally {
    rmSync(persist, { recursive: true, force: true });
  }
}

say(`### Large rule sets through Workers KV (realistic migration, published with \`redirects publish\`; workerd through Miniflare, its local KV)`);
say();
say('| rules | publish s | first request ms | p50 first pass ms | p50 second pass ms | p50 hot set ms (KV reads) | KV reads per miss | KV reads per hit (first pass) | wasm MiB | JS heap MiB | answers wrong |');
say('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const results = [];
for (const n of sizes) {
  const r = await measure(n);
  results.push(r);
  say(`| ${n.toLocaleString('en')} | ${f(r.publishS)} | ${f(r.firstMs)} | ${f(r.p50Ms, 2)} | ${f(r.warmP50Ms, 2)} | ${f(r.hotP50Ms, 2)} (${r.hotReads}) | ${f(r.readsPerMiss, 3)} (${r.misses} misses) | ${f(r.readsPerHit, 2)} | ${f(r.wasmMiB)} | ${f(r.heapMiB)} | ${r.wrong} of ${2 * r.requests + 2000} |`);
}
if (results.length > 1) {
  const [small, big] = [results[0], results[results.length - 1]];
  say();
  say(`p50 at ${big.n.toLocaleString('en')} rules against ${small.n.toLocaleString('en')}: second pass ${f(big.warmP50Ms / small.warmP50Ms, 2)}x (every path asked for again: the isolate keeps the rules of the homes requests needed), hot set ${f(big.hotP50Ms / small.hotP50Ms, 2)}x (target <= 1.3x).`);
}
writeFileSync(path.join(out, 'large-kv.json'), JSON.stringify(results, null, 2));
writeFileSync(path.join(out, 'large-kv.md'), lines.join('\n') + '\n');
