//! `redirects import`: rules from other platforms turned into rules.json v1.
//!
//! Each converter is a pure function from text to [`Imported`]: the rules it could express and
//! a [`Problem`] for everything it could not (or could only approximate), with the input line.

mod check;
mod cloudflare;
mod netlify;
mod path_to_regexp;
mod vercel;

use crate::bundle::{read_text, CmdResult};
use crate::output::{plural, Paint};
use crate::Status;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use cloudflare::import_csv as import_cloudflare_csv;
pub use netlify::{import_redirects_file as import_netlify, import_toml as import_netlify_toml};
pub use vercel::{import_json as import_vercel, import_nextjs};

/// Input formats.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    /// `_redirects` or `netlify.toml`.
    Netlify,
    /// Cloudflare Bulk Redirects CSV.
    CloudflareCsv,
    /// `vercel.json` (or a bare `redirects` array), case-sensitive as on Vercel.
    Vercel,
    /// A Next.js `redirects()` array, case-insensitive as in Next.js.
    Nextjs,
}

/// A rules.json v1 document; fields serialise in the order people expect to read them.
#[derive(Debug, Default, Serialize)]
pub struct Bundle {
    /// Always 1.
    pub version: u32,
    /// Settings that differ from the defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    /// The rules, in the input's order.
    pub rules: Vec<Rule>,
}

/// The settings an import may need.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct Settings {
    /// Default for carrying the query string over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_query: Option<bool>,
    /// Whether path literals match case-sensitively (Next.js: not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_sensitive: Option<bool>,
    /// `"strict"` (Vercel) or `"remove"` (Next.js) when not the default `"ignore"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing_slash: Option<&'static str>,
    /// Hosts a target may reach through a placeholder in its host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
}

/// One rule.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Rule {
    /// Unique id naming the input's line or entry.
    pub id: String,
    /// Host restriction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Path pattern.
    pub from: String,
    /// `Some("path-to-regexp")`: `from` is a Vercel / Next.js source, read as they read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_syntax: Option<&'static str>,
    /// Method restriction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Conditions that must all hold.
    #[serde(skip_serializing_if = "Conditions::is_empty")]
    pub when: Conditions,
    /// Conditions of which none may hold.
    #[serde(skip_serializing_if = "Conditions::is_empty")]
    pub unless: Conditions,
    /// Target; `None` (written `null`) passes the request to the origin untouched and keeps
    /// later rules from it.
    pub to: Option<String>,
    /// Explicit status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Per-rule query handling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_query: Option<bool>,
}

/// `when` / `unless`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Conditions {
    /// Query parameter conditions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// Header conditions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub header: BTreeMap<String, String>,
    /// Cookie conditions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cookie: BTreeMap<String, String>,
    /// Countries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub country: Vec<String>,
    /// Languages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub language: Vec<String>,
}

impl Conditions {
    /// True when no condition is set.
    pub fn is_empty(&self) -> bool {
        self.query.is_empty()
            && self.header.is_empty()
            && self.cookie.is_empty()
            && self.country.is_empty()
            && self.language.is_empty()
    }
}

/// Something in the input that was not carried over exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the input, when known.
    pub line: Option<usize>,
    /// `true`: the rule was left out; `false`: it was imported with a documented difference.
    pub dropped: bool,
    /// What and why.
    pub message: String,
}

/// The result of an import.
#[derive(Debug, Default)]
pub struct Imported {
    /// The rules that could be expressed.
    pub bundle: Bundle,
    /// The input line of each rule in `bundle.rules`.
    pub lines: Vec<Option<usize>>,
    /// What could not be expressed, or only approximately.
    pub problems: Vec<Problem>,
    /// Each rule pushed, without its id, with that id: finds a repeated rule in one look-up
    /// (comparing each with every earlier one made an import quadratic: 10,000 lines took
    /// 13–21 s).
    seen: HashMap<Rule, String>,
}

impl Imported {
    pub(crate) fn new() -> Imported {
        Imported {
            bundle: Bundle {
                version: 1,
                ..Bundle::default()
            },
            lines: Vec::new(),
            problems: Vec::new(),
            seen: HashMap::new(),
        }
    }

    pub(crate) fn drop_rule(&mut self, line: Option<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            line,
            dropped: true,
            message: message.into(),
        });
    }

    pub(crate) fn note(&mut self, line: Option<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            line,
            dropped: false,
            message: message.into(),
        });
    }

    /// Adds a rule unless an identical one (apart from its id) is already there, which happens
    /// when the input differs only in what rules.json cannot express (such as the scheme).
    pub(crate) fn push(&mut self, line: Option<usize>, rule: Rule) {
        let key = Rule {
            id: String::new(),
            ..rule.clone()
        };
        if let Some(id) = self.seen.get(&key) {
            let note = format!("same rule as {id:?}; imported once");
            self.note(line, note);
            return;
        }
        self.seen.insert(key, rule.id.clone());
        self.bundle.rules.push(rule);
        self.lines.push(line);
    }

    /// What every format needs once its rules are in: hosts the targets reach through a
    /// placeholder allowed, then the bundle compiled, each rule the engine rejects refused with
    /// its line, so the output always passes `redirects validate`.
    pub fn finish(mut self) -> Imported {
        check::allow_placeholder_hosts(&mut self);
        check::compile(&mut self);
        self
    }

    /// The bundle as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.bundle).expect("a bundle always serialises")
    }
}

/// Runs the command.
pub fn run(format: Format, input: &Path) -> CmdResult {
    let text = read_text(input)?;
    let imported = match format {
        Format::Netlify => {
            let is_toml = input.extension().is_some_and(|e| e == "toml")
                || text.lines().any(|l| l.trim() == "[[redirects]]");
            if is_toml {
                import_netlify_toml(&text)?
            } else {
                import_netlify(&text)
            }
        }
        Format::CloudflareCsv => {
            import_cloudflare_csv(&text).map_err(|e| format!("{}: {e}", input.display()))?
        }
        Format::Vercel => import_vercel(&text)?,
        Format::Nextjs => import_nextjs(&text)?,
    };
    let mut imported = imported.finish();
    imported
        .problems
        .sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    println!("{}", imported.to_json());
    let paint = Paint::stderr();
    let name = input.display().to_string();
    for p in &imported.problems {
        let place = match p.line {
            Some(line) => format!("{name}:{line}"),
            None => name.clone(),
        };
        let label = if p.dropped {
            paint.red("not imported")
        } else {
            paint.yellow("note")
        };
        eprintln!("{place}: {label}: {}", p.message);
    }
    let dropped = imported.problems.iter().filter(|p| p.dropped).count();
    eprintln!(
        "{}: imported {}{}",
        name,
        plural(imported.bundle.rules.len(), "rule"),
        if dropped > 0 {
            format!(", {} not imported", plural(dropped, "rule"))
        } else {
            String::new()
        }
    );
    Ok(if dropped > 0 {
        Status::Findings
    } else {
        Status::Ok
    })
}

/// Placeholders a target uses that nothing in `captures` provides.
pub(crate) fn uncaptured(to: &str, captures: &[String]) -> Vec<String> {
    edge_redirects::placeholder_names(to)
        .into_iter()
        .filter(|p| !captures.iter().any(|c| c == p))
        .map(str::to_string)
        .collect()
}

/// The reason a target with a scheme other than `http` / `https` cannot be imported
/// (`itms-apps://...`, and `itms-apps:apps.apple.com/...` or `mailto:a@b.c` without `//`, whose
/// `:apps` would otherwise read as a placeholder); `None` for a path or an `http(s)` URL.
pub(crate) fn other_scheme(to: &str) -> Option<String> {
    let (scheme, _) = to.split_once(':')?;
    let mut chars = scheme.chars();
    let is_scheme = chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (is_scheme && !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https"))
        .then(|| {
            format!(
                "scheme `{scheme}` is not allowed in a redirect target (use `https://` (or \
                 `http://`)); redirect to an https page that links to it"
            )
        })
}

/// Splits `https://host/path?query` (scheme optional when `scheme_optional`) into
/// `(scheme, host, path, query)`; a bare path gives no host.
pub(crate) fn split_url(url: &str) -> (Option<&str>, Option<&str>, &str, Option<&str>) {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
            (Some(s), r)
        }
        _ => (None, url),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    if rest.starts_with('/') {
        return (scheme, None, rest, query);
    }
    match rest.find('/') {
        Some(i) => (scheme, Some(&rest[..i]), &rest[i..], query),
        None => (scheme, Some(rest), "/", query),
    }
}

/// Parses `a=1&b=2` into pairs (no percent-decoding: values are compared as written).
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}
