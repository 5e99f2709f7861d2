//! Replays the shared fixture files under `tests/fixtures/` (format: `tests/fixtures/README.md`)
//! against the engine.
//!
//! One test per fixture file. Each test runs every case of its file and reports every failing
//! case by file and name, with what was expected and what the engine decided. The fixture files
//! themselves are read strictly: an unknown key in a case is a failure, so a typo cannot quietly
//! turn a check off. `every_fixture_file_is_replayed` keeps the list below in step with the
//! directories, and `case_counts` prints how many cases the suite runs.

use edge_redirects::artifact::{self, Options};
use edge_redirects::cases::{BundleSource, Case, CaseFile};
use edge_redirects::{random_from_fraction, CompileError, Decision, Engine};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

macro_rules! fixture_tests {
    ($kind:ident: $($name:ident),* $(,)?) => {
        mod $kind {
            $(
                #[test]
                fn $name() {
                    super::run_file(stringify!($kind), stringify!($name));
                }
            )*
            /// Every file of this directory, by stem.
            pub(super) const FILES: &[&str] = &[$(stringify!($name)),*];
        }
    };
}

fixture_tests!(decisions:
    case_insensitive,
    case_per_rule,
    case_per_rule_insensitive_bundle,
    case_sensitive,
    conditions_cookie,
    conditions_header,
    conditions_query,
    device,
    encoding,
    forward,
    geo,
    hostile,
    hosts,
    language,
    loop_guard,
    methods,
    networks,
    pass_to_origin,
    patterns,
    patterns_shaped,
    precedence,
    query,
    query_setting,
    responses,
    rules_json,
    settings,
    splat_trailing_slash,
    split,
    status,
    trailing_slash_exact,
    trailing_slash_ignore,
    trailing_slash_remove,
    trailing_slash_strict,
    windows,
);

fixture_tests!(errors:
    actions,
    conditions,
    hosts_methods_headers,
    ids_and_keys,
    patterns,
    placeholders,
    several_at_once,
    settings,
    split,
    status,
    syntax,
    targets,
    top_level,
    windows_networks,
);

/// Random fractions a case without `needs_random` is replayed with: its decision must not change.
const RANDOM_PROBES: [f64; 3] = [0.0, 0.4321, 0.999_999];

fn fixtures_dir() -> PathBuf {
    repo_root().join("tests/fixtures")
}

fn run_file(kind: &str, stem: &str) {
    let label = format!("{kind}/{stem}.json");
    let path = fixtures_dir().join(kind).join(format!("{stem}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{label}: cannot read {}: {e}", path.display()));
    let report = match kind {
        "decisions" => run_decision_file(&text),
        "errors" => run_error_file(&text),
        _ => unreachable!("unknown fixture kind {kind}"),
    };
    let report = report.unwrap_or_else(|e| panic!("{label}: malformed fixture file: {e}"));
    println!(
        "{label}: {} cases, {} failed",
        report.cases,
        report.failures.len()
    );
    if !report.failures.is_empty() {
        let mut msg = format!(
            "{label}: {} of {} cases failed\n",
            report.failures.len(),
            report.cases
        );
        for (name, why) in &report.failures {
            msg.push_str(&format!("\n--- {label} :: {name}\n{why}\n"));
        }
        panic!("{msg}");
    }
}

struct Report {
    cases: usize,
    failures: Vec<(String, String)>,
}

// ---------------------------------------------------------------------------------------------
// Reading fixture JSON strictly.

fn object<'v>(v: &'v Value, what: &str) -> Result<&'v Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} must be an object"))
}

fn only_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{what}: unknown key {k:?} (allowed: {allowed:?})")),
        None => Ok(()),
    }
}

fn string<'v>(obj: &'v Map<String, Value>, key: &str, what: &str) -> Result<&'v str, String> {
    obj.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: {key:?} must be a string"))
}

/// Case `i` as an object with only `allowed` keys, and its name, which must be unique in the file.
fn case_header<'v>(
    case: &'v Value,
    i: usize,
    allowed: &[&str],
    names: &mut BTreeSet<String>,
) -> Result<(&'v Map<String, Value>, String), String> {
    let what = format!("case {i}");
    let c = object(case, &what)?;
    only_keys(c, allowed, &what)?;
    let name = string(c, "name", &what)?.to_string();
    if !names.insert(name.clone()) {
        return Err(format!("two cases are named {name:?}"));
    }
    Ok((c, name))
}

/// Byte ranges of raw JSON values, so bundles reach the engine exactly as written in the fixture
/// (key order, and therefore the document order of errors, preserved).
#[path = "fixtures_raw.rs"]
mod raw;

// ---------------------------------------------------------------------------------------------
// Decisions: read by the engine's own case reader, with the rules this suite adds on top.

/// What the shared reader leaves to the runner: every fixture case has a unique name and an
/// outcome, and names its request headers in lower case.
fn suite_rules(case: &Case, names: &mut BTreeSet<String>) -> Result<(), String> {
    let name = case
        .name
        .as_deref()
        .ok_or("every fixture case needs a name")?;
    if !names.insert(name.to_string()) {
        return Err(format!("two cases are named {name:?}"));
    }
    if case.expect.outcome.is_none() {
        return Err(format!("case {name:?}: expect.outcome is required"));
    }
    if let Some((n, _)) = case
        .request
        .headers
        .iter()
        .find(|(n, _)| n.to_ascii_lowercase() != *n)
    {
        return Err(format!(
            "case {name:?}: request header name {n:?} must be lower-case"
        ));
    }
    Ok(())
}

fn describe(d: &Decision<'_>) -> String {
    let mut s = format!("  actual: {d:?}");
    for (n, v) in d.headers() {
        s.push_str(&format!("\n          {n}: {v:?}"));
    }
    s
}

/// What every decision must satisfy, whatever the fixture says.
fn check_invariants(d: &Decision<'_>, method: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (n, v) in d.headers() {
        if n.is_empty() || n.bytes().any(|c| !c.is_ascii_graphic() || c == b':') {
            bad.push(format!("invariant: header name {n:?} is not a token"));
        }
        if v.bytes().any(|c| c == b'\r' || c == b'\n' || c == 0) {
            bad.push(format!(
                "invariant: header {n} value {v:?} contains CR, LF or NUL"
            ));
        }
    }
    let location = match d {
        Decision::Redirect(r) => {
            match r.headers().next() {
                Some((n, v)) if n.eq_ignore_ascii_case("location") && v == r.location => {}
                first => bad.push(format!(
                    "invariant: first header must be Location: {:?}, got {first:?}",
                    r.location
                )),
            }
            let head = method.eq_ignore_ascii_case("HEAD");
            if r.has_body() == head || r.body().is_some() == head {
                bad.push(format!(
                    "invariant: body must be present exactly when the method is not HEAD (method {method})"
                ));
            }
            Some(r.location.as_str())
        }
        Decision::Forward(f) => f.location.as_deref(),
        Decision::Origin(_) => None,
    };
    if let Some(loc) = location {
        if loc.bytes().any(|c| !c.is_ascii_graphic()) {
            bad.push(format!(
                "invariant: Location {loc:?} has a control, space or non-ASCII byte"
            ));
        }
        match url::Url::parse(loc) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            _ => bad.push(format!(
                "invariant: Location {loc:?} is not an absolute http(s) URL"
            )),
        }
    }
    bad
}

fn run_decision_file(text: &str) -> Result<Report, String> {
    let file = CaseFile::parse(text)?;
    if file.description.is_none() {
        return Err("the file needs a description".into());
    }
    let bundle_text = match file.bundle {
        Some(BundleSource::Inline(text)) => text,
        Some(BundleSource::File(f)) => {
            let p = repo_root().join(&f);
            std::fs::read_to_string(&p).map_err(|e| format!("bundle_file {f}: {e}"))?
        }
        None => return Err("one of bundle / bundle_file (a path) is required".into()),
    };
    let engine = Engine::compile(&bundle_text);
    // The same bundle as an artifact of one-rule parts: every case must be decided the same.
    let parts = Options {
        part_rules: 1,
        ..Default::default()
    };
    let loaded = engine.as_ref().ok().map(|_| {
        let bytes = artifact::build_with(&bundle_text, parts).expect("a valid bundle builds");
        Engine::load(bytes).expect("a built artifact loads")
    });
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for case in &file.cases {
        suite_rules(case, &mut names)?;
        let name = case.label(0);
        let engine = match &engine {
            Ok(engine) => engine,
            Err(errors) => {
                failures.push((name, format!("  the bundle does not compile:\n{errors}")));
                continue;
            }
        };
        let request = &case.request;
        let decision = request.with(|r| engine.evaluate(r));
        let mut bad: Vec<String> = case.expect.check(&decision).err().into_iter().collect();
        if let Some(loaded) = &loaded {
            let from_artifact = request.with(|r| loaded.explain(r));
            if from_artifact != request.with(|r| engine.explain(r)) {
                bad.push(format!(
                    "the artifact decides otherwise:\n{}",
                    describe(&from_artifact.decision)
                ));
            }
        }
        bad.extend(check_invariants(&decision, &request.method));
        if !case.needs_random {
            for probe in RANDOM_PROBES {
                let other = request.clone().random(random_from_fraction(probe));
                if other.with(|r| engine.evaluate(r)) != decision {
                    bad.push(format!(
                        "the decision changes with random={probe}; a case whose outcome depends \
                         on a fresh A/B assignment must set \"needs_random\": true"
                    ));
                    break;
                }
            }
        }
        if !bad.is_empty() {
            let mut why = format!("  request: {} {}\n", request.method, request.url);
            for b in bad {
                for line in b.lines() {
                    why.push_str(&format!("  {line}\n"));
                }
            }
            why.push_str(&describe(&decision));
            failures.push((name, why));
        }
    }
    Ok(Report {
        cases: file.cases.len(),
        failures,
    })
}

// ---------------------------------------------------------------------------------------------
// Errors.

struct ExpectedError {
    kind: String,
    pointer: String,
    rule: Option<String>,
    message_contains: String,
    line: Option<u64>,
    column: Option<u64>,
}

impl ExpectedError {
    fn parse(v: &Value) -> Result<Self, String> {
        let o = object(v, "error")?;
        only_keys(
            o,
            &[
                "kind",
                "pointer",
                "rule",
                "message_contains",
                "line",
                "column",
            ],
            "error",
        )?;
        let rule = match o.get("rule") {
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            _ => return Err("error.rule must be a string or null".into()),
        };
        let number = |k: &str| match o.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or(format!("error.{k} must be a number")),
        };
        Ok(ExpectedError {
            kind: string(o, "kind", "error")?.to_string(),
            pointer: string(o, "pointer", "error")?.to_string(),
            rule,
            message_contains: string(o, "message_contains", "error")?.to_string(),
            line: number("line")?,
            column: number("column")?,
        })
    }

    fn matches(&self, e: &CompileError) -> bool {
        format!("{:?}", e.kind) == self.kind
            && e.pointer == self.pointer
            && e.rule_id == self.rule
            && e.message.contains(&self.message_contains)
            && self.line.is_none_or(|l| e.line == Some(l as usize))
            && self.column.is_none_or(|c| e.column == Some(c as usize))
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "{} at {:?} rule={:?} message contains {:?}",
            self.kind, self.pointer, self.rule, self.message_contains
        );
        if let (Some(l), Some(c)) = (self.line, self.column) {
            s.push_str(&format!(" line {l} column {c}"));
        }
        s
    }
}

fn describe_error(e: &CompileError) -> String {
    let mut s = format!(
        "{:?} at {:?} rule={:?} message={:?}",
        e.kind, e.pointer, e.rule_id, e.message
    );
    if let (Some(l), Some(c)) = (e.line, e.column) {
        s.push_str(&format!(" line {l} column {c}"));
    }
    s
}

/// What every compile error must satisfy: a message, a hint, and a rule index that agrees with
/// the pointer.
fn error_invariants(e: &CompileError) -> Vec<String> {
    let mut bad = Vec::new();
    if e.message.is_empty() {
        bad.push(format!("invariant: empty message in {}", describe_error(e)));
    }
    if e.hint.is_empty() && e.kind != edge_redirects::ErrorKind::Syntax {
        bad.push(format!("invariant: empty hint in {}", describe_error(e)));
    }
    let index = e
        .pointer
        .strip_prefix("/rules/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|n| n.parse::<usize>().ok());
    if e.rule_index != index {
        bad.push(format!(
            "invariant: rule_index {:?} disagrees with pointer {:?}",
            e.rule_index, e.pointer
        ));
    }
    if e.rule_index.is_none() && e.rule_id.is_some() {
        bad.push(format!(
            "invariant: rule id without rule index in {}",
            describe_error(e)
        ));
    }
    bad
}

fn run_error_file(text: &str) -> Result<Report, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let top = object(&file, "file")?;
    only_keys(top, &["description", "cases"], "file")?;
    string(top, "description", "file")?;
    let cases = top
        .get("cases")
        .and_then(Value::as_array)
        .ok_or("cases must be a list")?;
    let (_, cases_start) = raw::member(text, 0, "cases").unwrap();
    let raw_cases = raw::items(text, cases_start);
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for (i, (case, range)) in cases.iter().zip(raw_cases).enumerate() {
        let (c, name) = case_header(
            case,
            i,
            &["name", "bundle", "bundle_text", "errors"],
            &mut names,
        )?;
        let bundle = match (c.get("bundle"), c.get("bundle_text")) {
            (Some(_), None) => raw::member(text, range.start, "bundle")
                .unwrap()
                .0
                .to_string(),
            (None, Some(Value::String(s))) => s.clone(),
            _ => {
                return Err(format!(
                    "case {name:?}: exactly one of bundle / bundle_text (a string)"
                ))
            }
        };
        let expected = c
            .get("errors")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("case {name:?}: errors must be a list"))?
            .iter()
            .map(ExpectedError::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("case {name:?}: {e}"))?;
        if expected.is_empty() {
            return Err(format!("case {name:?}: errors must not be empty"));
        }
        let actual = match Engine::compile(&bundle) {
            Ok(_) => {
                failures.push((
                    name,
                    "  the bundle compiled; expected it to be rejected".into(),
                ));
                continue;
            }
            Err(errors) => errors.into_errors(),
        };
        let mut bad: Vec<String> = actual.iter().flat_map(error_invariants).collect();
        let same = expected.len() == actual.len()
            && expected.iter().zip(&actual).all(|(x, a)| x.matches(a));
        if !same {
            bad.push("errors differ".into());
        }
        if !bad.is_empty() {
            let mut why = String::new();
            for b in bad {
                why.push_str(&format!("  {b}\n"));
            }
            why.push_str("  expected:\n");
            for x in &expected {
                why.push_str(&format!("    {}\n", x.describe()));
            }
            why.push_str("  actual:\n");
            for a in &actual {
                why.push_str(&format!("    {}\n", describe_error(a)));
            }
            failures.push((name, why));
        }
    }
    Ok(Report {
        cases: cases.len(),
        failures,
    })
}

// ---------------------------------------------------------------------------------------------
// The suite as a whole.

fn stems(kind: &str) -> BTreeSet<String> {
    std::fs::read_dir(fixtures_dir().join(kind))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "json").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect()
}

#[test]
fn every_fixture_file_is_replayed() {
    for (kind, listed) in [("decisions", decisions::FILES), ("errors", errors::FILES)] {
        let listed: BTreeSet<String> = listed.iter().map(|s| s.to_string()).collect();
        let on_disk = stems(kind);
        assert_eq!(
            listed, on_disk,
            "tests/fixtures.rs must list every file of tests/fixtures/{kind}/ and nothing else"
        );
    }
}

#[test]
fn case_counts() {
    let mut total = 0;
    for (kind, minimum) in [("decisions", 200), ("errors", 40)] {
        let mut count = 0;
        for stem in stems(kind) {
            let text =
                std::fs::read_to_string(fixtures_dir().join(kind).join(format!("{stem}.json")))
                    .unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            count += v["cases"].as_array().map_or(0, Vec::len);
        }
        println!("{kind}: {count} fixture cases");
        assert!(
            count >= minimum,
            "{kind}: only {count} cases, the suite promises {minimum}"
        );
        total += count;
    }
    println!("total: {total} fixture cases");
}

/// The repository root, two levels above the engine crate that runs these tests.
fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
