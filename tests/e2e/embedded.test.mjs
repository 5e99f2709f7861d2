// The bundled rules are an artifact uploaded beside the wasm (build/rules.bin, a Data module
// the entry imports), which the worker reads a page and a part at a time: the wasm does not
// carry the rules, a bundle of many pages and parts answers every rule as written, and a
// damaged part sends only the requests that need it to the origin.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { BUILT_MODULES_RULES, ROOT, cfFor, compatibilityDate } from "./harness.mjs";

const run = promisify(execFile);
const SITE = "https://example.com";
const scratch = mkdtempSync(path.join(os.tmpdir(), "redirects-embedded-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** `redirects build FILE -o OUT` with the checkout's CLI; the artifact's bytes. */
async function built(file, name) {
  const out = path.join(scratch, name);
  await run("cargo", ["run", "--quiet", "--bin", "redirects", "--", "build", file, "-o", out], {
    cwd: ROOT,
    maxBuffer: 1 << 24,
  });
  return readFileSync(out);
}

/** Exact rules /e/<i> -> /t/<i>, then one pattern: many homes, so many pages and parts. */
const N = 3000;
function manyRules() {
  const rules = [];
  for (let i = 0; i < N; i++) rules.push({ id: `e${i}`, from: `/e/${i}`, to: `/t/${i}` });
  rules.push({ id: "pattern", from: "/p/:slug", to: "/pages/:slug" });
  const file = path.join(scratch, "many.json");
  writeFileSync(file, JSON.stringify({ version: 1, rules }));
  return file;
}

/** The built worker (build/) with `artifact` as its rules.bin, in workerd; its log. */
async function serving(name, artifact) {
  const dir = path.join(scratch, name);
  cpSync(path.join(ROOT, "build"), dir, { recursive: true });
  writeFileSync(path.join(dir, "rules.bin"), artifact);
  const worker = { logs: "" };
  worker.mf = new Miniflare({
    modules: true,
    scriptPath: path.join(dir, "worker.js"),
    modulesRoot: dir,
    modulesRules: BUILT_MODULES_RULES,
    compatibilityDate: compatibilityDate(),
    outboundService: () => new Response("origin page", { status: 200 }),
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (c) => (worker.logs += c));
      stderr.on("data", (c) => (worker.logs += c));
    },
  });
  await worker.mf.ready;
  return worker;
}

/** Status and Location of GET `p`. */
async function answer(worker, p) {
  const res = await worker.mf.dispatchFetch(`${SITE}${p}`, { redirect: "manual", cf: cfFor({}) });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get("location") };
}

/** Every fifth rule, from first to last. */
const sampled = Array.from({ length: N / 5 }, (_, k) => 5 * k + (k % 5));

test("the wasm does not carry the bundled rules: rules.bin beside it is rules.json built", async () => {
  const artifact = readFileSync(path.join(ROOT, "build/rules.bin"));
  const wasm = readFileSync(path.join(ROOT, "build/index_bg.wasm"));
  assert.deepEqual(artifact, await built(path.join(ROOT, "rules.json"), "checkout.bin"));
  assert.equal(wasm.indexOf(artifact.subarray(0, 256)), -1, "the artifact's start is not in the wasm");
});

test("a bundle of many pages and parts, uploaded beside the wasm, answers every rule as written", async () => {
  const worker = await serving("many", await built(manyRules(), "many.bin"));
  try {
    for (const i of sampled) {
      assert.deepEqual(await answer(worker, `/e/${i}`), { status: 308, location: `${SITE}/t/${i}` }, `/e/${i}`);
    }
    assert.deepEqual(await answer(worker, "/p/x"), { status: 308, location: `${SITE}/pages/x` });
    assert.deepEqual(await answer(worker, "/e/3000"), { status: 200, location: null });
    // Asked again, from the pieces kept.
    assert.deepEqual(await answer(worker, "/e/0"), { status: 308, location: `${SITE}/t/0` });
    assert.doesNotMatch(worker.logs, /embedded artifact|does not load/);
  } finally {
    await worker.mf.dispose();
  }
});

test("a damaged part of the artifact: its requests go to the origin, every other rule answers", async () => {
  const artifact = Buffer.from(await built(manyRules(), "damaged.bin"));
  // The parts come last: a byte of the last one's rules changed breaks its checksum.
  artifact[artifact.length - 2] ^= 0x20;
  const worker = await serving("damaged", artifact);
  try {
    let redirected = 0;
    let origin = 0;
    for (const i of sampled) {
      const got = await answer(worker, `/e/${i}`);
      if (got.status === 200) origin++;
      else {
        assert.deepEqual(got, { status: 308, location: `${SITE}/t/${i}` }, `/e/${i}`);
        redirected++;
      }
    }
    assert.ok(origin > 0, "some request needed the damaged part");
    assert.ok(redirected >= sampled.length - 100, `${redirected} of ${sampled.length} redirected`);
    assert.match(worker.logs, /part \d+ of the embedded artifact is refused/);
  } finally {
    await worker.mf.dispose();
  }
});
