// The judges: each platform's own engine from npm, asked what it answers to a request.
//
// Every judge returns `{ outcome: 'redirect', status, location }` (location absolute) or
// `{ outcome: 'origin' }` (the platform serves the request itself: no rule, a rewrite, a
// proxy), or `{ outcome: 'error' }` when the platform fails the request (no answer to compare). Requests are `{ url, headers?, cookies?, country?, language?, jwt?, forged? }` (`jwt`: a
// Netlify Identity role the visitor's `nf_jwt` token carries; `forged`: signed with the wrong key).

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import querystring from 'node:querystring';

const require = createRequire(import.meta.url);

/** The secret the Netlify judge verifies Role JWTs with (the visitor's token is signed by it). */
const JWT_SECRET = 'differential-secret';

function cookieHeader(req) {
  const pairs = Object.entries(req.cookies ?? {}).map(([k, v]) => `${k}=${v}`);
  if (req.jwt) pairs.push(`nf_jwt=${netlifyToken(req.jwt, req.forged)}`);
  return pairs.join('; ');
}

/** A Netlify Identity token with `role`; `forged` signs it with another secret. */
function netlifyToken(role, forged) {
  const jwt = require('jsonwebtoken');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return jwt.sign({ app_metadata: { roles: [role] }, exp }, forged ? 'not-the-secret' : JWT_SECRET);
}

/**
 * Netlify: `@netlify/redirects` (its `RedirectsHandler`, which parses `_redirects` with
 * Netlify's parser and matches with Netlify's own matcher). A match with a 3xx status is a
 * redirect; 200 (rewrite, proxy) is the origin answering. `configPath`: a `netlify.toml` whose
 * `[[redirects]]` Netlify reads too.
 */
export async function netlify(dir, text, configPath) {
  writeFileSync(path.join(dir, '_redirects'), text);
  const { RedirectsHandler } = await import('@netlify/redirects');
  const handler = new RedirectsHandler({
    projectDir: dir,
    configRedirects: [],
    configPath,
    jwtRoleClaim: 'app_metadata.roles',
    jwtSecret: JWT_SECRET,
  });
  return async (req) => {
    const headers = { ...(req.headers ?? {}) };
    const cookie = [cookieHeader(req), req.country ? `nf_country=${req.country.toLowerCase()}` : '']
      .filter(Boolean)
      .join('; ');
    if (cookie) headers.cookie = cookie;
    if (req.language) headers['accept-language'] = req.language;
    const m = await handler.match(new Request(req.url, { headers }));
    if (!m || !m.redirect) return { outcome: 'origin' };
    return { outcome: 'redirect', status: m.statusCode, location: m.target.href };
  };
}

/** A request's query (Node's querystring, as Next.js parses it). */
function queryOf(url) {
  return querystring.parse(url.search.slice(1));
}

/** The destination Next.js or Vercel built, made absolute against the request. */
function absolute(dest, url) {
  return new URL(dest, url).href;
}

/**
 * Next.js: its own route matcher (`getPathMatch` with the flags Next's router uses for
 * `redirects()`: `strict`, case-insensitive unless `caseSensitiveRoutes`, an optional trailing
 * slash), `matchHas` for `has` / `missing`, and `prepareDestination` for the Location, as
 * `next/dist/server/lib/router-utils/resolve-routes.js` chains them.
 */
export function nextjs(redirects) {
  const { getPathMatch } = require('next/dist/shared/lib/router/utils/path-match');
  const { matchHas, prepareDestination } = require('next/dist/shared/lib/router/utils/prepare-destination');
  const { modifyRouteRegex, getRedirectStatus } = require('next/dist/lib/redirect-status');
  const routes = redirects.map((r) => ({
    ...r,
    match: getPathMatch(r.source, {
      strict: true,
      removeUnnamedParams: true,
      regexModifier: (regex) => modifyRouteRegex(regex, ['/_next']),
      sensitive: false,
    }),
  }));
  return (req) => {
    const url = new URL(req.url);
    const headers = { host: url.host, ...(req.headers ?? {}) };
    const cookie = cookieHeader(req);
    if (cookie) headers.cookie = cookie;
    const query = queryOf(url);
    for (const route of routes) {
      let params = route.match(url.pathname);
      if (params && (route.has || route.missing)) {
        const hasParams = matchHas({ headers }, query, route.has, route.missing);
        params = hasParams ? Object.assign(params, hasParams) : false;
      }
      if (!params) continue;
      let parsedDestination;
      try {
        ({ parsedDestination } = prepareDestination({
          appendParamsToQuery: false,
          destination: route.destination,
          params,
          query,
        }));
      } catch (e) {
        // Next.js fails the request (a 500): no answer to compare.
        return { outcome: 'error', error: e.message };
      }
      const search = querystring.stringify(parsedDestination.query);
      const base = parsedDestination.protocol
        ? `${parsedDestination.protocol}//${parsedDestination.hostname}${parsedDestination.port ? `:${parsedDestination.port}` : ''}`
        : '';
      const dest = `${base}${parsedDestination.pathname.replace(/\/\/+/g, '/')}${search ? `?${search}` : ''}${parsedDestination.hash ?? ''}`;
      return { outcome: 'redirect', status: getRedirectStatus(route), location: absolute(dest, url) };
    }
    return { outcome: 'origin' };
  };
}

/** Vercel's `has` value: a string is an anchored regular expression (named groups capture). */
function vercelHas(item, value, params) {
  if (value === undefined) return false;
  if (item.value === undefined) {
    params[item.key] = value;
    return true;
  }
  const m = new RegExp(`^${item.value}$`).exec(value);
  if (!m) return false;
  Object.assign(params, m.groups ?? {});
  return true;
}

/**
 * Vercel: `@vercel/routing-utils` `getTransformedRoutes` turns `vercel.json` into the routes
 * Vercel's edge runs (`src` regular expression, `Location` template with `$1` / `$name`,
 * `status`, `has`, `missing`). The edge itself is not on npm: applying a route follows
 * Vercel's documentation (https://vercel.com/docs/project-configuration#redirects): the first
 * route whose `src` matches the path and whose `has` / `missing` hold answers; the request's
 * query is kept, after the destination's own parameters.
 */
export function vercel(redirects) {
  const { getTransformedRoutes } = require('@vercel/routing-utils');
  const { routes, error } = getTransformedRoutes({ redirects });
  if (error) throw new Error(`vercel.json rejected: ${JSON.stringify(error)}`);
  const compiled = routes.filter((r) => r.headers?.Location).map((r) => ({ ...r, re: new RegExp(r.src) }));
  return (req) => {
    const url = new URL(req.url);
    const headers = { host: url.hostname, ...(req.headers ?? {}) };
    const cookies = req.cookies ?? {};
    const look = (item) => {
      if (item.type === 'header') return headers[item.key.toLowerCase()];
      if (item.type === 'cookie') return cookies[item.key];
      if (item.type === 'query') return url.searchParams.get(item.key) ?? undefined;
      if (item.type === 'host') return url.hostname;
      return undefined;
    };
    for (const route of compiled) {
      const m = route.re.exec(url.pathname);
      if (!m) continue;
      const params = {};
      if (!(route.has ?? []).every((item) => vercelHas(item, look(item), params))) continue;
      if ((route.missing ?? []).some((item) => vercelHas(item, look(item), {}))) continue;
      let location = route.headers.Location.replace(/\$(\d+)/g, (_, n) => m[Number(n)] ?? '');
      location = location.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, n) => params[n] ?? m.groups?.[n] ?? '');
      const target = new URL(location, url);
      for (const [k, v] of url.searchParams) {
        if (!target.searchParams.has(k)) target.searchParams.append(k, v);
      }
      return { outcome: 'redirect', status: route.status, location: target.href };
    }
    return { outcome: 'origin' };
  };
}

/**
 * Cloudflare Bulk Redirects has no engine on npm: this is its documented behaviour.
 * - https://developers.cloudflare.com/rules/url-forwarding/bulk-redirects/how-it-works/ :
 *   a request matches a URL redirect whose source host and path equal the request's
 *   (hosts case-insensitive); with `include_subdomains`, any subdomain of the source host
 *   matches too; with `subpath_matching`, every path under the source path matches.
 * - https://developers.cloudflare.com/rules/url-forwarding/bulk-redirects/reference/parameters/ :
 *   `preserve_path_suffix` (default true) appends the part of the path below the source path to
 *   the target; `preserve_query_string` (default false) passes the request's query along;
 *   `status_code` defaults to 301.
 * - https://developers.cloudflare.com/rules/url-forwarding/bulk-redirects/reference/url-components/ :
 *   a target has its own query only when the request's is not preserved.
 * The docs say nothing of a trailing slash on an exact source; this judge treats `/a/` as `/a`
 * (our `trailing_slash: "ignore"`), and says so in the README's list of differences.
 */
export function cloudflare(list) {
  const entries = list.map((e) => {
    const [host, ...rest] = e.source_url.split('/');
    return { ...e, host: host.toLowerCase(), path: `/${rest.join('/')}`.replace(/\/+$/, '') || '/' };
  });
  return (req) => {
    const url = new URL(req.url);
    const host = url.hostname.toLowerCase();
    const reqPath = url.pathname.replace(/\/+$/, '') || '/';
    for (const e of entries) {
      const hostOk = host === e.host || (e.include_subdomains && host.endsWith(`.${e.host}`));
      if (!hostOk) continue;
      const exact = reqPath === e.path;
      const under = e.subpath_matching && url.pathname.startsWith(`${e.path === '/' ? '' : e.path}/`);
      if (!exact && !under) continue;
      let target = e.target_url;
      if (under && !exact && e.preserve_path_suffix) {
        target = target.replace(/\/+$/, '') + url.pathname.slice(e.path.length);
      }
      const t = new URL(target, url);
      if (e.preserve_query_string) t.search = url.search;
      return { outcome: 'redirect', status: e.status_code ?? 301, location: t.href };
    }
    return { outcome: 'origin' };
  };
}
