// The commands on files held in memory: for a browser, or a program that has the text already.
// No Node APIs here: the playground loads this file as it is.

/** A CliHost whose files are a Map of path → bytes (writes land in the same Map). */
export function memoryHost(files) {
  return {
    readFile(path) {
      if (files.has(path)) return files.get(path);
      throw "No such file or directory (os error 2)";
    },
    readStdin: () => "",
    writeFile(path, bytes) {
      // A copy: `bytes` is a view of the wasm memory, reused after the call.
      files.set(path, bytes.slice());
    },
    nowMillis: () => Date.now(),
  };
}

const encoder = new TextEncoder();

/**
 * `redirects ARGS...` with `inputs` (path → text or bytes) as the only files, given the wasm
 * module's `run`: `{ code, stdout, stderr, files }`, `files` holding what the command wrote.
 */
export function runInMemory(run, args, inputs = {}) {
  const files = new Map(
    Object.entries(inputs).map(([path, content]) => [path, typeof content === "string" ? encoder.encode(content) : content]),
  );
  const outcome = run(args, memoryHost(files), false, false);
  return { code: outcome.code, stdout: outcome.stdout, stderr: outcome.stderr, files };
}

/** File names `redirects import` is given for each format. */
export const IMPORT_NAMES = {
  netlify: "_redirects",
  "cloudflare-csv": "redirects.csv",
  vercel: "vercel.json",
  nextjs: "next-redirects.json",
};
