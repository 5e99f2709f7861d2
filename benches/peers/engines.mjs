// The engines under comparison, each behind the same two calls:
//   load(dir)  -> instance: parse the rule set from its own file format and build the index;
//   eval(req)  -> the redirect target, or undefined when the request goes to the origin.
// Each engine gets the absolute request URL (and the visitor's country) and does its own URL
// handling, as it would in a Worker. `expresses` names the workloads an engine can run.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { match } from 'path-to-regexp';

const require = createRequire(import.meta.url);

/** Where the engine-only wasm build (`--features js-api`) is put by scripts/bench.sh. */
export const OUR_PKG = process.env.OUR_WASM_PKG ?? path.resolve(import.meta.dirname, '../../target/js-api/pkg');

/** Substitutes `:name` placeholders (splat arrays joined with `/`). */
function fill(template, params) {
  return template.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name) => {
    const v = params[name];
    return Array.isArray(v) ? v.join('/') : (v ?? '');
  });
}

export const ENGINES = {
  ours: {
    label: 'ours (edge-redirects wasm)',
    expresses: ['exact', 'mixed'],
    file: 'rules.json',
    async load(dir) {
      const { Engine } = await import(pathToFileURL(path.join(OUR_PKG, 'edge_redirects_js.js')).href);
      const text = readFileSync(path.join(dir, 'rules.json'), 'utf8');
      return { text, build: () => new Engine(text) };
    },
    evaluate: (engine, req) => engine.evaluate('GET', req.url, req.country ?? ''),
  },

  netlifyCore: {
    label: 'netlify-redirector (Netlify matcher, wasm)',
    expresses: ['exact', 'mixed'],
    file: '_redirects',
    async: false,
    load(dir) {
      const redirector = require('netlify-redirector');
      const text = readFileSync(path.join(dir, '_redirects'), 'utf8');
      return { text, build: () => redirector.parsePlain(text, { jwtSecret: '', jwtRoleClaim: '' }) };
    },
    // What @netlify/redirects does around the matcher, minus cookie parsing.
    evaluate(matcher, req) {
      const u = new URL(req.url);
      const headers = { 'x-country': req.country ? req.country.toLowerCase() : 'us', 'x-language': 'en' };
      const m = matcher.match({
        scheme: 'https',
        host: u.hostname,
        path: decodeURIComponent(u.pathname),
        query: u.search.slice(1),
        headers,
        getHeader: (name) => headers[name.toLowerCase()] ?? '',
        getCookie: () => '',
      });
      return m ? m.to : undefined;
    },
  },

  netlify: {
    label: '@netlify/redirects (RedirectsHandler.match)',
    expresses: ['exact', 'mixed'],
    file: '_redirects',
    async: true,
    // Requests are Fetch API Request objects, made before timing (a Worker receives one).
    prepare: (req) =>
      new Request(req.url, { headers: req.country ? { cookie: `nf_country=${req.country.toLowerCase()}` } : {} }),
    async load(dir) {
      const { RedirectsHandler } = await import('@netlify/redirects');
      return {
        text: readFileSync(path.join(dir, '_redirects'), 'utf8'),
        build: async () => {
          const handler = new RedirectsHandler({ projectDir: dir, configRedirects: [], jwtRoleClaim: '', jwtSecret: '' });
          // The handler reads `_redirects` and builds its matcher on first use.
          await handler.match(new Request('https://example.com/'));
          return handler;
        },
      };
    },
    async evaluate(handler, request) {
      const m = await handler.match(request);
      return m ? m.target.href : undefined;
    },
  },

  pathToRegexp: {
    label: 'path-to-regexp first-match scan',
    expresses: ['exact', 'mixed'],
    file: 'routes.json',
    load(dir) {
      const text = readFileSync(path.join(dir, 'routes.json'), 'utf8');
      return {
        text,
        build: () =>
          JSON.parse(text).map((r) => ({
            test: match(r.source, { decode: decodeURIComponent }),
            destination: r.destination,
            has: r.has,
          })),
      };
    },
    evaluate(routes, req) {
      const u = new URL(req.url);
      const pathname = u.pathname;
      for (let i = 0; i < routes.length; i++) {
        const route = routes[i];
        const m = route.test(pathname);
        if (!m) continue;
        const params = m.params;
        if (route.has) {
          let ok = true;
          for (const h of route.has) {
            if (h.type === 'query') {
              const v = u.searchParams.get(h.key);
              if (v === null) ok = false;
              else params[h.capture] = v;
            } else if (h.type === 'country') {
              if (!req.country || !h.values.includes(req.country)) ok = false;
            }
          }
          if (!ok) continue;
        }
        return u.origin + fill(route.destination, params) + u.search;
      }
      return undefined;
    },
  },

  map: {
    label: 'JS Map + new URL (Cloudflare bulk-redirects example)',
    expresses: ['exact'],
    file: 'map.json',
    load(dir) {
      const text = readFileSync(path.join(dir, 'map.json'), 'utf8');
      return { text, build: () => new Map(JSON.parse(text)) };
    },
    evaluate(map, req) {
      const u = new URL(req.url);
      const target = map.get(u.pathname);
      return target === undefined ? undefined : u.origin + target + u.search;
    },
  },

  mapPathOnly: {
    label: 'JS Map.get alone (path already split, floor)',
    expresses: ['exact'],
    file: 'map.json',
    prepare: (req) => req.url.slice(req.url.indexOf('/', 8)).split('?')[0],
    load(dir) {
      const text = readFileSync(path.join(dir, 'map.json'), 'utf8');
      return { text, build: () => new Map(JSON.parse(text)) };
    },
    evaluate: (map, pathname) => map.get(pathname),
  },
};
