// The engines side by side in one run: generates the rule sets, measures every engine on each
// in its own Node process, prints the tables and checks the targets of the comparison.
//
//   node run.mjs [--quick] [--out DIR]
//
// --quick: 1k and 10k rules, shorter time budgets. --rules-only: write the rule sets, measure nothing. Results also go to DIR/peers.json and
// DIR/peers.md (default: target/bench).

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENGINES } from './engines.mjs';
import {
  generateRequests,
  generateRules,
  toMapEntries,
  toNetlify,
  toOurBundle,
  toRedirectionIo,
  toRoutes,
} from './ruleset.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const rulesOnly = args.includes('--rules-only');
const outIdx = args.indexOf('--out');
const out = path.resolve(outIdx >= 0 ? args[outIdx + 1] : path.join(import.meta.dirname, '../../target/bench'));
const sizes = quick ? [1000, 10000] : [1000, 10000, 100000];
const budgetMs = quick ? 500 : 2000;
const requestCount = 10000;
const workloads = ['exact', 'mixed'];
const engineOrder = ['ours', 'map', 'mapPathOnly', 'netlifyCore', 'netlify', 'pathToRegexp'];

/** Writes one rule set in every format; returns its directory. */
function writeRuleSet(workload, n) {
  const dir = path.join(out, 'rules', `${workload}-${n}`);
  mkdirSync(dir, { recursive: true });
  const rules = generateRules(n, workload);
  writeFileSync(path.join(dir, 'rules.json'), toOurBundle(rules));
  writeFileSync(path.join(dir, '_redirects'), toNetlify(rules));
  writeFileSync(path.join(dir, 'routes.json'), JSON.stringify(toRoutes(rules)));
  writeFileSync(path.join(dir, 'redirectionio.json'), JSON.stringify(toRedirectionIo(rules)));
  writeFileSync(path.join(dir, 'map.json'), JSON.stringify(toMapEntries(rules)));
  writeFileSync(path.join(dir, 'requests.json'), JSON.stringify(generateRequests(rules, requestCount, workload)));
  return dir;
}

function measure(engine, dir) {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', path.join(import.meta.dirname, 'measure.mjs'), engine, dir, String(budgetMs)],
    { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 10 * 60 * 1000 },
  );
  if (child.status !== 0) {
    const why = (child.stderr || child.error?.message || 'failed').trim().split('\n').slice(-3).join(' ');
    return { engine, error: why };
  }
  return JSON.parse(child.stdout.trim().split('\n').pop());
}

const fmtNs = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e4 ? `${(ns / 1e3).toFixed(1)} µs` : `${Math.round(ns)} ns`);
const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fmtMb = (b) => `${(b / 1048576).toFixed(1)}`;
const ratio = (x, ours) => (ours > 0 ? `${(x / ours).toFixed(x / ours >= 10 ? 0 : 2)}x` : '–');

const results = [];
const lines = [];
const say = (s = '') => {
  lines.push(s);
  console.log(s);
};

say(`Node ${process.version}, ${quick ? 'quick' : 'full'} run: ${requestCount} requests per rule set, ` +
  `${budgetMs} ms timed per engine. Ratios are the engine's figure over ours (above 1x: we are faster).`);
if (rulesOnly) {
  for (const workload of workloads) for (const n of sizes) writeRuleSet(workload, n);
  process.exit(0);
}
for (const workload of workloads) {
  for (const n of sizes) {
    const dir = writeRuleSet(workload, n);
    say();
    say(`### ${workload === 'exact' ? 'Exact rules only' : 'Mixed rules (exact/param/splat/conditional)'}, ${n.toLocaleString('en')} rules`);
    say();
    say('| engine | load ms | p50 / req | p99 / req | p50 ratio | p99 ratio | memory after load MB | memory / rules JSON | answers as expected |');
    say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    let ours = null;
    for (const name of engineOrder) {
      const e = ENGINES[name];
      if (!e.expresses.includes(workload)) {
        say(`| ${e.label} | cannot express param/splat/conditional rules | | | | | | | |`);
        results.push({ workload, n, engine: name, unsupported: true });
        continue;
      }
      const r = measure(name, dir);
      r.workload = workload;
      r.n = n;
      results.push(r);
      if (r.error) {
        say(`| ${e.label} | failed: ${r.error} | | | | | | | |`);
        continue;
      }
      if (name === 'ours') ours = r;
      const jsonBytes = Buffer.byteLength(toOurBundle(generateRules(n, workload)));
      say(
        `| ${e.label} | ${fmtMs(r.loadMs)} | ${fmtNs(r.p50Ns)} | ${fmtNs(r.p99Ns)} | ` +
          `${ours ? ratio(r.p50Ns, ours.p50Ns) : '–'} | ${ours ? ratio(r.p99Ns, ours.p99Ns) : '–'} | ` +
          `${fmtMb(r.memBytes)} | ${(r.memBytes / jsonBytes).toFixed(2)}x | ${r.agree}/${r.checked} |`,
      );
    }
  }
}

// The targets of the comparison, checked on this run's figures.
const find = (workload, n, engine) => results.find((r) => r.workload === workload && r.n === n && r.engine === engine && !r.error && !r.unsupported);
const checks = [];
const check = (what, ok, detail) => checks.push(`${ok === undefined ? 'NOT MEASURED' : ok ? 'MET    ' : 'NOT MET'}  ${what}: ${detail}`);
{
  const ours = find('mixed', 10000, 'ours');
  for (const peer of ['netlifyCore', 'netlify', 'pathToRegexp']) {
    const p = find('mixed', 10000, peer);
    const x = ours && p ? p.p50Ns / ours.p50Ns : undefined;
    check(`>= 10x faster per request than ${ENGINES[peer].label} at 10k mixed`, x === undefined ? undefined : x >= 10, x ? `${x.toFixed(1)}x (p50)` : 'no figure');
  }
  check('faster than @redirection.io/redirectionio', undefined, 'its npm package has no local router (see BENCHMARKS.md); compared natively instead');
  for (const n of sizes) {
    const o = find('exact', n, 'ours');
    const m = find('exact', n, 'map');
    const x = o && m ? o.p50Ns / m.p50Ns : undefined;
    check(`within 1.5x of JS Map + new URL on exact rules, ${n}`, x === undefined ? undefined : x <= 1.5, x ? `ours/Map = ${x.toFixed(2)} (p50)` : 'no figure');
  }
  const big = sizes[sizes.length - 1];
  for (const workload of workloads) {
    const o = find(workload, big, 'ours');
    const jsonBytes = Buffer.byteLength(toOurBundle(generateRules(big, workload)));
    const x = o ? o.memBytes / jsonBytes : undefined;
    check(`memory after load <= 3x the bundle's JSON at ${big} ${workload}`, x === undefined ? undefined : x <= 3, x ? `${x.toFixed(2)}x of ${fmtMb(jsonBytes)} MB` : 'no figure');
  }
}
say();
say('Targets:');
for (const c of checks) say(`  ${c}`);

mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'peers.json'), JSON.stringify(results, null, 2));
writeFileSync(path.join(out, 'peers.md'), lines.join('\n') + '\n');
