//! Engine benchmarks: `compile` and per-request `evaluate` at 1k, 10k and 100k generated rules
//! (mixed exact, param, splat and conditional), over a request mix of hits and misses.
//!
//! `cargo bench --bench engine` first prints a plain summary (per-request p50/p99 from timed
//! batches, compile time, and the targets checked), then runs criterion's own measurements.
//! `BENCH_QUICK=1` prints the summary only, with shorter budgets. A filter skips the summary:
//! `cargo bench --bench engine -- launch` runs the `ip` range and time-window groups only.
//!
//! The rule scheme is the one `benches/peers/ruleset.mjs` generates for the peer comparison.
//! Group `path_to_regexp` puts 1,000 path-to-regexp sources (`"from_syntax": "path-to-regexp"`,
//! the shapes Vercel files write) beside the 1,000 mixed rules; the summary prints its figures.

// A counting global allocator needs `unsafe impl GlobalAlloc`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use edge_redirects::{Decision, Engine, Geo, Request};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// The system allocator, counting the bytes in use while `COUNTING` is on: memory after
/// compile is measured, not estimated (natively, so with 64-bit pointers; the wasm build's
/// figures are in the peer benchmark).
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to `System` unchanged; only counters are updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            let now = IN_USE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        // SAFETY: the caller's contract for `alloc` holds for `System` too.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Relaxed) {
            IN_USE.fetch_sub(layout.size(), Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes held by the compiled engine after compiling `text`, and the most held during it.
fn compile_memory(text: &str) -> (usize, usize) {
    IN_USE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let engine = Engine::compile(text).expect("the generated bundle compiles");
    let held = IN_USE.load(Relaxed);
    COUNTING.store(false, Relaxed);
    drop(black_box(engine));
    (held, PEAK.load(Relaxed))
}
const REQUESTS: usize = 10_000;

/// splitmix64: a deterministic generator, so every run sees the same requests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Exact,
    Param,
    Splat,
    Query,
    Country,
}

fn kind_of(i: usize) -> Kind {
    match i % 40 {
        0..=27 => Kind::Exact,
        28..=33 => Kind::Param,
        34..=37 => Kind::Splat,
        38 => Kind::Query,
        _ => Kind::Country,
    }
}

/// The `rules.json` bundle of `n` mixed rules: exact 70 %, param 15 %, splat 10 %, query and
/// country conditions 2.5 % each.
fn bundle(n: usize) -> String {
    let mut rules = Vec::with_capacity(n);
    for i in 0..n {
        rules.push(match kind_of(i) {
            Kind::Exact => format!(
                r#"{{"id":"r{i}","from":"/legacy/c{}/item-{i}.html","to":"/items/{i}","status":301}}"#,
                i % 50
            ),
            Kind::Param => {
                format!(r#"{{"id":"r{i}","from":"/blog/{i}/:slug","to":"/posts/{i}/:slug","status":301}}"#)
            }
            Kind::Splat => format!(
                r#"{{"id":"r{i}","from":"/docs/v{i}/*","to":"/documentation/v{i}/:splat","status":301}}"#
            ),
            Kind::Query => format!(
                r#"{{"id":"r{i}","from":"/promo/{i}","to":"/offers/{i}/:c","status":301,"when":{{"query":{{"campaign":":c"}}}}}}"#
            ),
            Kind::Country => format!(
                r#"{{"id":"r{i}","from":"/store/{i}","to":"/de/store/{i}","status":301,"when":{{"country":["DE","AT"]}}}}"#
            ),
        });
    }
    format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","))
}

/// One request of the mix, owned; `hit` says whether a correct engine redirects it.
struct Sample {
    kind: &'static str,
    url: String,
    country: Option<&'static str>,
    hit: bool,
}

impl Sample {
    fn request(&self) -> Request<'_> {
        Request {
            method: "GET",
            url: &self.url,
            headers: &[],
            geo: Geo {
                country: self.country,
                ..Geo::default()
            },
            random: 0,
            ip: None,
            now: None,
        }
    }
}

/// 80 % hits spread over every kind of rule (some with a query string to carry over), 20 %
/// misses: near misses on indexed prefixes and unrelated paths.
fn requests(n: usize, count: usize) -> Vec<Sample> {
    let mut rng = Rng(42);
    let base = "https://example.com";
    let of_kind = |kind: Kind, rng: &mut Rng| loop {
        let i = rng.below(n);
        if kind_of(i) == kind {
            return i;
        }
    };
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let x = rng.unit();
        if x < 0.2 {
            let j = n + rng.below(n);
            let (kind, url) = match rng.below(4) {
                0 => (
                    "miss: exact-like",
                    format!("{base}/legacy/c{}/item-{j}.html", j % 50),
                ),
                1 => ("miss: unrelated", format!("{base}/about/team/page-{j}")),
                2 => ("miss: param-like", format!("{base}/blog/{j}/a-post?x=1")),
                _ => ("miss: root", format!("{base}/")),
            };
            out.push(Sample {
                kind,
                url,
                country: None,
                hit: false,
            });
            continue;
        }
        let roll = rng.unit();
        let sample = if roll < 0.6 {
            let i = of_kind(Kind::Exact, &mut rng);
            let q = if rng.unit() < 0.25 {
                "?utm_source=news"
            } else {
                ""
            };
            Sample {
                kind: "exact",
                url: format!("{base}/legacy/c{}/item-{i}.html{q}", i % 50),
                country: None,
                hit: true,
            }
        } else if roll < 0.75 {
            let i = of_kind(Kind::Param, &mut rng);
            Sample {
                kind: "param",
                url: format!("{base}/blog/{i}/post-{}", rng.below(1000)),
                country: None,
                hit: true,
            }
        } else if roll < 0.87 {
            let i = of_kind(Kind::Splat, &mut rng);
            Sample {
                kind: "splat",
                url: format!("{base}/docs/v{i}/guide/install/linux"),
                country: None,
                hit: true,
            }
        } else if roll < 0.93 {
            let i = of_kind(Kind::Query, &mut rng);
            let hit = rng.unit() < 0.7;
            let q = if hit { "?campaign=spring" } else { "?other=1" };
            Sample {
                kind: "query condition",
                url: format!("{base}/promo/{i}{q}"),
                country: None,
                hit,
            }
        } else {
            let i = of_kind(Kind::Country, &mut rng);
            let hit = rng.unit() < 0.7;
            Sample {
                kind: "country condition",
                url: format!("{base}/store/{i}"),
                country: Some(if hit { "DE" } else { "FR" }),
                hit,
            }
        };
        out.push(sample);
    }
    out
}

fn is_redirect(decision: &Decision<'_>) -> bool {
    matches!(decision, Decision::Redirect(_))
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// What the summary measured at one size.
struct Figures {
    n: usize,
    json_bytes: usize,
    held_bytes: usize,
    peak_bytes: usize,
    compile_ms: f64,
    p50_ns: f64,
    p99_ns: f64,
    agree: usize,
    /// (kind of request, p50 ns, p99 ns)
    by_kind: Vec<(&'static str, f64, f64)>,
}

/// Per-request costs, sorted: `requests` evaluated in turn for `budget`, timed in batches of 32
/// (one timer read per batch), each batch giving one per-request sample.
fn batch_samples(engine: &Engine, requests: &[Request<'_>], budget: Duration) -> Vec<f64> {
    const BATCH: usize = 32;
    let mut samples = Vec::new();
    let mut k = 0;
    let deadline = Instant::now() + budget;
    while Instant::now() < deadline && samples.len() < 1_000_000 {
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(engine.evaluate(black_box(&requests[k])));
            k = if k + 1 == requests.len() { 0 } else { k + 1 };
        }
        samples.push(start.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    samples.sort_by(f64::total_cmp);
    samples
}

/// Compile time (median of several) and the per-request distribution: requests are timed in
/// batches of 32 (one timer read per batch), each batch giving one per-request sample.
fn measure(n: usize, budget: Duration) -> Figures {
    let text = bundle(n);
    let runs = if n >= 100_000 { 3 } else { 7 };
    let mut compile: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let engine = Engine::compile(black_box(&text)).expect("the generated bundle compiles");
            let ms = start.elapsed().as_secs_f64() * 1e3;
            drop(black_box(engine));
            ms
        })
        .collect();
    compile.sort_by(f64::total_cmp);
    let (held_bytes, peak_bytes) = compile_memory(&text);
    let engine = Engine::compile(&text).expect("the generated bundle compiles");
    let mix = requests(n, REQUESTS);
    let agree = mix
        .iter()
        .filter(|s| is_redirect(&engine.evaluate(&s.request())) == s.hit)
        .count();

    let mix_requests: Vec<Request<'_>> = mix.iter().map(Sample::request).collect();
    let samples = batch_samples(&engine, &mix_requests, budget);

    // Per kind of request: each request timed alone (8 evaluations), so a slow kind shows.
    let mut by_kind: Vec<(&str, Vec<f64>)> = Vec::new();
    for s in &mix {
        let start = Instant::now();
        for _ in 0..8 {
            black_box(engine.evaluate(black_box(&s.request())));
        }
        let ns = start.elapsed().as_nanos() as f64 / 8.0;
        match by_kind.iter_mut().find(|(k, _)| *k == s.kind) {
            Some((_, v)) => v.push(ns),
            None => by_kind.push((s.kind, vec![ns])),
        }
    }
    let by_kind = by_kind
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(f64::total_cmp);
            (k, quantile(&v, 0.5), quantile(&v, 0.99))
        })
        .collect();
    Figures {
        n,
        json_bytes: text.len(),
        held_bytes,
        peak_bytes,
        compile_ms: compile[compile.len() / 2],
        p50_ns: quantile(&samples, 0.5),
        p99_ns: quantile(&samples, 0.99),
        agree,
        by_kind,
    }
}

fn summary(quick: bool) {
    let budget = Duration::from_millis(if quick { 500 } else { 2000 });
    println!("edge-redirects engine: mixed rules (exact/param/splat/conditional), {REQUESTS} requests (80 % hits)");
    println!(
        "{:>8} {:>12} {:>14} {:>14} {:>22} {:>26}",
        "rules",
        "compile ms",
        "evaluate p50",
        "evaluate p99",
        "answers as expected",
        "memory held / peak x JSON"
    );
    let figures: Vec<Figures> = SIZES.iter().map(|&n| measure(n, budget)).collect();
    for f in &figures {
        let x = |b: usize| b as f64 / f.json_bytes as f64;
        println!(
            "{:>8} {:>12.2} {:>11.0} ns {:>11.0} ns {:>16}/{REQUESTS} {:>26}",
            f.n,
            f.compile_ms,
            f.p50_ns,
            f.p99_ns,
            f.agree,
            format!("{:.2}x / {:.2}x", x(f.held_bytes), x(f.peak_bytes))
        );
    }
    println!("by kind of request (each timed alone), p50 / p99 ns:");
    print!("{:>20}", "");
    for f in &figures {
        print!(" {:>20}", format!("{} rules", f.n));
    }
    println!();
    for (kind, _, _) in &figures[0].by_kind {
        print!("{kind:>20}");
        for f in &figures {
            match f.by_kind.iter().find(|(k, _, _)| k == kind) {
                Some((_, p50, p99)) => print!(" {:>20}", format!("{p50:.0} / {p99:.0}")),
                None => print!(" {:>20}", "-"),
            }
        }
        println!();
    }
    let small = &figures[0];
    let big = &figures[figures.len() - 1];
    let verdict = |ok: bool| if ok { "MET    " } else { "NOT MET" };
    println!("targets:");
    println!(
        "  {}  evaluate p50 <= 500 ns at 100k rules: {:.0} ns",
        verdict(big.p50_ns <= 500.0),
        big.p50_ns
    );
    println!(
        "  {}  evaluate p50 at 100k within 2x of 1k: {:.2}x",
        verdict(big.p50_ns <= 2.0 * small.p50_ns),
        big.p50_ns / small.p50_ns
    );
    println!(
        "  {}  compile <= 100 ms at 100k rules: {:.1} ms",
        verdict(big.compile_ms <= 100.0),
        big.compile_ms
    );
    println!();
    launch_summary(budget);
}

fn criterion_benches(c: &mut Criterion) {
    let mut evaluate = c.benchmark_group("evaluate");
    evaluate.throughput(Throughput::Elements(1));
    for &n in &SIZES {
        let engine = Engine::compile(&bundle(n)).expect("the generated bundle compiles");
        let mix = requests(n, REQUESTS);
        evaluate.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            let mut k = 0;
            b.iter(|| {
                k = if k + 1 == mix.len() { 0 } else { k + 1 };
                engine.evaluate(black_box(&mix[k].request()))
            })
        });
    }
    evaluate.finish();

    let mut compile = c.benchmark_group("compile");
    compile.sample_size(10);
    for &n in &SIZES {
        let text = bundle(n);
        compile.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| Engine::compile(black_box(text)).expect("the generated bundle compiles"))
        });
    }
    compile.finish();
}

/// `count` rules' worth of network ranges on one rule: `count` disjoint IPv4 /24s and as many
/// IPv6 /48s, in scrambled order, so compiling sorts and merges them.
fn ip_bundle(count: usize) -> String {
    let mut ranges = Vec::with_capacity(2 * count);
    for i in 0..count {
        let k = (i * 7_919) % count;
        ranges.push(format!("\"10.{}.{}.0/24\"", k / 256, k % 256));
        ranges.push(format!("\"2001:db8:{k:x}::/48\""));
    }
    format!(
        r#"{{ "version": 1, "rules": [ {{ "id": "net", "from": "/net", "when": {{ "ip": [{}] }}, "to": "/in" }} ] }}"#,
        ranges.join(",")
    )
}

/// `count` rules on one path, each with a window of its own (one hour each, one after the
/// other from 2026-01-01), then a rule without one.
fn window_bundle(count: usize) -> String {
    let start = edge_redirects::parse_instant("2026-01-01T00:00:00Z").expect("an instant");
    let rules: Vec<String> = (0..count)
        .map(|i| {
            let after = edge_redirects::format_instant(start + 3_600 * i as i64);
            let before = edge_redirects::format_instant(start + 3_600 * (i as i64 + 1));
            format!(
                r#"{{ "id": "w{i}", "from": "/sale", "when": {{ "after": "{after}", "before": "{before}" }}, "to": "/sale/{i}", "status": 308 }}"#
            )
        })
        .chain([r#"{ "id": "rest", "from": "/sale", "to": "/sale/none" }"#.to_string()])
        .collect();
    format!(r#"{{ "version": 1, "rules": [ {} ] }}"#, rules.join(","))
}

/// Benchmarks group `name`: for each `(size, engine, requests)`, the requests evaluated in turn.
fn bench_turns(c: &mut Criterion, name: &str, cases: Vec<(usize, Engine, Vec<Request<'_>>)>) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    for (n, engine, requests) in &cases {
        group.bench_with_input(BenchmarkId::from_parameter(n), n, |b, _| {
            let mut k = 0;
            b.iter(|| {
                k = (k + 1) % requests.len();
                is_redirect(&engine.evaluate(black_box(&requests[k])))
            })
        });
    }
    group.finish();
}

/// The `ip` range and time-window cases: `(group, [(size, engine, requests)])`. Ranges: 10
/// against 10,000 on one rule (one binary search). Windows: 10 against 1,000 rules on one path
/// (found by instant: only the open window and the rules without one are tried).
#[allow(clippy::type_complexity)]
fn launch_cases() -> Vec<(&'static str, Vec<(usize, Engine, Vec<Request<'static>>)>)> {
    let addresses = ["10.0.5.77", "192.0.2.1", "2001:db8:3::1", "2001:db9::1"];
    let at_net = |a| Request {
        ip: Some(a),
        ..Request::get("https://example.com/net")
    };
    let ip_cases = [10, 10_000]
        .into_iter()
        .map(|n| {
            let engine = Engine::compile(&ip_bundle(n)).expect("the ranges compile");
            let requests: Vec<Request<'_>> = addresses.map(at_net).to_vec();
            let hits: Vec<bool> = requests
                .iter()
                .map(|r| is_redirect(&engine.evaluate(r)))
                .collect();
            assert_eq!(hits, [true, false, true, false], "{n} ranges");
            (n, engine, requests)
        })
        .collect();

    let start = edge_redirects::parse_instant("2026-01-01T00:00:00Z").expect("an instant");
    let window_cases = [10, 1_000]
        .into_iter()
        .map(|n| {
            let engine = Engine::compile(&window_bundle(n)).expect("the windows compile");
            // In the last window, in the middle one, and after all of them.
            let requests = [
                3_600 * (n as i64 - 1) + 60,
                3_600 * (n as i64 / 2) + 60,
                3_600 * n as i64 + 60,
            ]
            .map(|t| Request {
                now: Some(start + t),
                ..Request::get("https://example.com/sale")
            });
            let hits: Vec<bool> = requests
                .iter()
                .map(|r| is_redirect(&engine.evaluate(r)))
                .collect();
            assert_eq!(hits, [true, true, true], "{n} windows");
            (n, engine, requests.to_vec())
        })
        .collect();
    vec![
        ("launch_ip_ranges", ip_cases),
        ("launch_windows", window_cases),
    ]
}

fn launch_benches(c: &mut Criterion) {
    for (name, cases) in launch_cases() {
        bench_turns(c, name, cases);
    }
}

/// The launch cases timed plainly, with the ratio the target asks for: batches of each size
/// taken in turn (so a busy machine slows both alike), the median of each kept.
fn launch_summary(budget: Duration) {
    println!("launch conditions, per request (median of interleaved timed batches):");
    for (name, cases) in launch_cases() {
        let batch = 2_000;
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
        let began = Instant::now();
        while began.elapsed() < budget / 2 || samples[0].len() < 5 {
            for ((_, engine, requests), out) in cases.iter().zip(&mut samples) {
                let t = Instant::now();
                for k in 0..batch {
                    black_box(is_redirect(
                        &engine.evaluate(black_box(&requests[k % requests.len()])),
                    ));
                }
                out.push(t.elapsed().as_nanos() as f64 / batch as f64);
            }
        }
        let medians: Vec<f64> = samples
            .iter_mut()
            .map(|s| {
                s.sort_by(f64::total_cmp);
                s[s.len() / 2]
            })
            .collect();
        let (small, big) = (medians[0], medians[medians.len() - 1]);
        let ratio = big / small;
        println!(
            "  {} {name}: {} {small:.0} ns, {} {big:.0} ns: {ratio:.2}x (target <= 1.2x)",
            if ratio <= 1.2 { "MET    " } else { "NOT MET" },
            cases[0].0,
            cases[cases.len() - 1].0,
        );
    }
    println!();
}

/// `count` shaped placeholders at one place: `/docs/:page([a-z0-9-]+-vN)`, as a versioned
/// documentation site writes them.
fn shaped_bundle(count: usize) -> String {
    let rules: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{ "id": "d{i}", "from": "/docs/:page([a-z0-9-]+-v{i})", "to": "/v{i}/:page" }}"#
            )
        })
        .collect();
    format!(r#"{{ "version": 1, "rules": [ {} ] }}"#, rules.join(","))
}

/// Placeholder constraints: compiling 1,000 of them at one place, and the per-request cost
/// with 100, 1,000 and 10,000 of them against a near miss of 1 KiB (every constraint reads it
/// to the end) and a hit on the last.
fn shaped_benches(c: &mut Criterion) {
    let text = shaped_bundle(1_000);
    let mut group = c.benchmark_group("shaped_compile");
    group.sample_size(10);
    group.bench_function("1000", |b| {
        b.iter(|| Engine::compile(black_box(&text)).expect("compiles"))
    });
    group.finish();
    let miss = format!("https://example.com/docs/{}-v", "a-".repeat(510));
    let hits: Vec<String> = [100, 1_000, 10_000]
        .iter()
        .map(|n| format!("https://example.com/docs/intro-v{}", n - 1))
        .collect();
    let cases = [100, 1_000, 10_000]
        .into_iter()
        .zip(&hits)
        .map(|(n, hit)| {
            let engine = Engine::compile(&shaped_bundle(n)).expect("compiles");
            let requests = vec![Request::get(&miss), Request::get(hit)];
            let decided: Vec<bool> = requests
                .iter()
                .map(|r| is_redirect(&engine.evaluate(r)))
                .collect();
            assert_eq!(decided, [false, true], "{n} shapes");
            (n, engine, requests)
        })
        .collect();
    bench_turns(c, "shaped_per_request", cases);
}

/// The `i`-th path-to-regexp source, its target, a path it redirects and a near miss: the
/// shapes real `vercel.json` files write.
fn regex_rule(i: usize) -> (String, &'static str, String, String) {
    match i % 5 {
        0 => (
            format!("/guides-{i}(/?)"),
            "/learn",
            format!("/guides-{i}/"),
            format!("/guides-{i}x"),
        ),
        1 => (
            format!("/meta-{i}/(.*)"),
            "/product/$1",
            format!("/meta-{i}/a/b"),
            format!("/meta-{i}"),
        ),
        2 => (
            format!("/platforms-{i}(/.*)?"),
            "/p$1",
            format!("/platforms-{i}/js/guides"),
            format!("/platforms-{i}x/js"),
        ),
        3 => (
            format!("/docs/r{i}/:path*(/?)"),
            "/d/:path",
            format!("/docs/r{i}/a/b/"),
            format!("/docs/r{i}x/a"),
        ),
        _ => (
            format!("/api-{i}/([^/]*)/v1"),
            "/v1/$1",
            format!("/api-{i}/users/v1"),
            format!("/api-{i}/users/v2"),
        ),
    }
}

/// The mixed bundle of `n` rules with `regex` path-to-regexp sources after them.
fn regex_bundle(n: usize, regex: usize) -> String {
    let mixed = bundle(n);
    let rules: Vec<String> = (0..regex)
        .map(|i| {
            let (from, to, _, _) = regex_rule(i);
            serde_json::json!({ "id": format!("x{i}"), "from": from, "from_syntax": "path-to-regexp", "to": to })
                .to_string()
        })
        .collect();
    format!(
        "{},{}]}}",
        mixed.strip_suffix("]}").expect("a bundle"),
        rules.join(",")
    )
}

/// Requests for the path-to-regexp sources: a hit and a near miss for each of `count` of them.
fn regex_requests(regex: usize, count: usize) -> Vec<(String, bool)> {
    let mut rng = Rng(7);
    (0..count)
        .map(|k| {
            let (_, _, hit, miss) = regex_rule(rng.below(regex));
            let (path, is_hit) = if k % 5 == 4 {
                (miss, false)
            } else {
                (hit, true)
            };
            (format!("https://example.com{path}"), is_hit)
        })
        .collect()
}

/// The median per-request cost of `requests` in turn ([`batch_samples`]).
fn p50_ns(engine: &Engine, requests: &[Request<'_>], budget: Duration) -> f64 {
    quantile(&batch_samples(engine, requests, budget), 0.5)
}

/// The summary's lines for the mixed 1,000 rules with 1,000 path-to-regexp sources beside them.
fn regex_summary(budget: Duration) {
    let text = regex_bundle(1_000, 1_000);
    let start = Instant::now();
    let engine = Engine::compile(&text).expect("the bundle compiles");
    let compile_ms = start.elapsed().as_secs_f64() * 1e3;
    let regex = regex_requests(1_000, REQUESTS);
    let regex_reqs: Vec<Request<'_>> = regex.iter().map(|(u, _)| Request::get(u)).collect();
    let agree = regex_reqs
        .iter()
        .zip(&regex)
        .filter(|(r, (_, hit))| is_redirect(&engine.evaluate(r)) == *hit)
        .count();
    let mixed = requests(1_000, REQUESTS);
    let mixed_reqs: Vec<Request<'_>> = mixed.iter().map(Sample::request).collect();
    println!("1,000 mixed rules + 1,000 path-to-regexp sources: compile {compile_ms:.2} ms");
    println!(
        "  path-to-regexp requests (80 % hits): p50 {:.0} ns, {agree}/{REQUESTS} answered as expected",
        p50_ns(&engine, &regex_reqs, budget)
    );
    println!(
        "  the mixed requests: p50 {:.0} ns",
        p50_ns(&engine, &mixed_reqs, budget)
    );
    println!();
}

/// Per-request cost with 1,000 path-to-regexp sources beside 1,000 mixed rules: requests for
/// the sources, and the mixed requests.
fn regex_benches(c: &mut Criterion) {
    let engine = Engine::compile(&regex_bundle(1_000, 1_000)).expect("the bundle compiles");
    let regex = regex_requests(1_000, REQUESTS);
    let mixed = requests(1_000, REQUESTS);
    let mut group = c.benchmark_group("path_to_regexp");
    group.throughput(Throughput::Elements(1));
    let cases: [(&str, Vec<Request<'_>>); 2] = [
        (
            "sources",
            regex.iter().map(|(u, _)| Request::get(u)).collect(),
        ),
        ("mixed", mixed.iter().map(Sample::request).collect()),
    ];
    for (name, requests) in &cases {
        group.bench_function(*name, |b| {
            let mut k = 0;
            b.iter(|| {
                k = if k + 1 == requests.len() { 0 } else { k + 1 };
                engine.evaluate(black_box(&requests[k]))
            })
        });
    }
    group.finish();
}

fn main() {
    // `cargo test --benches` runs this binary without `--bench`: run each benchmark once.
    let benching = std::env::args().any(|a| a == "--bench");
    let quick = std::env::var_os("BENCH_QUICK").is_some_and(|v| v != "0" && !v.is_empty());
    // A filter (`cargo bench --bench engine -- launch`) runs the benchmarks it names only.
    let filtered = std::env::args().skip(1).any(|a| !a.starts_with('-'));
    if benching && !filtered {
        summary(quick);
        regex_summary(Duration::from_millis(if quick { 500 } else { 2000 }));
        if quick {
            return;
        }
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    launch_benches(&mut c);
    shaped_benches(&mut c);
    regex_benches(&mut c);
    c.final_summary();
}
