//! Arbitrary bundles: raw bytes, and structured bundles generated through `arbitrary` (rules of
//! every shape, with hostile text in every field). Compiling must never panic; an accepted
//! bundle is evaluated against requests aimed at its own rules, and every decision must keep
//! the invariants of `edge_redirects_testkit::invariants`; a rejected one must say where.
#![no_main]

use arbitrary::Arbitrary;
use edge_redirects::{Engine, ErrorKind, Geo, Segment};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

use edge_redirects_testkit::invariants;

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Bundle text as bytes.
    Raw(&'a [u8]),
    /// A bundle built from parts, then serialised.
    Structured(Bundle<'a>),
}

#[derive(Arbitrary, Debug)]
struct Bundle<'a> {
    preserve_query: Option<bool>,
    case_sensitive: Option<bool>,
    strict_slash: Option<bool>,
    allowed_hosts: Vec<Text<'a>>,
    debug_header: Option<bool>,
    rules: Vec<RuleSpec<'a>>,
    /// Values substituted for the rules' placeholders when building requests.
    values: Vec<Text<'a>>,
    random: u64,
}

/// Text drawn either from a vocabulary of hostile fragments or arbitrary.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Text<'a> {
    Word(u8),
    Any(&'a str),
}

const WORDS: &[&str] = &[
    "a",
    "blog",
    "example.com",
    "*.example.com",
    "evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "@evil.example",
    "http://evil.example",
    "%0d%0a",
    "\r\nSet-Cookie: x=1",
    "%00",
    "%C0%AF",
    "%25",
    "%252F",
    "..",
    "%2e%2e",
    "?",
    "#",
    ":",
    "*",
    "\u{e9}",
    "\u{202e}",
    "xn--bcher-kva",
    "de",
    "EU",
    "DE",
    "1",
    "",
    "-",
    ".",
    "a.b",
    "127.0.0.1",
    "[::1]",
    "javascript:alert(1)",
    "https://example.org",
    "https://:sub.example.com",
    " ",
];

impl<'a> Text<'a> {
    fn get(self) -> &'a str {
        match self {
            Text::Word(i) => WORDS[usize::from(i) % WORDS.len()],
            Text::Any(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum PatSeg<'a> {
    Lit(Text<'a>),
    Param(u8),
    Splat(u8),
    Star,
}

#[derive(Arbitrary, Debug)]
enum ToPiece<'a> {
    Lit(Text<'a>),
    Var(u8),
    VarStar(u8),
}

#[derive(Arbitrary, Debug)]
enum ToStart<'a> {
    Path,
    Https(Text<'a>),
    Http(Text<'a>),
    /// A placeholder in the host.
    HostVar(u8, Text<'a>),
    Raw(Text<'a>),
}

#[derive(Arbitrary, Debug)]
struct ToSpec<'a> {
    start: ToStart<'a>,
    pieces: Vec<ToPiece<'a>>,
}

#[derive(Arbitrary, Debug)]
struct CondSpec<'a> {
    query: Vec<(Text<'a>, Text<'a>)>,
    capture: Option<(Text<'a>, u8)>,
    header: Vec<(Text<'a>, Text<'a>)>,
    cookie: Vec<(Text<'a>, Text<'a>)>,
    country: Vec<Text<'a>>,
    continent: Vec<Text<'a>>,
    language: Vec<Text<'a>>,
}

#[derive(Arbitrary, Debug)]
struct VariantSpec<'a> {
    name: Text<'a>,
    weight: u8,
    to: Option<ToSpec<'a>>,
}

#[derive(Arbitrary, Debug)]
enum ActionSpec<'a> {
    To(ToSpec<'a>),
    Split(Option<Text<'a>>, Vec<VariantSpec<'a>>),
    Forward(Option<ToSpec<'a>>),
}

#[derive(Arbitrary, Debug)]
struct RuleSpec<'a> {
    id: Option<Text<'a>>,
    from: Vec<PatSeg<'a>>,
    host: Option<Text<'a>>,
    methods: Option<Vec<Text<'a>>>,
    when: Option<CondSpec<'a>>,
    unless: Option<CondSpec<'a>>,
    action: ActionSpec<'a>,
    status: Option<u16>,
    preserve_query: Option<bool>,
    headers: Vec<(Text<'a>, Text<'a>)>,
    /// An unknown key, to exercise the "did you mean" path.
    stray: Option<Text<'a>>,
    /// `"from_syntax": "path-to-regexp"`: the same `from` read as a path-to-regexp source.
    path_to_regexp: bool,
}

const NAMES: &[&str] = &["slug", "path", "splat", "a", "b", "lang", "sub", "x_1", "Q"];

fn name(i: u8) -> &'static str {
    NAMES[usize::from(i) % NAMES.len()]
}

fn pattern(segs: &[PatSeg<'_>]) -> String {
    let mut s = String::new();
    for seg in segs {
        s.push('/');
        match seg {
            PatSeg::Lit(t) => s.push_str(t.get()),
            PatSeg::Param(n) => {
                s.push(':');
                s.push_str(name(*n));
            }
            PatSeg::Splat(n) => {
                s.push(':');
                s.push_str(name(*n));
                s.push('*');
            }
            PatSeg::Star => s.push('*'),
        }
    }
    if s.is_empty() {
        s.push('/');
    }
    s
}

fn target(spec: &ToSpec<'_>) -> String {
    let mut s = match &spec.start {
        ToStart::Path => String::new(),
        ToStart::Https(h) => format!("https://{}", h.get()),
        ToStart::Http(h) => format!("http://{}", h.get()),
        ToStart::HostVar(n, rest) => format!("https://:{}.{}", name(*n), rest.get()),
        ToStart::Raw(t) => t.get().to_string(),
    };
    for p in &spec.pieces {
        match p {
            ToPiece::Lit(t) => s.push_str(t.get()),
            ToPiece::Var(n) => {
                s.push(':');
                s.push_str(name(*n));
            }
            ToPiece::VarStar(n) => {
                s.push_str("/:");
                s.push_str(name(*n));
                s.push('*');
            }
        }
    }
    if matches!(spec.start, ToStart::Path) && !s.starts_with('/') {
        s.insert(0, '/');
    }
    s
}

fn text_map(pairs: &[(Text<'_>, Text<'_>)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.get().to_string(), Value::from(v.get())))
            .collect(),
    )
}

fn list(items: &[Text<'_>]) -> Value {
    Value::Array(items.iter().map(|t| Value::from(t.get())).collect())
}

fn conditions(c: &CondSpec<'_>, allow_capture: bool) -> Value {
    let mut m = Map::new();
    let mut query = text_map(&c.query);
    if let (true, Some((q, n))) = (allow_capture, c.capture) {
        query[q.get()] = Value::from(format!(":{}", name(n)));
    }
    if !query.as_object().is_some_and(Map::is_empty) {
        m.insert("query".into(), query);
    }
    if !c.header.is_empty() {
        m.insert("header".into(), text_map(&c.header));
    }
    if !c.cookie.is_empty() {
        m.insert("cookie".into(), text_map(&c.cookie));
    }
    for (key, items) in [
        ("country", &c.country),
        ("continent", &c.continent),
        ("language", &c.language),
    ] {
        if !items.is_empty() {
            m.insert(key.into(), list(items));
        }
    }
    Value::Object(m)
}

fn rule(i: usize, r: &RuleSpec<'_>) -> Value {
    let mut m = Map::new();
    if let Some(id) = r.id {
        m.insert("id".into(), Value::from(id.get()));
    } else {
        m.insert("id".into(), Value::from(format!("r{i}")));
    }
    m.insert("from".into(), Value::from(pattern(&r.from)));
    if r.path_to_regexp {
        m.insert("from_syntax".into(), Value::from("path-to-regexp"));
    }
    if let Some(h) = r.host {
        m.insert("host".into(), Value::from(h.get()));
    }
    if let Some(methods) = &r.methods {
        m.insert("methods".into(), list(methods));
    }
    if let Some(w) = &r.when {
        m.insert("when".into(), conditions(w, true));
    }
    if let Some(u) = &r.unless {
        m.insert("unless".into(), conditions(u, false));
    }
    match &r.action {
        ActionSpec::To(t) => {
            m.insert("to".into(), Value::from(target(t)));
        }
        ActionSpec::Split(cookie, variants) => {
            let mut s = Map::new();
            if let Some(c) = cookie {
                s.insert("cookie".into(), Value::from(c.get()));
            }
            let vs = variants
                .iter()
                .map(|v| {
                    json!({
                        "name": v.name.get(),
                        "weight": v.weight,
                        "to": v.to.as_ref().map(target),
                    })
                })
                .collect();
            s.insert("variants".into(), Value::Array(vs));
            m.insert("split".into(), Value::Object(s));
        }
        ActionSpec::Forward(t) => {
            m.insert("forward".into(), Value::from(true));
            if let Some(t) = t {
                m.insert("to".into(), Value::from(target(t)));
            }
        }
    }
    if let Some(s) = r.status {
        m.insert("status".into(), Value::from(s));
    }
    if let Some(p) = r.preserve_query {
        m.insert("preserve_query".into(), Value::from(p));
    }
    if !r.headers.is_empty() {
        m.insert("headers".into(), text_map(&r.headers));
    }
    if let Some(k) = r.stray {
        m.entry(k.get().to_string()).or_insert(Value::Null);
    }
    Value::Object(m)
}

fn bundle(b: &Bundle<'_>) -> Value {
    let mut settings = Map::new();
    for (key, v) in [
        ("preserve_query", b.preserve_query),
        ("case_sensitive", b.case_sensitive),
        ("debug_header", b.debug_header),
    ] {
        if let Some(v) = v {
            settings.insert(key.into(), Value::from(v));
        }
    }
    if let Some(strict) = b.strict_slash {
        let mode = if strict { "strict" } else { "ignore" };
        settings.insert("trailing_slash".into(), Value::from(mode));
    }
    if !b.allowed_hosts.is_empty() {
        settings.insert("allowed_hosts".into(), list(&b.allowed_hosts));
    }
    json!({
        "version": 1,
        "settings": settings,
        "rules": b.rules.iter().enumerate().map(|(i, r)| rule(i, r)).collect::<Vec<_>>(),
    })
}

/// A rejected bundle: errors carry a kind and a pointer into the bundle.
fn check_errors(value: Option<&Value>, errors: &edge_redirects::CompileErrors) {
    assert!(!errors.errors().is_empty(), "an error list is never empty");
    let _ = errors.to_string();
    let Some(value) = value else { return };
    for e in errors.errors() {
        if e.kind == ErrorKind::Syntax {
            continue;
        }
        // The pointer names the bad value, or an absent key of an object that is there.
        let parent = e.pointer.rsplit_once('/').map_or("", |(p, _)| p);
        assert!(
            value.pointer(&e.pointer).is_some() || value.pointer(parent).is_some(),
            "error {e} points at {:?}, which is not in the bundle",
            e.pointer
        );
    }
}

/// Requests aimed at each rule: its pattern with hostile values in the placeholders.
fn probe(engine: &Engine, values: &[Text<'_>], random: u64) {
    let mut texts: Vec<&str> = values.iter().map(|t| t.get()).collect();
    texts.extend([
        "x",
        "//evil.example",
        "%2F%2Fevil.example",
        "\\evil.example",
    ]);
    for rule in engine.rules().iter().take(16) {
        for (k, value) in texts.iter().enumerate().take(8) {
            let mut path = String::new();
            for seg in rule.segments() {
                path.push('/');
                match seg {
                    Segment::Literal(l) => path.push_str(l),
                    Segment::Param(_) | Segment::Splat(_) => path.push_str(value),
                    Segment::Shaped(_, shape) => {
                        path.push_str(shape.prefix());
                        path.push_str(value);
                        path.push_str(shape.suffix());
                    }
                    // A path-to-regexp source: its literal start, then the hostile value.
                    Segment::Regex(start, _) => {
                        path.push_str(start);
                        path.push_str(value);
                    }
                }
            }
            if path.is_empty() {
                path.push('/');
            }
            let host = match rule.host() {
                Some(h) => h.trim_start_matches("*.").to_string(),
                None => "example.com".to_string(),
            };
            let host = if rule.host().is_some_and(|h| h.starts_with("*.")) {
                format!("www.{host}")
            } else {
                host
            };
            let url = format!("https://{host}{path}?q={value}&sub={value}&path={value}&a={value}");
            let cookie = format!("beta=1; ab_{}={value}", rule.id());
            let headers = [
                ("cookie", cookie.as_str()),
                ("accept-language", "de-AT,de;q=0.9"),
                ("user-agent", *value),
            ];
            let method = ["GET", "POST", "HEAD", "PUT"][k % 4];
            let geo = Geo {
                country: Some("DE"),
                continent: Some("EU"),
                region: None,
                city: None,
                asn: None,
            };
            let random = random.wrapping_add(k as u64);
            invariants::assert_holds(engine, method, &url, &headers, geo, random);
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    match input {
        Input::Raw(bytes) => {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return;
            };
            match Engine::compile(text) {
                Ok(engine) => probe(&engine, &[], 0),
                Err(errors) => {
                    let value = serde_json::from_str::<Value>(text).ok();
                    check_errors(value.as_ref(), &errors);
                }
            }
        }
        Input::Structured(b) => {
            let value = bundle(&b);
            let text = value.to_string();
            let from_text = Engine::compile(&text);
            let from_value = Engine::from_value(&value);
            assert_eq!(
                from_text.is_ok(),
                from_value.is_ok(),
                "compile and from_value disagree on {text}"
            );
            match from_text {
                Ok(engine) => probe(&engine, &b.values, b.random),
                Err(errors) => check_errors(Some(&value), &errors),
            }
        }
    }
});
