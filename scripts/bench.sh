#!/usr/bin/env bash
# The benchmarks in one command; installs what they need, then prints every table.
#
#   bash scripts/bench.sh           # full: 1k/10k/100k rules, criterion, peers, workerd (~9 min)
#   bash scripts/bench.sh --quick   # 1k/10k in Node, summary-only criterion, workerd at 10k
#   bash scripts/bench.sh --large   # only the large rule sets (section 4)
#   SHAPES=lang,hot SIZES=10000,100000 bash scripts/bench.sh --large   # fewer shapes, other sizes
#
# 1. the engine alone, natively (criterion, benches/engine.rs): compile and evaluate at
#    1k/10k/100k mixed rules, p50/p99 per request;
# 2. the engine compiled to wasm (crates/js-api) against the peers in one Node process
#    each (benches/peers/run.mjs): Netlify's engine, a path-to-regexp scan, a JS Map;
#    redirection.io's router natively against ours (benches/peers/native);
# 3. the whole worker in workerd (benches/peers/workerd.mjs): our worker and the equivalent JS
#    worker under the same load, and cold start;
# 4. large rule sets (benches/peers/large.mjs): the realistic migration at 10 to 100k rules
#    built into the embedded artifact, first request and memory of a fresh isolate; and at 10k
#    and 1M rules published through KV (benches/peers/large-kv.mjs); bundles of several shapes
#    (benches/peers/shapes.mjs: plain, lang, date, hot, multihost, mixed, regex, query; SHAPES=...) at 10k and
#    1M rules (SIZES=..., the first the base of the ratios; plain also at 3M, MORE=...) through KV, every answer checked
#    against the engine compiled from the JSON (benches/peers/native/oracle), and embedded at
#    10k and at the largest size whose upload fits the 64 MiB script limit
#    (benches/peers/large-shapes.mjs, then large.mjs --sets; with --large only);
# 5. the size of the worker's wasm beside the wasm library for JavaScript (scripts/build-js).
# Results: target/bench/{peers,native,workerd,large,large-kv,large-shapes,large-embedded-shapes}.md
# (+ .json); BENCHMARKS.md holds a reading of them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# Announces a stage with the seconds spent so far.
stage() { log "$* (at $(( $(date +%s) - started )) s)"; }

quick=false
large_only=false
for arg in "$@"; do
  case "$arg" in
    --quick) quick=true ;;
    --large) large_only=true ;;
    *) die "unknown option: $arg (use --quick, --large or nothing)" ;;
  esac
done
out="$ROOT/target/bench"
mkdir -p "$out"
started=$(date +%s)

# --- what the benchmarks need ----------------------------------------------------------------
bash "$ROOT/scripts/setup"
peers="$ROOT/benches/peers"
if [ ! -f "$peers/node_modules/.package-lock.json" ] || [ "$peers/package-lock.json" -nt "$peers/node_modules/.package-lock.json" ]; then
  log "npm ci (benches/peers: the peer engines, workerd, autocannon)"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Compiles the engine alone to wasm for Node into $1/pkg (extra env: cargo profile overrides).
build_js_api() {
  local dir="$1"
  local target=wasm32-unknown-unknown
  case "$(wasm_toolchain)" in
    rustup) CARGO_TARGET_DIR="$dir" cargo build --quiet --release -p edge-redirects-js --target $target ;;
    debian)
      RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$(command -v wasm-ld)" \
        CARGO_TARGET_DIR="$dir" /usr/bin/cargo build --quiet --release -p edge-redirects-js \
        --target $target -Zbuild-std=std,panic_abort ;;
    *) die "no Rust toolchain for wasm32: run scripts/setup" ;;
  esac
  rm -rf "$dir/pkg"
  "$ROOT/.tools/bin/wasm-bindgen" "$dir/$target/release/edge_redirects_js.wasm" --out-dir "$dir/pkg" \
    --target experimental-nodejs-module --no-typescript
  echo '{ "type": "module" }' > "$dir/pkg/package.json"
}

# (sections 1-3 only: --large never loads it)
if ! $large_only; then
  stage "engine-only wasm for Node (release profile, as the worker ships)"
  build_js_api "$ROOT/target/js-api"
fi

# Our worker with an n-rule bundle embedded: the checkout's build/ (scripts/build, once) with
# the bundle's artifact as its rules.bin, built by the release CLI. The wasm does not change
# with the rules (they are a module of their own beside it), so no worker is compiled again; a
# generated bundle was validated by `redirects build` already, and none is linted here.
checkout_built=false
build_worker() {
  local n="$1" dest="$out/worker-$n"
  local rules="$out/rules/${2:-mixed}-$n/rules.json"
  [ -z "${2:-}" ] || dest="$out/worker-$2-$n"
  if ! $checkout_built; then
    log "the worker (scripts/build; build log: $out/build-checkout.log)"
    bash "$ROOT/scripts/build" > "$out/build-checkout.log" 2>&1 \
      || { tail -20 "$out/build-checkout.log" >&2; die "building the worker failed"; }
    cargo build --quiet --release -p edge-redirects-cli
    checkout_built=true
  fi
  log "worker with $n rules embedded (${2:-mixed}; log: $dest.log)"
  rm -rf "$dest"
  cp -r "$ROOT/build" "$dest"
  "$ROOT/target/release/redirects" build "$rules" -o "$dest/rules.bin" --max-rules 16777216 > "$dest.log" 2>&1 \
    || { tail -20 "$dest.log" >&2; die "building the artifact of $rules failed"; }
  (cd "$dest" && node -e '
    const fs = require("fs"), path = require("path");
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
    const files = walk(".").filter((f) => /\.(m?js|wasm|bin)$/.test(f)).sort((a, b) =>
      (b === "worker.js") - (a === "worker.js"));
    const type = (name) => (name.endsWith(".wasm") ? "wasm" : name.endsWith(".bin") ? "data" : "esModule");
    fs.writeFileSync("modules.json", JSON.stringify(files.map((name) => ({ name, type: type(name) }))));')
}

if ! $large_only; then
# --- 1. criterion ----------------------------------------------------------------------------
stage "cargo bench --bench engine"
if $quick; then
  BENCH_QUICK=1 cargo bench --quiet --bench engine 2>&1 | grep -v '^warning: `panic` setting'
else
  cargo bench --quiet --bench engine 2>&1 | grep -v '^warning: `panic` setting'
fi

# --- 2. the engines side by side in Node -----------------------------------------------------
stage "peer engines in Node $(node --version)"
if $quick; then node "$peers/run.mjs" --quick --out "$out"; else node "$peers/run.mjs" --out "$out"; fi

# --- 2b. redirection.io: its Rust crate against ours, natively ------------------------------
# (its npm package is a client of its hosted service: no local router to load rules into)
stage "redirection.io's router (crate redirectionio) against ours, natively"
CARGO_TARGET_DIR="$out/native-target" cargo build --quiet --release --manifest-path "$peers/native/Cargo.toml"
if $quick; then native_sets=(exact-1000 exact-10000 mixed-1000 mixed-10000); budget=500
else native_sets=(exact-1000 exact-10000 exact-100000 mixed-1000 mixed-10000 mixed-100000); budget=2000; fi
"$out/native-target/release/peer-bench-native" "${native_sets[@]/#/$out/rules/}" --budget-ms "$budget" | tee "$out/native.md"

# --- 3. the whole worker in workerd ----------------------------------------------------------
if $quick; then sizes=(10000); else sizes=(1000 10000 100000); fi
for n in "${sizes[@]}"; do
  [ -f "$out/rules/mixed-$n/rules.json" ] || node -e "
    import('$peers/ruleset.mjs').then((m) => {
      const fs = require('fs');
      fs.mkdirSync('$out/rules/mixed-$n', { recursive: true });
      fs.writeFileSync('$out/rules/mixed-$n/rules.json', m.toOurBundle(m.generateRules($n, 'mixed')));
    })"
  build_worker "$n"
done
stage "workers in workerd"
if $quick; then node "$peers/workerd.mjs" --quick --out "$out"; else node "$peers/workerd.mjs" --out "$out"; fi

fi

# --- 4. large rule sets: the realistic migration, built into the embedded artifact ------------
cargo build --quiet --release -p edge-redirects-cli
# peak memory of one command, when GNU time is there (Debian package `time`)
measured() { if [ -x /usr/bin/time ]; then /usr/bin/time -f "  peak memory %M KB" "$@"; else "$@"; fi; }
real_sizes=(10 1000 10000 100000)
for n in "${real_sizes[@]}" 1000000; do
  dir="$out/rules/real-$n"
  [ -f "$dir/requests.json" ] || node "$peers/realistic.mjs" "$n" "$dir"
  stage "redirects build: $n realistic rules"
  measured "$ROOT/target/release/redirects" build "$dir/rules.json" -o "$dir/rules.bin" | tee "$out/build-$n.txt"
done
for n in "${real_sizes[@]}"; do build_worker "$n" real; done
stage "large rule sets in workerd"
node "$peers/large.mjs" --sizes "$(IFS=,; echo "${real_sizes[*]}")" --out "$out" $($quick && echo --repeats 1 --requests 500)
stage "large rule sets through KV (redirects publish into wrangler's local storage, Miniflare)"
bash "$ROOT/scripts/build" > "$out/build-checkout.log" 2>&1 || { tail -20 "$out/build-checkout.log" >&2; die "building the worker failed"; }
node "$peers/large-kv.mjs" --sizes 10000,1000000 --out "$out" $($quick && echo --requests 2000)

# --- 4b. bundles of several shapes: through KV, then embedded (--large only: about 45 min) -----
if $large_only; then
shapes="${SHAPES:-plain,lang,date,hot,multihost,mixed,regex,query}"
if $quick; then shape_sizes="${SIZES:-10000,100000}"; else shape_sizes="${SIZES:-10000,1000000}"; fi
stage "the JSON engine natively, for the answers to compare with (benches/peers/native/oracle)"
CARGO_TARGET_DIR="$out/native-target" cargo build --quiet --release --manifest-path "$peers/native/oracle/Cargo.toml"
stage "bundles of several shapes ($shapes) at $shape_sizes rules through KV"
# and plain once more at three million (ten million would take about 20 minutes of local publish
# alone; MORE= for none, MORE=plain-10000000 to try)
if $quick; then more="${MORE-}"; else more="${MORE-plain-3000000}"; fi
node "$peers/large-shapes.mjs" --shapes "$shapes" --sizes "$shape_sizes" ${more:+--more "$more"} --out "$out" $($quick && echo --requests 500 --fresh 1)
# Embedded: each shape at the first size and at the largest whose upload (the worker's wasm
# without rules, the artifact, 1 MiB to spare) fits the 64 MiB script limit, from the bytes a
# rule took in the largest artifact measured above.
IFS=, read -ra shape_list <<< "$shapes"
fit_sets=()
budget=$(( 64 * 1048576 - $(stat -c %s "$ROOT/build/index_bg.wasm") - 1048576 ))
IFS=, read -ra fit_sets <<< "$(node "$peers/large-shapes.mjs" --fit "$budget" --shapes "$shapes" --out "$out")"
embedded_sets=()
for shape in "${shape_list[@]}"; do
  embedded_sets+=("$shape-${shape_sizes%%,*}")
  for set in "${fit_sets[@]}"; do [ "${set%-*}" != "$shape" ] || [ "$set" = "$shape-${shape_sizes%%,*}" ] || embedded_sets+=("$set"); done
done
stage "embedded shapes: ${embedded_sets[*]}"
for set in "${embedded_sets[@]}"; do
  node "$peers/large-shapes.mjs" --prepare --shapes "${set%-*}" --sizes "${set##*-}" --out "$out"
  build_worker "${set##*-}" "${set%-*}" generated
done
node "$peers/large.mjs" --sets "$(IFS=,; echo "${embedded_sets[*]}")" --out "$out" $($quick && echo --repeats 1 --requests 500)
fi

# --- 5. sizes: the worker's wasm beside the wasm library for JavaScript ------------------------
stage "wasm sizes: the worker and the library for JavaScript (scripts/build-js)"
bash "$ROOT/scripts/build-js" > "$out/build-js.log" 2>&1 || { tail -20 "$out/build-js.log" >&2; die "building the wasm library failed"; }
size_row() { printf '%-58s %10s %10s\n' "$1" "$(du -b "$2" | cut -f1)" "$(gzip -9 -c "$2" | wc -c)"; }
{
  printf '%-58s %10s %10s\n' "wasm" "bytes" "gzip -9"
  size_row "worker (build/index_bg.wasm; rules.json apart, build/rules.bin)" "$ROOT/build/index_bg.wasm"
  size_row "library for JS (npm/redirects/wasm, the playground's)" "$ROOT/npm/redirects/wasm/edge_redirects_js_bg.wasm"
} | tee "$out/sizes.txt"

if $large_only; then
  log "done in $(( $(date +%s) - started )) s; tables in $out/large.md, large-kv.md, large-shapes.md and large-embedded-shapes.md, sizes in $out/sizes.txt"
else
  log "done in $(( $(date +%s) - started )) s; tables in $out/peers.md and $out/workerd.md (large rule sets: $out/large*.md), sizes in $out/sizes.txt"
fi
