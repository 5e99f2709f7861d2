// Bundles of several shapes (shapes.mjs: plain, lang, date, hot, multihost, mixed, regex, query) at several
// sizes, each built with `redirects build` (time and peak memory), published with
// `redirects publish --local` into fresh local storage and served by the built worker (build/)
// in workerd through Miniflare, as large-kv.mjs does: the KV binding wrapped by a module that
// counts every read; the isolate's memory read through workerd's inspector.
//
// Per shape and size: build time and peak memory, the largest KV value the publish wrote (any
// key: the largest blob in the fresh storage), the first request of a fresh isolate (median
// of --fresh isolates), the warm p50 (the second pass over the sampled requests), KV reads per
// hit and per miss (the miss figure of the second pass: once warm), wasm memory and JS heap
// after the traffic. Every answer is checked against the JSON engine's (bench-oracle: the
// engine crate compiling rules.json natively) and against what the generator meant. Then the
// ratios to the same shape at the smallest size, against the targets (printed, never asserted).
//
//   node large-shapes.mjs [--shapes plain,lang,...] [--sizes 10000,1000000] [--more plain-3000000]
//                         [--requests N]
//                         [--fresh R] [--oracle BIN] [--out DIR]
//   node large-shapes.mjs --prepare [--shapes ...] [--sizes ...]   bundle, artifact and the JSON
//                         engine's answers only (what large.mjs --sets needs)
//   node large-shapes.mjs --fit BYTES [--shapes ...]   prints the sets (shape-n) whose artifact fits
//                         BYTES, from the bytes a rule of the largest size measured here took
//
// Writes DIR/rules/<shape>-<n>/ (rules.json, requests.json, rules.bin, expected.json),
// DIR/large-shapes.{md,json}. Needs target/release/redirects and build/ (scripts/build).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { connectTo, isolateMemory } from '../../tests/load/inspector.mjs';
import { SHAPES, writeShapeSet } from './shapes.mjs';
import { countingMiniflare, NS } from './counting-kv.mjs';
import { portFree } from './workerd-run.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(path.join(ROOT, 'package.json'));
const WebSocketClient = globalThis.WebSocket ?? require('ws');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const out = path.resolve(opt('--out', path.join(ROOT, 'target/bench')));
const shapes = opt('--shapes', SHAPES.join(',')).split(',');
const sizes = opt('--sizes', '10000,1000000').split(',').map(Number);
// --more plain-3000000: a further size for one shape, after its --sizes (the same run's base)
const more = opt('--more', '').split(',').filter(Boolean).map((set) => [set.slice(0, set.lastIndexOf('-')), Number(set.slice(set.lastIndexOf('-') + 1))]);
const sizesOf = (shape) => [...sizes, ...more.filter(([s]) => s === shape).map(([, n]) => n)];
const sampled = Number(opt('--requests', 2000));
const freshRuns = Number(opt('--fresh', 3));
const oracle = path.resolve(opt('--oracle', path.join(out, 'native-target/release/bench-oracle')));
const cli = path.join(ROOT, 'target/release/redirects');

const TARGETS = { first: 1.5, warm: 1.3, wasmMiB: 64, valueBytes: 4 * 1048576, missReads: 0 };

const lines = [];
const say = (s = '') => (lines.push(s), console.log(s));
const f = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes) => bytes / 1048576;
const log = (s) => process.stderr.write(`  ${s}\n`);

/** Runs a command to its end: { code, stderr, seconds, peakKiB } (peak resident memory of the child). */
function run(command, argv, env = process.env) {
  return new Promise((resolve) => {
    const timed = existsSync('/usr/bin/time');
    const [bin, argl] = timed ? ['/usr/bin/time', ['-f', '@@peak %M', command, ...argv]] : [command, argv];
    const started = performance.now();
    const child = spawn(bin, argl, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    let polled = 0;
    // Without GNU time: the high-water mark of the child's resident memory, polled.
    const poll = timed ? null : setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) polled = Math.max(polled, Number(m[1]));
      } catch { /* gone */ }
    }, 20);
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const seconds = (performance.now() - started) / 1000;
      const m = /@@peak (\d+)\s*$/.exec(stderr);
      if (m) stderr = stderr.slice(0, m.index);
      resolve({ code, stderr: stderr.trim(), seconds, peakKiB: m ? Number(m[1]) : polled });
    });
  });
}

/** The sizes of every value in a local KV storage directory (one blob a value written). */
function valueSizes(persist) {
  const sizes = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (path.basename(dir) === 'blobs') sizes.push(statSync(p).size);
    }
  };
  walk(path.join(persist, 'v3/kv'));
  return sizes;
}

/** Whether the worker's answer is the JSON engine's: same status and Location. */
function sameAsOracle(request, want, response) {
  const location = response.headers.get('location');
  if (want.status === null) return response.status !== 301 && response.status !== 302 && response.status !== 303
    && response.status !== 307 && response.status !== 308;
  return response.status === want.status && location !== null
    && new URL(location, request.url).href === new URL(want.location, request.url).href;
}

/** Whether it is the answer the generator meant. */
function meant(request, response) {
  if (request.kind === 'miss') return response.status === 200;
  const location = response.headers.get('location');
  return response.status === 308 && location !== null && new URL(location, request.url).pathname === request.to;
}

/** The set's bundle, artifact and the JSON engine's answers, made when missing or stale. */
async function prepare(shape, n) {
  const row = { shape, n };
  const dir = path.join(out, 'rules', `${shape}-${n}`);
  const rulesFile = path.join(dir, 'rules.json');
  if (!existsSync(path.join(dir, 'requests.json'))) {
    log(`${shape} ${n}: writing the bundle`);
    writeShapeSet(shape, n, dir);
  }
  row.jsonMB = statSync(rulesFile).size / 1e6;

  log(`${shape} ${n}: redirects build`);
  // Over a million rules a build takes --max-rules (the limit of a bundle compiled whole).
  const max = n > 1_000_000 ? ['--max-rules', String(n)] : [];
  const build = await run(cli, ['build', rulesFile, '-o', path.join(dir, 'rules.bin'), ...max]);
  row.buildS = build.seconds;
  row.buildPeakMB = build.peakKiB / 1024;
  if (build.code !== 0) {
    row.refused = `redirects build: ${build.stderr.split('\n').slice(0, 2).join(' ')}`;
    return { row };
  }
  row.artifactMB = statSync(path.join(dir, 'rules.bin')).size / 1e6;

  const requests = JSON.parse(readFileSync(path.join(dir, 'requests.json'), 'utf8')).slice(0, sampled);
  const expectedFile = path.join(dir, 'expected.json');
  if (!existsSync(expectedFile) || statSync(expectedFile).mtimeMs < statSync(rulesFile).mtimeMs) {
    log(`${shape} ${n}: the JSON engine's answers (bench-oracle)`);
    const o = await run(oracle, [rulesFile, path.join(dir, 'requests.json'), expectedFile]);
    if (o.code !== 0) {
      rmSync(expectedFile, { force: true });
      row.oracleRefused = o.stderr.split('\n')[0];
    }
    row.oracleS = o.seconds;
    row.oraclePeakMB = o.peakKiB / 1024;
  }
  const expected = existsSync(expectedFile) ? JSON.parse(readFileSync(expectedFile, 'utf8')).slice(0, requests.length) : null;
  return { row, dir, rulesFile, requests, expected };
}

async function measure(shape, n) {
  const { row, rulesFile, requests, expected } = await prepare(shape, n);
  if (row.refused) return row;

  const persist = mkdtempSync(path.join(os.tmpdir(), `redirects-shape-${shape}-${n}-`));
  try {
    log(`${shape} ${n}: redirects publish --local`);
    // Over a million rules, the artifact built above is published (`publish` builds a bundle
    // with the limit of one compiled whole).
    const source = n > 1_000_000 ? path.join(path.dirname(rulesFile), 'rules.bin') : rulesFile;
    const publish = await run(cli, ['publish', source, '--no-lint', '--namespace-id', NS, '--local', '--persist-to', persist],
      { ...process.env, REDIRECTS_WRANGLER: path.join(ROOT, 'node_modules/.bin/wrangler') });
    row.publishS = publish.seconds;
    if (publish.code !== 0) {
      row.refused = `redirects publish: ${publish.stderr.split('\n').slice(-2).join(' ')}`;
      return row;
    }
    const values = valueSizes(persist);
    row.values = values.length;
    row.largestValue = Math.max(...values);

    let wrong = 0;
    let notMeant = 0;
    let checked = 0;
    const check = (k, res) => {
      checked++;
      if (expected && !sameAsOracle(requests[k], expected[k], res)) {
        if (wrong < 3) log(`${shape} ${n}: ${requests[k].url}: worker ${res.status} ${res.headers.get('location')}, JSON engine ${JSON.stringify(expected[k])}`);
        wrong++;
      }
      if (!meant(requests[k], res)) notMeant++;
    };

    // The first request of fresh isolates: a hit, in a new Miniflare (a new workerd) each time.
    const firsts = [];
    const firstWasm = [];
    const firstReads = [];
    const firstKvMs = [];
    let mf = null;
    let inspector = null;
    let readsSoFar = null;
    const k0 = requests.findIndex((r) => r.kind === 'hit');
    for (let run = 0; run < freshRuns; run++) {
      const inspectorPort = await portFree();
      mf = countingMiniflare(persist, inspectorPort);
      await mf.ready;
      const t = performance.now();
      const res = await mf.dispatchFetch(requests[k0].url, { redirect: 'manual' });
      await res.arrayBuffer();
      firsts.push(performance.now() - t);
      check(k0, res);
      inspector = await connectTo(`ws://127.0.0.1:${inspectorPort}/core:user:redirects`, WebSocketClient);
      readsSoFar = async () => {
        const r = await inspector.send('Runtime.evaluate', { expression: 'globalThis.__kvReads ?? 0', contextId: inspector.context(), returnByValue: true });
        return r.result.value;
      };
      firstReads.push(await readsSoFar());
      const kvMs = await inspector.send('Runtime.evaluate', { expression: 'globalThis.__kvMs ?? 0', contextId: inspector.context(), returnByValue: true });
      firstKvMs.push(kvMs.result.value);
      const memory = await isolateMemory(inspector);
      firstWasm.push(mib(memory.wasmBytes.reduce((a, b) => a + b, 0)));
      if (run < freshRuns - 1) {
        inspector.close();
        await mf.dispose();
      }
    }
    row.firstMs = median(firsts);
    row.firstRuns = firsts;
    row.firstReads = median(firstReads);
    row.firstKvMs = median(firstKvMs);
    row.wasmFirstMiB = median(firstWasm);
    if (row.firstReads === 0) throw new Error('the counting KV wrapper counted no read for the first request');

    // Two passes over the sampled requests in the last isolate: reads and times of each.
    const pass = async () => {
      const times = [];
      const reads = { hit: 0, miss: 0 };
      const count = { hit: 0, miss: 0 };
      let seen = await readsSoFar();
      for (let k = 0; k < requests.length; k++) {
        const r = requests[k];
        const t = performance.now();
        const res = await mf.dispatchFetch(r.url, { redirect: 'manual' });
        await res.arrayBuffer();
        times.push(performance.now() - t);
        const now = await readsSoFar();
        const kind = r.kind === 'miss' ? 'miss' : 'hit';
        reads[kind] += now - seen;
        count[kind]++;
        seen = now;
        check(k, res);
      }
      return { p50: median(times), perHit: reads.hit / Math.max(1, count.hit), perMiss: reads.miss / Math.max(1, count.miss), misses: count.miss };
    };
    log(`${shape} ${n}: ${requests.length} requests, twice`);
    const one = await pass();
    const two = await pass();
    Object.assign(row, {
      p50FirstPassMs: one.p50, warmP50Ms: two.p50, readsPerHit: one.perHit, readsPerHitWarm: two.perHit,
      readsPerMissCold: one.perMiss, readsPerMiss: two.perMiss, misses: one.misses,
    });
    const memory = await isolateMemory(inspector);
    row.wasmMiB = mib(memory.wasmBytes.reduce((a, b) => a + b, 0));
    row.heapMiB = mib(memory.after.usedSize);
    inspector.close();
    await mf.dispose();
    Object.assign(row, { wrong, notMeant, checked, oracleChecked: expected !== null });
    return row;
  } finally {
    rmSync(persist, { recursive: true, force: true });
  }
}

if (!args.includes('--fit') && !existsSync(oracle)) {
  console.error(`no ${oracle}: build it with cargo build --release --manifest-path benches/peers/native/oracle/Cargo.toml (or pass --oracle)`);
  process.exit(2);
}
if (args.includes('--prepare')) {
  for (const shape of shapes) {
    for (const n of sizes) {
      const { row } = await prepare(shape, n);
      if (row.refused || row.oracleRefused) console.error(`${shape}-${n}: ${row.refused ?? row.oracleRefused}`);
    }
  }
  process.exit(0);
}
if (args.includes('--fit')) {
  // The largest multiple of 10,000 rules (at most the largest size measured) whose artifact
  // fits, at the bytes a rule took in the largest artifact of each shape in large-shapes.json.
  const budget = Number(opt('--fit'));
  const measured = JSON.parse(readFileSync(path.join(out, 'large-shapes.json'), 'utf8')).filter((r) => r.artifactMB);
  const fit = [];
  for (const shape of shapes) {
    const largest = measured.filter((r) => r.shape === shape).sort((a, b) => b.n - a.n)[0];
    if (!largest) continue;
    const perRule = (largest.artifactMB * 1e6) / largest.n;
    fit.push(`${shape}-${Math.min(largest.n, Math.floor(budget / perRule / 10_000) * 10_000)}`);
  }
  console.log(fit.join(','));
  process.exit(0);
}

const started = performance.now();
const results = [];
for (const shape of shapes) {
  for (const n of sizesOf(shape)) {
    const row = await measure(shape, n);
    results.push(row);
    writeFileSync(path.join(out, 'large-shapes.json'), JSON.stringify(results, null, 2));
  }
}

const verdict = (ok) => (ok ? 'MET' : 'NOT MET');
say(`### Bundles of several shapes through Workers KV (\`redirects build\`, \`redirects publish --local\`; the built worker in workerd through Miniflare; ${sampled} sampled requests, about 30 % misses; first request: median of ${freshRuns} fresh isolates)`);
say();
say('| shape | rules | rules.json MB | build s | build peak MB | artifact MB | KV values | largest value MB | first request ms (of which KV waits) | warm p50 ms | KV reads per hit (1st pass / warm) | KV reads per miss (1st pass / warm) | wasm MiB (after 1st / after all) | JS heap MiB | answers unlike the JSON engine |');
say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const head = `| ${r.shape} | ${r.n.toLocaleString('en')} | ${f(r.jsonMB)} | ${f(r.buildS, 2)} | ${f(r.buildPeakMB, 0)} |`;
  if (r.refused) {
    say(`${head} ${r.refused.replaceAll('|', '\\|')} ||||||||||`);
    continue;
  }
  const answers = r.oracleChecked
    ? `${r.wrong} of ${r.checked}${r.notMeant ? ` (${r.notMeant} unlike the generator's)` : ''}`
    : `not checked: ${r.oracleRefused ?? 'no oracle'}${r.notMeant ? `; ${r.notMeant} unlike the generator's` : ''}`;
  say(`${head} ${f(r.artifactMB)} | ${r.values.toLocaleString('en')} | ${f(r.largestValue / 1e6, 2)} | ${f(r.firstMs)} (${f(r.firstKvMs ?? NaN, 0)}) | ${f(r.warmP50Ms, 2)} | ${f(r.readsPerHit, 2)} / ${f(r.readsPerHitWarm, 2)} | ${f(r.readsPerMissCold, 2)} / ${f(r.readsPerMiss, 2)} | ${f(r.wasmFirstMiB)} / ${f(r.wasmMiB)} | ${f(r.heapMiB)} | ${answers.replaceAll('|', '\\|')} |`);
}
say();
say(`Targets, against the same shape at ${sizes[0].toLocaleString('en')} rules in this run: first request <= ${TARGETS.first}x, warm p50 <= ${TARGETS.warm}x, wasm memory <= ${TARGETS.wasmMiB} MiB, largest KV value <= 4 MiB, KV reads per miss once warm ${TARGETS.missReads}.`);
say();
say('| shape | rules | first request | warm p50 | wasm memory | largest value | reads per miss (warm) |');
say('|---|---:|---|---|---|---|---|');
for (const r of results) {
  if (r.refused) {
    say(`| ${r.shape} | ${r.n.toLocaleString('en')} | not measured | | | | |`);
    continue;
  }
  const base = results.find((b) => b.shape === r.shape && b.n === sizes[0] && !b.refused);
  const ratio = (k, target) => (base ? `${f(r[k] / base[k], 2)}x ${verdict(r[k] / base[k] <= target)}` : '-');
  say(`| ${r.shape} | ${r.n.toLocaleString('en')} | ${ratio('firstMs', TARGETS.first)} | ${ratio('warmP50Ms', TARGETS.warm)} | ${f(Math.max(r.wasmMiB, r.wasmFirstMiB))} MiB ${verdict(Math.max(r.wasmMiB, r.wasmFirstMiB) <= TARGETS.wasmMiB)} | ${f(r.largestValue / 1048576, 2)} MiB ${verdict(r.largestValue <= TARGETS.valueBytes)} | ${f(r.readsPerMiss, 3)} ${verdict(r.readsPerMiss <= TARGETS.missReads)} |`);
}
say();
say(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
writeFileSync(path.join(out, 'large-shapes.json'), JSON.stringify(results, null, 2));
writeFileSync(path.join(out, 'large-shapes.md'), lines.join('\n') + '\n');
