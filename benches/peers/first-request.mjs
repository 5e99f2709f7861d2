// The first request of a fresh workerd isolate (the wasm compiled and instantiated, the
// embedded bundle opened), for one or more builds of the worker: what the upload budget
// guards. Each build is started afresh `--runs` times; the median is printed.
//
//   node benches/peers/first-request.mjs [--runs 9] [BUILD_DIR ...]   (default: build/)
import { Miniflare } from "miniflare";
import { statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import path from "node:path";
import { BUILT_MODULES_RULES, ROOT, compatibilityDate } from "../../tests/e2e/harness.mjs";

const args = process.argv.slice(2);
let runs = 9;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--runs") runs = Number(args[++i]);
  else dirs.push(path.resolve(args[i]));
}
if (dirs.length === 0) dirs.push(path.join(ROOT, "build"));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log("| build | wasm KiB | wasm gzip KiB | first request ms (median of " + runs + ") | min | max |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const dir of dirs) {
  const wasm = path.join(dir, "index_bg.wasm");
  const bytes = statSync(wasm).size;
  const gzip = gzipSync(readFileSync(wasm)).length;
  const times = [];
  for (let i = 0; i < runs; i++) {
    const mf = new Miniflare({
      modules: true,
      scriptPath: path.join(dir, "worker.js"),
      modulesRoot: dir,
      modulesRules: BUILT_MODULES_RULES,
      compatibilityDate: compatibilityDate(),
      cf: {},
      outboundService: async () => new Response("origin"),
    });
    const url = await mf.ready;
    const start = performance.now();
    const res = await fetch(new URL("/blog/hello", url), { redirect: "manual" });
    await res.arrayBuffer();
    times.push(performance.now() - start);
    await mf.dispose();
  }
  console.log(
    `| ${path.relative(process.cwd(), dir) || "."} | ${(bytes / 1024).toFixed(1)} | ${(gzip / 1024).toFixed(1)} | ${median(times).toFixed(1)} | ${Math.min(...times).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`,
  );
}
