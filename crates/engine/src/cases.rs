//! The shared case format (`tests/fixtures/README.md`): a bundle, requests and the decisions
//! expected for them. One reader for every Rust runner: the engine's fixture tests and
//! `redirects test`.
//!
//! The reader is strict about names: an unknown key anywhere in a case is an error naming the
//! key and the case, so a typo cannot quietly turn a check off. It is lenient about shape where
//! a site's own case file benefits: a request may be just a URL (`"example.com/a"` gains
//! `https://`), `cookies` may be given as an object, and an expected `location` may be a path,
//! resolved against the request URL.

use crate::answer::Decision;
use crate::request::instant::parse_instant;
use crate::request::{random_from_fraction, RequestBuf};
use serde_json::{json, Map, Value};

/// A case file: an optional bundle and the cases to replay against it.
#[derive(Debug, Clone)]
pub struct CaseFile {
    /// The file's `description`, if it has one.
    pub description: Option<String>,
    /// Where the bundle comes from, if the file names one.
    pub bundle: Option<BundleSource>,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// The bundle a case file is replayed against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleSource {
    /// `bundle`: the bundle itself, as JSON text in the file's key order.
    Inline(String),
    /// `bundle_file`: a path as written; the runner decides what it is relative to.
    File(String),
}

/// One request and what the engine must decide for it.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's `name`, if it has one (see [`Case::label`]).
    pub name: Option<String>,
    /// The request to evaluate.
    pub request: RequestBuf,
    /// `needs_random`: the outcome depends on a fresh A/B assignment, so a runner that cannot
    /// control randomness skips the case, and one that can must not expect the same decision
    /// for other random bits.
    pub needs_random: bool,
    /// What the decision must look like.
    pub expect: Expectation,
}

pub use crate::answer::Outcome;

/// The checks of one case's `expect`; a field left out is not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectation {
    /// `outcome`.
    pub outcome: Option<Outcome>,
    /// `status`: the redirect's status (303 for a forward).
    pub status: Option<u16>,
    /// `location`, already resolved against the request URL; `Some(None)` expects none.
    pub location: Option<Option<String>>,
    /// `rule`: the deciding rule's id; `Some(None)` expects that no rule applied.
    pub rule: Option<Option<String>>,
    /// `headers`: lower-case name and the exact value (repeated headers joined with `, `).
    pub headers: Vec<(String, String)>,
    /// `absent_headers`: lower-case names that must not be present.
    pub absent_headers: Vec<String>,
    /// `body`: whether a redirect carries the HTML note.
    pub body: Option<bool>,
}

/// One expectation that did not hold, as JSON values (`null` for "none").
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// `outcome`, `status`, `location`, `rule`, `headers.<name>` or `body`.
    pub field: String,
    /// What the case expected.
    pub expected: Value,
    /// What the engine decided.
    pub actual: Value,
}

const FILE_KEYS: &[&str] = &["description", "bundle", "bundle_file", "cases"];
const CASE_KEYS: &[&str] = &["name", "request", "expect", "needs_random"];
const REQUEST_KEYS: &[&str] = &[
    "method", "url", "headers", "cookies", "cf", "random", "at", "ip", "asn",
];
const CF_KEYS: &[&str] = &["country", "continent", "regionCode", "city"];
const EXPECT_KEYS: &[&str] = &[
    "outcome",
    "status",
    "location",
    "rule",
    "headers",
    "absent_headers",
    "body",
];

impl CaseFile {
    /// Reads a case file: `{"cases": [...]}` (with optional `description` and one of `bundle` /
    /// `bundle_file`), or just the array of cases.
    pub fn parse(text: &str) -> Result<CaseFile, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        CaseFile::from_value(&doc)
    }

    /// [`CaseFile::parse`] for a document already read.
    pub fn from_value(doc: &Value) -> Result<CaseFile, String> {
        const SHAPE: &str = "expected {\"cases\": [...]} or an array of cases";
        let (top, cases) = match doc {
            Value::Array(cases) => (None, cases),
            Value::Object(top) => match top.get("cases") {
                Some(Value::Array(cases)) => (Some(top), cases),
                _ => return Err(SHAPE.into()),
            },
            _ => return Err(SHAPE.into()),
        };
        let mut file = CaseFile {
            description: None,
            bundle: None,
            cases: Vec::with_capacity(cases.len()),
        };
        if let Some(top) = top {
            only_keys(top, FILE_KEYS, "the file")?;
            file.description = match top.get("description") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err("description must be a string".into()),
            };
            file.bundle = match (top.get("bundle"), top.get("bundle_file")) {
                (None, None) => None,
                (Some(inline), None) => Some(BundleSource::Inline(inline.to_string())),
                (None, Some(Value::String(path))) => Some(BundleSource::File(path.clone())),
                (None, Some(_)) => return Err("bundle_file must be a string".into()),
                (Some(_), Some(_)) => return Err("give bundle or bundle_file, not both".into()),
            };
        }
        for (index, case) in cases.iter().enumerate() {
            file.cases.push(Case::from_value(index, case)?);
        }
        Ok(file)
    }
}

impl Case {
    /// Reads case number `index` of a file; errors name the case.
    pub fn from_value(index: usize, case: &Value) -> Result<Case, String> {
        let obj = case
            .as_object()
            .ok_or_else(|| format!("case #{index}: a case must be an object"))?;
        let name = match obj.get("name") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(format!("case #{index}: name must be a string")),
        };
        let which = match &name {
            Some(name) => format!("case #{index} {name:?}"),
            None => format!("case #{index}"),
        };
        let read = || -> Result<Case, String> {
            only_keys(obj, CASE_KEYS, "the case")?;
            let request = request(obj.get("request").ok_or("case has no request")?)?;
            let expect = obj
                .get("expect")
                .and_then(Value::as_object)
                .ok_or("case has no expect object")?;
            let needs_random = match obj.get("needs_random") {
                None => false,
                Some(v) => v.as_bool().ok_or("needs_random must be true or false")?,
            };
            Ok(Case {
                name: name.clone(),
                expect: Expectation::from_json(expect, &request.url)?,
                request,
                needs_random,
            })
        };
        read().map_err(|e| format!("{which}: {e}"))
    }

    /// The case's name, or `#index URL` for a case without one.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("#{index} {}", self.request.url),
        }
    }
}

/// Makes a URL absolute: `example.com/a` becomes `https://example.com/a`; a bare path is an
/// error because rules may depend on the host.
pub fn absolute_url(url: &str) -> Result<String, String> {
    if url.contains("://") {
        return Ok(url.to_string());
    }
    if url.starts_with('/') {
        return Err(format!(
            "URL {url:?} has no host; write it in full, e.g. https://example.com{url}"
        ));
    }
    Ok(format!("https://{url}"))
}

fn only_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "unknown key {key:?} in {what} ({})",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

fn strings<'v>(
    value: &'v Value,
    what: &str,
) -> Result<impl Iterator<Item = Result<(&'v String, &'v str), String>> + 'v, String> {
    let what = what.to_string();
    let obj = value
        .as_object()
        .ok_or_else(|| format!("{what} must be an object"))?;
    Ok(obj.iter().map(move |(name, value)| {
        let value = value
            .as_str()
            .ok_or_else(|| format!("{what}.{name} must be a string"))?;
        Ok((name, value))
    }))
}

/// A request: a URL string (a GET), or an object with `method`, `url`, `headers`, `cookies`,
/// `cf`, `random`, `at` (an RFC 3339 instant: the request's time; absent, the time is
/// unknown), `ip` (the platform's `CF-Connecting-IP`) and `asn` (`cf.asn`).
fn request(value: &Value) -> Result<RequestBuf, String> {
    if let Some(url) = value.as_str() {
        return Ok(RequestBuf::get(absolute_url(url)?));
    }
    let obj = value
        .as_object()
        .ok_or("request must be a URL string or an object")?;
    only_keys(obj, REQUEST_KEYS, "request")?;
    let url = obj
        .get("url")
        .and_then(Value::as_str)
        .ok_or("request.url must be a string")?;
    let mut req = RequestBuf::get(absolute_url(url)?);
    if let Some(m) = obj.get("method") {
        req.method = m.as_str().ok_or("request.method must be a string")?.into();
    }
    if let Some(h) = obj.get("headers") {
        for pair in strings(h, "request.headers")? {
            let (name, value) = pair?;
            req.headers.push((name.clone(), value.to_string()));
        }
    }
    if let Some(c) = obj.get("cookies") {
        let mut pairs = Vec::new();
        for pair in strings(c, "request.cookies")? {
            let (name, value) = pair?;
            pairs.push(format!("{name}={value}"));
        }
        if !pairs.is_empty() {
            req.headers.push(("cookie".to_string(), pairs.join("; ")));
        }
    }
    if let Some(cf) = obj.get("cf") {
        let cf = cf.as_object().ok_or("request.cf must be an object")?;
        only_keys(cf, CF_KEYS, "request.cf")?;
        let field = |k: &str| -> Result<Option<String>, String> {
            match cf.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("request.cf.{k} must be a string")),
            }
        };
        req.country = field("country")?;
        req.continent = field("continent")?;
        req.region = field("regionCode")?;
        req.city = field("city")?;
    }
    if let Some(r) = obj.get("random") {
        req.random = random_from_fraction(r.as_f64().ok_or("request.random must be a number")?);
    }
    if let Some(at) = obj.get("at") {
        let text = at
            .as_str()
            .ok_or("request.at must be an RFC 3339 instant")?;
        req.now = Some(parse_instant(text).map_err(|e| format!("request.at: {}", e.message))?);
    }
    if let Some(ip) = obj.get("ip") {
        req.ip = Some(
            ip.as_str()
                .ok_or("request.ip must be a string")?
                .to_string(),
        );
    }
    if let Some(asn) = obj.get("asn") {
        let asn = asn.as_u64().and_then(|n| u32::try_from(n).ok());
        req.asn = Some(asn.ok_or("request.asn must be a number from 0 to 4294967295")?);
    }
    Ok(req)
}

fn string_or_null(value: &Value, what: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(format!("{what} must be a string or null")),
    }
}

impl Expectation {
    /// Reads an `expect` object; a `location` that is a path is resolved against `url`.
    pub fn from_json(expect: &Map<String, Value>, url: &str) -> Result<Expectation, String> {
        only_keys(expect, EXPECT_KEYS, "expect")?;
        let mut x = Expectation::default();
        if let Some(o) = expect.get("outcome") {
            x.outcome = Some(match o.as_str() {
                Some("redirect") => Outcome::Redirect,
                Some("forward") => Outcome::Forward,
                Some("origin") => Outcome::Origin,
                _ => return Err("expect.outcome must be redirect, forward or origin".into()),
            });
        }
        if let Some(s) = expect.get("status") {
            let status = s.as_u64().and_then(|s| u16::try_from(s).ok());
            x.status = Some(status.ok_or("expect.status must be a status code")?);
        }
        if let Some(l) = expect.get("location") {
            let location = string_or_null(l, "expect.location")?;
            x.location = Some(
                location.map(|l| match l.starts_with('/') && !l.starts_with("//") {
                    true => resolve(url, &l),
                    false => l,
                }),
            );
        }
        if let Some(r) = expect.get("rule") {
            x.rule = Some(string_or_null(r, "expect.rule")?);
        }
        if let Some(h) = expect.get("headers") {
            for pair in strings(h, "expect.headers")? {
                let (name, value) = pair?;
                x.headers
                    .push((name.to_ascii_lowercase(), value.to_string()));
            }
        }
        if let Some(a) = expect.get("absent_headers") {
            let names = a
                .as_array()
                .ok_or("expect.absent_headers must be an array")?;
            for name in names {
                let name = name
                    .as_str()
                    .ok_or("expect.absent_headers must list strings")?;
                x.absent_headers.push(name.to_ascii_lowercase());
            }
        }
        if let Some(b) = expect.get("body") {
            x.body = Some(b.as_bool().ok_or("expect.body must be true or false")?);
        }
        Ok(x)
    }

    /// Every expectation `decision` does not meet, in the order of the format's keys.
    pub fn mismatches(&self, decision: &Decision<'_>) -> Vec<Mismatch> {
        let outcome = decision.outcome();
        let (status, location) = match decision {
            Decision::Redirect(r) => (Some(r.status), Some(r.location.as_str())),
            Decision::Forward(f) => (Some(303), f.location.as_deref()),
            Decision::Origin(_) => (None, None),
        };
        let headers = decision.headers();
        let header = |name: &str| -> Value {
            let values: Vec<&str> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|&(_, v)| v)
                .collect();
            match values.is_empty() {
                true => Value::Null,
                false => json!(values.join(", ")),
            }
        };
        let body = match decision {
            Decision::Redirect(r) => json!(r.has_body()),
            _ => Value::Null,
        };
        let mut out = Vec::new();
        let mut compare = |field: &str, expected: Value, actual: Value| {
            if expected != actual {
                out.push(Mismatch {
                    field: field.to_string(),
                    expected,
                    actual,
                });
            }
        };
        if let Some(o) = self.outcome {
            compare("outcome", json!(o.name()), json!(outcome.name()));
        }
        if let Some(s) = self.status {
            compare("status", json!(s), json!(status));
        }
        if let Some(r) = &self.rule {
            compare("rule", json!(r), json!(decision.rule()));
        }
        if let Some(l) = &self.location {
            compare("location", json!(l), json!(location));
        }
        for (name, value) in &self.headers {
            compare(&format!("headers.{name}"), json!(value), header(name));
        }
        for name in &self.absent_headers {
            compare(&format!("headers.{name}"), Value::Null, header(name));
        }
        if let Some(b) = self.body {
            compare("body", json!(b), body);
        }
        out
    }

    /// `Ok` when `decision` meets every expectation, else one line per mismatch.
    pub fn check(&self, decision: &Decision<'_>) -> Result<(), String> {
        let lines: Vec<String> = self
            .mismatches(decision)
            .iter()
            .map(|m| format!("{}: expected {}, got {}", m.field, m.expected, m.actual))
            .collect();
        match lines.is_empty() {
            true => Ok(()),
            false => Err(lines.join("\n")),
        }
    }
}

fn resolve(base: &str, path: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(path))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.to_string())
}
