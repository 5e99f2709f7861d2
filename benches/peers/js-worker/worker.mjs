// The equivalent JavaScript worker: exact rules in a Map (Cloudflare's bulk-redirects example),
// every other rule in a path-to-regexp first-match scan (as Next.js-style routers do), the
// same rules as the Rust worker. Like the Rust worker it builds its index once per isolate,
// on first use, and passes misses to the origin.
import { match } from 'path-to-regexp';
import routes from './routes.json';

let index = null;

function build() {
  const exact = new Map();
  const scan = [];
  for (const r of routes) {
    if (!r.has && !/[:*]/.test(r.source)) exact.set(r.source, r);
    else scan.push({ test: match(r.source, { decode: decodeURIComponent }), route: r });
  }
  return { exact, scan };
}

function fill(template, params) {
  return template.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name) => {
    const v = params[name];
    return Array.isArray(v) ? v.join('/') : (v ?? '');
  });
}

function redirect(url, destination, params, status) {
  const location = new URL(fill(destination, params), url);
  if (location.search === '') location.search = url.search;
  return new Response(`<a href="${location.href}">Moved</a>\n`, {
    status,
    headers: { location: location.href, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=86400' },
  });
}

export default {
  async fetch(request) {
    index ??= build();
    const url = new URL(request.url);
    const hit = index.exact.get(url.pathname);
    if (hit) return redirect(url, hit.destination, {}, hit.statusCode);
    const country = request.cf?.country;
    for (const { test, route } of index.scan) {
      const m = test(url.pathname);
      if (!m) continue;
      const params = m.params;
      let ok = true;
      for (const h of route.has ?? []) {
        if (h.type === 'query') {
          const v = url.searchParams.get(h.key);
          if (v === null) ok = false;
          else params[h.capture] = v;
        } else if (h.type === 'country' && !(country && h.values.includes(country))) ok = false;
      }
      if (ok) return redirect(url, route.destination, params, route.statusCode);
    }
    return fetch(request);
  },
};
