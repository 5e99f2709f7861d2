// The wasm library on Node, ready to use: `Rules` (validate, explain, lint a bundle), `run`
// (any `redirects` command line) and `runCli` (a command line on this machine's files).
import { readFileSync } from "node:fs";
import { initSync, run } from "./wasm/edge_redirects_js.js";
import { nodeHost } from "./host.js";
import { runInMemory, IMPORT_NAMES } from "./memory.js";

initSync({ module: readFileSync(new URL("./wasm/edge_redirects_js_bg.wasm", import.meta.url)) });

export { Rules, run, Engine } from "./wasm/edge_redirects_js.js";
export { nodeHost } from "./host.js";
export { memoryHost } from "./memory.js";

/** `redirects ARGS...` on this machine's files: `{ code, stdout, stderr }`, no colours. */
export function runCli(args) {
  const outcome = run(args, nodeHost, false, false);
  return { code: outcome.code, stdout: outcome.stdout, stderr: outcome.stderr };
}

/** `redirects import FORMAT` on `text`: `{ code, rules, problems }`, rules.json text and stderr. */
export function importRules(format, text) {
  const name = IMPORT_NAMES[format] ?? "input";
  const out = runInMemory(run, ["import", format, name], { [name]: text });
  return { code: out.code, rules: out.stdout, problems: out.stderr };
}

/** `redirects build` of `rulesText`: the artifact's bytes; throws with the errors. */
export function buildArtifact(rulesText) {
  const out = runInMemory(run, ["build", "rules.json", "-o", "rules.bin"], { "rules.json": rulesText });
  if (out.code !== 0) throw new Error(out.stderr);
  return out.files.get("rules.bin");
}

/** `redirects test --json` of `casesText` against `rules` (text or artifact bytes). */
export function testCases(rules, casesText) {
  const out = runInMemory(run, ["test", "--json", "rules.json", "cases.json"], {
    "rules.json": rules,
    "cases.json": casesText,
  });
  if (out.code === 2 || !out.stdout) throw new Error(out.stderr);
  return { code: out.code, report: JSON.parse(out.stdout) };
}
