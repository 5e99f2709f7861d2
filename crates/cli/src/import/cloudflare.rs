//! Cloudflare Bulk Redirects lists as CSV:
//! `source_url,target_url,status_code,preserve_query_string,include_subdomains,subpath_matching,preserve_path_suffix`
//! (all but the first two optional; a header row naming the columns is recognised).
//!
//! Semantics carried over: the default status 301; the query string is dropped unless
//! `preserve_query_string`; `include_subdomains` adds a `*.host` rule beside the apex one;
//! `subpath_matching` adds a `/path/:suffix*` rule whose target keeps the suffix when
//! `preserve_path_suffix` (default true).

use super::{query_pairs, split_url, Imported, Rule, Settings};

const COLUMNS: [&str; 7] = [
    "source_url",
    "target_url",
    "status_code",
    "preserve_query_string",
    "include_subdomains",
    "subpath_matching",
    "preserve_path_suffix",
];

/// Converts a Bulk Redirects CSV list. A UTF-8 byte order mark (spreadsheets write one) is
/// skipped, so a header after it is still recognised; a quote that is never closed, or
/// closes on another line, is an error naming the line it opened on: read on, it would take
/// every line after it into one field.
pub fn import_csv(text: &str) -> Result<Imported, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut imported = Imported::new();
    imported.bundle.settings = Some(Settings {
        preserve_query: Some(false),
        ..Settings::default()
    });
    let mut order: Vec<usize> = (0..COLUMNS.len()).collect();
    let mut first = true;
    for (line, record) in records(text)? {
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if std::mem::take(&mut first) && is_header(&record) {
            order = record
                .iter()
                .map(|name| column(name).unwrap_or(usize::MAX))
                .collect();
            continue;
        }
        let mut fields: [Option<String>; 7] = Default::default();
        for (i, value) in record.into_iter().enumerate() {
            let value = value.trim().to_string();
            if let Some(&col) = order.get(i) {
                if col < COLUMNS.len() && !value.is_empty() {
                    fields[col] = Some(value);
                }
            }
        }
        convert(line, &fields, &mut imported);
    }
    Ok(imported)
}

/// The column a header cell names (`source_url`, `Source URL`, `source`), if any.
fn column(name: &str) -> Option<usize> {
    let name = name.trim().to_ascii_lowercase().replace(' ', "_");
    COLUMNS
        .iter()
        .position(|c| *c == name || c.trim_end_matches("_url") == name)
}

/// A header row: every non-empty cell names a column, and both URL columns are there, in any
/// order.
fn is_header(record: &[String]) -> bool {
    let named: Vec<Option<usize>> = record
        .iter()
        .filter(|f| !f.trim().is_empty())
        .map(|f| column(f))
        .collect();
    named.iter().all(Option::is_some) && named.contains(&Some(0)) && named.contains(&Some(1))
}

fn flag(
    fields: &[Option<String>; 7],
    col: usize,
    default: bool,
    line: usize,
    imported: &mut Imported,
) -> Option<bool> {
    match fields[col]
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => Some(default),
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            imported.drop_rule(
                Some(line),
                format!("{} must be TRUE or FALSE, not {other:?}", COLUMNS[col]),
            );
            None
        }
    }
}

fn convert(line: usize, fields: &[Option<String>; 7], imported: &mut Imported) {
    let (Some(source), Some(target)) = (&fields[0], &fields[1]) else {
        imported.drop_rule(Some(line), "a redirect needs a source URL and a target URL");
        return;
    };
    let status = match fields[2].as_deref() {
        None => 301,
        Some(s) => match s.parse::<u16>() {
            Ok(code @ (301 | 302 | 307 | 308)) => code,
            _ => {
                imported.drop_rule(
                    Some(line),
                    format!("status {s:?}: Bulk Redirects allow 301, 302, 307 or 308"),
                );
                return;
            }
        },
    };
    let Some(preserve_query) = flag(fields, 3, false, line, imported) else {
        return;
    };
    let Some(subdomains) = flag(fields, 4, false, line, imported) else {
        return;
    };
    let Some(subpaths) = flag(fields, 5, false, line, imported) else {
        return;
    };
    let Some(keep_suffix) = flag(fields, 6, true, line, imported) else {
        return;
    };
    let (scheme, host, path, query) = split_url(source);
    let Some(host) = host.map(|h| h.to_ascii_lowercase()) else {
        imported.drop_rule(
            Some(line),
            format!("source {source:?} has no host; Bulk Redirects sources are URLs"),
        );
        return;
    };
    if scheme.is_some() {
        imported.note(
            Some(line),
            format!("{source}: rules.json matches hosts, not schemes; applies to http and https"),
        );
    }
    if path.contains(':') || path.contains('*') {
        imported.drop_rule(
            Some(line),
            format!(
                "{source}: `:` and `*` are literal in Bulk Redirects but patterns in rules.json"
            ),
        );
        return;
    }
    let target_has_host = target.contains("://");
    let (_, _, _, target_query) = split_url(target);
    if !target_has_host && !target.starts_with('/') {
        imported.drop_rule(Some(line), format!("target {target:?} is not a URL"));
        return;
    }
    let path = path.trim_end_matches('/');
    let exact = if path.is_empty() { "/" } else { path };
    let id = format!("cloudflare-{line}");
    let base = Rule {
        id: id.clone(),
        host: Some(host.clone()),
        from: exact.to_string(),
        to: Some(target.clone()),
        status: Some(status),
        preserve_query: preserve_query.then_some(true),
        ..Rule::default()
    };
    let mut base = base;
    if let Some(q) = query {
        imported.note(
            Some(line),
            format!(
                "{source}: the listed query parameters must be present; other parameters are \
                 allowed too"
            ),
        );
        for (k, v) in query_pairs(q) {
            base.when.query.insert(k, v);
        }
    }
    let mut rules = vec![base.clone()];
    if subpaths {
        let mut sub = base.clone();
        sub.id = format!("{id}-subpaths");
        sub.from = format!("{}/:suffix*", path);
        if keep_suffix {
            let prefix = target
                .split_once('?')
                .map(|(p, _)| p)
                .unwrap_or(target)
                .trim_end_matches('/');
            sub.to = match target_query {
                Some(q) => Some(format!("{prefix}/:suffix*?{q}")),
                None => Some(format!("{prefix}/:suffix*")),
            };
        }
        rules.push(sub);
    }
    if subdomains {
        let wild: Vec<Rule> = rules
            .iter()
            .map(|r| Rule {
                id: format!("{}-subdomains", r.id),
                host: Some(format!("*.{host}")),
                ..r.clone()
            })
            .collect();
        rules.extend(wild);
    }
    for r in rules {
        imported.push(Some(line), r);
    }
}

/// Splits CSV text into records with their 1-based starting line; quoted fields may hold
/// commas and doubled quotes. A quoted field must close on the line it opens on (no URL holds
/// a line break): one that does not is an error naming that line, never a field that
/// silently swallows the lines after it.
///
/// Home-made rather than the `csv` crate: that reader accepts an unterminated quote without
/// an error (it reads to the end of the input), which is the failure this must report.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    // The line the open quote is on, while inside a quoted field.
    let mut quoted: Option<usize> = None;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', Some(opened)) => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else if opened != line {
                    return Err(format!(
                        "line {opened}: a quoted field opened on this line closes only on line \
                         {line}, so the lines between would be read into it; close each quote \
                         on its own line (a quote inside a quoted field is written twice: `\"\"`)"
                    ));
                } else {
                    quoted = None;
                }
            }
            ('"', None) if field.trim().is_empty() => {
                field.clear();
                quoted = Some(line);
            }
            (',', None) => record.push(std::mem::take(&mut field)),
            ('\r', None) => {}
            ('\n', _) => {
                line += 1;
                if quoted.is_some() {
                    field.push('\n');
                } else {
                    record.push(std::mem::take(&mut field));
                    out.push((start, std::mem::take(&mut record)));
                    start = line;
                }
            }
            _ => field.push(c),
        }
    }
    if let Some(opened) = quoted {
        return Err(format!(
            "line {opened}: a quote opens a field on this line and is never closed, so every \
             line after it would be read into that field; close it (a quote inside a quoted \
             field is written twice: `\"\"`)"
        ));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push((start, record));
    }
    Ok(out)
}
