// Running workerd for the benchmarks: a staged config with the worker's modules and an origin
// worker behind it, started on a free loopback port.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const here = import.meta.dirname;
const workerdBin = path.join(here, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd');

// The Analytics Engine dataset for the analytics rows: a stand-in whose writeDataPoint takes the
// point and drops it (as `wrangler dev`'s local simulator does), so what is measured is what the
// worker itself adds per request: building each point and the call.
const DATASET_STAND_IN = `class Dataset { writeDataPoint(point) { this.last = point; } }
export default function () { return new Dataset(); }
`;

/**
 * The text of a workerd config: service `main` (the worker: its `modules` entries, with
 * `bindings` text after its outbound) in front of service `origin` (origin.mjs), `services`
 * more, listening on `address`; `extensions` text after the sockets.
 */
export function workerdConfig({ modules, date, bindings = '', services = '', address = '127.0.0.1:0', extensions = '' }) {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
        modules = [
          ${modules}
        ],
        compatibilityDate = "${date}",
        globalOutbound = "origin",${bindings}
    )),
    (name = "origin", worker = (
        modules = [ (name = "origin.mjs", esModule = embed "origin.mjs") ],
        compatibilityDate = "${date}",
    )),${services}
  ],
  sockets = [ (name = "http", address = "${address}", http = (), service = "main") ],${extensions}
);
`;
}

/**
 * A directory holding one workerd config with its worker's modules beside it; with
 * `analytics`, the worker gets REDIRECT_ANALYTICS bound to the stand-in dataset.
 */
export function stageIn(dir, modules, { analytics = false } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'dataset.mjs'), DATASET_STAND_IN);
  const bindings = analytics
    ? '\n        bindings = [ (name = "REDIRECT_ANALYTICS", wrapped = (moduleName = "bench:dataset")) ],'
    : '';
  const extensions = analytics
    ? '\n  extensions = [ (modules = [ (name = "bench:dataset", esModule = embed "dataset.mjs", internal = true) ]) ],'
    : '';
  for (const m of [...modules, { name: 'origin.mjs', type: 'esModule', file: path.join(here, 'js-worker/origin.mjs') }]) {
    mkdirSync(path.dirname(path.join(dir, m.name)), { recursive: true });
    copyFileSync(m.file, path.join(dir, m.name));
  }
  const list = modules.map((m) => `(name = "${m.name}", ${m.type} = embed "${m.name}")`).join(',\n          ');
  writeFileSync(
    path.join(dir, 'config.capnp'),
    workerdConfig({ modules: list, date: '2025-01-01', bindings, extensions }),
  );
  return dir;
}

export const portFree = async () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Starts workerd on a free loopback port; resolves once it accepts connections. */
export async function start(dir, { inspectorPort } = {}) {
  const port = await portFree();
  const config = readFileSync(path.join(dir, 'config.capnp'), 'utf8').replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`);
  writeFileSync(path.join(dir, 'config.capnp'), config);
  const t0 = performance.now();
  const serve = ['serve', 'config.capnp', ...(inspectorPort ? [`--inspector-addr=127.0.0.1:${inspectorPort}`] : [])];
  const proc = spawn(workerdBin, serve, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`workerd exited: ${stderr.trim()}`);
    const up = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.end(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (up) break;
    if (performance.now() - t0 > 60000) throw new Error(`workerd did not start: ${stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { proc, port, startMs: performance.now() - t0, stderr: () => stderr };
}

export async function stop(server) {
  server.proc.kill('SIGTERM');
  // SIGKILL when SIGTERM is not enough in 5 s (an isolate busy or hung)
  const hard = setTimeout(() => server.proc.kill('SIGKILL'), 5000);
  await new Promise((r) => (server.proc.exitCode !== null || server.proc.signalCode !== null ? r() : server.proc.once('exit', r)));
  clearTimeout(hard);
}

