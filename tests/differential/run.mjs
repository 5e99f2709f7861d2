// The differential suite: rules generated in each platform's format, imported with
// `redirects import`, and thousands of requests asked of the platform's own engine (the judge,
// peers.mjs) and of ours (`redirects test --json` on the imported bundle). Every disagreement
// must be one of the deliberate differences in differences.mjs, or the run fails.
//
//   node tests/differential/run.mjs [--bin target/debug/redirects] [--verbose]
//
// Prints, per peer, the requests asked, how many both answer (the platform fails some: Next.js
// answers 500 when a destination names a parameter the request lacks), how many answers
// agree, and the agreement on answers both give (a redirect with its status and Location, or
// "the origin answers").

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIFFERENCES, NOT_IMPORTED } from './differences.mjs';
import * as generate from './generate.mjs';
import * as peers from './peers.mjs';
import { cases as realworldCases, netlifyCase, realworldDir, vercelCase } from './realworld.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const bin = path.resolve(ROOT, args.includes('--bin') ? args[args.indexOf('--bin') + 1] : 'target/debug/redirects');
const verbose = args.includes('--verbose');
/** Agreement below this, on any peer, fails the run even if every difference is listed. */
const MIN_AGREEMENT = 0.99;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'differential-'));

/** Runs `redirects import FORMAT FILE`; the bundle must come out valid (import checks it). */
function importRules(format, file) {
  const r = spawnSync(bin, ['import', format, file], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`import ${format} failed (${r.status}): ${r.stderr}`);
  const bundle = path.join(tmp, `${format}.rules.json`);
  writeFileSync(bundle, r.stdout);
  const refused = r.stderr.split('\n').filter((l) => l.includes('not imported:'));
  return { bundle, refused };
}

/** The request as `redirects test` reads it. */
function ourRequest(req) {
  const headers = { ...(req.headers ?? {}) };
  if (req.language) headers['accept-language'] = req.language;
  const cookies = { ...(req.cookies ?? {}) };
  if (req.jwt) cookies.nf_jwt = 'token';
  const out = { url: req.url, headers, cookies };
  if (req.country) out.cf = { country: req.country };
  return out;
}

/** `?b=2&a=1` and `?a=1&b=2` name the same resource for every server we know of. */
function normalize(location) {
  if (!location) return location;
  const u = new URL(location);
  u.searchParams.sort();
  return u.href;
}

/** Asks our engine about every request, expecting the judge's answers; returns ours. */
function ours(bundle, requests, expected) {
  const cases = requests.map((req, i) => ({
    name: String(i),
    request: ourRequest(req),
    expect:
      expected[i].outcome === 'redirect'
        ? { outcome: 'redirect', status: expected[i].status, location: expected[i].location }
        : { outcome: 'origin' },
  }));
  const file = path.join(tmp, 'cases.json');
  writeFileSync(file, JSON.stringify({ cases }));
  let out;
  try {
    out = execFileSync(bin, ['test', '--json', bundle, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  } catch (e) {
    if (e.status !== 1) throw e;
    out = e.stdout;
  }
  return JSON.parse(out).cases.map((c, i) => {
    const answer = { ...expected[i] };
    for (const m of c.mismatches) answer[m.field] = m.actual;
    if (answer.outcome === 'origin') return { outcome: 'origin' };
    return answer;
  });
}

function same(a, b) {
  if (a.outcome !== b.outcome) return false;
  if (a.outcome === 'origin') return true;
  return a.status === b.status && normalize(a.location) === normalize(b.location);
}

async function peerRun(name) {
  const dir = mkdtempSync(path.join(tmp, `${name}-`));
  let format, file, judge, requests;
  if (name === 'netlify') {
    const g = generate.netlify(13, 300);
    file = path.join(dir, '_redirects');
    writeFileSync(file, g.text);
    judge = await peers.netlify(dir, g.text);
    ({ requests } = g);
    format = 'netlify';
  } else if (name === 'vercel' || name === 'nextjs') {
    const g = generate.vercel(name === 'vercel' ? 14 : 15, 240, { caseVariants: true });
    file = path.join(dir, name === 'vercel' ? 'vercel.json' : 'redirects.json');
    writeFileSync(file, JSON.stringify(name === 'vercel' ? { redirects: g.redirects } : g.redirects, null, 2));
    judge = name === 'vercel' ? peers.vercel(structuredClone(g.redirects)) : peers.nextjs(structuredClone(g.redirects));
    ({ requests } = g);
    format = name;
  } else {
    const g = generate.cloudflare(16, 300);
    file = path.join(dir, 'bulk.csv');
    writeFileSync(file, g.text);
    judge = peers.cloudflare(g.list);
    ({ requests } = g);
    format = 'cloudflare-csv';
  }
  return compare(name, format, file, judge, requests);
}

/** Imports `file`, asks the judge and our engine every request, and tallies the answers. */
async function compare(name, format, file, judge, requests, without) {
  const { bundle, refused } = importRules(format, file);
  const expected = [];
  for (const req of requests) {
    try {
      expected.push(await judge(req));
    } catch (e) {
      // The platform's engine fails the request (Netlify's on a target it cannot parse).
      expected.push({ outcome: 'error', error: e.message });
    }
  }
  const answers = ours(bundle, requests, expected);
  const tally = { requests: requests.length, agree: 0, peerFailed: 0, listed: new Map(), unlisted: [] };
  requests.forEach((req, i) => {
    const peer = expected[i];
    const us = answers[i];
    if (peer.outcome === 'error') {
      tally.peerFailed++;
      return;
    }
    if (same(peer, us)) {
      tally.agree++;
      return;
    }
    const known = DIFFERENCES.find((d) => d.peer === name && d.applies(req, peer, us));
    if (known) tally.listed.set(known.name, (tally.listed.get(known.name) ?? 0) + 1);
    else tally.unlisted.push({ req, peer, us });
  });
  if (without && tally.unlisted.length) {
    // A difference the refused entries explain: the platform without them answers as we do.
    const lines = new Set(refused.map((l) => Number(/:(\d+): not imported:/.exec(l)?.[1])));
    const judgeWithout = await without(lines, refused);
    const left = [];
    for (const u of tally.unlisted) {
      let alt;
      try {
        alt = await judgeWithout(u.req);
      } catch (e) {
        alt = { outcome: 'error', error: e.message };
      }
      const known = same(alt, u.us) ? NOT_IMPORTED : DIFFERENCES.find((d) => d.peer === name && d.applies(u.req, u.peer, u.us));
      if (known) tally.listed.set(known.name, (tally.listed.get(known.name) ?? 0) + 1);
      else left.push(u);
    }
    tally.unlisted = left;
  }
  return { name, refused, ...tally };
}

let failed = false;
let passedPeers = 0;
let failedPeers = 0;
for (const name of ['netlify', 'vercel', 'nextjs', 'cloudflare']) {
  const r = await peerRun(name);
  const both = r.requests - r.peerFailed;
  const pct = (100 * r.agree) / both;
  console.log(
    `${name}: ${r.requests} requests, ${both} answered by both, ${r.agree} agree (${pct.toFixed(2)} %), ` +
      `${[...r.listed.values()].reduce((a, b) => a + b, 0)} listed differences, ${r.unlisted.length} unlisted`,
  );
  for (const [d, n] of r.listed) console.log(`  listed: ${d} (${n})`);
  if (r.refused.length && verbose) for (const l of r.refused) console.log(`  refused: ${l}`);
  for (const u of r.unlisted.slice(0, verbose ? Infinity : 10)) {
    console.log(`  UNLISTED ${JSON.stringify(u.req)}\n    peer: ${JSON.stringify(u.peer)}\n    ours: ${JSON.stringify(u.us)}`);
  }
  if (r.unlisted.length || pct < 100 * MIN_AGREEMENT) {
    failed = true;
    failedPeers++;
  } else {
    passedPeers++;
  }
}

// The project's own import fixtures (Vercel's unnamed groups, `(/?)`, `(.*)`, `{/}?`; Netlify's
// `*` beside text and before the last segment), asked of the platform's engine the same way as
// the real files.
for (const input of ['vercel-groups.json', 'vercel-rests.json', 'vercel-patterns.json', 'netlify-segments.redirects']) {
  const file = path.join(ROOT, 'tests/cli/import', input);
  const c = input.endsWith('.redirects') ? netlifyCase(file, tmp) : vercelCase(file, false);
  const r = await compare(c.peer, c.format, c.file, await c.judge(), c.requests, c.without);
  const both = r.requests - r.peerFailed - (r.listed.get(NOT_IMPORTED.name) ?? 0);
  console.log(`fixture ${input}: ${r.requests} requests, ${both} answered by both, ${r.agree} agree, ${r.unlisted.length} unlisted`);
  for (const [d, n] of r.listed) console.log(`  listed: ${d} (${n})`);
  for (const u of r.unlisted) {
    console.log(`  UNLISTED ${JSON.stringify(u.req)}\n    peer: ${JSON.stringify(u.peer)}\n    ours: ${JSON.stringify(u.us)}`);
  }
  if (r.unlisted.length) {
    failed = true;
    failedPeers++;
  } else {
    passedPeers++;
  }
}

// The real files, per peer: files, entries, refusals, agreement, and every difference left.
const real = realworldDir(ROOT);
if (!real) {
  console.log(`realworld: ${path.resolve(ROOT, '../shared/realworld')} not found; real files skipped`);
} else {
  const byPeer = new Map();
  for (const c of await realworldCases(real, tmp)) {
    const r = await compare(c.peer, c.format, c.file, await c.judge(), c.requests, c.without);
    const t = byPeer.get(c.peer) ?? { files: 0, entries: 0, refused: [], requests: 0, both: 0, agree: 0, listed: new Map(), unlisted: [] };
    t.files++;
    t.entries += c.entries;
    t.refused.push(...r.refused.map((l) => l.replace(`${real}/`, '')));
    t.requests += r.requests;
    t.both += r.requests - r.peerFailed;
    t.agree += r.agree;
    for (const [d, n] of r.listed) t.listed.set(d, (t.listed.get(d) ?? 0) + n);
    t.unlisted.push(...r.unlisted.map((u) => ({ ...u, file: path.relative(real, c.file) })));
    byPeer.set(c.peer, t);
  }
  for (const [name, t] of byPeer) {
    // Answers both give: not the requests the platform fails, nor those only a refused entry
    // answers (we give no answer of that entry's).
    const both = t.both - (t.listed.get(NOT_IMPORTED.name) ?? 0);
    const pct = (100 * t.agree) / both;
    console.log(
      `realworld ${name}: ${t.files} files, ${t.entries} entries, ${t.refused.length} refused ` +
        `(${((100 * t.refused.length) / t.entries).toFixed(1)} %), ${t.requests} requests, ${both} answered by both, ` +
        `${t.agree} agree (${pct.toFixed(2)} %), ${t.unlisted.length} unlisted`,
    );
    for (const [d, n] of t.listed) console.log(`  listed: ${d} (${n}): ${[...DIFFERENCES, NOT_IMPORTED].find((x) => x.name === d).reason}`);
    if (verbose) for (const l of t.refused) console.log(`  refused: ${l}`);
    for (const u of t.unlisted) {
      console.log(`  UNLISTED ${u.file} ${JSON.stringify(u.req)}\n    peer: ${JSON.stringify(u.peer)}\n    ours: ${JSON.stringify(u.us)}`);
    }
    if (t.unlisted.length) {
      failed = true;
      failedPeers++;
    } else {
      passedPeers++;
    }
  }
}
rmSync(tmp, { recursive: true, force: true });
// One test per peer, in the TAP summary form scripts/test counts.
console.log(`# pass ${passedPeers}\n# fail ${failedPeers}`);
console.log(failed ? 'differential: FAILED' : 'differential: passed');
process.exit(failed ? 1 : 0);
