# The two commands: `make dev` serves the worker on http://127.0.0.1:8787, `make test` runs
# every test. Both install what is missing first (scripts/setup).
.PHONY: dev test check setup build dry-run fuzz load js playground playground-deploy

dev:
	bash scripts/dev

test:
	bash scripts/test

# The daily habit, nothing to install: cargo fmt --check, clippy, the native tests.
check:
	bash scripts/check

setup:
	bash scripts/setup

build: setup
	bash scripts/build

dry-run: setup
	bash -c 'source scripts/env.sh && npx wrangler deploy --dry-run --outdir dist'

# Each fuzz target (compile, evaluate, cost) for 10 minutes (FUZZ_SECONDS to change), one
# after the other.
fuzz:
	bash scripts/fuzz.sh $${FUZZ_SECONDS:-600}

# 1,000,000 requests at concurrency 64 through the built worker in workerd, on loopback, with
# the worker's memory before and after. REQUESTS=N for a shorter run, RULES=90k for a bundle
# of 90,000 more rules served through the KV binding (100,000 of these generated rules are
# 8.6 MB, over the 8 MiB the worker accepts from KV).
load: build
	bash scripts/load.sh $(if $(REQUESTS),--requests $(REQUESTS)) $(if $(RULES),--rules $(RULES))

# The benchmarks (BENCHMARKS.md): the engine (criterion), the peer engines side by side in Node,
# the workers in workerd, large rule sets. `make bench QUICK=1`: the smaller run; `LARGE=1`: only
# the large rule sets, with bundles of eight shapes at 10k and 1M (plain also at 3M) through KV
# and embedded (about an hour; SHAPES=lang,hot, SIZES=10000,1000000 and MORE=plain-3000000
# to choose).
.PHONY: bench
bench:
	bash scripts/bench.sh $(if $(QUICK),--quick) $(if $(LARGE),--large)

# The wasm library for JavaScript (crates/js-api) into the npm package (npm/redirects) and the
# playground (playground/site).
js: setup
	bash scripts/build-js

# The playground page on http://127.0.0.1:8790 (PORT=... to change): rules, requests, lint and
# the redirect graph, computed in the browser.
playground: js
	node playground/serve.mjs

# The playground as Workers static assets (wrangler asks for a login the first time).
playground-deploy: js
	bash -c 'source scripts/env.sh && npx wrangler deploy --config playground/wrangler.toml'
