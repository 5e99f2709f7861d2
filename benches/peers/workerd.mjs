// The whole worker in workerd: our worker and the equivalent JS worker (js-worker/), each
// served by workerd on 127.0.0.1 and driven by the same load generator (autocannon) for the
// same number of requests; and cold start at each bundle size.
//
//   node workerd.mjs --ours-dir-pattern DIR/worker-{n} [--quick] [--out DIR]
//
// Each `worker-{n}` directory holds our worker built with the n-rule mixed bundle embedded,
// and a `modules.json` naming its modules, entry first: [{ "name", "type" }], type one of
// esModule, wasm, data (the artifact of the bundled rules). scripts/bench.sh builds them.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { generateRequests, generateRules, toRoutes } from './ruleset.mjs';
import { stageIn, start, stop } from './workerd-run.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const out = path.resolve(opt('--out', path.join(import.meta.dirname, '../../target/bench')));
const oursPattern = opt('--ours-dir-pattern', path.join(out, 'worker-{n}'));
const sizes = quick ? [10000] : [1000, 10000, 100000];
const loadSize = 10000;
const amount = quick ? 20000 : 100000;
const connections = 32;
const coldRepeats = quick ? 1 : 3;
const here = import.meta.dirname;

const stage = (name, modules, options) => stageIn(path.join(out, 'workerd', name), modules, options);

function oursModules(n) {
  const dir = oursPattern.replace('{n}', String(n));
  return JSON.parse(readFileSync(path.join(dir, 'modules.json'), 'utf8')).map((m) => ({ ...m, file: path.join(dir, m.name) }));
}

function jsModules(n) {
  const dir = path.join(out, 'js-worker', String(n));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'routes.json'), JSON.stringify(toRoutes(generateRules(n, 'mixed'))));
  return [
    { name: 'worker.mjs', type: 'esModule', file: path.join(here, 'js-worker/worker.mjs') },
    { name: 'path-to-regexp', type: 'esModule', file: path.join(here, 'node_modules/path-to-regexp/dist/index.js') },
    { name: 'routes.json', type: 'json', file: path.join(dir, 'routes.json') },
  ];
}

/** Cold start: process start to listening, then the first request (the bundle is compiled on first use), then warm requests. */
async function coldStart(name, modules) {
  const runs = [];
  for (let i = 0; i < coldRepeats; i++) {
    const server = await start(stage(name, modules));
    const url = `http://127.0.0.1:${server.port}/legacy/c1/item-1.html`;
    let t = performance.now();
    const first = await fetch(url, { redirect: 'manual' });
    await first.arrayBuffer();
    const firstMs = performance.now() - t;
    const warm = [];
    for (let j = 0; j < 20; j++) {
      t = performance.now();
      const r = await fetch(url, { redirect: 'manual' });
      await r.arrayBuffer();
      warm.push(performance.now() - t);
    }
    warm.sort((a, b) => a - b);
    runs.push({ startMs: server.startMs, firstMs, warmMs: warm[10], status: first.status });
    await stop(server);
  }
  const med = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return { startMs: med('startMs'), firstMs: med('firstMs'), warmMs: med('warmMs'), status: runs[0].status };
}

/** CPU seconds (user + system) the process `pid` has used so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100)
}

/** Drives one worker with autocannon over the request mix: same paths, same count, same connections. */
async function load(name, modules, paths, stageOptions) {
  const server = await start(stage(name, modules, stageOptions));
  let k = 0;
  const run = (count) =>
    autocannon({
      url: `http://127.0.0.1:${server.port}`,
      connections,
      amount: count,
      requests: [{ setupRequest: (req) => ({ ...req, path: paths[k++ % paths.length] }) }],
    });
  await run(2000); // warm-up: the first request compiles the bundle
  const cpu0 = cpuSeconds(server.proc.pid);
  const r = await run(amount);
  const cpuUs = ((cpuSeconds(server.proc.pid) - cpu0) * 1e6) / r.requests.total;
  await stop(server);
  return {
    cpuUs,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    statuses: { '2xx': r['2xx'], '3xx': r['3xx'], '4xx': r['4xx'], '5xx': r['5xx'] },
    total: r.requests.total,
  };
}

const lines = [];
const say = (s = '') => (lines.push(s), console.log(s));
const f = (x, d = 1) => x.toFixed(d);

say(`workerd ${readFileSync(path.join(here, 'node_modules/workerd/package.json'), 'utf8').match(/"version": "([^"]+)"/)[1]}, loopback.`);
say();
say('### Cold start (mixed rules; median of ' + coldRepeats + ')');
say();
say('| worker | rules | start to listening ms | first request ms | warm request ms | first status |');
say('|---|---:|---:|---:|---:|---:|');
const cold = [];
for (const n of sizes) {
  for (const [label, mods] of [['ours (Rust/wasm)', () => oursModules(n)], ['JS (Map + path-to-regexp)', () => jsModules(n)]]) {
    try {
      const c = await coldStart(`${label.startsWith('ours') ? 'ours' : 'js'}-${n}`, mods());
      cold.push({ worker: label, n, ...c });
      say(`| ${label} | ${n.toLocaleString('en')} | ${f(c.startMs)} | ${f(c.firstMs)} | ${f(c.warmMs, 2)} | ${c.status} |`);
    } catch (e) {
      say(`| ${label} | ${n.toLocaleString('en')} | failed: ${e.message.split('\n')[0]} | | | |`);
    }
  }
}

say();
say(`### Throughput (${loadSize.toLocaleString('en')} mixed rules, ${amount.toLocaleString('en')} requests, ${connections} connections, autocannon)`);
say();
say('| worker | requests/s | latency p50 ms | latency p99 ms | errors | 2xx (origin) | 3xx (redirect) | 4xx/5xx |');
say('|---|---:|---:|---:|---:|---:|---:|---:|');
const paths = generateRequests(generateRules(loadSize, 'mixed'), 10000, 'mixed').map((r) => r.url.replace('https://example.com', ''));
const thr = {};
for (const [key, label, mods] of [['ours', 'ours (Rust/wasm)', () => oursModules(loadSize)], ['js', 'JS (Map + path-to-regexp)', () => jsModules(loadSize)]]) {
  try {
    const r = await load(`${key}-load`, mods(), paths);
    thr[key] = r;
    say(`| ${label} | ${f(r.rps, 0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.statuses['2xx']} | ${r.statuses['3xx']} | ${r.statuses['4xx'] + r.statuses['5xx']} |`);
  } catch (e) {
    say(`| ${label} | failed: ${e.message.split('\n')[0]} | | | | | | |`);
  }
}
say();
if (thr.ours && thr.js) {
  const x = thr.ours.rps / thr.js.rps;
  say(`Target: ${x >= 1 ? 'MET    ' : 'NOT MET'}  our worker's throughput >= the JS worker's: ${f(x, 2)}x`);
} else {
  say('Target: NOT MEASURED  our worker\'s throughput >= the JS worker\'s');
}

// --- the analytics binding: what it adds per request --------------------------------------
// Paired rounds (without, then with, back to back) and the median of the per-round ratios: on a
// shared machine the load drifts between runs, and a pair sees nearly the same load.
const rounds = 5;
say();
say(`### Analytics binding: cost per request (${loadSize.toLocaleString('en')} mixed rules, ${amount.toLocaleString('en')} requests, median of ${rounds} paired rounds)`);
say();
say('REDIRECT_ANALYTICS bound to a stand-in dataset that drops each point; every request a rule decides writes one.');
say();
say('| worker | workerd CPU µs/request | requests/s | latency p50 ms | 3xx (a point each) |');
say('|---|---:|---:|---:|---:|');
const analytics = { without: [], with: [] };
try {
  for (let round = 0; round < rounds; round++) {
    analytics.without.push(await load('ours-no-dataset', oursModules(loadSize), paths));
    analytics.with.push(await load('ours-dataset', oursModules(loadSize), paths, { analytics: true }));
  }
  const median = (runs, k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  for (const [label, runs] of [['ours, no dataset bound', analytics.without], ['ours, REDIRECT_ANALYTICS bound', analytics.with]]) {
    say(`| ${label} | ${f(median(runs, 'cpuUs'))} | ${f(median(runs, 'rps'), 0)} | ${median(runs, 'p50')} | ${runs[0].statuses['3xx']} |`);
  }
  const ratios = analytics.with.map((w, i) => w.cpuUs / analytics.without[i].cpuUs).sort((a, b) => a - b);
  const x = ratios[Math.floor(ratios.length / 2)];
  say();
  say(`CPU with/without per round: ${ratios.map((r) => f(r, 3)).join(', ')}`);
  say(`Target: ${x <= 1.1 ? 'MET    ' : 'NOT MET'}  CPU per request with the binding <= 1.10x without (median of the paired rounds): ${f(x, 3)}x`);
} catch (e) {
  say(`| analytics | failed: ${e.message.split('\n')[0]} | | | |`);
}

mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'workerd.json'), JSON.stringify({ cold, throughput: thr, analytics }, null, 2));
writeFileSync(path.join(out, 'workerd.md'), lines.join('\n') + '\n');
