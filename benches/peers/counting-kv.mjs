// The built worker in workerd through Miniflare, its KV binding wrapped by a module that counts
// every read (large-kv.mjs, large-shapes.mjs). A wrapped binding's module runs in the isolate
// of the worker that uses it, so the count is a global of that isolate (`__kvReads`), read
// through the inspector between requests (outside the timed part): counting costs a JS
// increment, not a round trip. `__kvMs` adds up the milliseconds the reads waited for the
// storage (Miniflare's local KV; reads at once overlap), to tell the storage's share of a
// first request from the worker's.
import { createRequire } from 'node:module';
import path from 'node:path';
import { BUILT_MODULES_RULES } from '../../tests/e2e/harness.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const require = createRequire(path.join(ROOT, 'package.json'));
const { Miniflare } = require('miniflare');

/** The KV namespace `redirects publish --namespace-id` writes and the worker reads. */
export const NS = 'bench';

const COUNTING_KV = `
export default function (env) {
  const count = () => { globalThis.__kvReads = (globalThis.__kvReads ?? 0) + 1; };
  // Date.now() in workerd advances across I/O, which a read is.
  const timed = async (read) => {
    const t = Date.now();
    try { return await read(); } finally { globalThis.__kvMs = (globalThis.__kvMs ?? 0) + Date.now() - t; }
  };
  return {
    async get(key, options) { count(); return timed(() => env.INNER.get(key, options)); },
    async getWithMetadata(key, options) { count(); return timed(() => env.INNER.getWithMetadata(key, options)); },
    list: (o) => env.INNER.list(o), put: (k, v, o) => env.INNER.put(k, v, o), delete: (k) => env.INNER.delete(k),
  };
}`;

/** A Miniflare serving build/ with REDIRECT_RULES counted, over the local storage at `persist`. */
export function countingMiniflare(persist, inspectorPort) {
  return new Miniflare({
    inspectorPort,
    workers: [
      {
        name: 'redirects',
        modules: true,
        scriptPath: path.join(ROOT, 'build/worker.js'),
        modulesRules: BUILT_MODULES_RULES,
        compatibilityDate: '2026-04-20',
        wrappedBindings: { REDIRECT_RULES: { scriptName: 'counting-kv' } },
        outboundService: () => new Response('origin page', { status: 200 }),
      },
      { name: 'counting-kv', modules: true, script: COUNTING_KV, kvNamespaces: { INNER: NS } },
    ],
    kvPersist: path.join(persist, 'v3/kv'),
  });
}
