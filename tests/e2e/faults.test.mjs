// Faults around the worker, in workerd: the KV namespace unavailable, slow or holding garbage;
// the origin refusing connections, hanging, dropping the connection, answering garbage or 5xx,
// for a plain passthrough and for Post-Redirect-Get forwarding. For each, what the visitor gets
// (documented in SECURITY.md). A visitor never sees a worker exception page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { Miniflare } from "miniflare";
import { ROOT, builtWorker, cfFor, startWorker } from "./harness.mjs";

const BUNDLE = readFileSync(path.join(ROOT, "tests/hostile/bundle.json"), "utf8");
const SITE = "https://example.com";

/** Fails on anything that looks like a runtime error page instead of an answer. */
async function answer(res) {
  const body = await res.text();
  assert.ok(
    !/Worker threw exception|Error 1101|Uncaught|internal error/i.test(body),
    `an exception page reached the visitor: ${body.slice(0, 200)}`,
  );
  return body;
}

// The KV binding REDIRECT_RULES implemented in JavaScript so it can fail on demand: each read
// asks the test (a Node function behind the CONTROL service) what to do.
const FAULTY_KV = `
class KvNamespace {
  constructor(env) { this.control = env.CONTROL; }
  async get(key, options) {
    const res = await this.control.fetch("http://kv/" + encodeURIComponent(key));
    const { mode, value } = await res.json();
    switch (mode) {
      case "throw": throw new Error("KV GET failed: 503 Service Unavailable");
      case "reject-string": return Promise.reject("KV is down");
      case "number": return 42;
      case "object": return { version: 1, rules: [] };
      case "bytes": return new Uint8Array([0xff, 0xfe, 0x00, 0x0a]).buffer;
      default: return value;
    }
  }
  async getWithMetadata(key, options) { return { value: await this.get(key, options), metadata: null }; }
  async put() { throw new Error("read-only"); }
  async list() { return { keys: [], list_complete: true }; }
  async delete() { throw new Error("read-only"); }
}
export default function (env) { return new KvNamespace(env); }
`;

/**
 * The worker with a faulty KV; `kv(key, n)` answers `{ mode, value, delayMs }` for read `n`.
 * `vars`: the worker's plain-text variables. `worker.logs()`: what workerd printed so far.
 */
async function startWithFaultyKv(kv, { vars } = {}) {
  let reads = 0;
  const seen = [];
  let logs = "";
  const mf = new Miniflare({
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (chunk) => (logs += chunk));
      stderr.on("data", (chunk) => (logs += chunk));
    },
    workers: [
      {
        name: "redirects",
        ...builtWorker(),
        bindings: vars ?? {},
        wrappedBindings: { REDIRECT_RULES: { scriptName: "faulty-kv" } },
        outboundService: async (request) => {
          seen.push(request.url);
          return new Response("origin page", { status: 200, headers: { "x-origin": "mock" } });
        },
      },
      {
        name: "faulty-kv",
        modules: true,
        script: FAULTY_KV,
        serviceBindings: {
          async CONTROL(request) {
            const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
            // No published versions here (publish.test.mjs has them): the manifest is absent,
            // and its reads are not counted, so `reads` counts reads of rules.json.
            if (key === "manifest") return Response.json({ mode: "value", value: null });
            reads++;
            const { delayMs = 0, ...rest } = await kv(key, reads);
            if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
            return Response.json(rest);
          },
        },
      },
    ],
  });
  await mf.ready;
  return {
    mf,
    seen,
    reads: () => reads,
    logs: () => logs,
    fetch: (url, init = {}) => mf.dispatchFetch(url, { redirect: "manual", ...init, cf: cfFor(init.cf) }),
    close: () => mf.dispose(),
  };
}

async function withFaultyKv(kv, body, options) {
  const worker = await startWithFaultyKv(kv, options);
  try {
    await body(worker);
  } finally {
    await worker.close();
  }
}

// The embedded rules.json redirects /blog/:slug to /posts/:slug; the KV bundle
// (tests/hostile/bundle.json) redirects /docs/* to /documentation/:splat.
async function servesEmbedded(worker) {
  const res = await worker.fetch(`${SITE}/blog/hello`);
  await answer(res);
  assert.equal(res.status, 308);
  assert.equal(res.headers.get("location"), `${SITE}/posts/hello`);
}

async function servesKvBundle(worker) {
  const res = await worker.fetch(`${SITE}/docs/a/b`);
  await answer(res);
  assert.equal(res.status, 308);
  assert.equal(res.headers.get("location"), `${SITE}/documentation/a/b`);
}

for (const mode of ["throw", "reject-string"]) {
  test(`KV unavailable (${mode}): the embedded bundle serves, no 5xx`, () =>
    withFaultyKv(() => ({ mode }), async (worker) => {
      await servesEmbedded(worker);
      const pass = await worker.fetch(`${SITE}/not-a-rule`);
      assert.equal(await answer(pass), "origin page");
      assert.equal(pass.status, 200);
      assert.ok(worker.reads() >= 1, "the worker did try KV");
    }));
}

for (const mode of ["number", "object", "bytes"]) {
  test(`KV holding a non-text value (${mode}): treated as no override, the embedded bundle serves`, () =>
    withFaultyKv(() => ({ mode }), servesEmbedded));
}

for (const [what, value] of [
  ["binary junk", "\u0000\u00ff\ufffd{\"version\":1"],
  ["JSON null", "null"],
  ["a bundle with an error", JSON.stringify({ version: 1, rules: [{ id: "x", from: "/x", to: "//evil.example/" }] })],
  ["30 MiB of spaces around a bundle", `${" ".repeat(30 * 1024 * 1024)}{"version":1,"rules":[]}${" ".repeat(3 * 1024 * 1024)}`],
]) {
  test(`KV holding garbage (${what}): ignored, the embedded bundle serves`, () =>
    withFaultyKv(() => ({ mode: "value", value }), servesEmbedded));
}

// --- Values that would cost an isolate too much ------------------------------------------------

/** How many times the worker logged that it ignored the KV value. */
function ignoredCount(logs) {
  return logs.split("\n").filter((line) => line.includes("REDIRECT_RULES/rules.json ignored")).length;
}

/** Requests every 300 ms for `ms`, each answered from the embedded bundle (by `check`). */
async function keepAsking(worker, ms, check) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await check(worker);
    await new Promise((r) => setTimeout(r, 300));
  }
}

// A KV value over the worker's ceiling (WORKER_MAX_BUNDLE_BYTES, 8 MiB): a valid bundle padded
// with spaces, whose /docs/* rule differs from both the embedded and the usual KV bundle.
const TOO_BIG = `{"version":1,"rules":[{"id":"big","from":"/docs/*","to":"/too-big/:splat"}]}${" ".repeat(9 * 1024 * 1024)}`;

test("KV holding an invalid bundle: compiled and logged once per isolate, not on every refresh", () =>
  withFaultyKv(
    () => ({
      mode: "value",
      // A typo in each of 20,000 rules: 40,000 errors.
      value: JSON.stringify({ version: 1, rules: Array.from({ length: 20000 }, (_, i) => ({ id: `r${i}`, form: `/r/${i}`, to: "/" })) }),
    }),
    async (worker) => {
      await keepAsking(worker, 4000, servesEmbedded);
      // Every refresh (each second) read the value again...
      assert.ok(worker.reads() >= 3, `KV read ${worker.reads()} times in 4 s with a 1 s refresh`);
      // ...and recognised it: one compile, one log line, which says how many errors it leaves out.
      assert.equal(ignoredCount(worker.logs()), 1, worker.logs().slice(0, 2000));
      assert.match(worker.logs(), /40000 errors in rule bundle/);
      assert.match(worker.logs(), /and 39900 more errors/);
    },
    { vars: { REDIRECT_RULES_REFRESH_SECONDS: "1" } },
  ));

test("KV holding a bundle over the worker's ceiling: refused without compiling, the embedded bundle serves", () =>
  withFaultyKv(
    () => ({ mode: "value", value: TOO_BIG }),
    async (worker) => {
      await servesEmbedded(worker);
      const docs = await worker.fetch(`${SITE}/docs/a/b`);
      await answer(docs);
      assert.equal(docs.headers.get("location"), "https://docs.example.com/a/b", "the embedded /docs/* rule");
      assert.equal(ignoredCount(worker.logs()), 1, worker.logs().slice(0, 2000));
      assert.match(worker.logs(), /the limit is 8388608 bytes/);
    },
  ));

test("KV value growing over the ceiling: the last good KV bundle keeps serving, refused once", () =>
  withFaultyKv(
    (_key, n) => ({ mode: "value", value: n === 1 ? BUNDLE : TOO_BIG }),
    async (worker) => {
      await servesKvBundle(worker);
      await keepAsking(worker, 4000, servesKvBundle);
      assert.ok(worker.reads() >= 3, `KV read ${worker.reads()} times in 4 s with a 1 s refresh`);
      assert.equal(ignoredCount(worker.logs()), 1, worker.logs().slice(0, 2000));
      assert.match(worker.logs(), /the limit is 8388608 bytes/);
    },
    { vars: { REDIRECT_RULES_REFRESH_SECONDS: "1" } },
  ));

test("KV slow: the first request waits for it a little, requests meanwhile use the current bundle", () =>
  withFaultyKv(
    (_key, n) => (n === 1 ? { mode: "value", value: BUNDLE, delayMs: 1000 } : { mode: "value", value: BUNDLE }),
    async (worker) => {
      const order = [];
      const started = Date.now();
      const first = worker.fetch(`${SITE}/docs/a/b`).then(async (res) => {
        order.push("first");
        return res;
      });
      await new Promise((r) => setTimeout(r, 200));
      // While the first request waits for KV, another is answered from the embedded bundle.
      const meanwhile = await worker.fetch(`${SITE}/blog/hello`);
      order.push("meanwhile");
      await answer(meanwhile);
      assert.equal(meanwhile.status, 308);
      const res = await first;
      await answer(res);
      assert.deepEqual(order, ["meanwhile", "first"], "a concurrent request does not wait for KV");
      assert.ok(Date.now() - started >= 900, "the first request waited for the read");
      assert.equal(res.status, 308);
      assert.equal(res.headers.get("location"), `${SITE}/documentation/a/b`);
      await servesKvBundle(worker);
      assert.equal(worker.reads(), 1, "KV was read once");
    },
  ));

test("KV hanging: the first request waits 2 s at most, then the bundle arrives in the background", () =>
  withFaultyKv(
    (_key, n) => (n === 1 ? { mode: "value", value: BUNDLE, delayMs: 4000 } : { mode: "value", value: BUNDLE }),
    async (worker) => {
      const started = Date.now();
      // /docs/* goes to /documentation/ in the KV bundle, to docs.example.com in the embedded one.
      const first = await worker.fetch(`${SITE}/docs/a/b`);
      const waited = Date.now() - started;
      await answer(first);
      assert.equal(first.headers.get("location"), "https://docs.example.com/a/b", "answered from the embedded bundle");
      assert.ok(waited >= 1900 && waited < 3500, `the first request waited ${waited} ms, about 2000`);
      await servesEmbedded(worker);
      // The read goes on; once it arrives, its bundle is in use without another read.
      await new Promise((r) => setTimeout(r, 4500 - (Date.now() - started)));
      await servesKvBundle(worker);
      assert.equal(worker.reads(), 1, "KV was read once");
    },
  ));

// --- The origin ------------------------------------------------------------------------------

/** A loopback TCP server with `onConnection(socket)`; resolves to { port, close }. */
function tcpServer(onConnection) {
  return new Promise((resolve) => {
    const sockets = new Set();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      onConnection(socket);
    });
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** A port nothing listens on. */
function closedPort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Requests of every kind against an origin at 127.0.0.1:port. */
function kinds(port) {
  const base = `http://127.0.0.1:${port}`;
  return {
    passthrough: () => [`${base}/not-a-rule`, {}],
    forward: () => [`${base}/contact`, { method: "POST", body: "name=a", headers: { "content-type": "application/x-www-form-urlencoded" } }],
    abStay: () => [`${base}/pricing`, { headers: { cookie: "ab_pricing=control" } }],
    redirect: () => [`${base}/blog/x`, {}],
  };
}

async function withOrigin(port, body) {
  const worker = await startWorker({ kvRules: BUNDLE, network: ["127.0.0.1/32"] });
  try {
    await body(worker, kinds(port));
  } finally {
    await worker.close();
  }
}

/** Each kind that needs the origin gets a 502 with a plain explanation; redirects still work. */
async function expectBadGateway(worker, k) {
  for (const kind of ["passthrough", "forward", "abStay"]) {
    const [url, init] = k[kind]();
    const res = await worker.fetch(url, init);
    const body = await answer(res);
    assert.equal(res.status, 502, `${kind}: ${res.status} ${body.slice(0, 100)}`);
    assert.match(body, /origin could not be reached/);
  }
  const [url, init] = k.redirect();
  const res = await worker.fetch(url, init);
  await answer(res);
  assert.equal(res.status, 308, "a redirect never needs the origin");
}

test("origin refusing connections: 502 for passthrough, PRG and A/B stay; redirects answer", async () => {
  await withOrigin(await closedPort(), expectBadGateway);
});

test("origin dropping the connection after accepting it: 502", async () => {
  const server = await tcpServer((socket) => setTimeout(() => socket.destroy(), 300));
  try {
    await withOrigin(server.port, expectBadGateway);
  } finally {
    await server.close();
  }
});

test("origin answering bytes that are not HTTP: 502", async () => {
  const server = await tcpServer((socket) => {
    socket.once("data", () => socket.end("this is not HTTP\r\n\r\n"));
  });
  try {
    await withOrigin(server.port, expectBadGateway);
  } finally {
    await server.close();
  }
});

test("origin never answering: the visitor waits for the origin; redirects still answer", async () => {
  const server = await tcpServer(() => {}); // accepts, reads nothing, answers nothing
  try {
    await withOrigin(server.port, async (worker, k) => {
      const settled = [];
      const pending = ["passthrough", "forward"].map((kind) => {
        const [url, init] = k[kind]();
        return worker.fetch(url, init).then(
          async (r) => (settled.push(kind), await r.arrayBuffer(), r.status),
          () => (settled.push(kind), "failed"),
        );
      });
      await new Promise((r) => setTimeout(r, 1000));
      const [url, init] = k.redirect();
      const res = await worker.fetch(url, init);
      await answer(res);
      assert.equal(res.status, 308, "a redirect does not wait for a hanging origin");
      assert.deepEqual(settled, [], "the worker does not invent an answer while the origin is silent");
      // The origin gives up and closes the connections: the waiting visitors get a 502.
      await server.close();
      assert.deepEqual(await Promise.all(pending), [502, 502]);
    });
  } finally {
    await server.close();
  }
});

/** An HTTP origin answering `status` to everything. */
function httpOrigin(status) {
  return tcpServer((socket) => {
    socket.once("data", () => {
      const body = `origin error ${status}`;
      socket.end(
        `HTTP/1.1 ${status} Origin Trouble\r\ncontent-type: text/plain\r\nx-origin: real\r\n` +
          `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
  });
}

for (const status of [500, 502, 503, 504]) {
  test(`origin answering ${status}: passed through unchanged for passthrough, PRG and A/B stay`, async () => {
    const server = await httpOrigin(status);
    try {
      await withOrigin(server.port, async (worker, k) => {
        for (const kind of ["passthrough", "forward", "abStay"]) {
          const [url, init] = k[kind]();
          const res = await worker.fetch(url, init);
          const body = await answer(res);
          assert.equal(res.status, status, kind);
          assert.equal(res.headers.get("x-origin"), "real", `${kind}: the origin's own answer`);
          assert.equal(body, `origin error ${status}`);
          assert.equal(res.headers.get("location"), null, `${kind}: no redirect on an origin error`);
        }
      });
    } finally {
      await server.close();
    }
  });
}
