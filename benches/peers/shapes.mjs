// Bundles shaped like real migrations, for the large benchmarks (large-shapes.mjs, large.mjs):
// each rule is a pure function of its number, so a bundle of any size is written in chunks
// (ten million rules are over a gigabyte of JSON) and the requests are drawn without building
// the bundle again.
//
//   plain      /shop/<word>/<slug>-<i>.html         -> /products/<slug>-<i>         (exact paths)
//   lang       /:lang/products/item-<i>.html        -> /:lang/p/<i>                 (a language first)
//   date       /:year/:month/<slug>-<i>             -> /blog/<slug>-<i>             (WordPress dates)
//   hot        /shop/products/:id/review-<i>        -> /reviews/<i>/:id             (one hot prefix)
//   multihost  host site-<i % 50>.example, /<word>/<slug>-<i>.html -> /new/<slug>-<i>
//   mixed      70 % /catalog/<word>/<slug>-<i>.html -> /items/<slug>-<i>,
//              30 % /:lang/guide/topic-<i>          -> /:lang/help/topic-<i>
//   regex      /guide-<i>(/?) (path-to-regexp, as vercel.json writes it) -> /guides/<i>
//              (every literal start the same for its first 6 bytes)
//   query      80 % /index.php when ?p=<i>, 20 % /product.php when ?id=<i> -> /posts/<slug>-<i>
//              (a legacy site: every rule on two paths, told apart by a query value)
//
// Requests: about 70 % hits (kind "hit", `to` the path the redirect must go to) and 30 % near
// misses (kind "miss": the origin must answer): a path one character off, a rule number past
// the bundle, a segment too many; for multihost also a path that exists on another host and a
// host no rule names.
//
//   node benches/peers/shapes.mjs SHAPE N OUT_DIR [REQUESTS]   writes OUT_DIR/{rules,requests}.json
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { rng } from './ruleset.mjs';

export const SHAPES = ['plain', 'lang', 'date', 'hot', 'multihost', 'mixed', 'regex', 'query'];

const WORDS = ['garden', 'kitchen', 'outdoor', 'women', 'men', 'kids', 'sale', 'summer', 'winter', 'sports',
  'office', 'travel', 'beauty', 'home', 'tools', 'pets'];
const ADJECTIVES = ['red', 'blue', 'green', 'black', 'white', 'light', 'classic', 'soft', 'summer', 'smart'];
const NOUNS = ['shoes', 'chair', 'lamp', 'jacket', 'table', 'bag', 'bottle', 'shirt', 'watch', 'tent'];
const LANGS = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'pl', 'sv', 'ja'];
const HOSTS = 50;
const SITE = 'https://shop.example';

/** A well-mixed 32-bit hash of a rule number and a salt (picks that look random, per rule). */
function hash(i, salt) {
  let x = (Math.imul(i, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
const pick = (list, i, salt) => list[hash(i, salt) % list.length];
const slug = (i) => `${pick(ADJECTIVES, i, 1)}-${pick(NOUNS, i, 2)}-${pick(ADJECTIVES, i, 3)}-${i}`;
const host = (h) => `site-${h}.example`;

/**
 * Each shape: `rule(i)` in our format; `hit(i, v)`: a request rule `i` redirects ({ url, to });
 * `miss(i, v, n)`: the URL of a request no rule of an `n`-rule bundle redirects.
 */
const SHAPE = {
  plain: {
    rule: (i) => ({ id: `r${i}`, from: `/shop/${pick(WORDS, i, 4)}/${slug(i)}.html`, to: `/products/${slug(i)}` }),
    hit: (i) => ({ url: `${SITE}/shop/${pick(WORDS, i, 4)}/${slug(i)}.html`, to: `/products/${slug(i)}` }),
    miss: (i, v, n) => [
      `${SITE}/shop/${pick(WORDS, i, 4)}/${slug(i)}.htm`,
      `${SITE}/shop/${pick(WORDS, i, 4)}/${slug(n + i)}.html`,
      `${SITE}/shop/${pick(WORDS, i, 4)}/${slug(i)}-old.html`,
    ][v],
  },
  lang: {
    rule: (i) => ({ id: `r${i}`, from: `/:lang/products/item-${i}.html`, to: `/:lang/p/${i}` }),
    hit: (i) => {
      const lang = pick(LANGS, i, 5);
      return { url: `${SITE}/${lang}/products/item-${i}.html`, to: `/${lang}/p/${i}` };
    },
    miss: (i, v, n) => {
      const lang = pick(LANGS, i, 5);
      return [
        `${SITE}/${lang}/products/item-${n + i}.html`,
        `${SITE}/${lang}/products/item-${i}.htm`,
        `${SITE}/${lang}/product/item-${i}.html`,
      ][v];
    },
  },
  date: {
    rule: (i) => ({ id: `r${i}`, from: `/:year/:month/${slug(i)}`, to: `/blog/${slug(i)}` }),
    hit: (i) => {
      const month = String(1 + (hash(i, 6) % 12)).padStart(2, '0');
      return { url: `${SITE}/${2008 + (hash(i, 7) % 18)}/${month}/${slug(i)}`, to: `/blog/${slug(i)}` };
    },
    miss: (i, v, n) => [
      `${SITE}/2019/04/${slug(n + i)}`,
      `${SITE}/2019/04/${slug(i)}/comments`,
      `${SITE}/2019/${slug(i)}`,
    ][v],
  },
  hot: {
    rule: (i) => ({ id: `r${i}`, from: `/shop/products/:id/review-${i}`, to: `/reviews/${i}/:id` }),
    hit: (i) => {
      const id = 1000 + (hash(i, 8) % 900000);
      return { url: `${SITE}/shop/products/${id}/review-${i}`, to: `/reviews/${i}/${id}` };
    },
    miss: (i, v, n) => {
      const id = 1000 + (hash(i, 8) % 900000);
      return [
        `${SITE}/shop/products/${id}/review-${n + i}`,
        `${SITE}/shop/products/${id}/reviews-${i}`,
        `${SITE}/shop/products/${id}/review-${i}/photos`,
      ][v];
    },
  },
  multihost: {
    rule: (i) => ({ id: `r${i}`, host: host(i % HOSTS), from: `/${pick(WORDS, i, 4)}/${slug(i)}.html`, to: `/new/${slug(i)}` }),
    hit: (i) => ({ url: `https://${host(i % HOSTS)}/${pick(WORDS, i, 4)}/${slug(i)}.html`, to: `/new/${slug(i)}` }),
    miss: (i, v, n) => {
      const path = `/${pick(WORDS, i, 4)}/${slug(i)}.html`;
      return [
        // the path of a rule, on another of the 50 hosts
        `https://${host((i + 1 + (hash(i, 9) % (HOSTS - 1))) % HOSTS)}${path}`,
        `https://${host(i % HOSTS)}/${pick(WORDS, i, 4)}/${slug(n + i)}.html`,
        // a host no rule names
        `https://other-${i % 7}.example${path}`,
      ][v];
    },
  },
  mixed: {
    rule: (i) => (i % 10 < 7
      ? { id: `r${i}`, from: `/catalog/${pick(WORDS, i, 4)}/${slug(i)}.html`, to: `/items/${slug(i)}` }
      : { id: `r${i}`, from: `/:lang/guide/topic-${i}`, to: `/:lang/help/topic-${i}` }),
    hit: (i) => {
      if (i % 10 < 7) return { url: `${SITE}/catalog/${pick(WORDS, i, 4)}/${slug(i)}.html`, to: `/items/${slug(i)}` };
      const lang = pick(LANGS, i, 5);
      return { url: `${SITE}/${lang}/guide/topic-${i}`, to: `/${lang}/help/topic-${i}` };
    },
    miss: (i, v, n) => {
      if (i % 10 < 7) return [
        `${SITE}/catalog/${pick(WORDS, i, 4)}/${slug(i)}.htm`,
        `${SITE}/catalog/${pick(WORDS, i, 4)}/${slug(n + i)}.html`,
        `${SITE}/catalog/${slug(i)}.html`,
      ][v];
      const lang = pick(LANGS, i, 5);
      return [
        `${SITE}/${lang}/guide/topic-${n + i}`,
        `${SITE}/${lang}/guides/topic-${i}`,
        `${SITE}/${lang}/guide/topic-${i}/more`,
      ][v];
    },
  },
  regex: {
    rule: (i) => ({ id: `r${i}`, from: `/guide-${i}(/?)`, from_syntax: 'path-to-regexp', to: `/guides/${i}` }),
    hit: (i) => ({ url: `${SITE}/guide-${i}${hash(i, 10) % 2 ? '/' : ''}`, to: `/guides/${i}` }),
    miss: (i, v, n) => [
      `${SITE}/guide-${n + i}`,
      `${SITE}/guide-${i}x`,
      `${SITE}/guides-${i}`,
    ][v],
  },
  query: {
    rule: (i) => ({ id: `r${i}`, from: legacy(i).path, when: { query: { [legacy(i).name]: String(i) } }, to: `/posts/${slug(i)}` }),
    hit: (i) => {
      const { path, name } = legacy(i);
      // some with a tracking parameter before the one tested
      const extra = hash(i, 11) % 3 === 0 ? 'utm_source=news&' : '';
      return { url: `${SITE}${path}?${extra}${name}=${i}`, to: `/posts/${slug(i)}` };
    },
    miss: (i, v, n) => {
      const { path, name } = legacy(i);
      return [
        `${SITE}${path}?${name}=${n + i}`,
        `${SITE}${path}?${name}=${i}x`,
        `${SITE}${path}?other=${i}`,
      ][v];
    },
  },
};

/** The `query` shape's path and parameter of rule `i`. */
function legacy(i) {
  return i % 10 < 8 ? { path: '/index.php', name: 'p' } : { path: '/product.php', name: 'id' };
}

function shape(name) {
  const s = SHAPE[name];
  if (!s) throw new Error(`unknown shape ${name} (one of ${SHAPES.join(', ')})`);
  return s;
}

/** Rule `i` of a shape. */
export const shapeRule = (name, i) => shape(name).rule(i);

/** Writes the `n`-rule bundle of a shape to `file`, a chunk of rules at a time; returns its bytes. */
export function writeShapeBundle(name, n, file) {
  const s = shape(name);
  const fd = openSync(file, 'w');
  let bytes = 0;
  const put = (text) => { bytes += writeSync(fd, text); };
  try {
    put('{"version":1,"rules":[\n');
    const CHUNK = 20_000;
    for (let start = 0; start < n; start += CHUNK) {
      const lines = [];
      for (let i = start; i < Math.min(n, start + CHUNK); i++) lines.push(JSON.stringify(s.rule(i)));
      put((start ? ',\n' : '') + lines.join(',\n'));
    }
    put('\n]}\n');
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** `count` requests over the `n`-rule bundle of a shape (seeded); the first is a hit. */
export function shapeRequests(name, n, count, seed = 11) {
  const s = shape(name);
  const random = rng(seed);
  const requests = [];
  for (let k = 0; k < count; k++) {
    const i = Math.floor(random() * n);
    const miss = k > 0 && random() < 0.3;
    const variant = Math.floor(random() * 3);
    requests.push(miss ? { url: s.miss(i, variant, n), kind: 'miss' } : { ...s.hit(i), kind: 'hit', rule: `r${i}` });
  }
  return requests;
}

/** Writes OUT_DIR/rules.json and OUT_DIR/requests.json. */
export function writeShapeSet(name, n, dir, count = 10_000) {
  mkdirSync(dir, { recursive: true });
  const bytes = writeShapeBundle(name, n, path.join(dir, 'rules.json'));
  writeFileSync(path.join(dir, 'requests.json'), JSON.stringify(shapeRequests(name, n, count)));
  return bytes;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [name, n, out, count] = [process.argv[2], Number(process.argv[3]), process.argv[4], Number(process.argv[5] ?? 10_000)];
  if (!SHAPE[name] || !Number.isInteger(n) || n < 1 || !out) {
    console.error(`usage: node benches/peers/shapes.mjs ${SHAPES.join('|')} N OUT_DIR [REQUESTS]`);
    process.exit(2);
  }
  const bytes = writeShapeSet(name, n, out, count);
  console.log(`${out}: ${n} ${name} rules (${(bytes / 1e6).toFixed(1)} MB), ${count} requests`);
}
