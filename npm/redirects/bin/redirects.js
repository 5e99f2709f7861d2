#!/usr/bin/env node
// `redirects` on Node: the native CLI's code compiled to wasm, with this machine's files.
// Output and exit codes are the native CLI's (0 ok, 1 findings, 2 usage or I/O error).
import { readFileSync } from "node:fs";
import { initSync, run } from "../wasm/edge_redirects_js.js";
import { nodeHost } from "../host.js";

// Commands that talk to Cloudflare stay with the native CLI.
const NATIVE_ONLY = new Set(["publish", "rollback", "promote", "stats"]);

const args = process.argv.slice(2);
if (NATIVE_ONLY.has(args[0])) {
  process.stderr.write(
    `redirects: \`${args[0]}\` talks to Cloudflare and is in the native CLI only ` +
      "(cargo install --path crates/cli); the npm CLI validates, explains, lints, tests, " +
      "imports and builds\n",
  );
  process.exitCode = 2;
} else {
  initSync({ module: readFileSync(new URL("../wasm/edge_redirects_js_bg.wasm", import.meta.url)) });
  const noColor = (process.env.NO_COLOR ?? "") !== "";
  let outcome;
  try {
    outcome = run(args, nodeHost, !noColor && !!process.stdout.isTTY, !noColor && !!process.stderr.isTTY);
  } catch (e) {
    // A panic in the wasm (a bug): exit as a panicking native binary does.
    process.stderr.write(`redirects: internal error: ${e?.message ?? e}\n`);
    process.exitCode = 101;
  }
  if (outcome) {
    process.stdout.write(outcome.stdout);
    process.stderr.write(outcome.stderr);
    process.exitCode = outcome.code;
  }
}
