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

/** A CliHost whose files are a Map of path → bytes (writes land in the same Map). */
export function memoryHost(files: Map<string, Uint8Array>): CliHost;

/** `redirects import FORMAT` on `text`: the rules.json text and what could not be imported. */
export function importRules(
  format: "netlify" | "cloudflare-csv" | "vercel" | "nextjs",
  text: string,
): { code: number; rules: string; problems: string };

/** `redirects build` of a bundle's text: the artifact's bytes; throws with the errors. */
export function buildArtifact(rulesText: string): Uint8Array;

/** `redirects test --json` of a case file against a bundle (text or artifact bytes). */
export function testCases(
  rules: string | Uint8Array,
  casesText: string,
): { code: number; report: { passed: number; failed: number; cases: unknown[] } };
