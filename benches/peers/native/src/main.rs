//! Our engine and redirection.io's router, natively, on the rule sets and request mixes that
//! `benches/peers/run.mjs` writes (`rules.json`, `redirectionio.json`, `requests.json`).
//!
//! redirection.io publishes its engine to npm only as a client of its hosted service (no local
//! router in the wasm build), so the closest comparison is its Rust crate against ours, both
//! native, both asked for the status and `Location` of each request.
//!
//!   peer-bench-native <rules dir>... [--budget-ms N]
//!
//! Prints one markdown table row per engine and rule set; memory is counted by a global
//! allocator (bytes live after load).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use edge_redirects::{Decision, Engine, Geo, Request};
use redirectionio::action::Action;
use redirectionio::api::Rule;
use redirectionio::http::Request as RioRequest;
use redirectionio::router::Router;
use redirectionio::RouterConfig;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[derive(serde::Deserialize)]
struct Sample {
    url: String,
    country: Option<String>,
    hit: bool,
}

struct Figures {
    load_ms: f64,
    live_bytes: isize,
    p50_ns: f64,
    p99_ns: f64,
    agree: usize,
    checked: usize,
}

/// Times `eval` over the mix in batches of 32 requests until `budget` is spent.
fn distribution(n: usize, budget: Duration, mut eval: impl FnMut(usize) -> bool) -> (f64, f64) {
    const BATCH: usize = 32;
    let mut samples = Vec::new();
    let mut k = 0;
    let deadline = Instant::now() + budget;
    while Instant::now() < deadline || samples.len() < 30 {
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(eval(k));
            k = if k + 1 == n { 0 } else { k + 1 };
        }
        samples.push(start.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    samples.sort_by(f64::total_cmp);
    let q = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    (q(0.5), q(0.99))
}

/// Checks every answer against the generator's, then times the mix.
fn figures<T>(
    load_ms: f64,
    live_bytes: isize,
    mix: &[Sample],
    budget: Duration,
    eval: impl Fn(&Sample) -> Option<T>,
) -> Figures {
    let agree = mix.iter().filter(|s| eval(s).is_some() == s.hit).count();
    let (p50_ns, p99_ns) = distribution(mix.len(), budget, |k| eval(&mix[k]).is_some());
    Figures {
        load_ms,
        live_bytes,
        p50_ns,
        p99_ns,
        agree,
        checked: mix.len(),
    }
}

fn ours(dir: &str, mix: &[Sample], budget: Duration) -> Figures {
    let text = std::fs::read_to_string(format!("{dir}/rules.json")).expect("rules.json");
    let before = LIVE.load(Ordering::Relaxed);
    let start = Instant::now();
    let engine = Engine::compile(&text).expect("the generated bundle compiles");
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let live_bytes = LIVE.load(Ordering::Relaxed) - before;
    let eval = |s: &Sample| {
        let request = Request {
            method: "GET",
            url: &s.url,
            headers: &[],
            geo: Geo {
                country: s.country.as_deref(),
                ..Geo::default()
            },
            random: 0,
            now: None,
            ip: None,
        };
        match engine.evaluate(&request) {
            Decision::Redirect(r) => Some((r.status, r.location)),
            _ => None,
        }
    };
    figures(load_ms, live_bytes, mix, budget, eval)
}

fn redirectionio(dir: &str, mix: &[Sample], budget: Duration) -> Figures {
    let text =
        std::fs::read_to_string(format!("{dir}/redirectionio.json")).expect("redirectionio.json");
    let config = RouterConfig::default();
    let before = LIVE.load(Ordering::Relaxed);
    let start = Instant::now();
    let rules: Vec<Rule> = serde_json::from_str(&text).expect("redirection.io rules");
    let mut router = Router::<Rule>::from_config(config.clone());
    for rule in rules {
        router.insert(rule);
    }
    router.cache(None);
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let live_bytes = LIVE.load(Ordering::Relaxed) - before;
    let eval = |s: &Sample| {
        let path_and_query = s
            .url
            .strip_prefix("https://example.com")
            .unwrap_or(&s.url)
            .to_string();
        let mut request = RioRequest::from_config(
            &config,
            path_and_query,
            Some("example.com".to_string()),
            Some("https".to_string()),
            Some("GET".to_string()),
            None,
            None,
        );
        if let Some(c) = &s.country {
            request.add_header(
                "CF-IPCountry".to_string(),
                c.clone(),
                config.ignore_header_case,
            );
        }
        let routes = router.match_request(&request);
        if routes.is_empty() {
            return None;
        }
        let mut action = Action::from_routes_rule(routes, &request, None);
        let status = action.get_status_code(0, None);
        let headers = action.filter_headers(Vec::new(), 0, false, None);
        let location = headers
            .into_iter()
            .find(|h| h.name == "Location")
            .map(|h| h.value);
        (status != 0).then_some((status, location))
    };
    figures(load_ms, live_bytes, mix, budget, eval)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut budget = Duration::from_millis(2000);
    let mut dirs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--budget-ms" {
            budget = Duration::from_millis(args[i + 1].parse().expect("--budget-ms N"));
            i += 2;
        } else {
            dirs.push(args[i].clone());
            i += 1;
        }
    }
    println!("| rule set | engine | load ms | p50 / req | p99 / req | p50 ratio | p99 ratio | memory after load MB | memory / rules JSON | answers as expected |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for dir in &dirs {
        let name = dir.trim_end_matches('/').rsplit('/').next().unwrap_or(dir);
        let mix: Vec<Sample> = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/requests.json")).expect("requests.json"),
        )
        .expect("requests");
        let json_bytes = std::fs::metadata(format!("{dir}/rules.json"))
            .expect("rules.json")
            .len() as f64;
        let o = ours(dir, &mix, budget);
        let r = redirectionio(dir, &mix, budget);
        for (label, f) in [
            ("ours (native)", &o),
            ("redirectionio crate 3.4 (native)", &r),
        ] {
            println!(
                "| {name} | {label} | {:.1} | {:.0} ns | {:.0} ns | {:.2}x | {:.2}x | {:.1} | {:.2}x | {}/{} |",
                f.load_ms,
                f.p50_ns,
                f.p99_ns,
                f.p50_ns / o.p50_ns,
                f.p99_ns / o.p99_ns,
                f.live_bytes as f64 / 1048576.0,
                f.live_bytes as f64 / json_bytes,
                f.agree,
                f.checked
            );
        }
    }
}
