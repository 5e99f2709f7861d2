//! `vercel.json` `redirects`, or the array a Next.js `redirects()` returns, as JSON.
//!
//! Semantics carried over: `permanent` (308, default) or not (307), `statusCode`; the source:
//! for Vercel, literal segments and `:name` as rules.json patterns and anything else kept as
//! written with `"from_syntax": "path-to-regexp"` (Vercel's meaning exactly, `$1` and `:name`
//! in the destination); for Next.js, `:name` / `:name*` (`:name+` becomes `:name*`, reported)
//! and the path-to-regexp form for what does not convert; `has` → `when` and `missing` →
//! `unless` for header, cookie, query and host; values are anchored regular expressions, carried
//! over when they are literal text or `.*` wildcards; a query item without a value, or with a
//! `(?<name>.*)` value, captures a placeholder. Query strings are kept, as on Vercel.

use super::path_to_regexp::{convert_source, destination as destination_for};
use super::{other_scheme, uncaptured, Conditions, Imported, Rule, Settings};
use serde_json::Value;

/// Converts a `vercel.json` (or a bare `redirects` array): paths match case-sensitively, as
/// Vercel's routes do.
pub fn import_json(text: &str) -> Result<Imported, String> {
    let mut imported = import_with(text, "vercel")?;
    // Vercel's routes match `/a/` and `/a` as different paths, and no `:name` takes the slash
    // (path-to-regexp `strict`): `"exact"`. A source beyond `:name` placeholders is kept in
    // path-to-regexp syntax, which reads the slash as Vercel does.
    imported.bundle.settings = Some(Settings {
        trailing_slash: Some("exact"),
        ..Settings::default()
    });
    Ok(imported)
}

/// Converts the array a Next.js `redirects()` returns, saved as JSON: Next.js matches paths
/// case-insensitively (path-to-regexp's default), so the bundle does too.
pub fn import_nextjs(text: &str) -> Result<Imported, String> {
    let mut imported = import_with(text, "nextjs")?;
    // Next.js removes a trailing slash before its redirects run (`trailingSlash: false`), so
    // `/a/` matches as `/a` and no capture holds the slash.
    imported.bundle.settings = Some(Settings {
        case_sensitive: Some(false),
        trailing_slash: Some("remove"),
        ..Settings::default()
    });
    Ok(imported)
}

/// Imports the entries.
fn import_with(text: &str, prefix: &str) -> Result<Imported, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let entries = match &doc {
        Value::Array(items) => items,
        Value::Object(obj) => match obj.get("redirects") {
            Some(Value::Array(items)) => items,
            _ => return Err("expected a \"redirects\" array or a top-level array".into()),
        },
        _ => return Err("expected a \"redirects\" array or a top-level array".into()),
    };
    let source_lines = entry_lines(text, matches!(doc, Value::Object(_)));
    let mut imported = Imported::new();
    for (n, entry) in entries.iter().enumerate() {
        convert(
            n,
            source_lines.get(n).copied(),
            entry,
            prefix,
            &mut imported,
        );
    }
    Ok(imported)
}

/// The 1-based line of each redirect entry: its `"source"` key, or where the entry opens.
/// Only the entries of the `redirects` array count (in a `vercel.json`, `headers` and
/// `rewrites` hold `"source"` keys too), or of the top-level array when `in_object` is false.
fn entry_lines(text: &str, in_object: bool) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth) = (1usize, 0usize);
    // The depth of the array whose elements are the entries, once it is open.
    let mut array: Option<usize> = (!in_object).then_some(1);
    let mut last_string = String::new();
    let mut key_at_depth_one = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            chars.next();
                        }
                        '\n' => line += 1,
                        c => s.push(c),
                    }
                }
                if array.is_some_and(|a| depth == a + 1) && s == "source" {
                    if let Some(l) = lines.last_mut() {
                        *l = line;
                    }
                }
                key_at_depth_one = depth == 1;
                last_string = s;
            }
            '{' | '[' => {
                depth += 1;
                if c == '['
                    && array.is_none()
                    && depth == 2
                    && key_at_depth_one
                    && last_string == "redirects"
                {
                    array = Some(2);
                } else if array.is_some_and(|a| depth == a + 1) {
                    lines.push(line);
                }
            }
            '}' | ']' => {
                if array == Some(depth) {
                    break;
                }
                depth = depth.saturating_sub(1);
            }
            ',' | ':' => {}
            _ => {}
        }
    }
    lines
}

#[allow(clippy::too_many_arguments)]
fn convert(n: usize, line: Option<usize>, entry: &Value, prefix: &str, imported: &mut Imported) {
    let label = format!("redirects[{n}]");
    let Some(obj) = entry.as_object() else {
        imported.drop_rule(line, format!("{label} is not an object"));
        return;
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    let (Some(source), Some(destination)) = (text("source"), text("destination")) else {
        imported.drop_rule(line, format!("{label} needs source and destination"));
        return;
    };
    let status = match obj.get("statusCode").and_then(Value::as_u64) {
        Some(code @ (301 | 302 | 303 | 307 | 308)) => code as u16,
        Some(other) => {
            imported.drop_rule(
                line,
                format!("{source}: statusCode {other} is not a redirect"),
            );
            return;
        }
        None => match obj.get("permanent").and_then(Value::as_bool) {
            Some(false) => 307,
            Some(true) => 308,
            // Next.js answers 307 when `permanent` is left out (its `getRedirectStatus`);
            // vercel.json's `permanent` defaults to true.
            None if prefix == "nextjs" => {
                imported.note(
                    line,
                    format!("{source}: no `permanent`: 307, as Next.js answers"),
                );
                307
            }
            None => 308,
        },
    };
    if obj.get("basePath") == Some(&Value::Bool(false))
        || obj.get("locale") == Some(&Value::Bool(false))
    {
        imported.note(
            line,
            format!("{source}: basePath/locale false: the source is taken as written"),
        );
    }
    // Vercel: a source beyond literal segments and `:name` is kept as written, in
    // path-to-regexp syntax, with Vercel's meaning exactly; Next.js (whose destinations drop
    // the `/` before an empty placeholder) only when it cannot be converted.
    let converted = if prefix == "vercel" && !plain(source) {
        Err(String::new())
    } else {
        convert_source(source, prefix == "vercel")
    };
    let parsed = match converted {
        Ok(p) => p,
        Err(refusal) => {
            match regex_source(source, prefix) {
                Ok(names) => convert_regex(
                    n,
                    line,
                    obj,
                    source,
                    destination,
                    prefix,
                    status,
                    names,
                    imported,
                ),
                Err(message) if refusal.is_empty() => imported.drop_rule(line, message),
                Err(message) => imported.drop_rule(
                    line,
                    format!("{refusal}; as a path-to-regexp source: {message}"),
                ),
            }
            return;
        }
    };
    for name in &parsed.captures {
        if source.contains(&format!(":{name}+")) {
            imported.note(
                line,
                format!(
                    "{source}: :{name}+ (one or more segments) imported as :{name}* (zero or \
                     more), so it also matches the path without them"
                ),
            );
        }
    }
    let mut captures = parsed.captures.clone();
    let mut rule = Rule {
        id: format!("{prefix}-{}", n + 1),
        status: Some(status),
        ..Rule::default()
    };
    let Some(alternatives) = conditions(obj, source, line, &mut rule, &mut captures, imported)
    else {
        return;
    };
    let several = parsed.variants.len() > 1;
    if several {
        imported.note(
            line,
            if source.ends_with("(/?)") || source.ends_with("{/}?") {
                format!(
                    "{source}: optional trailing slash: imported as 2 rules, with and without it"
                )
            } else {
                format!(
                    "{source}: optional segments: imported as {} rules, with and without them",
                    parsed.variants.len()
                )
            },
        );
    }
    for (from, omitted) in &parsed.variants {
        let to = match destination_for(destination, &parsed, omitted, prefix == "nextjs") {
            Ok(to) => to,
            Err(message) => {
                imported.drop_rule(line, format!("{source} → {message}"));
                return;
            }
        };
        let known: Vec<String> = captures
            .iter()
            .filter(|c| !omitted.contains(c))
            .cloned()
            .collect();
        if let Some(message) = target_problem(source, destination, &to, &known) {
            imported.drop_rule(line, message);
            return;
        }
        let mut variant = rule.clone();
        variant.from = from.clone();
        variant.to = Some(to);
        if several {
            variant.id = format!(
                "{}-{}",
                rule.id,
                if omitted.is_empty() {
                    "with".to_string()
                } else {
                    format!("without-{}", omitted.join("-"))
                }
            );
        }
        push_variant(line, variant, prefix, &alternatives, source, imported);
    }
}

/// Carries `has` into `when` (and the host) and `missing` into `unless`; the list of values of
/// an `inc` matcher, if one has it (one rule per value). `None`: the entry is dropped (said).
fn conditions(
    obj: &serde_json::Map<String, Value>,
    source: &str,
    line: Option<usize>,
    rule: &mut Rule,
    captures: &mut Vec<String>,
    imported: &mut Imported,
) -> Option<Option<Alternatives>> {
    let mut alternatives = None;
    for (key, negate) in [("has", false), ("missing", true)] {
        let Some(items) = obj.get(key) else { continue };
        let Some(items) = items.as_array() else {
            imported.drop_rule(line, format!("{source}: {key} must be an array"));
            return None;
        };
        for item in items {
            let conditions = if negate {
                &mut rule.unless
            } else {
                &mut rule.when
            };
            let host = if negate { &mut None } else { &mut rule.host };
            let added = match item.get("value") {
                Some(Value::Object(v)) => {
                    add_matcher(item, v, &mut rule.when, &mut rule.unless, negate)
                }
                _ => add_condition(item, conditions, host, captures, negate).map(|()| None),
            };
            match added {
                Ok(None) => {}
                Ok(Some(alt)) if alternatives.is_none() => alternatives = Some(alt),
                Ok(Some(_)) => {
                    imported.drop_rule(
                        line,
                        format!("{source}: {key}: more than one `inc` list; write one rule per combination"),
                    );
                    return None;
                }
                Err(message) => {
                    imported.drop_rule(line, format!("{source}: {key}: {message}"));
                    return None;
                }
            }
        }
    }
    Some(alternatives)
}

/// Whether a source is literal segments and whole-segment `:name` placeholders only.
fn plain(source: &str) -> bool {
    source.split('/').all(|seg| match seg.strip_prefix(':') {
        Some(name) => !name.is_empty() && name.chars().all(is_name_char),
        None => !seg.contains([':', '(', ')', '{', '}', '?', '+', '*', '\\']),
    })
}

/// The names a source's rule captures, if the engine reads it as a path-to-regexp source.
fn regex_source(source: &str, prefix: &str) -> Result<Vec<String>, String> {
    // Vercel matches paths case-sensitively, Next.js without case.
    edge_redirects::PathRegex::compile(source, prefix == "vercel")
        .map(|r| r.names().map(str::to_string).collect())
        .map_err(|e| format!("{source}: {e}"))
}

/// Imports an entry whose source is kept as written, in path-to-regexp syntax.
#[allow(clippy::too_many_arguments)]
fn convert_regex(
    n: usize,
    line: Option<usize>,
    obj: &serde_json::Map<String, Value>,
    source: &str,
    destination: &str,
    prefix: &str,
    status: u16,
    mut captures: Vec<String>,
    imported: &mut Imported,
) {
    let mut rule = Rule {
        id: format!("{prefix}-{}", n + 1),
        from: source.to_string(),
        from_syntax: Some("path-to-regexp"),
        status: Some(status),
        ..Rule::default()
    };
    let Some(alternatives) = conditions(obj, source, line, &mut rule, &mut captures, imported)
    else {
        return;
    };
    // `:name*`, `:name+` and `:name?` in a destination are the placeholder's value.
    let mut to = destination.to_string();
    for name in captures.iter().filter(|c| !c.starts_with('$')) {
        for modifier in ['+', '?'] {
            to = to.replace(&format!(":{name}{modifier}"), &format!(":{name}"));
        }
    }
    if prefix == "nextjs" && !numbered_in(&to).is_empty() {
        imported.drop_rule(
            line,
            format!(
                "{source} → {destination}: Next.js does not fill in `$1` (it redirects to the \
                 text itself); name the group in the source (`:rest(.*)`) and write `:rest`"
            ),
        );
        return;
    }
    let groups = captures.iter().filter(|c| c.starts_with('$')).count();
    if let Some(k) = numbered_in(&to).into_iter().find(|&k| k == 0 || k > groups) {
        imported.drop_rule(
            line,
            format!(
                "{source} → {destination}: ${k} names no group of the source (it has {groups}); \
                 use $1 to ${groups}, or a :name the source captures"
            ),
        );
        return;
    }
    if let Some(message) = target_problem(source, destination, &to, &captures) {
        imported.drop_rule(line, message);
        return;
    }
    rule.to = Some(to);
    push_variant(line, rule, prefix, &alternatives, source, imported);
}

/// Why a target cannot be imported: another scheme, or a placeholder nothing captures.
fn target_problem(source: &str, destination: &str, to: &str, known: &[String]) -> Option<String> {
    if let Some(message) = other_scheme(to) {
        return Some(format!("{source}: {message}"));
    }
    let unknown = uncaptured(to, known);
    (!unknown.is_empty()).then(|| {
        format!(
            "{source} → {destination}: :{} is not captured by the source or a query item",
            unknown.join(", :")
        )
    })
}

/// The numbers of the `$1`, `$2`, ... a destination uses.
fn numbered_in(to: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = to;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if let Ok(k) = rest[..digits].parse() {
            out.push(k);
        }
    }
    out
}

/// Pushes one rule: for Next.js first the bare path of a rest (see [`without_empty_rest`]),
/// then the rule, once per value of an `inc` list.
fn push_variant(
    line: Option<usize>,
    rule: Rule,
    prefix: &str,
    alternatives: &Option<Alternatives>,
    source: &str,
    imported: &mut Imported,
) {
    if let Some(bare) = without_empty_rest(&rule).filter(|_| prefix == "nextjs") {
        // Next.js (path-to-regexp's compile) drops the `/` before a `:name*` that matched
        // nothing: `/docs/:path*` → `/d/:path*` sends `/docs` to `/d`, not `/d/` (Vercel's
        // `$1` template keeps it). The path without the segments comes first, as an exact rule.
        imported.push(line, bare);
    }
    match alternatives {
        None => imported.push(line, rule),
        Some((kind, key, values)) => {
            imported.note(
                line,
                format!(
                    "{source}: {kind} {key} one of {}: imported as one rule per value",
                    values.join(", ")
                ),
            );
            for (i, v) in values.iter().enumerate() {
                let mut r = rule.clone();
                r.id = format!("{}-{}", rule.id, i + 1);
                map_of(&mut r.when, kind).insert(key.clone(), v.clone());
                imported.push(line, r);
            }
        }
    }
}

/// For a rule whose `from` ends in `/:name*` and whose target uses `/:name*`: the same rule
/// for the path without the rest, its target without `/:name*`.
fn without_empty_rest(rule: &Rule) -> Option<Rule> {
    let (base, name) = rule.from.rsplit_once("/:")?;
    let name = name.strip_suffix('*')?;
    let placeholder = format!("/:{name}*");
    let to = rule.to.as_deref()?;
    if !to.contains(&placeholder) || to.matches(&format!(":{name}")).count() != 1 {
        return None;
    }
    let mut target = to.replace(&placeholder, "");
    if target.is_empty() || target.starts_with('?') || target.starts_with('#') {
        target.insert(0, '/');
    } else if let Some(at) = target.find("://") {
        let path_at = target[at + 3..]
            .find(['/', '?', '#'])
            .map_or(target.len(), |p| at + 3 + p);
        if !target[path_at..].starts_with('/') {
            target.insert(path_at, '/');
        }
    }
    Some(Rule {
        id: format!("{}-bare", rule.id),
        from: if base.is_empty() {
            "/".into()
        } else {
            base.to_string()
        },
        to: Some(target),
        ..rule.clone()
    })
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Adds one `has` / `missing` item.
fn add_condition(
    item: &Value,
    conditions: &mut Conditions,
    host: &mut Option<String>,
    captures: &mut Vec<String>,
    negate: bool,
) -> Result<(), String> {
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .ok_or("an item needs a type")?;
    let value = item.get("value").and_then(Value::as_str);
    if kind == "host" {
        let value = value.ok_or("a host item needs a value")?;
        if negate {
            return Err("missing host cannot be expressed; use a host on another rule".into());
        }
        let glob = regex_to_glob(value).filter(|g| !g.contains('*'));
        *host = Some(glob.ok_or_else(|| format!("host {value:?} is a regular expression"))?);
        return Ok(());
    }
    let key = item
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a {kind} item needs a key"))?;
    let condition = match value {
        None if kind == "query" && !negate => {
            captures.push(key.to_string());
            format!(":{key}")
        }
        None => "*".to_string(),
        Some(v) => match named_capture(v) {
            Some(name) if kind == "query" && !negate => {
                captures.push(name.clone());
                format!(":{name}")
            }
            Some(_) => "*".to_string(),
            None => regex_to_glob(v)
                .ok_or_else(|| format!("{kind} {key}: value {v:?} is a regular expression"))?,
        },
    };
    let (kind, key) = kind_and_key(kind, key)?;
    map_of(conditions, &kind).insert(key, condition);
    Ok(())
}

/// The condition map for a `has` / `missing` type.
fn map_of<'c>(
    conditions: &'c mut Conditions,
    kind: &str,
) -> &'c mut std::collections::BTreeMap<String, String> {
    match kind {
        "header" => &mut conditions.header,
        "cookie" => &mut conditions.cookie,
        _ => &mut conditions.query,
    }
}

/// Checks the type; header names are compared lower-case.
fn kind_and_key(kind: &str, key: &str) -> Result<(String, String), String> {
    match kind {
        "header" => Ok((kind.to_string(), key.to_ascii_lowercase())),
        "cookie" | "query" => Ok((kind.to_string(), key.to_string())),
        other => Err(format!("unknown type {other:?}")),
    }
}

/// A `(type, key, values)` to import as one rule per value (`has` with an `inc` list).
type Alternatives = (String, String, Vec<String>);

/// A `has` / `missing` item whose value is a matcher object (`{"eq": "1"}`, `{"pre": "a"}`,
/// `{"inc": [...]}`, `{"re": "..."}`, ...; Vercel's documented `has` operators). What a glob
/// can say is carried over: `eq` exactly, `pre`/`suf` as `a*`/`*a`, `re` when it is literal
/// text and `.*`, `inc` in `has` as one rule per value, `neq` in `has` as present-and-not. The
/// rest (`ninc`, `gt`, `gte`, `lt`, `lte`, several operators at once, `*` in a value, a list
/// in `missing`, `neq` in `missing`) is refused.
fn add_matcher(
    item: &Value,
    matcher: &serde_json::Map<String, Value>,
    when: &mut Conditions,
    unless: &mut Conditions,
    negate: bool,
) -> Result<Option<Alternatives>, String> {
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .ok_or("an item needs a type")?;
    if kind == "host" {
        return Err("a host matcher object cannot be expressed; write the host as text".into());
    }
    let key = item
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a {kind} item needs a key"))?;
    let (kind, key) = kind_and_key(kind, key)?;
    let mut ops = matcher.iter();
    let (Some((op, value)), None) = (ops.next(), ops.next()) else {
        return Err(format!(
            "{kind} {key}: a matcher with {} operators cannot be expressed; use one",
            matcher.len()
        ));
    };
    let text = |v: &Value| -> Result<String, String> {
        let t = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(format!("{kind} {key}: {op} needs a string")),
        };
        if t.contains('*') {
            return Err(format!(
                "{kind} {key}: {op} {t:?} holds `*`, which rules.json reads as a wildcard"
            ));
        }
        Ok(t)
    };
    let glob = match op.as_str() {
        "eq" => text(value)?,
        "pre" => format!("{}*", text(value)?),
        "suf" => format!("*{}", text(value)?),
        "re" => {
            let re = value.as_str().unwrap_or_default();
            regex_to_glob(re)
                .ok_or_else(|| format!("{kind} {key}: re {re:?} is a regular expression"))?
        }
        "inc" => {
            let list = value
                .as_array()
                .ok_or(format!("{kind} {key}: inc needs a list"))?;
            let values = list.iter().map(text).collect::<Result<Vec<_>, _>>()?;
            match values.as_slice() {
                [one] => one.clone(),
                _ if negate => {
                    return Err(format!(
                        "{kind} {key}: missing with an inc list cannot be expressed (rules.json \
                         `unless` holds one value per name); write one rule per value"
                    ))
                }
                [] => return Err(format!("{kind} {key}: inc is empty, so it never holds")),
                _ => return Ok(Some((kind, key, values))),
            }
        }
        "neq" if !negate => {
            let not = text(value)?;
            map_of(when, &kind).insert(key.clone(), "*".into());
            map_of(unless, &kind).insert(key.clone(), not);
            return Ok(None);
        }
        other => {
            return Err(format!(
                "{kind} {key}: the {other} operator cannot be expressed with rules.json \
                 conditions (exact text and `*` globs)"
            ))
        }
    };
    let target = if negate { unless } else { when };
    map_of(target, &kind).insert(key.clone(), glob);
    Ok(None)
}

/// `(?<name>.*)` → `name`.
fn named_capture(value: &str) -> Option<String> {
    let inner = value.strip_prefix("(?<")?.strip_suffix(">.*)")?;
    (!inner.is_empty() && inner.chars().all(is_name_char)).then(|| inner.to_string())
}

/// An anchored regular expression made only of literal text and `.*` becomes a glob. A `.`
/// before a letter or digit (`example.com`, `1.0`) is read as the literal dot its author meant.
fn regex_to_glob(value: &str) -> Option<String> {
    let value = value.strip_prefix('^').unwrap_or(value);
    let value = value.strip_suffix('$').unwrap_or(value);
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                if next.is_ascii_alphanumeric() {
                    return None;
                }
                out.push(next);
            }
            '.' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push('*');
            }
            '.' if chars.peek().is_some_and(|c| c.is_ascii_alphanumeric()) => out.push('.'),
            '.' | '[' | ']' | '(' | ')' | '{' | '}' | '|' | '?' | '+' | '^' | '$' | '*' => {
                return None
            }
            _ => out.push(c),
        }
    }
    Some(out)
}
