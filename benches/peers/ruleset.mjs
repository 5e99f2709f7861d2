// Generates one rule set in every engine's own format, plus the request mix they are all driven
// with. The same scheme is generated in Rust by benches/engine.rs (criterion); keep them alike.
//
// Kinds of rule (mixed workload; the exact workload uses only the first):
//   exact    /legacy/c{i%50}/item-{i}.html          -> /items/{i}
//   param    /blog/{i}/:slug                          -> /posts/{i}/:slug
//   splat    /docs/v{i}/*                             -> /documentation/v{i}/:splat
//   query    /promo/{i}   when query campaign=:c      -> /offers/{i}/:c
//   country  /store/{i}   when country DE or AT       -> /de/store/{i}
// Shares: exact 70 %, param 15 %, splat 10 %, query 2.5 %, country 2.5 %.

/** Deterministic PRNG (mulberry32), so every engine sees the same requests in the same order. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kind of rule number `i` in a workload. */
export function kindOf(i, workload) {
  if (workload === 'exact') return 'exact';
  const r = i % 40;
  if (r < 28) return 'exact';
  if (r < 34) return 'param';
  if (r < 38) return 'splat';
  if (r === 38) return 'query';
  return 'country';
}

/**
 * Neutral description of the rules: { kind, id, from, to, query?, countries? }, in file order.
 * `from`/`to` use our pattern syntax (`:name`, `*` with `:splat` in the target).
 */
export function generateRules(n, workload) {
  const rules = [];
  for (let i = 0; i < n; i++) {
    const kind = kindOf(i, workload);
    switch (kind) {
      case 'exact':
        rules.push({ kind, id: `r${i}`, from: `/legacy/c${i % 50}/item-${i}.html`, to: `/items/${i}` });
        break;
      case 'param':
        rules.push({ kind, id: `r${i}`, from: `/blog/${i}/:slug`, to: `/posts/${i}/:slug` });
        break;
      case 'splat':
        rules.push({ kind, id: `r${i}`, from: `/docs/v${i}/*`, to: `/documentation/v${i}/:splat` });
        break;
      case 'query':
        rules.push({ kind, id: `r${i}`, from: `/promo/${i}`, to: `/offers/${i}/:c`, query: { campaign: 'c' } });
        break;
      case 'country':
        rules.push({ kind, id: `r${i}`, from: `/store/${i}`, to: `/de/store/${i}`, countries: ['DE', 'AT'] });
        break;
    }
  }
  return rules;
}

/** Our rules.json (format v1). */
export function toOurBundle(rules) {
  return JSON.stringify({
    version: 1,
    rules: rules.map((r) => {
      const out = { id: r.id, from: r.from, to: r.to, status: 301 };
      if (r.query) {
        out.when = { query: Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, `:${v}`])) };
      }
      if (r.countries) out.when = { country: r.countries };
      return out;
    }),
  });
}

/** Netlify `_redirects` text. */
export function toNetlify(rules) {
  const lines = [];
  for (const r of rules) {
    let line = r.from;
    if (r.query) line += ' ' + Object.entries(r.query).map(([k, v]) => `${k}=:${v}`).join(' ');
    line += ` ${r.to} 301`;
    if (r.countries) line += ` Country=${r.countries.map((c) => c.toLowerCase()).join(',')}`;
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

/**
 * Routes for a Next.js-style first-match scan with path-to-regexp (v8+ syntax: a splat is
 * written `*name`), with Next.js-style `has` conditions.
 */
export function toRoutes(rules) {
  return rules.map((r) => {
    const route = { source: r.from.replace(/\/\*$/, '/*splat'), destination: r.to, statusCode: 301 };
    if (r.query) route.has = Object.entries(r.query).map(([key, v]) => ({ type: 'query', key, capture: v }));
    if (r.countries) route.has = [{ type: 'country', values: r.countries }];
    return route;
  });
}

/**
 * redirection.io's rule format (the `redirectionio` crate's `api::Rule`): `@marker` placeholders
 * with a regex each; the country as a condition on Cloudflare's `CF-IPCountry` request header,
 * since its router has no geolocation of its own.
 */
export function toRedirectionIo(rules) {
  return rules.map((r) => {
    const out = { id: r.id, rank: 0, status_code: 301, source: { path: r.from }, target: r.to.replace(/:([A-Za-z_]\w*)/g, '@$1') };
    if (r.kind === 'param') {
      out.source.path = r.from.replace(':slug', '@slug');
      out.markers = [{ name: 'slug', regex: '[^/]+' }];
    } else if (r.kind === 'splat') {
      out.source.path = r.from.replace('*', '@splat');
      out.markers = [{ name: 'splat', regex: '.*' }];
    } else if (r.kind === 'query') {
      out.source.query = 'campaign=@c';
      out.markers = [{ name: 'c', regex: '[^&]+' }];
    } else if (r.kind === 'country') {
      out.source.headers = [{ name: 'CF-IPCountry', type: 'match_regex', value: '@country' }];
      out.markers = [{ name: 'country', regex: '(DE|AT)' }];
    }
    return out;
  });
}

/** Exact rules only, as Cloudflare's bulk-redirects Worker example keeps them: path -> target. */
export function toMapEntries(rules) {
  return rules.filter((r) => r.kind === 'exact').map((r) => [r.from, r.to]);
}

/**
 * The request mix: hits on every kind of rule and misses, `count` requests.
 * Each request: { url, country, hit } (`hit` is whether a correct engine redirects it).
 */
export function generateRequests(rules, count, workload, seed = 42) {
  const rand = rng(seed);
  const byKind = {};
  for (const r of rules) (byKind[r.kind] ??= []).push(r);
  const pick = (kind) => {
    const list = byKind[kind];
    return list ? list[Math.floor(rand() * list.length)] : null;
  };
  const n = rules.length;
  const reqs = [];
  const base = 'https://example.com';
  while (reqs.length < count) {
    const x = rand();
    if (x < 0.2) {
      // Misses: near misses on indexed prefixes and unrelated paths.
      const j = n + Math.floor(rand() * n);
      const m = Math.floor(rand() * 4);
      if (m === 0) reqs.push({ url: `${base}/legacy/c${j % 50}/item-${j}.html`, country: null, hit: false });
      else if (m === 1) reqs.push({ url: `${base}/about/team/page-${j}`, country: null, hit: false });
      else if (m === 2) reqs.push({ url: `${base}/blog/${j}/a-post?x=1`, country: null, hit: false });
      else reqs.push({ url: `${base}/`, country: null, hit: false });
      continue;
    }
    const kindRoll = workload === 'exact' ? 0 : rand();
    if (kindRoll < 0.6) {
      const r = pick('exact');
      const q = rand() < 0.25 ? '?utm_source=news' : '';
      reqs.push({ url: `${base}${r.from}${q}`, country: null, hit: true });
    } else if (kindRoll < 0.75) {
      const r = pick('param');
      reqs.push({ url: `${base}${r.from.replace(':slug', `post-${Math.floor(rand() * 1000)}`)}`, country: null, hit: true });
    } else if (kindRoll < 0.87) {
      const r = pick('splat');
      reqs.push({ url: `${base}${r.from.replace('*', 'guide/install/linux')}`, country: null, hit: true });
    } else if (kindRoll < 0.93) {
      const r = pick('query');
      const hit = rand() < 0.7;
      reqs.push({ url: `${base}${r.from}${hit ? '?campaign=spring' : '?other=1'}`, country: null, hit });
    } else {
      const r = pick('country');
      const hit = rand() < 0.7;
      reqs.push({ url: `${base}${r.from}`, country: hit ? 'DE' : 'FR', hit });
    }
  }
  return reqs;
}
