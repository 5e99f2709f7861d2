// `npm pack` of the npm package installs offline into an empty folder and runs: the bin
// (`npx redirects ...`) and the library (`import { Rules } from "edge-redirects"`), nothing
// but Node and the packed files. Needs scripts/build-js.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

test("npm pack installs offline into an empty folder and runs", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "redirects-pack-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const quiet = ["--no-audit", "--no-fund", "--loglevel=error"];
  execFileSync(npm, ["pack", "--pack-destination", dir, "--silent"], { cwd: join(root, "npm/redirects") });
  const [tarball] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote a tarball");
  const listing = execFileSync("tar", ["-tzf", join(dir, tarball)], { encoding: "utf8" });
  assert.match(listing, /package\/wasm\/edge_redirects_js_bg\.wasm/);
  assert.match(listing, /package\/wasm\/edge_redirects_js\.d\.ts/);

  const project = join(dir, "project");
  execFileSync("mkdir", [project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "site", private: true, type: "module" }));
  execFileSync(npm, ["install", "--offline", ...quiet, join(dir, tarball)], { cwd: project });

  const npx = (...args) => spawnSync("npx", ["--offline", "--no-install", "redirects", ...args], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const ok = npx("validate", join(root, "rules.json"));
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^ok .*rules\.json: \d+ rules\n$/);

  writeFileSync(join(project, "_redirects"), "/old /new 301\n/blog/* /posts/:splat\n");
  const imported = npx("import", "netlify", "_redirects");
  assert.equal(imported.status, 0, imported.stderr);
  writeFileSync(join(project, "rules.json"), imported.stdout);
  assert.equal(JSON.parse(imported.stdout).rules.length, 2);
  const built = npx("build");
  assert.equal(built.status, 0, built.stderr);
  assert.match(built.stdout, /^built rules\.bin: 2 rules/);
  writeFileSync(join(project, "cases.json"), JSON.stringify([
    { request: "https://example.com/old", expect: { status: 301, location: "/new" } },
  ]));
  const cases = npx("test", "rules.bin", "cases.json");
  assert.equal(cases.status, 0, cases.stdout + cases.stderr);
  const broken = npx("validate", join(root, "tests/cli/validate/errors.json"));
  assert.equal(broken.status, 1);

  // The library, typed for TypeScript, from the same install.
  writeFileSync(join(project, "use.mjs"), `
    import { Rules, importRules, buildArtifact, testCases } from "edge-redirects";
    const rules = new Rules('{"version":1,"rules":[{"id":"a","from":"/a","to":"/b"}]}');
    const e = rules.explain({ url: "https://example.com/a" }, Date.now());
    const imported = importRules("netlify", "/x /y 301\\n/bad /z/:nope\\n");
    const artifact = buildArtifact(imported.rules);
    const cases = '[{"request": "https://example.com/x", "expect": {"status": 301, "location": "/y"}}]';
    const tested = testCases(artifact, cases);
    console.log(JSON.stringify({
      valid: rules.validate().valid,
      location: e.location,
      importCode: imported.code,
      notImported: /not imported/.test(imported.problems),
      artifactBytes: artifact.length > 0,
      passed: tested.report.passed,
    }));
  `);
  const used = JSON.parse(execFileSync(process.execPath, ["use.mjs"], { cwd: project, encoding: "utf8" }));
  assert.deepEqual(used, {
    valid: true,
    location: "https://example.com/b",
    importCode: 1,
    notImported: true,
    artifactBytes: true,
    passed: 1,
  });
});
