// The realistic migration: what a shop moving platforms brings (seeded, so every run and every
// engine sees the same rules and requests).
//
//   85 %  exact   /shop/<word>/<slug>-<i>.html  -> /products/<slug>-<i>
//   10 %  param   /blog/<i>/:slug               -> /articles/<i>/:slug
//    5 %  splat   /docs/v<i>/*                  -> /docs/latest/:splat
//
// About 111 bytes of JSON a rule, as in the issue that asked for it.
//
//   node benches/peers/realistic.mjs N OUT_DIR   writes OUT_DIR/rules.json and OUT_DIR/requests.json
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rng } from './ruleset.mjs';

const WORDS = ['garden', 'kitchen', 'outdoor', 'women', 'men', 'kids', 'sale', 'summer', 'winter', 'sports',
  'office', 'travel', 'beauty', 'home', 'tools', 'pets'];
const ADJECTIVES = ['red', 'blue', 'green', 'black', 'white', 'light', 'classic', 'soft', 'summer', 'smart'];
const NOUNS = ['shoes', 'chair', 'lamp', 'jacket', 'table', 'bag', 'bottle', 'shirt', 'watch', 'tent'];

/** The kind of rule number `i`. */
export function realisticKind(i) {
  const r = i % 20;
  if (r < 17) return 'exact';
  if (r < 19) return 'param';
  return 'splat';
}

/** Rule `i` in our format. */
export function realisticRule(i, random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  switch (realisticKind(i)) {
    case 'exact': {
      const slug = `${pick(ADJECTIVES)}-${pick(NOUNS)}-${pick(ADJECTIVES)}`;
      return { id: `r${i}`, from: `/shop/${pick(WORDS)}/${slug}-${i}.html`, to: `/products/${slug}-${i}` };
    }
    case 'param':
      return { id: `r${i}`, from: `/blog/${i}/:slug`, to: `/articles/${i}/:slug` };
    default:
      return { id: `r${i}`, from: `/docs/v${i}/*`, to: `/docs/latest/:splat` };
  }
}

/** The bundle text of `n` realistic rules, one rule a line. */
export function realisticBundle(n, seed = 7) {
  const random = rng(seed);
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify(realisticRule(i, random)));
  return `{"version":1,"rules":[\n${lines.join(',\n')}\n]}\n`;
}

/**
 * `count` requests over the bundle: hits of every kind (exact, param, splat) and misses
 * (a near miss of an exact path, an unknown blog, a page no rule names), with the rule each
 * hit is meant for and the path it must be sent to.
 */
export function realisticRequests(n, count, seed = 11) {
  const rules = [];
  // The rules again, from the same seeded stream; only the sampled ones are kept.
  const random = rng(7);
  const wanted = new Set();
  const pick = rng(seed);
  const plan = [];
  for (let k = 0; k < count; k++) {
    const i = Math.floor(pick() * n);
    const miss = pick() < 0.3;
    plan.push({ i, miss, variant: Math.floor(pick() * 3) });
    wanted.add(i);
  }
  for (let i = 0; i < n; i++) {
    const rule = realisticRule(i, random);
    if (wanted.has(i)) rules[i] = rule;
  }
  return plan.map(({ i, miss, variant }) => {
    const rule = rules[i];
    const kind = realisticKind(i);
    if (kind === 'exact') {
      if (!miss) return { url: `https://shop.example${rule.from}`, kind, rule: rule.id, to: rule.to };
      return { url: `https://shop.example${rule.from.replace('.html', variant ? '.htm' : '-old.html')}`, kind: 'miss' };
    }
    if (kind === 'param') {
      if (!miss) return { url: `https://shop.example/blog/${i}/post-${variant}`, kind, rule: rule.id, to: `/articles/${i}/post-${variant}` };
      return { url: `https://shop.example/blog/${n + i}/post-${variant}`, kind: 'miss' };
    }
    if (!miss) return { url: `https://shop.example/docs/v${i}/guide/page-${variant}`, kind, rule: rule.id, to: `/docs/latest/guide/page-${variant}` };
    return { url: `https://shop.example/documentation/v${i}/page-${variant}`, kind: 'miss' };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [n, out] = [Number(process.argv[2]), process.argv[3]];
  if (!Number.isInteger(n) || n < 1 || !out) {
    console.error('usage: node benches/peers/realistic.mjs N OUT_DIR');
    process.exit(2);
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'rules.json'), realisticBundle(n));
  writeFileSync(path.join(out, 'requests.json'), JSON.stringify(realisticRequests(n, 10_000)));
  console.log(`${out}: ${n} realistic rules, 10000 requests`);
}
