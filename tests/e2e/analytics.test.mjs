// Hit analytics and A/B variants the origin can see, in workerd. The Analytics Engine dataset
// (REDIRECT_ANALYTICS) is replaced by a recording stand-in: a wrapped binding whose
// writeDataPoint hands every point to the test (a Node function behind the CONTROL service), or
// throws. Each test runs the same requests and checks the points written, the answers, and what
// the origin received.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { builtWorker, cfFor } from "./harness.mjs";

const SITE = "https://example.com";

const BUNDLE = JSON.stringify({
  version: 1,
  rules: [
    { id: "blog", from: "/blog/:slug", to: "/posts/:slug" },
    { id: "contact-prg", from: "/contact", methods: ["POST"], forward: true, to: "/thanks" },
    {
      id: "pricing-ab",
      from: "/pricing",
      split: {
        cookie: "ab_pricing",
        variants: [
          { name: "control", weight: 1, to: null },
          { name: "new", weight: 1, to: "/pricing-v2" },
        ],
      },
    },
    // Every fresh visitor stays (weight 0 for the other variant): the first request's case.
    {
      id: "home-ab",
      from: "/home",
      split: {
        variants: [
          { name: "stay", weight: 1, to: null },
          { name: "away", weight: 0, to: "/elsewhere" },
        ],
      },
    },
  ],
});

// The stand-in dataset. MODE "record" posts each point to CONTROL; "throw" throws.
const STAND_IN = `
class Dataset {
  constructor(env) { this.env = env; }
  writeDataPoint(point) {
    if (this.env.MODE === "throw") throw new Error("Analytics Engine unavailable");
    this.env.CONTROL.fetch("http://points/", { method: "POST", body: JSON.stringify(point) });
  }
}
export default function (env) { return new Dataset(env); }
`;

/** The origin: 404 for /missing, else 200; records what reached it. */
function origin(seen) {
  return async (request) => {
    const url = new URL(request.url);
    const body = request.method === "POST" ? await request.text() : null;
    seen.push({ path: url.pathname, headers: Object.fromEntries(request.headers), body });
    if (url.pathname === "/missing") return new Response("not here", { status: 404 });
    if (url.pathname === "/contact") return new Response("sent", { status: 200 });
    return new Response("page", { status: 200, headers: { "cache-control": "public, max-age=60" } });
  };
}

/**
 * The worker with `binding`: "record", "throw", "none" (not bound), or "other" (the recorder
 * bound under another name, so a write to the documented name would be missed).
 */
async function start(binding) {
  const points = [];
  const seen = [];
  const redirects = {
    name: "redirects",
    ...builtWorker(),
    kvNamespaces: ["REDIRECT_RULES"],
    outboundService: origin(seen),
  };
  const name = binding === "other" ? "OTHER_DATASET" : "REDIRECT_ANALYTICS";
  if (binding !== "none") {
    redirects.wrappedBindings = {
      [name]: { scriptName: "dataset", bindings: { MODE: binding === "throw" ? "throw" : "record" } },
    };
  }
  const mf = new Miniflare({
    workers: [
      redirects,
      {
        name: "dataset",
        modules: true,
        script: STAND_IN,
        serviceBindings: {
          async CONTROL(request) {
            points.push(await request.json());
            return new Response(null, { status: 204 });
          },
        },
      },
    ],
  });
  await mf.ready;
  await (await mf.getKVNamespace("REDIRECT_RULES", "redirects")).put("rules.json", BUNDLE);
  return {
    points,
    seen,
    fetch: (url, init = {}) => mf.dispatchFetch(url, { redirect: "manual", ...init, cf: cfFor(init.cf) }),
    close: () => mf.dispose(),
  };
}

/** Waits until `points` holds at least `n` points (they arrive after the answers), at most 5 s. */
async function settle(points, n) {
  for (let waited = 0; points.length < n && waited < 5000; waited += 20) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100)); // and nothing more arrives
}

/** The requests every test sends, with what each is meant to show. */
const REQUESTS = [
  ["redirect", `${SITE}/blog/hello?x=1`, { cf: { country: "DE" } }],
  ["forward", `${SITE}/contact`, { method: "POST", body: "a=1", cf: { country: "FR" } }],
  ["split redirect", `${SITE}/pricing`, { headers: { cookie: "ab_pricing=new" } }],
  ["split stays", `${SITE}/pricing`, { headers: { cookie: "ab_pricing=control" } }],
  ["origin 404", `${SITE}/missing?q=secret`, { headers: { referer: "https://news.example/item?id=1" } }],
  ["origin 200", `${SITE}/about`, {}],
];

/** Sends REQUESTS; returns each answer as data. */
async function sendAll(worker) {
  const answers = [];
  for (const [label, url, init] of REQUESTS) {
    const res = await worker.fetch(url, init);
    answers.push({
      label,
      status: res.status,
      location: res.headers.get("location"),
      cacheControl: res.headers.get("cache-control"),
      setCookie: res.headers.get("set-cookie"),
      body: await res.text(),
    });
  }
  return answers;
}

const point = (blobs, status, index) => ({ blobs, doubles: [status], indexes: [index] });

test("one data point per decided request and per origin 404, in the documented layout", async () => {
  const worker = await start("record");
  try {
    await sendAll(worker);
    await settle(worker.points, 5);
    const byFirstBlob = (a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    assert.deepEqual(
      [...worker.points].sort(byFirstBlob),
      [
        point(["rule", "blog", "redirect", "", "DE", "example.com"], 308, "blog"),
        point(["rule", "contact-prg", "forward", "", "FR", "example.com"], 303, "contact-prg"),
        point(["rule", "pricing-ab", "redirect", "new", "", "example.com"], 307, "pricing-ab"),
        point(["rule", "pricing-ab", "origin", "control", "", "example.com"], 200, "pricing-ab"),
        point(["404", "/missing", "news.example", "", "", "example.com"], 404, "example.com"),
      ].sort(byFirstBlob),
    );
  } finally {
    await worker.close();
  }
});

test("nothing is written without the binding", async () => {
  const worker = await start("other");
  try {
    const answers = await sendAll(worker);
    assert.equal(answers.length, REQUESTS.length);
    await new Promise((r) => setTimeout(r, 300)); // as long as the points above took at most
    assert.deepEqual(worker.points, []);
  } finally {
    await worker.close();
  }
});

test("a throwing binding leaves every answer as it is without the binding", async () => {
  const without = await start("none");
  const throwing = await start("throw");
  try {
    const expected = await sendAll(without);
    const got = await sendAll(throwing);
    assert.deepEqual(got, expected);
    assert.deepEqual(
      got.map((a) => a.status),
      [308, 303, 307, 200, 404, 200],
    );
  } finally {
    await without.close();
    await throwing.close();
  }
});

test("the origin sees the A/B variant on a visitor's first request and on later ones", async () => {
  const worker = await start("record");
  try {
    // First request: no cookie yet; the visitor is assigned "stay" and the origin sees it.
    const first = await worker.fetch(`${SITE}/home`, {
      headers: { cookie: "session=abc", "x-redirect-variant": "home-ab=forged" },
    });
    assert.equal(first.status, 200);
    assert.match(first.headers.get("set-cookie"), /^ab_home-ab=stay;/);
    const cacheControl = first.headers.get("cache-control");
    assert.ok(cacheControl.startsWith("private"), `per-visitor page stays private: ${cacheControl}`);
    let seen = worker.seen.at(-1);
    assert.equal(seen.path, "/home");
    assert.equal(seen.headers.cookie, "session=abc; ab_home-ab=stay");
    assert.equal(seen.headers["x-redirect-variant"], "home-ab=stay");

    // A stale assignment cookie is replaced, not sent twice.
    await worker.fetch(`${SITE}/home`, { headers: { cookie: "ab_home-ab=gone; theme=dark" } });
    seen = worker.seen.at(-1);
    assert.equal(seen.headers.cookie, "theme=dark; ab_home-ab=stay");

    // Later request: the browser sends the cookie; no new cookie, the origin still sees both.
    const later = await worker.fetch(`${SITE}/home`, { headers: { cookie: "ab_home-ab=stay" } });
    assert.equal(later.headers.get("set-cookie"), null);
    seen = worker.seen.at(-1);
    assert.equal(seen.headers.cookie, "ab_home-ab=stay");
    assert.equal(seen.headers["x-redirect-variant"], "home-ab=stay");

    // Sticky on the other split too.
    await worker.fetch(`${SITE}/pricing`, { headers: { cookie: "ab_pricing=control" } });
    assert.equal(worker.seen.at(-1).headers["x-redirect-variant"], "pricing-ab=control");

    // A request no split decided never carries a variant header to the origin, forged or not.
    await worker.fetch(`${SITE}/about`, { headers: { "x-redirect-variant": "pricing-ab=new" } });
    seen = worker.seen.at(-1);
    assert.equal(seen.path, "/about");
    assert.equal(seen.headers["x-redirect-variant"], undefined);
    await worker.fetch(`${SITE}/contact`, {
      method: "POST",
      body: "a=1",
      headers: { "x-redirect-variant": "pricing-ab=new" },
    });
    seen = worker.seen.at(-1);
    assert.equal(seen.headers["x-redirect-variant"], undefined);
    assert.equal(seen.body, "a=1", "the forwarded POST keeps its body");
  } finally {
    await worker.close();
  }
});

test("a duplicated assignment cookie reaches the origin once, with the value decided; an underscored variant header never", async () => {
  const worker = await start("none");
  try {
    // The first copy decides (a known variant: sticky); an origin reading the last copy would
    // see "evil", so every copy is replaced by the one decided.
    await worker.fetch(`${SITE}/home`, {
      headers: { cookie: "ab_home-ab=stay; theme=dark; ab_home-ab=evil", X_Redirect_Variant: "home-ab=forged" },
    });
    let seen = worker.seen.at(-1);
    assert.equal(seen.path, "/home");
    assert.equal(seen.headers.cookie, "theme=dark; ab_home-ab=stay");
    assert.equal(seen.headers["x-redirect-variant"], "home-ab=stay");
    assert.equal(seen.headers["x_redirect_variant"], undefined, "CGI origins fold it into X-Redirect-Variant");

    // On a request no split decided, the underscored spelling is removed like the dashed one.
    await worker.fetch(`${SITE}/about`, { headers: { X_Redirect_Variant: "pricing-ab=new" } });
    seen = worker.seen.at(-1);
    assert.equal(seen.path, "/about");
    assert.equal(seen.headers["x_redirect_variant"], undefined);
  } finally {
    await worker.close();
  }
});
