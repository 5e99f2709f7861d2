#!/usr/bin/env bash
# Runs each fuzz target for a fixed time (default 600 s each), one after the other.
#
#   bash scripts/fuzz.sh            # both targets, 10 minutes each
#   bash scripts/fuzz.sh 60 compile # one target, one minute
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
[ ${#targets[@]} -gt 0 ] || targets=(compile evaluate)

rustup toolchain list | grep -q '^nightly' || die "the nightly toolchain is needed: rustup toolchain install nightly"
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz into .tools"
  cargo install --root "$ROOT/.tools" cargo-fuzz
fi

for target in "${targets[@]}"; do
  work="$ROOT/.state/fuzz/$target"
  mkdir -p "$work"
  log "fuzzing $target for ${seconds}s (corpus: fuzz/corpus/$target + $work)"
  # -rss_limit_mb: the structured bundles can be large; a leak still shows.
  status=0
  cargo +nightly fuzz run "$target" "$work" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 \
    >"$ROOT/.state/fuzz/$target.log" 2>&1 || status=$?
  grep -E 'DONE|panicked|invariant broken|ERROR|number_of_executed_units' "$ROOT/.state/fuzz/$target.log" || true
  [ "$status" -eq 0 ] || die "fuzz target $target found a problem: see fuzz/artifacts/$target and .state/fuzz/$target.log"
done
