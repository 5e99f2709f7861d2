// The wasm library on Node, ready to use: `Rules` (validate, explain, lint a bundle), `run`
// (any `redirects` command line) and `runCli` (a command line on this machine's files).
import { readFileSync } from "node:fs";
import { initSync, run } from "./wasm/edge_redirects_js.js";
import { nodeHost } from "./host.js";

initSync({ module: readFileSync(new URL("./wasm/edge_redirects_js_bg.wasm", import.meta.url)) });

export { Rules, run, Engine } from "./wasm/edge_redirects_js.js";
export { nodeHost } from "./host.js";

/** `redirects ARGS...` on this machine's files: `{ code, stdout, stderr }`, no colours. */
export function runCli(args) {
  const outcome = run(args, nodeHost, false, false);
  return { code: outcome.code, stdout: outcome.stdout, stderr: outcome.stderr };
}
