//! What a request can make the engine spend. From the input, a bundle of rules that share a
//! few paths (tens to thousands of rules each, with query globs and captures, cookie, header,
//! language and geo conditions in `when` and `unless`, targets naming many query parameters,
//! splits) and a hostile request for one of those paths (a long query with repeated and
//! percent-encoded names, a large Cookie and Accept-Language of many items, many headers).
//! The hostile request is timed against a control of the same size that no rule can match
//! (same query and headers, a path no rule has); the difference is what the rules cost.
//!
//! A difference over the bound is a finding: [`DEFAULT_BOUND_US`] microseconds, or
//! `COST_BOUND_US` from the environment. The platform stops a request after 10 ms of CPU; wasm
//! in workerd runs the engine 2–3x slower than a native release build, and this build, though
//! optimised, carries libFuzzer's coverage instrumentation, which makes the engine about ten
//! times slower than a release build (a 16 KB query carried into a target: ~0.1 ms released,
//! ~1 ms here). 5 ms here is so about 0.5 ms released, about 1.5 ms in wasm: a small part of
//! the budget, where the old engine's worst requests cost hundreds of milliseconds. The worst difference seen
//! is printed every [`REPORT_EVERY`] and at exit, with the bundle's shape and request's sizes.
//!
//! Build optimised, without debug assertions and without a sanitizer (`cargo fuzz run -O -s none
//! cost`, as scripts/fuzz.sh does): AddressSanitizer and overflow checks would be timed too.
#![no_main]

use arbitrary::Arbitrary;
use edge_redirects::{limits, Engine, Geo, Request};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The default bound on the extra time of one hostile request, in microseconds.
const DEFAULT_BOUND_US: u64 = 5_000;
/// How often the worst figure so far is printed.
const REPORT_EVERY: Duration = Duration::from_secs(10);

// Sizes are bounded so that one input compiles and runs in milliseconds (libFuzzer must make
// progress) while still reaching the sizes a real request can have: Cloudflare accepts URLs up
// to 16 KB and request headers up to 128 KB in all (32 KB per header, as the cases of the
// issue that motivated this target use).
/// Most rules in one bundle (well under `limits::MAX_RULES`: compile time is per input).
const MAX_RULES: usize = 4_000;
/// Most rules in one group (rules sharing a path and a shape).
const MAX_GROUP: usize = 2_000;
/// Longest request URL.
const MAX_URL: usize = 16 * 1024;
/// Longest single header value.
const MAX_HEADER: usize = 32 * 1024;
/// Most bytes of headers in all.
const MAX_HEADERS_TOTAL: usize = 128 * 1024;
/// Most entries in one condition list (a quarter of the most query names in one target).
const MAX_LIST: usize = 256;
/// Most bytes of bundle text: compile time grows with it (about 0.1 s a megabyte here), and a
/// request meets one target only, so long targets and lists need not repeat on every rule.
const MAX_BUNDLE_TEXT: usize = 512 * 1024;

/// Names used on both sides, so rules and requests meet.
const NAMES: &[&str] = &[
    "campaign",
    "a",
    "utm_source",
    "ref",
    "id",
    "session",
    "x",
    "lang",
];
/// Values used on both sides.
const VALUES: &[&str] = &["x", "1", "spring", "v", "", "abc", "de", "Mobile"];
/// Language tags for Accept-Language items (the empty one makes runs of commas).
const LANGS: &[&str] = &["", "de", "de-AT", "en", "fr", "*", "en-US", "zz"];
const PRIMARY: &[&str] = &["de", "en", "fr", "es", "it", "nl", "pl", "zz"];
const CONTINENTS: &[&str] = &["EU", "NA", "AS", "AF", "AN", "OC", "SA"];

#[derive(Arbitrary, Debug)]
struct Input {
    groups: Vec<Group>,
    request: RequestSpec,
}

/// `count` rules of one shape on one path; rule `i` varies what `Vary` marks by `i`.
#[derive(Arbitrary, Debug)]
struct Group {
    count: u16,
    path: PathShape,
    when: Vec<Cond>,
    unless: Vec<Cond>,
    target: TargetSpec,
    split: Option<SplitSpec>,
    methods_post: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum PathShape {
    Root,
    One,
    Two,
    Param,
    Splat,
    RootParam,
}

impl PathShape {
    /// The pattern, and a path that matches it. None reaches the control path
    /// `/__control/none/of/these` (four segments, no rule starts with `__control`).
    fn pattern(self) -> (&'static str, &'static str) {
        match self {
            PathShape::Root => ("/", "/"),
            PathShape::One => ("/p", "/p"),
            PathShape::Two => ("/p/q", "/p/q"),
            PathShape::Param => ("/p/:seg", "/p/anything"),
            PathShape::Splat => ("/p/*", "/p/a/b/c"),
            PathShape::RootParam => ("/:seg", "/anything"),
        }
    }
}

/// A name: fixed, or `NAMES[base]` followed by the rule's index modulo `modulo`.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Name {
    Fixed(u8),
    Indexed(u8, u16),
}

impl Name {
    fn for_rule(self, i: usize) -> String {
        match self {
            Name::Fixed(b) => pick(NAMES, b).to_string(),
            Name::Indexed(b, m) => format!("{}{}", pick(NAMES, b), i % (usize::from(m) + 1)),
        }
    }
}

/// A value test as the bundle writes it; `Indexed*` vary with the rule's index.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum GlobShape {
    Any,
    Exact(u8),
    IndexedExact(u8),
    Prefix(u8),
    Contains(u8),
    IndexedContains(u8),
    /// `*v*v*...*v`: `n` pieces, the slow shape for a glob matcher.
    Pieces(u8, u8),
}

impl GlobShape {
    fn for_rule(self, i: usize) -> String {
        match self {
            GlobShape::Any => "*".into(),
            GlobShape::Exact(v) => nonempty(pick(VALUES, v)).into(),
            GlobShape::IndexedExact(v) => format!("{}{i}", pick(VALUES, v)),
            GlobShape::Prefix(v) => format!("{}*", nonempty(pick(VALUES, v))),
            GlobShape::Contains(v) => format!("*{}*", nonempty(pick(VALUES, v))),
            GlobShape::IndexedContains(v) => format!("*{}{i}*", pick(VALUES, v)),
            GlobShape::Pieces(v, n) => {
                let piece = nonempty(pick(VALUES, v));
                let n = 2 + usize::from(n) % 16;
                vec![piece; n].join("*")
            }
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Cond {
    Query(Name, GlobShape),
    Capture(Name),
    Cookie(Name, GlobShape),
    Header(Name, GlobShape),
    /// `n` primary subtags, starting at the rule's index when `vary`.
    Language(u8, bool),
    Country(u8, bool),
    Continent(u8),
    Region(u8),
    City(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct TargetSpec {
    /// Query parameters the target sets: `NAMES[base]0=1&NAMES[base]1=1...`.
    query_names: u16,
    base: u8,
    /// `:c` in the path when a `when.query` capture exists.
    use_capture: bool,
    preserve_query: Option<bool>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct SplitSpec {
    cookie: Name,
    variants: u8,
    stay_first: bool,
}

/// Query pairs, cookie pairs, headers and language items come as runs: `repeat` copies,
/// numbered when the name is indexed, so a short input makes a large request.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Run {
    name: Name,
    /// Percent-encode every byte of the name (`%61` for `a`).
    encode: bool,
    value: u8,
    /// Extra bytes appended to the value.
    pad: u8,
    repeat: u16,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct LangRun {
    tag: u8,
    q: Option<u8>,
    repeat: u16,
}

#[derive(Arbitrary, Debug)]
struct RequestSpec {
    /// Which group's path the request is for.
    group: u8,
    post: bool,
    query: Vec<Run>,
    cookie: Vec<Run>,
    accept_language: Vec<LangRun>,
    headers: Vec<Run>,
    country: Option<u8>,
    continent: Option<u8>,
    random: u64,
}

fn pick<T: Copy>(list: &[T], i: u8) -> T {
    list[usize::from(i) % list.len()]
}

fn nonempty(s: &str) -> &str {
    if s.is_empty() {
        "e"
    } else {
        s
    }
}

/// Two ASCII letters from an index: `AA`, `AB`, ... (a country code shape).
fn letters(i: usize) -> String {
    let a = b'A' + (i / 26 % 26) as u8;
    let b = b'A' + (i % 26) as u8;
    String::from_utf8(vec![a, b]).unwrap()
}

/// One `when` or `unless` object for rule `i`; the flag says whether it captures `:c`
/// (only `when` may: `allow_capture`).
fn conditions(list: &[Cond], i: usize, allow_capture: bool) -> (Map<String, Value>, bool) {
    let mut out = Map::new();
    let (mut query, mut cookie, mut header) = (Map::new(), Map::new(), Map::new());
    // The parameter captured as `:c`; no later entry may replace that test.
    let mut captured: Option<String> = None;
    // Lists of codes: `n` entries, starting at the rule's index when `vary`.
    let codes = |n: u8, f: &dyn Fn(usize) -> String| -> Value {
        (0..1 + usize::from(n) % MAX_LIST)
            .map(f)
            .collect::<Vec<_>>()
            .into()
    };
    for c in list.iter().take(8) {
        match *c {
            Cond::Query(n, g) if captured.as_ref() != Some(&n.for_rule(i)) => {
                query.insert(n.for_rule(i), g.for_rule(i).into());
            }
            Cond::Capture(n) if allow_capture && captured.is_none() => {
                query.insert(n.for_rule(i), ":c".into());
                captured = Some(n.for_rule(i));
            }
            Cond::Query(..) => {}
            Cond::Capture(n) if captured.as_ref() != Some(&n.for_rule(i)) => {
                query.insert(n.for_rule(i), "*".into());
            }
            Cond::Capture(_) => {}
            Cond::Cookie(n, g) => {
                cookie.insert(n.for_rule(i), g.for_rule(i).into());
            }
            Cond::Header(n, g) => {
                header.insert(format!("x-{}", n.for_rule(i)), g.for_rule(i).into());
            }
            Cond::Language(n, vary) => {
                let start = if vary { i } else { 0 };
                let list = codes(n, &|k| match PRIMARY.get(start + k) {
                    Some(tag) => tag.to_string(),
                    // Three letters: never one of the request's tags.
                    None => format!("q{}", letters(start + k).to_lowercase()),
                });
                out.insert("language".into(), list);
            }
            Cond::Country(n, vary) => {
                let start = if vary { i } else { 0 };
                out.insert("country".into(), codes(n, &|k| letters(start + k)));
            }
            Cond::Continent(n) => {
                let list: Vec<&str> = CONTINENTS
                    .iter()
                    .copied()
                    .take(1 + usize::from(n) % 7)
                    .collect();
                out.insert("continent".into(), json!(list));
            }
            Cond::Region(n) => {
                out.insert("region".into(), codes(n, &|k| format!("R{}", k % 100)));
            }
            Cond::City(n) => {
                out.insert("city".into(), codes(n, &|k| format!("City {k}")));
            }
        }
    }
    for (key, map) in [("query", query), ("cookie", cookie), ("header", header)] {
        if !map.is_empty() {
            out.insert(key.into(), map.into());
        }
    }
    (out, captured.is_some())
}

/// The bundle text, a one-line description of its shape, and a request path for each group.
fn bundle(groups: &[Group]) -> (String, String, Vec<&'static str>) {
    let mut rules: Vec<String> = Vec::new();
    let mut bytes = 0;
    let mut shape = String::new();
    let mut paths = Vec::new();
    let mut full = false;
    for (g, group) in groups.iter().take(4).enumerate() {
        let count = 1 + usize::from(group.count) % MAX_GROUP;
        let (pattern, path) = group.path.pattern();
        paths.push(path);
        let t = group.target;
        // Up to 1,020 names, as many as the engine's 8 KB limit on a target's text leaves room for.
        let names = usize::from(t.query_names) % MAX_LIST * 4;
        let mut made = 0;
        for i in 0..count {
            if rules.len() == MAX_RULES {
                full = true;
                break;
            }
            let mut rule = Map::new();
            rule.insert("id".into(), format!("g{g}r{i}").into());
            rule.insert("from".into(), pattern.into());
            let (when, captured) = conditions(&group.when, i, true);
            let (unless, _) = conditions(&group.unless, i, false);
            if !when.is_empty() {
                rule.insert("when".into(), when.into());
            }
            if !unless.is_empty() {
                rule.insert("unless".into(), unless.into());
            }
            if group.methods_post {
                rule.insert("methods".into(), json!(["POST"]));
            }
            let mut to = format!("/t{g}/{i}");
            if t.use_capture && captured {
                to.push_str("/:c");
            }
            let base = pick(NAMES, t.base);
            for k in 0..names {
                let item = format!("{base}{k}=1");
                // Room left for a split variant's `&v31`.
                if to.len() + 1 + item.len() > limits::MAX_TEXT_BYTES - 8 {
                    break;
                }
                to.push(if k == 0 { '?' } else { '&' });
                to.push_str(&item);
            }
            if let Some(p) = t.preserve_query {
                rule.insert("preserve_query".into(), p.into());
            }
            match group.split {
                Some(s) => {
                    let variants: Vec<Value> = (0..1 + usize::from(s.variants) % 32)
                        .map(|k| {
                            let to = if k == 0 && s.stay_first {
                                Value::Null
                            } else {
                                let sep = if to.contains('?') { '&' } else { '?' };
                                format!("{to}{sep}v{k}").into()
                            };
                            json!({ "name": format!("v{k}"), "weight": 1, "to": to })
                        })
                        .collect();
                    let cookie = format!("ab_{}", s.cookie.for_rule(i));
                    rule.insert(
                        "split".into(),
                        json!({ "cookie": cookie, "variants": variants }),
                    );
                }
                None => {
                    rule.insert("to".into(), to.into());
                }
            }
            let text = Value::Object(rule).to_string();
            if bytes + text.len() > MAX_BUNDLE_TEXT {
                full = true;
                break;
            }
            bytes += text.len() + 1;
            rules.push(text);
            made += 1;
        }
        let _ = write!(
            shape,
            "{}[{made} rules on {pattern}: when {:?}, unless {:?}, target {names} query names{}{}] ",
            if g == 0 { "" } else { "+ " },
            group.when.iter().take(8).collect::<Vec<_>>(),
            group.unless.iter().take(8).collect::<Vec<_>>(),
            if group.split.is_some() { ", split" } else { "" },
            if group.methods_post { ", POST only" } else { "" },
        );
        if full {
            break;
        }
    }
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    (text, shape, paths)
}

/// Appends the text of one run item `k` of `run`: its name (encoded if asked) and value.
fn run_name(run: &Run, k: usize) -> String {
    let name = run.name.for_rule(k);
    if run.encode {
        name.bytes().map(|b| format!("%{b:02X}")).collect()
    } else {
        name
    }
}

fn run_value(run: &Run, k: usize) -> String {
    let mut v = pick(VALUES, run.value).to_string();
    if matches!(run.name, Name::Indexed(..)) {
        let _ = write!(v, "{k}");
    }
    v.extend(std::iter::repeat_n('v', usize::from(run.pad) % 64));
    v
}

/// `name=value` items of `runs` joined by `sep`, at most `max` bytes; returns the text and the
/// number of items.
fn items(runs: &[Run], sep: &str, max: usize) -> (String, usize) {
    let mut out = String::new();
    let mut n = 0;
    'runs: for run in runs.iter().take(8) {
        for k in 0..usize::from(run.repeat) % 8_192 + 1 {
            let item = format!("{}={}", run_name(run, k), run_value(run, k));
            if out.len() + sep.len() + item.len() > max {
                break 'runs;
            }
            if !out.is_empty() {
                out.push_str(sep);
            }
            out.push_str(&item);
            n += 1;
        }
    }
    (out, n)
}

struct Built {
    url: String,
    control_url: String,
    headers: Vec<(String, String)>,
    sizes: String,
}

fn request(spec: &RequestSpec, paths: &[&str]) -> Built {
    let path = paths[usize::from(spec.group) % paths.len()];
    let origin = "https://example.com";
    let room = MAX_URL - origin.len() - path.len().max(24) - 1;
    let (query, pairs) = items(&spec.query, "&", room);
    let with_query = |p: &str| {
        if query.is_empty() {
            format!("{origin}{p}")
        } else {
            format!("{origin}{p}?{query}")
        }
    };
    let mut headers = Vec::new();
    let mut total = 0;
    let (cookie, cookies) = items(&spec.cookie, "; ", MAX_HEADER);
    if !cookie.is_empty() {
        total += cookie.len();
        headers.push(("cookie".to_string(), cookie));
    }
    let mut lang = String::new();
    let mut langs = 0;
    'runs: for run in spec.accept_language.iter().take(8) {
        for _ in 0..usize::from(run.repeat) % 16_384 + 1 {
            let mut item = pick(LANGS, run.tag).to_string();
            if let Some(q) = run.q {
                let _ = write!(item, ";q=0.{}", q % 10);
            }
            if lang.len() + 1 + item.len() > MAX_HEADER {
                break 'runs;
            }
            if langs > 0 {
                lang.push(',');
            }
            lang.push_str(&item);
            langs += 1;
        }
    }
    if langs > 0 {
        total += lang.len();
        headers.push(("accept-language".to_string(), lang));
    }
    let mut extra = 0;
    'runs: for run in spec.headers.iter().take(8) {
        for k in 0..usize::from(run.repeat) % 2_048 + 1 {
            let name = format!("x-{}", run.name.for_rule(k));
            let value = run_value(run, k);
            if total + name.len() + value.len() > MAX_HEADERS_TOTAL {
                break 'runs;
            }
            total += name.len() + value.len();
            headers.push((name, value));
            extra += 1;
        }
    }
    let sizes = format!(
        "URL {} B ({pairs} query pairs), Cookie {} B ({cookies} pairs), Accept-Language {} B ({langs} items), {extra} other headers, {total} B of headers",
        with_query(path).len(),
        headers.iter().find(|h| h.0 == "cookie").map_or(0, |h| h.1.len()),
        headers.iter().find(|h| h.0 == "accept-language").map_or(0, |h| h.1.len()),
    );
    Built {
        url: with_query(path),
        control_url: with_query("/__control/none/of/these"),
        headers,
        sizes,
    }
}

/// The fastest of `reps` evaluations (the least disturbed by the rest of the machine); stops
/// early once one evaluation alone is far over any bound.
fn fastest(engine: &Engine, request: &Request<'_>, reps: usize) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        black_box(engine.evaluate(black_box(request)));
        let took = t.elapsed();
        best = best.min(took);
        if took > Duration::from_millis(50) {
            break;
        }
    }
    best
}

struct Worst {
    extra: Duration,
    hostile: Duration,
    control: Duration,
    rules: usize,
    shape: String,
    sizes: String,
}

struct State {
    worst: Option<Worst>,
    inputs: u64,
    started: Instant,
    last_report: Instant,
}

/// A static, not a thread-local: the report at exit runs after thread-locals are gone.
static STATE: Mutex<Option<State>> = Mutex::new(None);

fn describe(w: &Worst, inputs: u64, secs: u64) -> String {
    format!(
        "cost: worst extra {} us (hostile {} us, control {} us) after {inputs} inputs in {secs} s\n  bundle: {} rules: {}\n  request: {}",
        w.extra.as_micros(),
        w.hostile.as_micros(),
        w.control.as_micros(),
        w.rules,
        w.shape.trim_end(),
        w.sizes
    )
}

fn report() {
    let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(state) = state.as_ref() {
        match &state.worst {
            Some(w) => eprintln!(
                "{}",
                describe(w, state.inputs, state.started.elapsed().as_secs())
            ),
            None => eprintln!("cost: no input measured yet"),
        }
    }
}

extern "C" fn report_at_exit() {
    report();
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
}

/// The bound, read once; the first call also arranges the report at exit.
fn bound() -> Duration {
    static BOUND: OnceLock<Duration> = OnceLock::new();
    *BOUND.get_or_init(|| {
        let us = std::env::var("COST_BOUND_US")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_BOUND_US);
        eprintln!("cost: bound {us} us of extra time per request (COST_BOUND_US to change)");
        // SAFETY: registers a plain function that only prints; libFuzzer calls exit() when
        // -max_total_time or -runs is reached, which runs it.
        unsafe { atexit(report_at_exit) };
        Duration::from_micros(us)
    })
}

fuzz_target!(|input: Input| {
    let bound = bound();
    if input.groups.is_empty() {
        return;
    }
    let (text, shape, paths) = bundle(&input.groups);
    let engine = match Engine::compile(&text) {
        Ok(engine) => engine,
        Err(errors) => {
            panic!("the generator made a bundle the engine rejects (a bug here): {errors}")
        }
    };
    let built = request(&input.request, &paths);
    let header_refs: Vec<(&str, &str)> = built
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let spec = &input.request;
    let geo = Geo {
        country: spec.country.map(|c| if c % 2 == 0 { "DE" } else { "AA" }),
        continent: spec.continent.map(|c| pick(CONTINENTS, c)),
        region: None,
        city: None,
    };
    let method = if spec.post { "POST" } else { "GET" };
    let hostile = Request {
        method,
        url: &built.url,
        headers: &header_refs,
        geo,
        random: spec.random,
    };
    let control = Request {
        url: &built.control_url,
        ..hostile
    };

    // Interleaved, best of three each, so a disturbance hits both sides alike.
    let (mut h, mut c) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        c = c.min(fastest(&engine, &control, 1));
        h = h.min(fastest(&engine, &hostile, 1));
    }
    let mut extra = h.saturating_sub(c);
    if extra > bound {
        // Confirmed on more repetitions before it counts: one slow sample is not a finding.
        c = c.min(fastest(&engine, &control, 10));
        h = h.min(fastest(&engine, &hostile, 10));
        extra = h.saturating_sub(c);
    }

    let rules = engine.rules().len();
    let due = {
        let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let state = s.get_or_insert_with(|| State {
            worst: None,
            inputs: 0,
            started: now,
            last_report: now,
        });
        state.inputs += 1;
        if state.worst.as_ref().is_none_or(|w| extra > w.extra) {
            state.worst = Some(Worst {
                extra,
                hostile: h,
                control: c,
                rules,
                shape: shape.clone(),
                sizes: built.sizes.clone(),
            });
        }
        let due = now - state.last_report >= REPORT_EVERY;
        if due {
            state.last_report = now;
        }
        due
    };
    let finding = extra > bound;
    if due || finding {
        report();
    }
    if finding {
        panic!(
            "cost over the bound: this request costs {} us more than a control of the same size (bound {} us)\n  bundle: {rules} rules: {}\n  request: {}",
            extra.as_micros(),
            bound.as_micros(),
            shape.trim_end(),
            built.sizes
        );
    }
});
