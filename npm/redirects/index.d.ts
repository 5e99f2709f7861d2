export { Rules, run, Engine } from "./wasm/edge_redirects_js.js";
export type {
  CliHost,
  CompileError,
  ValidateReport,
  ExplainRequest,
  Explanation,
  TraceStep,
  LintFinding,
  LintReport,
  Outcome,
} from "./wasm/edge_redirects_js.js";
import type { CliHost } from "./wasm/edge_redirects_js.js";

/** Node's files, stdin and clock, failing with the native CLI's texts. */
export const nodeHost: CliHost;

/** `redirects ARGS...` on this machine's files, without colours. */
export function runCli(args: string[]): { code: number; stdout: string; stderr: string };
