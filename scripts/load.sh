#!/usr/bin/env bash
# Load on the built worker in workerd, on loopback only, bounded: 1,000,000 requests at
# concurrency 64 over every rule kind of rules.json (with an origin worker behind it), then it
# stops by itself. Fails on any error, timeout or 5xx; prints p50/p99 latency and the memory
# before the load, after warm-up, half-way and at the end: the isolate's wasm memory and JS
# heap (read through workerd's inspector) and workerd's RSS (also in target/load/result.json).
#
#   bash scripts/load.sh                                  # the full run
#   bash scripts/load.sh --requests 100000 --connections 32
#   bash scripts/load.sh --rules 100k                     # rules.json + 100,000 rules, via KV
#   make load REQUESTS=100000 RULES=100k                  # the same through make
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

[ -f build/worker.js ] && [ -f build/index_bg.wasm ] && [ -f build/rules.bin ] || bash scripts/build
peers="$ROOT/benches/peers"
if [ ! -d "$peers/node_modules/autocannon" ]; then
  log "npm ci (benches/peers: autocannon)"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
fi
[ -x node_modules/@cloudflare/workerd-linux-64/bin/workerd ] || die "workerd is missing: run scripts/setup"
[ -f node_modules/ws/package.json ] || node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' \
  || die "no WebSocket client for the inspector (Node 22, or ws from npm ci): run scripts/setup"
node tests/load/run.mjs "$@"
