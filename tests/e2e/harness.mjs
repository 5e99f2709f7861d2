// Runs the built worker (build/: worker.js, index.js, index_bg.wasm and rules.bin, the files
// wrangler uploads) in workerd through Miniflare, with a KV namespace and a recording mock
// origin.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The compatibility date from wrangler.toml, so the tests run what `wrangler deploy` runs. */
export function compatibilityDate() {
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const match = toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m);
  if (!match) throw new Error("wrangler.toml has no compatibility_date");
  return match[1];
}

/** The geolocation and network fields the worker reads; null means "not known". */
const NO_GEO = { country: null, continent: null, regionCode: null, city: null, asn: null };

/**
 * `request.cf` for a dispatched request. Miniflare fills fields a request does not set from a
 * placeholder (an Austin, US visitor); the geo fields are cleared so only `cf` counts.
 */
export function cfFor(cf) {
  return { ...NO_GEO, ...(cf ?? {}) };
}

/**
 * The default mock origin: answers 200 with a JSON echo of what it received.
 * Tests replace it per request through `worker.origin = async (request, seen) => Response`.
 */
export async function echoOrigin(request, seen) {
  return new Response(JSON.stringify(seen), {
    status: 200,
    headers: { "content-type": "application/json", "x-origin": "mock" },
  });
}

/**
 * How Miniflare takes the modules of build/, as wrangler.toml uploads them: the glue and entry
 * as ES modules, the worker's wasm compiled, the bundled rules' artifact (rules.bin) as data.
 */
export const BUILT_MODULES_RULES = [
  { type: "ESModule", include: ["**/*.js"] },
  { type: "CompiledWasm", include: ["**/*.wasm"] },
  { type: "Data", include: ["**/*.bin"] },
];

/** Miniflare options that load the built worker (build/), as wrangler uploads it. */
export function builtWorker() {
  return {
    modules: true,
    scriptPath: path.join(ROOT, "build/worker.js"),
    modulesRules: BUILT_MODULES_RULES,
    compatibilityDate: compatibilityDate(),
  };
}

/**
 * Starts the worker. Options:
 *   kvRules: text stored under REDIRECT_RULES/rules.json before the first request
 *            (undefined: the key is absent);
 *   kv:      false to leave REDIRECT_RULES unbound (the embedded bundle only);
 *   origin:  the mock origin, `(request, seen) => Response`;
 *   port:    serve on 127.0.0.1:port (0 picks a free port) for a real browser;
 *   network: instead of the mock origin, let the worker's fetches reach these loopback
 *            addresses for real (workerd's own network stack);
 *   vars:    plain-text variables (such as ORIGIN).
 */
export async function startWorker({
  kvRules,
  kv = true,
  origin = echoOrigin,
  port,
  network,
  vars,
} = {}) {
  const seen = [];
  const worker = { seen, origin };
  const options = {
    ...builtWorker(),
    cf: {},
    outboundService: async (request) => {
      const body = request.body ? await request.text() : null;
      const record = {
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
        body,
      };
      seen.push(record);
      return worker.origin(request, record);
    },
  };
  if (vars) options.bindings = vars;
  if (network) options.outboundService = { network: { allow: network } };
  if (kv) options.kvNamespaces = ["REDIRECT_RULES"];
  if (port !== undefined) {
    options.host = "127.0.0.1";
    options.port = port;
  }
  const mf = new Miniflare(options);
  try {
    worker.url = await mf.ready;
    if (kv && kvRules !== undefined) {
      const ns = await mf.getKVNamespace("REDIRECT_RULES");
      await ns.put("rules.json", kvRules);
    }
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
  worker.mf = mf;
  /** dispatchFetch with manual redirects and the given geolocation. */
  worker.fetch = (url, init = {}) =>
    mf.dispatchFetch(url, { redirect: "manual", ...init, cf: cfFor(init.cf) });
  worker.close = () => mf.dispose();
  return worker;
}

/** Reads a JSON file relative to the repository root. */
export function readJson(relative) {
  return JSON.parse(readFileSync(path.join(ROOT, relative), "utf8"));
}

/** The browser binary: $CHROMIUM, else the first Chromium or Chrome on PATH. */
export function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  const found = execFileSync("bash", ["-c", `source "${ROOT}/scripts/env.sh"; find_chromium`], {
    encoding: "utf8",
  }).trim();
  if (!found) throw new Error("no Chromium found: run scripts/setup (or set CHROMIUM)");
  return found;
}

/** Headless Chromium (playwright-core), offline: no background traffic of its own. */
export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
