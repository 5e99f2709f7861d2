// Measures one engine on one rule set, in a fresh Node process (so memory after load is this
// engine's alone). Run by run.mjs as:
//   node --expose-gc measure.mjs <engine> <rule-set dir> <time budget ms>
// Prints one JSON object: load time, per-request p50/p99, memory after load, hit counts.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENGINES } from './engines.mjs';

const [engineName, dir, budgetArg] = process.argv.slice(2);
const budgetMs = Number(budgetArg ?? 2000);
const engine = ENGINES[engineName];
if (!engine) throw new Error(`unknown engine ${engineName}`);

const requests = JSON.parse(readFileSync(path.join(dir, 'requests.json'), 'utf8'));
const inputs = requests.map((r) => (engine.prepare ? engine.prepare(r) : r));

const memory = () => {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
};

const loader = await engine.load(dir);
const before = memory();
const t0 = process.hrtime.bigint();
const instance = await loader.build();
const loadNs = Number(process.hrtime.bigint() - t0);
const after = memory();

// One full pass, untimed: warms the JIT and checks the answers against the generator's.
// Bounded by the time budget too: a linear scan over 100k rules takes milliseconds a request.
let hits = 0;
let agree = 0;
let checked = 0;
const checkDeadline = Date.now() + budgetMs;
for (let i = 0; i < inputs.length && (i < 200 || Date.now() < checkDeadline); i++) {
  checked++;
  const target = engine.async ? await engine.evaluate(instance, inputs[i]) : engine.evaluate(instance, inputs[i]);
  const hit = target !== undefined && target !== null;
  if (hit) hits++;
  if (hit === requests[i].hit) agree++;
}

// Timed: batches of requests in the generator's order, until the budget is spent.
// A batch is 64 requests for engines that answer in well under a microsecond, fewer for slow
// ones, so the timer's resolution never dominates and slow engines still give many samples.
const probeStart = process.hrtime.bigint();
for (let i = 0; i < 64; i++) {
  if (engine.async) await engine.evaluate(instance, inputs[i % inputs.length]);
  else engine.evaluate(instance, inputs[i % inputs.length]);
}
const probeNs = Number(process.hrtime.bigint() - probeStart) / 64;
const batch = probeNs > 20_000 ? 1 : probeNs > 2_000 ? 8 : 64;

const samples = [];
let k = 0;
const deadline = Date.now() + budgetMs;
let sink = 0;
while (Date.now() < deadline || samples.length < 30) {
  const start = process.hrtime.bigint();
  if (engine.async) {
    for (let j = 0; j < batch; j++) {
      const t = await engine.evaluate(instance, inputs[k]);
      if (t) sink++;
      k = k + 1 === inputs.length ? 0 : k + 1;
    }
  } else {
    for (let j = 0; j < batch; j++) {
      const t = engine.evaluate(instance, inputs[k]);
      if (t) sink++;
      k = k + 1 === inputs.length ? 0 : k + 1;
    }
  }
  samples.push(Number(process.hrtime.bigint() - start) / batch);
  if (samples.length >= 200_000) break;
}
samples.sort((a, b) => a - b);
const pct = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
const mean = samples.reduce((a, b) => a + b, 0) / samples.length;

process.stdout.write(
  JSON.stringify({
    engine: engineName,
    loadMs: loadNs / 1e6,
    p50Ns: pct(50),
    p99Ns: pct(99),
    meanNs: mean,
    batch,
    samples: samples.length,
    memBytes: after.heap - before.heap + (after.external - before.external),
    rssBytes: after.rss - before.rss,
    sourceBytes: Buffer.byteLength(loader.text),
    requests: requests.length,
    checked,
    hits,
    agree,
    sink,
  }) + '\n',
);
// Keep the instance alive until measured.
if (instance === null) console.log('');
