// Rule files in each platform's own format, and the requests to ask about them.
//
// Deterministic (a seeded generator): the same run gives the same rules and requests, so a
// difference found once is found every time. Each family of rules comes with the requests that
// tell a right import from a wrong one: the hit, its trailing slash, a case change, a query, a
// near miss, and, for conditions, the visitor with and without what the rule asks for.

// The benchmark's seeded PRNG (mulberry32), so runs are repeatable.
import { rng as random } from '../../benches/peers/ruleset.mjs';

const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'kilo', 'lima', 'nova', 'oscar', 'sierra', 'tango'];

function word(rnd) {
  return WORDS[Math.floor(rnd() * WORDS.length)];
}

/** Variations of one path every family is asked about. */
function variations(rnd, host, path) {
  const base = `https://${host}${path}`;
  const out = [{ url: base }, { url: `${base}?utm_source=mail&x=1` }];
  if (path !== '/') {
    out.push({ url: `${base}/` }, { url: `${base}x` });
    out.push({ url: `https://${host}${path.toUpperCase()}` });
  }
  if (rnd() < 0.5) out.push({ url: `${base}?x=${word(rnd)}` });
  return out;
}

const HOST = 'example.com';

/**
 * Netlify `_redirects`: exact, placeholders, splats, targets with a query, query matches,
 * 200 rewrites before later redirects, Role rewrites, Country/Language/Cookie conditions,
 * domain-level rules. Returns `{ text, requests }`.
 */
export function netlify(seed, count) {
  const rnd = random(seed);
  const lines = [];
  const requests = [];
  for (let i = 0; i < count; i++) {
    const w = `${word(rnd)}${i}`;
    switch (i % 12) {
      case 0:
        lines.push(`/old-${w}  /new-${w}  301`);
        requests.push(...variations(rnd, HOST, `/old-${w}`));
        break;
      case 1:
        lines.push(`/blog-${w}/:year/:slug  /posts-${w}/:slug  301`);
        requests.push(...variations(rnd, HOST, `/blog-${w}/2024/hello`), { url: `https://${HOST}/blog-${w}/2024` });
        break;
      case 2:
        lines.push(`/news-${w}/*  /posts-${w}/:splat  302`);
        requests.push(...variations(rnd, HOST, `/news-${w}/a/b`), { url: `https://${HOST}/news-${w}` });
        break;
      case 3:
        lines.push(`/legal-${w}/terms  /terms-${w}?from=legal  301`);
        requests.push(...variations(rnd, HOST, `/legal-${w}/terms`));
        break;
      case 4:
        lines.push(`/store-${w}  id=:id  /products-${w}/:id  301`);
        requests.push(
          { url: `https://${HOST}/store-${w}?id=abc` },
          { url: `https://${HOST}/store-${w}?id=abc&utm=1` },
          { url: `https://${HOST}/store-${w}` },
          { url: `https://${HOST}/store-${w}/?id=7` },
        );
        break;
      case 5:
        lines.push(`/app-${w}/*  /app-${w}/index.html  200`, `/app-${w}/old  /app-${w}/new  301`);
        requests.push(...variations(rnd, HOST, `/app-${w}/old`));
        break;
      case 6:
        lines.push(`/members-${w}/*  /members-${w}/:splat  200!  Role=member`, `/members-${w}/*  /login-${w}  302!`);
        requests.push(
          { url: `https://${HOST}/members-${w}/area` },
          { url: `https://${HOST}/members-${w}/area`, jwt: 'member' },
        );
        if (i % 96 === 6) requests.push({ url: `https://${HOST}/members-${w}/area`, jwt: 'member', forged: true });
        break;
      case 7:
        lines.push(`/shop-${w}  /de/shop-${w}  302  Country=de,at`);
        for (const country of ['DE', 'AT', 'FR', undefined]) {
          requests.push({ url: `https://${HOST}/shop-${w}`, country });
        }
        break;
      case 8:
        lines.push(`/hello-${w}  /fr/hello-${w}  302  Language=fr`);
        for (const lang of ['fr', 'fr-CA,en;q=0.5', 'en', undefined]) {
          requests.push({ url: `https://${HOST}/hello-${w}`, language: lang });
        }
        // The best language by q-value is not the first one listed (a listed difference).
        if (i % 96 === 8) requests.push({ url: `https://${HOST}/hello-${w}`, language: 'en;q=0.1,fr;q=0.9' });
        break;
      case 9:
        lines.push(`/beta-${w}/*  /preview-${w}/:splat  302  Cookie=beta`);
        requests.push(
          { url: `https://${HOST}/beta-${w}/x/y`, cookies: { beta: '1' } },
          { url: `https://${HOST}/beta-${w}/x/y` },
        );
        break;
      case 10:
        lines.push(`https://old-${w}.example.net/*  https://${HOST}/moved/:splat  301!`);
        requests.push(
          { url: `https://old-${w}.example.net/a/b?q=1` },
          { url: `https://old-${w}.example.net/` },
          { url: `https://${HOST}/a/b` },
        );
        break;
      case 11:
        if (i % 48 === 11) {
          // A rule that answers with the request's own URL (the loop guard skips it).
          lines.push(`/same-${w}/*  /same-${w}/:splat  301`);
          requests.push({ url: `https://${HOST}/same-${w}/a` });
          break;
        }
        if (i % 96 === 23) {
          // A source written percent-encoded (a listed difference).
          lines.push(`/caf%C3%A9-${w}  /cafe-${w}  301`);
          requests.push({ url: `https://${HOST}/caf%C3%A9-${w}` });
          break;
        }
      // falls through
      default:
        lines.push(`/docs-${w}/:section/*  https://docs.example.org/:section/:splat  302`);
        requests.push(...variations(rnd, HOST, `/docs-${w}/guide/install/linux`));
    }
  }
  return { text: `${lines.join('\n')}\n`, requests };
}

/**
 * Redirects as `vercel.json` / Next.js write them: `:name`, `:name*`, `has` / `missing` on
 * query, header and cookie (string values, regular expressions where they are text or `.*`),
 * permanent and temporary. Returns `{ redirects, requests }`.
 */
export function vercel(seed, count, { caseVariants }) {
  const rnd = random(seed);
  const redirects = [];
  const requests = [];
  for (let i = 0; i < count; i++) {
    const w = `${word(rnd)}${i}`;
    const permanent = rnd() < 0.6;
    switch (i % 12) {
      case 0:
        redirects.push({ source: `/about-${w}`, destination: `/company-${w}`, permanent });
        requests.push(...variations(rnd, HOST, `/about-${w}`));
        if (i % 96 === 0) {
          // A redirect to the request's own URL (the loop guard skips it: a listed difference).
          redirects.push({ source: `/same-${w}/:rest*`, destination: `/same-${w}/:rest*`, permanent });
          requests.push({ url: `https://${HOST}/same-${w}/a` });
        }
        break;
      case 1:
        redirects.push({ source: `/blog-${w}/:slug`, destination: `/news-${w}/:slug`, permanent });
        requests.push(...variations(rnd, HOST, `/blog-${w}/hello`), { url: `https://${HOST}/blog-${w}` });
        break;
      case 2:
        redirects.push({ source: `/docs-${w}/:path*`, destination: `https://docs.example.org/${w}/:path*`, permanent });
        requests.push(...variations(rnd, HOST, `/docs-${w}/a/b`), { url: `https://${HOST}/docs-${w}` });
        break;
      case 3:
        redirects.push({
          source: `/dash-${w}`,
          destination: `/login-${w}`,
          permanent: false,
          missing: [{ type: 'cookie', key: 'session' }],
        });
        requests.push({ url: `https://${HOST}/dash-${w}` }, { url: `https://${HOST}/dash-${w}`, cookies: { session: 'abc' } });
        break;
      case 4:
        redirects.push({
          source: `/shop-${w}`,
          destination: `/shop-${w}/:region`,
          permanent: false,
          has: [{ type: 'query', key: 'region', value: '(?<region>.*)' }],
        });
        requests.push({ url: `https://${HOST}/shop-${w}?region=eu` }, { url: `https://${HOST}/shop-${w}` });
        break;
      case 5:
        redirects.push({
          source: `/beta-${w}`,
          destination: `/beta-${w}/on`,
          permanent: false,
          has: [{ type: 'header', key: 'X-Beta', value: 'yes' }],
        });
        requests.push(
          { url: `https://${HOST}/beta-${w}`, headers: { 'x-beta': 'yes' } },
          { url: `https://${HOST}/beta-${w}`, headers: { 'x-beta': 'no' } },
          { url: `https://${HOST}/beta-${w}` },
        );
        break;
      case 6:
        redirects.push({ source: `/terms-${w}`, destination: `/legal-${w}?from=terms`, permanent });
        requests.push(...variations(rnd, HOST, `/terms-${w}`));
        break;
      case 8:
        redirects.push({ source: `/post-${w}/:id(\\d+)`, destination: `/p-${w}/:id`, permanent });
        requests.push(
          { url: `https://${HOST}/post-${w}/42` },
          { url: `https://${HOST}/post-${w}/42a` },
          { url: `https://${HOST}/post-${w}/42/` },
          { url: `https://${HOST}/post-${w}/x?y=1` },
        );
        break;
      case 9:
        redirects.push({ source: `/:locale(en|de|fr)/about-${w}`, destination: `/about-${w}?lang=:locale`, permanent });
        for (const l of ['en', 'de', 'it', 'DE', 'deu']) requests.push({ url: `https://${HOST}/${l}/about-${w}` });
        break;
      case 10:
        redirects.push({ source: `/lang-${w}/:code?`, destination: `/l-${w}/:code?`, permanent });
        requests.push(
          { url: `https://${HOST}/lang-${w}/fr` },
          { url: `https://${HOST}/lang-${w}` },
          { url: `https://${HOST}/lang-${w}/` },
          { url: `https://${HOST}/lang-${w}/fr/x` },
        );
        break;
      case 11:
        redirects.push({ source: `/page-${w}/:slug.html`, destination: `/pages-${w}/:slug`, permanent });
        redirects.push({ source: `/dash-${w}-:id`, destination: `/dashboard-${w}/:id`, permanent });
        requests.push(
          { url: `https://${HOST}/page-${w}/intro.html` },
          { url: `https://${HOST}/page-${w}/intro` },
          { url: `https://${HOST}/page-${w}/.html` },
          { url: `https://${HOST}/dash-${w}-7f` },
          { url: `https://${HOST}/dash-${w}-` },
        );
        break;
      default:
        redirects.push({ source: `/Guide-${w}`, destination: `/guide-${w}-new`, permanent });
        requests.push(...variations(rnd, HOST, `/Guide-${w}`));
        if (caseVariants) requests.push({ url: `https://${HOST}/guide-${w}` });
    }
  }
  return { redirects, requests };
}

/**
 * A Cloudflare Bulk Redirects list as CSV (header row in a shuffled order): exact sources,
 * subpath matching with and without the suffix, subdomains, kept and dropped query strings.
 * Returns `{ text, list, requests }`; `list` holds the parsed entries for the oracle.
 */
export function cloudflare(seed, count) {
  const rnd = random(seed);
  const list = [];
  const requests = [];
  for (let i = 0; i < count; i += 1) {
    const w = `${word(rnd)}${i}`;
    const host = i % 5 === 0 ? `shop${i}.example.com` : HOST;
    const entry = {
      source_url: `${host}/${w}`,
      target_url: i % 3 === 0 ? `https://new.example.org/${w}/` : `https://${HOST}/moved-${w}`,
      status_code: [301, 302, 307, 308][i % 4],
      preserve_query_string: i % 2 === 0,
      include_subdomains: i % 5 === 0,
      subpath_matching: i % 3 !== 2,
      preserve_path_suffix: i % 6 !== 1,
    };
    list.push(entry);
    requests.push(...variations(rnd, host, `/${w}`));
    requests.push({ url: `https://${host}/${w}/a/b/` }, { url: `https://${host}/${w}/a?q=1` });
    if (entry.include_subdomains) requests.push({ url: `https://eu.${host}/${w}?k=v` });
  }
  const columns = ['target_url', 'source_url', 'status_code', 'preserve_query_string', 'include_subdomains', 'subpath_matching', 'preserve_path_suffix'];
  const rows = list.map((e) => columns.map((c) => (typeof e[c] === 'boolean' ? String(e[c]).toUpperCase() : e[c])).join(','));
  return { text: `${[columns.join(','), ...rows].join('\n')}\n`, list, requests };
}
