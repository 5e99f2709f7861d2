// The npm CLI against the native CLI's goldens: every case of tests/cli/golden/cases.json run
// through the npm package's bin on Node (the wasm build of the same commands), with the exit
// code and output the native binary gives (tests/cli_goldens.rs runs the same list natively).
// Needs the wasm library built into npm/redirects/wasm/ (scripts/build-js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "npm/redirects/bin/redirects.js");
const goldens = join(root, "tests/cli/golden");
const manifest = JSON.parse(readFileSync(join(goldens, "cases.json"), "utf8"));

/** `redirects ARGS` through the npm bin, from the repository root, without colours. */
function npmRedirects(args, options = {}) {
  const out = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** A stream against its expectation: a golden file (JSON compared as values), "" for empty. */
function checkStream(expected, actual, what) {
  if (expected === undefined) return;
  if (expected === "") {
    assert.equal(actual, "", `${what} must be empty`);
    return;
  }
  const golden = readFileSync(join(goldens, expected), "utf8");
  if (expected.endsWith(".json")) {
    assert.deepEqual(JSON.parse(actual), JSON.parse(golden), `${what} differs from ${expected}`);
  } else {
    assert.equal(actual, golden, `${what} differs from ${expected}`);
  }
}

test("the case list is the native runner's", () => {
  assert.ok(manifest.cases.length > 20, "tests/cli/golden/cases.json lost its cases");
});

for (const c of manifest.cases) {
  test(`npm bin: ${c.name}`, () => {
    const got = npmRedirects(c.args);
    assert.equal(got.code, c.code, `exit code of redirects ${c.args.join(" ")}\n${got.stderr}`);
    checkStream(c.stdout, got.stdout, "stdout");
    checkStream(c.stderr, got.stderr, "stderr");
  });
}

test("npm bin: build writes the native CLI's artifact, byte for byte", (t) => {
  const native = resolve(root, process.env.CARGO_TARGET_DIR ?? "target", "debug/redirects");
  const dir = mkdtempSync(join(tmpdir(), "redirects-build-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ours = npmRedirects(["build", "tests/cli/explain/bundle.json", "-o", join(dir, "npm.bin")]);
  assert.equal(ours.code, 0, ours.stderr);
  assert.match(ours.stdout, /^built .*npm\.bin: 6 rules, \d+ parts, \d+ bytes, id [0-9a-f]{16} \(\d+\.\d\d s\)\n$/);
  const theirs = spawnSync(native, ["build", "tests/cli/explain/bundle.json", "-o", join(dir, "native.bin")], {
    cwd: root,
  });
  if (theirs.error) {
    t.diagnostic(`native binary not built (${native}): compared with the test command instead`);
  } else {
    assert.equal(theirs.status, 0, String(theirs.stderr));
    assert.deepEqual(readFileSync(join(dir, "npm.bin")), readFileSync(join(dir, "native.bin")));
  }
  // The artifact it wrote is one the commands load: the cases pass against it.
  const cases = npmRedirects(["test", join(dir, "npm.bin"), "tests/cli/cases/pass.json"]);
  assert.equal(cases.code, 0, cases.stdout + cases.stderr);
  assert.match(cases.stdout, /5 passed, 0 failed\n$/);
});

test("npm bin: stdin is read for -", () => {
  const input = readFileSync(join(root, "tests/cli/import/_redirects"));
  const got = npmRedirects(["import", "netlify", "-"], { input });
  assert.equal(got.code, 1);
  checkStream("import-netlify.json", got.stdout, "stdout");
});

test("npm bin: commands that talk to Cloudflare point to the native CLI", () => {
  const got = npmRedirects(["publish", "rules.json"]);
  assert.equal(got.code, 2);
  assert.match(got.stderr, /native CLI/);
});
