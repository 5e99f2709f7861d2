//! `redirects suggest`: rules for the paths the origin answers 404 that closely match a live
//! page, as a rules.json fragment with a confidence for each. Nothing is applied: the
//! fragment is printed for a person to review and copy.
//!
//! Inputs: the 404 paths (the JSON of `redirects stats --json`, a CSV whose first column is
//! the path and whose second, optional, is the hit count, or a text file with one path or URL
//! a line) and the live URLs (a `sitemap.xml`, or a text file with one URL or path a line).

mod site;

use crate::bundle::{read_text, CmdResult};
use crate::Status;
use edge_redirects::limits::MAX_TEXT_BYTES;
use edge_redirects::{Engine, Segment};
use serde_json::{json, Value};
use site::Site;
use std::path::PathBuf;

/// Arguments of `redirects suggest`.
#[derive(clap::Args)]
pub struct Args {
    /// The 404 paths: `redirects stats --json` output, a CSV (path[,hits]) or a text list;
    /// `-` reads stdin.
    not_found: PathBuf,
    /// The site's live URLs: a sitemap.xml or a text list.
    live: PathBuf,
    /// Leave out suggestions less sure than this (0 to 1).
    #[arg(long, default_value_t = 0.5)]
    min_confidence: f64,
}

/// One path the origin answered 404, and how often.
struct Gone {
    path: String,
    hits: Option<u64>,
}

/// Runs the command.
pub fn run(args: &Args) -> CmdResult {
    let gone = read_not_found(&read_text(&args.not_found)?)
        .map_err(|e| format!("{}: {e}", args.not_found.display()))?;
    let live_text = read_text(&args.live)?;
    let live = read_live(&live_text).map_err(|e| format!("{}: {e}", args.live.display()))?;
    let site = Site::new(
        live.iter()
            .map(String::as_str)
            .filter(|path| fits("live URL", path))
            .collect(),
    );

    let mut rules = Vec::new();
    let mut notes = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for g in &gone {
        if !fits("404 path", &g.path) || site.is_live(&g.path) {
            continue; // too long for a rule, or listed as live: nothing to redirect
        }
        let Some(found) = site.best(&g.path) else {
            continue;
        };
        if found.confidence < args.min_confidence {
            continue;
        }
        let id = unique_id(&g.path, &mut ids);
        let from = exact_pattern(&g.path);
        rules.push(json!({ "id": id, "from": from, "to": found.target }));
        notes.push(json!({
            "rule": id, "confidence": found.confidence, "reason": found.reason, "hits": g.hits,
        }));
    }
    let (rules, notes) = keep_valid(rules, notes);
    for (rule, note) in rules.iter().zip(&notes) {
        eprintln!(
            "suggest: {} -> {} ({:.2}: {})",
            rule["from"].as_str().unwrap_or_default(),
            rule["to"].as_str().unwrap_or_default(),
            note["confidence"].as_f64().unwrap_or_default(),
            note["reason"].as_str().unwrap_or_default()
        );
    }
    eprintln!(
        "suggest: {} rules proposed for {} 404 paths; nothing applied: review them, then copy the ones you want into rules.json",
        rules.len(),
        gone.len()
    );
    let out = json!({ "rules": rules, "suggestions": notes });
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    Ok(Status::Ok)
}

/// Whether a path is short enough to be matched: a rule's `from` or `to` holds at most
/// [`MAX_TEXT_BYTES`], so a longer one could never make a rule, and is skipped (said on
/// stderr) before any work on it.
fn fits(what: &str, path: &str) -> bool {
    if path.len() <= MAX_TEXT_BYTES {
        return true;
    }
    let mut shown = 60;
    while !path.is_char_boundary(shown) {
        shown -= 1;
    }
    eprintln!(
        "suggest: skipped {what} {}… ({} bytes): paths over {MAX_TEXT_BYTES} bytes cannot make a rule",
        &path[..shown],
        path.len()
    );
    false
}

/// The path seen as a `from` that matches exactly it: every character the pattern syntax
/// gives a meaning to (`:name`, `*`, `{:name}`, `(constraint)`) percent-encoded. A literal
/// segment matches the request's segment percent-decoded, so `/%3Aricing` matches the
/// `/:ricing` a visitor asked for, and never `/login` as `/:ricing` would.
fn exact_pattern(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ':' | '*' | '{' | '}' | '(' | ')' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Only the rules that compile and match nothing but the path seen: each one left out is named
/// on stderr (a path with a query, a fragment or too many segments makes no rule).
fn keep_valid(mut rules: Vec<Value>, mut notes: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
    loop {
        let bundle = json!({ "version": 1, "rules": rules });
        let mut bad = std::collections::BTreeSet::new();
        match Engine::from_value(&bundle) {
            Ok(engine) => {
                // Defence in depth: a `from` with a placeholder would match other paths too.
                for rule in engine.rules() {
                    if !rule.segments().all(|s| matches!(s, Segment::Literal(_))) {
                        eprintln!(
                            "suggest: left out: {:?} cannot be written as a pattern matching that path alone",
                            rule.from()
                        );
                        bad.insert(rule.index());
                    }
                }
            }
            Err(errors) => {
                for e in errors.errors() {
                    let from = e.rule_index.and_then(|i| rules.get(i)).map(|r| &r["from"]);
                    match from {
                        Some(from) => eprintln!("suggest: left out {from}: {}", e.message),
                        None => eprintln!("suggest: left out: {}", e.message),
                    }
                    bad.extend(e.rule_index);
                }
            }
        }
        if bad.is_empty() {
            return (rules, notes);
        }
        (rules, notes) = rules
            .into_iter()
            .zip(notes)
            .enumerate()
            .filter(|(i, _)| !bad.contains(i))
            .map(|(_, pair)| pair)
            .unzip();
    }
}

/// `suggest-<path as letters, digits and dashes>`, made unique.
fn unique_id(path: &str, ids: &mut std::collections::HashSet<String>) -> String {
    let mut base = String::from("suggest");
    for part in path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        base.push('-');
        base.push_str(&part.to_ascii_lowercase());
    }
    base.truncate(120);
    let mut id = base.clone();
    let mut n = 2;
    while !ids.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// The 404 paths of a file: `stats --json` output, a JSON array, CSV or text.
fn read_not_found(text: &str) -> Result<Vec<Gone>, String> {
    let mut out = Vec::new();
    if text.trim_start().starts_with(['{', '[']) {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let list = value
            .get("not_found")
            .or(Some(&value))
            .and_then(Value::as_array)
            .ok_or("JSON input must be `redirects stats --json` output or an array of paths")?;
        for item in list {
            let (path, hits) = match item {
                Value::String(p) => (p.as_str(), None),
                _ => (
                    item["path"].as_str().ok_or("an entry without a `path`")?,
                    item["hits"].as_u64(),
                ),
            };
            out.extend(path_of(path).map(|path| Gone { path, hits }));
        }
        return Ok(out);
    }
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split(',').map(|f| f.trim().trim_matches('"'));
        let first = fields.next().unwrap_or_default();
        let hits = fields.next().and_then(|h| h.parse().ok());
        match path_of(first) {
            Some(path) => out.push(Gone { path, hits }),
            None if n == 0 => {} // a CSV header row
            None => return Err(format!("line {}: {first:?} is not a path or URL", n + 1)),
        }
    }
    Ok(out)
}

/// The live URLs of a sitemap.xml (`<loc>` entries) or a text list, as paths (with query).
fn read_live(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    if text.contains("<sitemapindex") {
        return Err("a sitemap index: give one of the sitemaps it lists".to_string());
    }
    if text.contains("<loc>") {
        for piece in text.split("<loc>").skip(1) {
            let loc = piece.split("</loc>").next().unwrap_or_default();
            let loc = xml_unescape(loc.trim());
            out.extend(path_of(&loc));
        }
        return Ok(out);
    }
    for line in text.lines().map(str::trim) {
        if !line.is_empty() && !line.starts_with('#') {
            out.push(path_of(line).ok_or_else(|| format!("{line:?} is not a path or URL"))?);
        }
    }
    Ok(out)
}

/// The path of a URL or path, with its query for a live URL; `None` if it is neither.
fn path_of(text: &str) -> Option<String> {
    if text.starts_with('/') {
        return Some(text.split('#').next().unwrap_or(text).to_string());
    }
    let url = url::Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    Some(path)
}

/// The five XML entities a `<loc>` may contain.
fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}
