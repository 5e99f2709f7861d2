// Real redirect files (../shared/realworld beside the clone, as README there describes): each is
// imported with `redirects import` and asked, with requests drawn from its own sources (the hit,
// its trailing slash, a rest that is empty, one and two segments deep, a near miss), of the
// platform's engine and of ours. Read in place: the files are not copied into the project.

import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as peers from './peers.mjs';

/** Where the real files are, from the repository root; null when absent. */
export function realworldDir(root) {
  const dir = path.resolve(root, '../shared/realworld');
  return existsSync(dir) ? dir : null;
}

/** Values to try for a constrained placeholder: the first its regular expression accepts. */
const CANDIDATES = ['en', '42', 'a', 'abc', 'x-y', 'v1', 'docs', 'react', 'de', 'index'];

function valueFor(re) {
  try {
    const r = new RegExp(`^(?:${re})$`);
    return CANDIDATES.find((c) => r.test(c)) ?? null;
  } catch {
    return null;
  }
}

/**
 * Sample paths for a path-to-regexp source (Vercel, Next.js) or a Netlify one: each way the
 * source can be filled (a rest empty, one and two segments deep; each alternative), each with
 * and without a trailing slash, and a near miss (an extra segment).
 */
export function samplePaths(source) {
  let paths = [''];
  const add = (options) => {
    const next = [];
    for (const p of paths) for (const o of options) next.push(p + o);
    paths = next.slice(0, 24);
  };
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    let m;
    if ((m = /^:[A-Za-z_][A-Za-z0-9_]*(\((?:[^()\\]|\\.|\([^()]*\))*\))?([*+?])?/.exec(rest))) {
      const [all, group, mod] = m;
      const one = group ? valueFor(group.slice(1, -1)) : 'x1';
      if (mod === '*' || mod === '+') add(['', 'a', 'a/b'].map((v) => v || (mod === '+' ? 'a' : '')));
      else if (mod === '?') add(['', one ?? 'x1']);
      else add([one ?? 'x1']);
      i += all.length;
    } else if ((m = /^\((?:[^()\\]|\\.|\([^()]*\))*\)([?*+])?/.exec(rest))) {
      const [all, mod] = m;
      const inner = all.slice(1, all.length - (mod ? 2 : 1));
      let opts;
      if (inner === '.*' || inner === '/.*') opts = ['', inner[0] === '/' ? '/a' : 'a', inner[0] === '/' ? '/a/b/' : 'a/b/'];
      else if (inner === '/?') opts = ['', '/'];
      else if (/^\[\^\/\][*+]\??$/.test(inner)) opts = ['x1', ''];
      else if (/^[\w|.-]*$/.test(inner)) opts = inner.split('|');
      else opts = [valueFor(inner) ?? 'x1'];
      if (mod === '?') opts.push('');
      add([...new Set(opts)]);
      i += all.length;
    } else if (rest[0] === '*') {
      add(['', 'a', 'a/b/']);
      i += 1;
    } else {
      add([rest[0]]);
      i += 1;
    }
  }
  const out = new Set();
  for (const p of paths) {
    const clean = p.replace(/\/{2,}$/, '/') || '/';
    out.add(clean);
    out.add(clean.endsWith('/') ? clean.slice(0, -1) || '/' : `${clean}/`);
    out.add(`${clean.replace(/\/$/, '')}/zz`);
  }
  return [...out].filter((p) => p.startsWith('/'));
}

function requestsFor(sources) {
  const urls = new Set();
  for (const { host, path: p } of sources) {
    for (const s of samplePaths(p)) urls.add(`https://${host ?? 'example.com'}${s}`);
  }
  return [...urls].map((url) => ({ url }));
}

/** A minimal CSV reader (quoted fields, doubled quotes) for Cloudflare's bulk lists. */
function csv(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = [];
    let cur = '';
    let quoted = false;
    for (let j = 0; j < line.length; j++) {
      const c = line[j];
      if (quoted && c === '"' && line[j + 1] === '"') (cur += '"'), j++;
      else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) cells.push(cur), (cur = '');
      else cur += c;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}

/**
 * The real files: `{ peer, format, file, entries, requests, judge(), without(lines, messages) }`;
 * `without` is the platform's engine on the file without the entries `redirects import`
 * refused (their lines, and the messages naming them).
 */
export async function cases(dir, tmp) {
  const out = [];
  const sub = (d) => (existsSync(path.join(dir, d)) ? readdirSync(path.join(dir, d)).sort() : []);
  for (const name of sub('netlify')) {
    const file = path.join(dir, 'netlify', name);
    const text = readFileSync(file, 'utf8');
    const work = mkdtempSync(path.join(tmp, 'real-netlify-'));
    let sources;
    let judge;
    let without;
    if (name.endsWith('.toml')) {
      const toml = path.join(work, 'netlify.toml');
      copyFileSync(file, toml);
      sources = [...text.matchAll(/^\s*from\s*=\s*"([^"]*)"/gm)].map((m) => m[1]);
      judge = () => peers.netlify(work, '', toml);
      without = async (lines) => {
        const kept = mkdtempSync(path.join(tmp, 'real-netlify-'));
        // Each `[[redirects]]` table runs to the next header; the refused ones are left out.
        const out = [];
        let drop = false;
        text.split('\n').forEach((l, i) => {
          if (/^\s*\[/.test(l)) drop = lines.has(i + 1);
          out.push(drop ? '' : l);
        });
        writeFileSync(path.join(kept, 'netlify.toml'), out.join('\n'));
        return peers.netlify(kept, '', path.join(kept, 'netlify.toml'));
      };
    } else {
      out.push(netlifyCase(file, tmp));
      continue;
    }
    const parsed = sources.map((s) => {
      const m = /^(?:https?:)?\/\/([^/]+)(\/.*)?$/.exec(s);
      return m ? { host: m[1], path: m[2] ?? '/' } : { path: s };
    });
    out.push({ peer: 'netlify', format: 'netlify', file, entries: sources.length, requests: requestsFor(parsed), judge, without });
  }
  for (const name of sub('vercel')) out.push(vercelCase(path.join(dir, 'vercel', name), name.endsWith('.next.json')));
  for (const name of sub('cloudflare')) {
    const file = path.join(dir, 'cloudflare', name);
    const [header, ...rows] = csv(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    const col = (row, k) => row[header.findIndex((h) => h.trim().toLowerCase().replace(/ /g, '_') === k)];
    const flag = (v) => String(v ?? '').trim().toLowerCase() === 'true';
    const list = rows.map((r) => ({
      source_url: col(r, 'source_url'),
      target_url: col(r, 'target_url'),
      status_code: Number(col(r, 'status_code') ?? col(r, 'status')) || 301,
      preserve_query_string: flag(col(r, 'preserve_query_string')),
      include_subdomains: flag(col(r, 'include_subdomains')),
      subpath_matching: flag(col(r, 'subpath_matching')),
      preserve_path_suffix: col(r, 'preserve_path_suffix') === undefined ? true : flag(col(r, 'preserve_path_suffix')),
    }));
    const parsed = list.map((e) => {
      const [host, ...p] = e.source_url.replace(/^https?:\/\//, '').split('/');
      return { host, path: `/${p.join('/')}` };
    });
    out.push({
      peer: 'cloudflare',
      format: 'cloudflare-csv',
      file,
      entries: list.length,
      requests: requestsFor(parsed),
      judge: () => peers.cloudflare(list),
      // Line 1 is the header: row n is on line n + 1.
      without: (lines) => peers.cloudflare(list.filter((_, n) => !lines.has(n + 2))),
    });
  }
  return out;
}

/** A `_redirects` file as a case for the Netlify judge. */
export function netlifyCase(file, tmp) {
  const text = readFileSync(file, 'utf8');
  const work = mkdtempSync(path.join(tmp, 'real-netlify-'));
  const sources = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((t) => t && !t.startsWith('#'));
  const parsed = sources.map((s) => {
    const m = /^(?:https?:)?\/\/([^/]+)(\/.*)?$/.exec(s);
    return m ? { host: m[1], path: m[2] ?? '/' } : { path: s };
  });
  return {
    peer: 'netlify',
    format: 'netlify',
    file,
    entries: sources.length,
    requests: requestsFor(parsed),
    judge: () => peers.netlify(work, text),
    without: async (lines) => {
      const kept = mkdtempSync(path.join(tmp, 'real-netlify-'));
      const rest = text.split('\n').map((l, i) => (lines.has(i + 1) ? '' : l));
      return peers.netlify(kept, rest.join('\n'));
    },
  };
}

/** A `vercel.json` (or a Next.js array when `next`) as a case for the Vercel or Next.js judge. */
export function vercelCase(file, next) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const redirects = Array.isArray(doc) ? doc : doc.redirects ?? [];
  const parsed = redirects.map((r) => {
    const host = (r.has ?? []).find((h) => h.type === 'host' && /^[\w.-]+$/.test(h.value ?? ''))?.value;
    return { host: host?.replace(/\\\./g, '.'), path: r.source };
  });
  return {
    peer: next ? 'nextjs' : 'vercel',
    format: next ? 'nextjs' : 'vercel',
    file,
    entries: redirects.length,
    requests: requestsFor(parsed),
    judge: () => (next ? peers.nextjs(structuredClone(redirects)) : peers.vercel(structuredClone(redirects))),
    without: (lines, messages) => {
    const kept = redirects.filter((r) => !messages.some((m) => m.includes(`not imported: ${r.source}`)));
    return next ? peers.nextjs(structuredClone(kept)) : peers.vercel(structuredClone(kept));
    },
  };
}
