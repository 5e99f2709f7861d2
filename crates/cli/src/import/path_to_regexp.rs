//! Vercel and Next.js `source` paths (path-to-regexp syntax) as rules.json patterns, and
//! their `destination` made to match.
//!
//! Carried over: `:name`; `:name*` / `:name+` at the end (a rest); `:name(re)`
//! constraints (rules.json compiles them without backtracking, and refuses what it cannot);
//! text around one placeholder in a segment (`page-:id.html` → `page-{:id}.html`); an optional
//! `:name?` segment (one rule with it, one without, up to two of them); Vercel's `$1`, `$2`, ...
//! naming a placeholder. Refused with a reason: `(.*)` groups (named or not; `/old/(.*)` does
//! not match `/old` but does match `/old/`, keeping the slash); the rest of regular expression
//! syntax. The importers keep such a source as written, in path-to-regexp syntax, instead
//! (`"from_syntax": "path-to-regexp"`): Vercel for every source beyond literal segments and
//! `:name`, Next.js for what this conversion refuses.

/// A source converted: one pattern per combination of optional segments (with the names
/// each leaves out), and the names the patterns capture.
pub(super) struct Source {
    pub variants: Vec<(String, Vec<String>)>,
    pub captures: Vec<String>,
    /// For Vercel's `$1`, `$2`, ...: the name each numbered group was given, in the order of
    /// the groups in the source (`None`: a group inside a constraint, which has no name).
    pub numbered: Vec<Option<String>>,
}

/// Most optional segments one source may have (each doubles the rules).
const MAX_OPTIONAL: usize = 2;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Converts `source`; the error says what cannot be carried.
///
/// `vercel`: `$1`, `$2`, ... in the destination name the source's placeholders.
pub(super) fn convert_source(source: &str, vercel: bool) -> Result<Source, String> {
    if !source.starts_with('/') {
        return Err(format!("{source}: source must start with /"));
    }
    let parts = split_segments(&source[1..]);
    let mut segments: Vec<(String, Option<String>)> = Vec::new();
    let mut captures = Vec::new();
    let mut numbered = Vec::new();
    for (i, seg) in parts.iter().enumerate() {
        let mut seg = seg.as_str();
        let last = i + 1 == parts.len();
        if let Some(before) = seg.strip_suffix("{/}?").filter(|b| last && !b.is_empty()) {
            // `/discord{/}?`: an optional trailing slash, captured by nothing. Next.js removes
            // the slash before matching (`trailing_slash: "remove"`): one rule.
            if before.ends_with(['*', '+', '?']) {
                return Err(format!(
                    "{source}: `{{/}}?` after a modifier cannot be expressed; write the rules out"
                ));
            }
            seg = before;
        }
        let Some(at) = seg.find(':') else {
            if seg.contains("(.*)") || seg.contains("(.+)") {
                return Err(dot_star(source));
            }
            if seg.contains(['(', ')', '*', '?', '+', '{', '}']) {
                return Err(format!(
                    "{source}: segment {seg:?} uses regular expression syntax"
                ));
            }
            segments.push((seg.to_string(), None));
            continue;
        };
        let prefix = &seg[..at];
        let param = &seg[at + 1..];
        let end = param
            .find(|c: char| !is_name_char(c))
            .unwrap_or(param.len());
        let (name, rest) = (&param[..end], &param[end..]);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("{source}: cannot read segment {seg:?}"));
        }
        if prefix.contains(['(', ')', '*', '?', '+', '{', '}']) {
            return Err(format!(
                "{source}: segment {seg:?} uses regular expression syntax"
            ));
        }
        let (constraint, modifier) = match rest.strip_prefix('(') {
            Some(_) => {
                let close =
                    group_end(rest).ok_or_else(|| format!("{source}: unclosed `(` in {seg:?}"))?;
                (&rest[..=close], &rest[close + 1..])
            }
            None => ("", rest),
        };
        captures.push(name.to_string());
        numbered.push(Some(name.to_string()));
        numbered.extend(std::iter::repeat_n(None, inner_groups(constraint)));
        let whole = prefix.is_empty();
        let converted = match (constraint, modifier) {
            ("", "*" | "+") if last && whole => format!(":{name}*"),
            (c, _) if c.contains(".*") || c.contains(".+") => return Err(dot_star(source)),
            ("", "*" | "+") => {
                return Err(format!("{source}: :{name}{rest} must be the whole last segment"))
            }
            (_, "?") if whole => {
                segments.push((format!(":{name}{constraint}"), Some(name.to_string())));
                continue;
            }
            (_, m) if m.starts_with(['?', '*', '+']) => {
                return Err(format!(
                    "{source}: {seg:?}: a modifier on a placeholder inside a segment cannot be expressed"
                ))
            }
            _ if constraint.contains('/') => {
                return Err(format!("{source}: constraint {constraint} spans segments"))
            }
            (c, suffix) if whole => format!(":{name}{c}{suffix}"),
            (c, suffix) => format!("{prefix}{{:{name}{c}}}{suffix}"),
        };
        segments.push((converted, None));
    }
    let optional: Vec<usize> = (0..segments.len())
        .filter(|&i| segments[i].1.is_some())
        .collect();
    if optional.len() > MAX_OPTIONAL {
        return Err(format!(
            "{source}: {} optional segments would take {} rules; write them out",
            optional.len(),
            1 << optional.len()
        ));
    }
    if !vercel {
        numbered.clear();
    }
    let mut variants = Vec::new();
    for mask in 0..1usize << optional.len() {
        let mut omitted = Vec::new();
        let mut path = Vec::new();
        for (i, (text, opt)) in segments.iter().enumerate() {
            match (opt, optional.iter().position(|&o| o == i)) {
                (Some(name), Some(bit)) if mask & (1 << bit) != 0 => omitted.push(name.clone()),
                _ => path.push(text.as_str()),
            }
        }
        variants.push((format!("/{}", path.join("/")), omitted));
    }
    Ok(Source {
        variants,
        captures,
        numbered,
    })
}

/// The source's segments, split at the `/` outside groups (`/(a/b)/c` and `/a{/}?` are two
/// and one).
pub(super) fn split_segments(path: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    let mut escaped = false;
    for c in path.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' | '{' => depth += 1,
            ')' | '}' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("one part at least").push(c);
    }
    parts
}

/// Capturing groups inside a constraint (`(?:` and the like do not count).
fn inner_groups(constraint: &str) -> usize {
    let inner = constraint
        .strip_prefix('(')
        .and_then(|c| c.strip_suffix(')'))
        .unwrap_or("");
    let bytes = inner.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'(' && bytes.get(i + 1) != Some(&b'?'))
        .filter(|&i| i == 0 || bytes[i - 1] != b'\\')
        .count()
}

fn dot_star(source: &str) -> String {
    format!(
        "{source}: a `(.*)` group matches `/x/` and `/x/a/` (the slash kept in the capture) but \
         not `/x`, which no rules.json rest says"
    )
}

/// `$1`, `$2`, ... (Vercel's numbered groups) replaced by the names their groups were given.
fn numbered_to_names(dest: &str, source: &Source) -> Result<String, String> {
    let numbered = &source.numbered;
    let mut out = String::with_capacity(dest.len());
    let mut rest = dest;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let n: usize = after[..digits]
            .parse()
            .map_err(|_| format!("{dest}: `$` must name a numbered group ($1) of the source"))?;
        match n.checked_sub(1).and_then(|i| numbered.get(i)) {
            Some(Some(name)) => {
                out.push(':');
                out.push_str(name);
                if after[digits..].starts_with(is_name_char) {
                    return Err(format!("{dest}: ${n} is followed by a letter; rules.json would read one name"));
                }
            }
            Some(None) if numbered.is_empty() => {
                return Err(format!("{dest}: numbered groups ($1) are not supported"))
            }
            Some(None) => {
                return Err(format!("{dest}: ${n} is a group inside a constraint or an optional slash, which rules.json does not capture"))
            }
            None if numbered.is_empty() => {
                return Err(format!("{dest}: numbered groups ($1) are not supported"))
            }
            None => return Err(format!("{dest}: ${n} names no group of the source")),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The `)` that closes the group opening `text`.
fn group_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The destination for one variant: `:name+` and `:name?` as rules.json placeholders, and
/// each omitted optional name removed, with the `/` before it when `drop_slash` (Next.js
/// compiles `/l/:code?` without the code to `/l`; Vercel's `$1` template gives `/l/`). A name
/// left out but used elsewhere (in the query, inside a segment) cannot be rendered empty.
pub(super) fn destination(
    dest: &str,
    source: &Source,
    omitted: &[String],
    drop_slash: bool,
) -> Result<String, String> {
    let mut to = numbered_to_names(dest, source)?;
    for name in &source.captures {
        to = to.replace(&format!(":{name}+"), &format!(":{name}*"));
        to = to.replace(&format!(":{name}?"), &format!(":{name}"));
    }
    for name in omitted {
        let mut out = String::with_capacity(to.len());
        let mut rest = to.as_str();
        let pattern = format!("/:{name}");
        while let Some(at) = rest.find(&pattern) {
            let after = &rest[at + pattern.len()..];
            if after.starts_with(is_name_char) {
                out.push_str(&rest[..at + pattern.len()]);
            } else {
                out.push_str(&rest[..if drop_slash { at } else { at + 1 }]);
            }
            rest = after;
        }
        out.push_str(rest);
        if edge_redirects::placeholder_names(&out).contains(&name.as_str()) {
            return Err(format!(
                "{dest}: optional :{name} is used where leaving it out would leave text behind"
            ));
        }
        to = if out.is_empty() { "/".into() } else { out };
    }
    Ok(to)
}
