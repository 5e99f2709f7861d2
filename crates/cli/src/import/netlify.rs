//! Netlify `_redirects` files and `[[redirects]]` tables of `netlify.toml`.
//!
//! Semantics carried over: `:placeholders` and a trailing `*` (`:splat` in the target), a `*`
//! elsewhere in path-to-regexp syntax with Netlify's meaning ([`star_source`]), query
//! matching (`id=:id` captures, `id=1` exact), `Country=` / `Language=` / `Cookie=` conditions,
//! status codes (301 when absent). Netlify applies a rule without `!` only when no file exists at
//! the path; the edge cannot see the origin's files, so every imported rule applies as if forced.

use super::{other_scheme, split_url, uncaptured, Imported, Rule};
use serde_json::Value;

/// One redirect as Netlify describes it, from either file format.
struct Entry {
    line: usize,
    from: String,
    to: String,
    status: Option<String>,
    force: bool,
    query: Vec<(String, String)>,
    conditions: Vec<(String, Vec<String>)>,
    has_headers: bool,
}

/// Converts a `_redirects` file.
pub fn import_redirects_file(text: &str) -> Imported {
    let mut imported = Imported::new();
    let mut unforced = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(at) => &raw[..at],
            None => raw,
        };
        let tokens: Vec<&str> = content.split_whitespace().collect();
        if tokens.is_empty() || tokens[0].starts_with('#') {
            continue;
        }
        let Some(entry) = parse_line(line, &tokens, &mut imported) else {
            continue;
        };
        if convert(&entry, &mut imported) && !entry.force {
            unforced += 1;
        }
    }
    note_unforced(unforced, &mut imported);
    imported
}

fn parse_line(line: usize, tokens: &[&str], imported: &mut Imported) -> Option<Entry> {
    let from = tokens[0].to_string();
    let mut rest = &tokens[1..];
    let mut query = Vec::new();
    while let Some(tok) = rest.first() {
        if is_target(tok) {
            break;
        }
        if let Some(message) = other_scheme(tok).filter(|_| !tok.contains('=')) {
            imported.drop_rule(Some(line), format!("{from}: {message}"));
            return None;
        }
        match tok.split_once('=') {
            Some((k, v)) => query.push((k.to_string(), v.to_string())),
            None => {
                imported.drop_rule(
                    Some(line),
                    format!("{tok:?} is neither a query condition (key=value) nor a target"),
                );
                return None;
            }
        }
        rest = &rest[1..];
    }
    let Some((to, rest)) = rest.split_first() else {
        imported.drop_rule(Some(line), format!("rule for {from} has no target"));
        return None;
    };
    let mut rest = rest;
    let mut status = None;
    let mut force = false;
    if let Some(tok) = rest.first() {
        let code = tok.trim_end_matches('!');
        if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) {
            status = Some(code.to_string());
            force = tok.ends_with('!');
            rest = &rest[1..];
        }
    }
    let mut conditions = Vec::new();
    for tok in rest {
        match tok.split_once('=') {
            Some((k, v)) => conditions.push((
                k.to_string(),
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            )),
            None => {
                imported.drop_rule(Some(line), format!("cannot read {tok:?} after the status"));
                return None;
            }
        }
    }
    Some(Entry {
        line,
        from,
        to: to.to_string(),
        status,
        force,
        query,
        conditions,
        has_headers: false,
    })
}

fn is_target(token: &str) -> bool {
    token.starts_with('/')
        || token.starts_with("http://")
        || token.starts_with("https://")
        || token.starts_with("//")
}

/// Converts the `[[redirects]]` tables of a `netlify.toml`.
pub fn import_toml(text: &str) -> Result<Imported, String> {
    let doc: Value = toml::from_str(text).map_err(|e| format!("netlify.toml: {e}"))?;
    let mut imported = Imported::new();
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[redirects]]")
        .map(|(i, _)| i + 1)
        .collect();
    let Some(entries) = doc.get("redirects").and_then(Value::as_array) else {
        imported.note(None, "no [[redirects]] tables found");
        return Ok(imported);
    };
    let mut unforced = 0;
    for (n, table) in entries.iter().enumerate() {
        let line = lines.get(n).copied().unwrap_or(0);
        let get = |k: &str| table.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(from), Some(to)) = (get("from"), get("to")) else {
            imported.drop_rule(Some(line), "[[redirects]] needs both from and to");
            continue;
        };
        let status = table.get("status").map(|s| match s {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let force = table.get("force").and_then(Value::as_bool).unwrap_or(false);
        let mut query = Vec::new();
        if let Some(q) = table.get("query").and_then(Value::as_object) {
            for (k, v) in q {
                query.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
            }
        }
        let mut conditions = Vec::new();
        if let Some(c) = table.get("conditions").and_then(Value::as_object) {
            for (k, v) in c {
                let values = match v {
                    Value::Array(items) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    Value::String(s) => s.split(',').map(str::to_string).collect(),
                    _ => Vec::new(),
                };
                conditions.push((k.clone(), values));
            }
        }
        if let Some(signed) = table.get("signed") {
            // `signed = "API_SIGNATURE_TOKEN"` names the environment variable holding the
            // secret Netlify signs the proxied request with: a value, not a condition to test.
            let name = match signed {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            conditions.push(("Signed".to_string(), vec![name]));
        }
        let entry = Entry {
            line,
            from,
            to,
            status,
            force,
            query,
            conditions,
            has_headers: table.get("headers").is_some(),
        };
        if convert(&entry, &mut imported) && !entry.force {
            unforced += 1;
        }
    }
    note_unforced(unforced, &mut imported);
    Ok(imported)
}

fn note_unforced(count: usize, imported: &mut Imported) {
    if count > 0 {
        imported.note(
            None,
            format!(
                "{count} rule(s) without `!`/force: Netlify skips such a rule when a file exists at \
                 its path; the edge cannot see the origin's files, so they always apply"
            ),
        );
    }
}

/// What an entry does on Netlify, as far as the edge can carry it.
enum Kind {
    /// A redirect with this status.
    Redirect(u16),
    /// A rewrite or proxy (200): the origin answers; a `"to": null` rule keeps its place.
    Pass,
    /// A page status (404, 410, ...): refused, but a `"to": null` rule keeps its place so that
    /// no later rule takes its requests.
    Page(String),
}

/// Converts one entry; false when it was not imported.
fn convert(entry: &Entry, imported: &mut Imported) -> bool {
    let line = Some(entry.line);
    let kind = match entry.status.as_deref() {
        None => Kind::Redirect(301),
        Some(s) => match s.parse::<u16>() {
            Ok(code @ (301 | 302 | 303 | 307 | 308)) => Kind::Redirect(code),
            Ok(200) => Kind::Pass,
            _ => Kind::Page(s.to_string()),
        },
    };
    let (scheme, host, path, from_query) = split_url(&entry.from);
    if from_query.is_some() {
        imported.drop_rule(
            line,
            format!(
                "{}: a query string in the source is not Netlify syntax; write it as key=value \
                 after the path",
                entry.from
            ),
        );
        return false;
    }
    let mut rule = Rule {
        id: format!("netlify-{}", entry.line),
        host: host.map(|h| h.to_ascii_lowercase()),
        status: match kind {
            Kind::Redirect(code) => Some(code),
            _ => None,
        },
        ..Rule::default()
    };
    if scheme.is_some() {
        imported.note(
            line,
            format!(
                "{}: rules.json matches hosts, not schemes; the rule applies to http and https",
                entry.from
            ),
        );
    }
    let mut path = path;
    if path.len() > 1 && path.ends_with("//") {
        // Netlify's matcher reads `/a//` as `/a` (with or without its trailing slash); as
        // written the pattern would never match.
        let trimmed = path.trim_end_matches('/');
        let single = if trimmed.is_empty() { "/" } else { trimmed };
        imported.note(
            line,
            format!(
                "{}: a source ending in `//` matches on Netlify as {single}; imported as {single}",
                entry.from
            ),
        );
        path = single;
    }
    let mut captures = Vec::new();
    let mut segments = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    let beyond_segments = parts
        .iter()
        .enumerate()
        .any(|(i, seg)| seg.contains('*') && (*seg != "*" || i + 1 != parts.len()));
    if beyond_segments {
        match star_source(&parts) {
            Ok((source, names)) => {
                rule.from = source;
                rule.from_syntax = Some("path-to-regexp");
                captures = names;
            }
            Err(why) => {
                imported.drop_rule(line, format!("{}: {why}", entry.from));
                return false;
            }
        }
    }
    for seg in parts.iter().filter(|_| !beyond_segments) {
        if *seg == "*" {
            // The last segment (any other `*` made the source path-to-regexp syntax).
            captures.push("splat".to_string());
            segments.push("*".to_string());
        } else if let Some(name) = seg.strip_prefix(':').filter(|n| is_name(n)) {
            captures.push(name.to_string());
            segments.push(seg.to_string());
        } else if seg.contains(':') {
            imported.drop_rule(line, format!("{}: {}", entry.from, placeholder_quirk(seg)));
            return false;
        } else {
            segments.push(seg.to_string());
        }
    }
    if !beyond_segments {
        rule.from = format!("/{}", segments.join("/"));
    }
    for (key, value) in &entry.query {
        if let Some(name) = value.strip_prefix(':') {
            captures.push(name.to_string());
        }
        rule.when.query.insert(key.clone(), value.clone());
    }
    if split_url(&entry.to).3.is_some() {
        // Netlify passes the request's query on, unless the target has its own.
        rule.preserve_query = Some(false);
    }
    let mut cookie_names = Vec::new();
    let mut role = None;
    let mut signed = false;
    for (key, values) in &entry.conditions {
        if values.is_empty() {
            imported.drop_rule(
                line,
                format!(
                    "{}: {key}= has no value, so the rule would apply to every visitor",
                    entry.from
                ),
            );
            return false;
        }
        match key.to_ascii_lowercase().as_str() {
            "country" => {
                rule.when.country = values.iter().map(|v| v.to_ascii_uppercase()).collect()
            }
            "language" => {
                let mut langs: Vec<String> = Vec::new();
                for v in values {
                    let primary = v.split(['-', '_']).next().unwrap_or(v).to_ascii_lowercase();
                    if primary != v.to_ascii_lowercase() {
                        imported.note(
                            line,
                            format!("Language={v}: rules.json compares primary subtags; matches any {primary}"),
                        );
                    }
                    if !langs.contains(&primary) {
                        langs.push(primary);
                    }
                }
                rule.when.language = langs;
            }
            "cookie" => cookie_names = values.clone(),
            "role" => role = Some(values.join(",")),
            "signed" => signed = true,
            other => {
                imported.drop_rule(line, format!("{}: unknown condition {other:?}", entry.from));
                return false;
            }
        }
    }
    if entry.has_headers {
        imported.note(
            line,
            format!(
                "{}: headers apply to Netlify proxies only; not carried over",
                entry.from
            ),
        );
    }
    if !matches!(kind, Kind::Redirect(_)) || signed {
        return hold_place(
            entry,
            &kind,
            role.as_deref(),
            signed,
            rule,
            cookie_names,
            imported,
        );
    }
    if let Some(roles) = role {
        imported.drop_rule(
            line,
            format!(
                "{}: Role={roles} redirects only visitors whose Netlify Identity JWT has the \
                 role, which the edge does not verify",
                entry.from
            ),
        );
        return false;
    }
    if let Some(message) = other_scheme(&entry.to) {
        imported.drop_rule(line, format!("{}: {message}", entry.from));
        return false;
    }
    let unknown = uncaptured(&entry.to, &captures);
    if !unknown.is_empty() {
        imported.drop_rule(
            line,
            format!(
                "{} → {}: target uses :{} which the source does not capture",
                entry.from,
                entry.to,
                unknown.join(", :")
            ),
        );
        return false;
    }
    rule.to = Some(entry.to.clone());
    push_per_cookie(entry, rule, cookie_names, imported);
    true
}

/// Whether `name` is a whole placeholder name (letters, digits, `_`).
fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why a segment with a placeholder and text beside it is not imported.
fn placeholder_quirk(seg: &str) -> String {
    format!(
        "segment {seg:?} has a placeholder with text beside it, which Netlify's engine reads as \
         a quirk (`/p-:id` never matches; `/:id.html` matches any segment and leaves `:id` \
         unfilled in the target); not imported: write the segment as a whole `:name`"
    )
}

/// A source with `*` before its last segment (`/docs/*/index`) or beside text in a segment
/// (`/inbox*`, `/kubectl/kubectl_*`), in path-to-regexp syntax with the meaning Netlify's engine
/// gives it, and the names it captures (`splat`, the first `*`). A whole-segment `*` is
/// `/:splat(.*)?` (it and its `/` may be empty: `/docs/*/index` matches `/docs/index`);
/// `text*` is the text, an optional `/` and the rest (`/inbox*` matches `/inboxes` and
/// `/inbox/a`, splat `es` and `a`). Refused, as Netlify's engine reads them as quirks: text
/// after a `*` in a segment (`/a*b` never matches), a placeholder with text beside it
/// (`/p-:id` never matches; `/:id.html` matches any segment and leaves `:id` unfilled).
fn star_source(parts: &[&str]) -> Result<(String, Vec<String>), String> {
    let mut source = String::new();
    let mut names = Vec::new();
    let escape = |text: &str| {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if matches!(c, '(' | ')' | '{' | '}' | '?' | '*' | '+' | ':' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    for seg in parts {
        let splat = if names.iter().any(|n| n == "splat") {
            "(.*)"
        } else {
            ":splat(.*)"
        };
        if *seg == "*" {
            source.push_str(&format!("/{splat}?"));
        } else if let Some(name) = seg.strip_prefix(':').filter(|n| is_name(n)) {
            source.push_str(&format!("/:{name}"));
            names.push(name.to_string());
            continue;
        } else if seg.contains(':') {
            return Err(placeholder_quirk(seg));
        } else if let Some(text) = seg.strip_suffix('*').filter(|t| !t.contains('*')) {
            source.push_str(&format!("/{}{{/}}?{splat}", escape(text)));
        } else if seg.contains('*') {
            return Err(format!(
                "segment {seg:?} has text after a `*`, which Netlify's engine never matches \
                 (a quirk); not imported: end the segment with the `*` or split the rule"
            ));
        } else {
            source.push('/');
            source.push_str(&escape(seg));
            continue;
        }
        if !names.iter().any(|n| n == "splat") {
            names.push("splat".to_string());
        }
    }
    Ok((source, names))
}

/// A rewrite, proxy, signed proxy, Role rule or page status: the origin answers, and a
/// `"to": null` rule holds the entry's place so that no later rule takes its requests. A Role
/// rule holds only for visitors sending Netlify Identity's `nf_jwt` cookie (not verified at the
/// edge: the origin must check it). A page status is still reported as not imported.
fn hold_place(
    entry: &Entry,
    kind: &Kind,
    role: Option<&str>,
    signed: bool,
    mut rule: Rule,
    cookie_names: Vec<String>,
    imported: &mut Imported,
) -> bool {
    let line = Some(entry.line);
    rule.preserve_query = None;
    let what = match kind {
        Kind::Page(status) => {
            imported.drop_rule(
                line,
                format!(
                    "{}: status {status} serves a page instead of redirecting; a `\"to\": null` \
                     rule keeps its place so that later rules do not take its requests, and the \
                     origin must serve that page",
                    entry.from
                ),
            );
            push_per_cookie(entry, rule, cookie_names, imported);
            return false;
        }
        _ if signed => "a signed proxy",
        _ if entry.to.starts_with("http") => "a proxy",
        _ => "a rewrite",
    };
    let mut message = format!(
        "{} → {}: status 200 is {what}; imported as `\"to\": null`, which passes the request to \
         the origin untouched (the origin must serve or proxy it) and keeps later rules from it",
        entry.from, entry.to
    );
    if let Some(roles) = role {
        rule.when
            .cookie
            .insert("nf_jwt".to_string(), "*".to_string());
        message.push_str(&format!(
            "; Role={roles}: only for visitors with an `nf_jwt` cookie, which the edge does not \
             verify (the origin must check the role)"
        ));
    }
    imported.note(line, message);
    push_per_cookie(entry, rule, cookie_names, imported);
    true
}

/// Pushes the rule, once per cookie of `Cookie=a,b` (any of them present).
fn push_per_cookie(entry: &Entry, rule: Rule, cookie_names: Vec<String>, imported: &mut Imported) {
    let line = Some(entry.line);
    if cookie_names.len() > 1 {
        imported.note(
            line,
            format!(
                "Cookie={}: any of several cookies; imported as one rule per cookie",
                cookie_names.join(",")
            ),
        );
    }
    if cookie_names.is_empty() {
        imported.push(line, rule);
    } else {
        let several = cookie_names.len() > 1;
        for (n, name) in cookie_names.iter().enumerate() {
            let mut r = rule.clone();
            r.when.cookie.insert(name.clone(), "*".to_string());
            if several {
                r.id = format!("{}-cookie-{}", rule.id, n + 1);
            }
            imported.push(line, r);
        }
    }
}
