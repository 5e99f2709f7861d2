#!/usr/bin/env bash
# Runs each fuzz target for a fixed time (default 600 s each), one after the other.
#
#   bash scripts/fuzz.sh            # all three targets, 10 minutes each
#   bash scripts/fuzz.sh 60 compile # one target, one minute
#   COST_BOUND_US=500 bash scripts/fuzz.sh 60 cost
#
# compile and evaluate look for panics and broken invariants (with AddressSanitizer). cost
# times hostile requests against same-size controls and fails when one costs more than
# COST_BOUND_US (default 5000, in a build instrumented for coverage) microseconds extra; it runs optimised without debug assertions
# or a sanitizer, which would be timed too, and the worst cost it saw is printed at the end.
#
# The committed seeds in fuzz/corpus/<target> are read, never written: what libFuzzer finds
# goes to .state/fuzz/<target>. A finding stops the run, is saved under fuzz/artifacts/<target>
# and makes the script fail. Needs the nightly toolchain and cargo-fuzz (installed into .tools
# when missing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(compile evaluate cost)

rustup toolchain list | grep -q '^nightly' || die "the nightly toolchain is needed: rustup toolchain install nightly"
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz into .tools"
  cargo install --root "$ROOT/.tools" cargo-fuzz
fi

for target in "${targets[@]}"; do
  work="$ROOT/.state/fuzz/$target"
  mkdir -p "$work"
  log "fuzzing $target for ${seconds}s (corpus: fuzz/corpus/$target + $work)"
  build=()
  extra=()
  if [ "$target" = cost ]; then
    build=(--release --sanitizer none)
    # Longer inputs from the start: a bundle and a request need more than libFuzzer's first
    # few bytes to take shape.
    extra=(-max_len=1024 -len_control=0)
  fi
  mkdir -p "fuzz/corpus/$target"
  # -rss_limit_mb: the structured bundles can be large; a leak still shows.
  status=0
  cargo +nightly fuzz run "${build[@]}" "$target" "$work" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 "${extra[@]}" \
    >"$ROOT/.state/fuzz/$target.log" 2>&1 || status=$?
  grep -E 'DONE|panicked|invariant broken|cost over the bound|ERROR|number_of_executed_units' "$ROOT/.state/fuzz/$target.log" || true
  if [ "$target" = cost ]; then
    # The last report: the worst extra cost seen, with the bundle's shape and the request.
    awk '/^cost: worst/ { block = $0; getline a; getline b; block = block "\n" a "\n" b } END { if (block) print block }' \
      "$ROOT/.state/fuzz/$target.log"
  fi
  [ "$status" -eq 0 ] || die "fuzz target $target found a problem: see fuzz/artifacts/$target and .state/fuzz/$target.log"
done
