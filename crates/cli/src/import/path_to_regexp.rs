//! Vercel and Next.js `source` paths (path-to-regexp syntax) as rules.json patterns, and
//! their `destination` made to match.
//!
//! Carried over: `:name`; `:name*` / `:name+` at the end (a rest); `:name(re)`
//! constraints (rules.json compiles them without backtracking, and refuses what it cannot);
//! text around one placeholder in a segment (`page-:id.html` → `page-{:id}.html`); an optional
//! `:name?` segment (one rule with it, one without, up to two of them). For Vercel, unnamed
//! groups (`$1`): a whole segment `([^/]*)` as `:p1`, `(a|b)` as `:p1(a|b)`, a trailing `(/?)`
//! as two rules, and, under `trailing_slash: "strict"`, a final `/(.*)` as a rest `:p1*`.
//! Refused with a reason: other `(.*)` groups (named or not; `/old/(.*)` does not match `/old`
//! but does match `/old/`, keeping the slash); the rest of regular expression syntax.

/// A source converted: one pattern per combination of optional segments (with the names
/// each leaves out), and the names the patterns capture.
pub(super) struct Source {
    pub variants: Vec<(String, Vec<String>)>,
    pub captures: Vec<String>,
    /// For Vercel's `$1`, `$2`, ...: the name each numbered group was given, in the order of
    /// the groups in the source (`None`: a group inside a constraint, which has no name).
    pub numbered: Vec<Option<String>>,
    /// Names that are rests from a `(.*)` group (`$1` renders as `:name*`).
    pub rests: Vec<String>,
    /// For `/x/(.*)`: the path `/x`, which Vercel does not match but the rest would.
    pub bare: Option<String>,
    /// What was carried over with a difference (for `note:` lines).
    pub notes: Vec<String>,
}

/// Most optional segments one source may have (each doubles the rules).
const MAX_OPTIONAL: usize = 2;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Converts `source`; the error says what cannot be carried.
///
/// `vercel`: Vercel's unnamed groups and `(/?)` are carried over; `strict` (Vercel, a file whose
/// bundle has `trailing_slash: "strict"`): a final `/(.*)` becomes a rest, which then holds the
/// trailing slash as Vercel's group does.
pub(super) fn convert_source(source: &str, vercel: bool, strict: bool) -> Result<Source, String> {
    if !source.starts_with('/') {
        return Err(format!("{source}: source must start with /"));
    }
    let parts = split_segments(&source[1..]);
    let mut segments: Vec<(String, Option<String>)> = Vec::new();
    let mut captures = Vec::new();
    let mut numbered = Vec::new();
    let mut slash_optional = false;
    let mut rests = Vec::new();
    let mut bare = None;
    let mut notes = Vec::new();
    // Placeholders that are always empty (`:slug(/?)`), left out of every destination.
    let mut empty: Vec<String> = Vec::new();
    for (i, seg) in parts.iter().enumerate() {
        let mut seg = seg.as_str();
        let last = i + 1 == parts.len();
        if let Some(before) = seg.strip_suffix("{/}?").filter(|b| last && !b.is_empty()) {
            // `/discord{/}?`: an optional trailing slash, captured by nothing. Next.js removes
            // the slash before matching (`trailing_slash: "remove"`: one rule); Vercel tells
            // the two apart (two rules).
            if before.ends_with(['*', '+', '?']) {
                return Err(format!(
                    "{source}: `{{/}}?` after a modifier cannot be expressed; write the rules out"
                ));
            }
            slash_optional |= vercel;
            seg = before;
        }
        let named = |b: &str| {
            b.strip_prefix(':')
                .is_some_and(|n| n.chars().all(is_name_char))
        };
        if let Some(before) = seg
            .strip_suffix("(/?)")
            .filter(|b| vercel && last && !named(b))
        {
            // `/a/b(/?)`: an optional trailing slash; with `trailing_slash: "exact"` that is
            // two rules, `/a/b` and `/a/b/`.
            if before.is_empty() || before.contains(['(', ')', ':', '*', '?', '+', '{', '}']) {
                return Err(format!(
                    "{source}: `(/?)` after {before:?}: only an optional trailing slash after \
                     literal text can be expressed (as two rules, with and without the slash); \
                     write `{before}` and `{before}/` as two rules"
                ));
            }
            slash_optional = true;
            numbered.push(None);
            seg = before;
        }
        if vercel && strict && last && seg == "(.*)" {
            let name = format!("p{}", numbered.len() + 1);
            let path: Vec<&str> = segments.iter().map(|s| s.0.as_str()).collect();
            // `/(.*)` matches `/` itself: nothing to keep from it.
            bare = (!path.is_empty()).then(|| format!("/{}", path.join("/")));
            numbered.push(Some(name.clone()));
            captures.push(name.clone());
            segments.push((format!(":{name}*"), None));
            rests.push(name);
            continue;
        }
        if vercel && seg.starts_with('(') && group_end(seg) == Some(seg.len() - 1) {
            let name = format!("p{}", numbered.len() + 1);
            let converted = unnamed_group(source, &seg[1..seg.len() - 1], &name, &mut notes)?;
            numbered.push(Some(name.clone()));
            captures.push(name);
            segments.push((converted, None));
            continue;
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
            ("(/?)", "") if vercel && last && whole => {
                // `/docs/:slug(/?)`: the value is empty or `/`, so the entry matches `/docs/`
                // (and `/docs//`) only, with `:slug` empty.
                notes.push(format!(
                    "{source}: :{name}(/?) holds nothing or a `/`, so it matches {} only, with \
                     :{name} empty; for an optional trailing slash write `(/?)` after literal text",
                    format_args!("/{}/", parts[..i].join("/")).to_string().replace("//", "/")
                ));
                empty.push(name.to_string());
                String::new()
            }
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
    if slash_optional {
        if !optional.is_empty() {
            return Err(format!(
                "{source}: an optional segment and an optional trailing slash together; write them out"
            ));
        }
        let path = segments
            .iter()
            .map(|s| s.0.as_str())
            .collect::<Vec<_>>()
            .join("/");
        return Ok(Source {
            variants: vec![
                (format!("/{path}/"), Vec::new()),
                (format!("/{path}"), vec!["slash".to_string()]),
            ],
            captures,
            numbered,
            rests,
            bare,
            notes,
        });
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
        omitted.extend(empty.iter().cloned());
        variants.push((format!("/{}", path.join("/")), omitted));
    }
    if bare.is_some() && !optional.is_empty() {
        return Err(format!(
            "{source}: an optional segment before a `(.*)` rest; write the rules out"
        ));
    }
    Ok(Source {
        variants,
        captures,
        numbered,
        rests,
        bare,
        notes,
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

/// A whole segment that is an unnamed group (Vercel: `$1`): `([^/]*)` or `([^/]+)` (one
/// segment) becomes `:name`, `(a|b)` (literal alternatives) `:name(a|b)`. A placeholder never
/// takes an empty segment, so `([^/]*)` does not match `//` and an empty alternative is left
/// out (noted).
fn unnamed_group(
    source: &str,
    inner: &str,
    name: &str,
    notes: &mut Vec<String>,
) -> Result<String, String> {
    match inner {
        "[^/]*" | "[^/]+" | "[^/]+?" | "[^/]*?" => return Ok(format!(":{name}")),
        ".*" | ".+" => return Err(dot_star(source)),
        _ => {}
    }
    let alternatives: Vec<&str> = inner.split('|').collect();
    let literal = |a: &str| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~'))
    };
    if alternatives.iter().all(|a| literal(a)) {
        return Ok(format!(":{name}({inner})"));
    }
    let kept: Vec<&str> = alternatives
        .iter()
        .copied()
        .filter(|a| !a.is_empty())
        .collect();
    if !kept.is_empty() && kept.len() < alternatives.len() && kept.iter().all(|a| literal(a)) {
        notes.push(format!(
            "{source}: the empty alternative in ({inner}) matches an empty segment (`//`), which \
             a placeholder never matches; imported without it"
        ));
        return Ok(format!(":{name}({})", kept.join("|")));
    }
    Err(format!(
        "{source}: segment ({inner}) uses regular expression syntax that cannot be expressed; \
         write `:name` for one segment or `:name(a|b)` for alternatives"
    ))
}

fn dot_star(source: &str) -> String {
    format!(
        "{source}: a `(.*)` group matches `/x/` and `/x/a/` (the slash kept in the capture) but \
         not `/x`; a rules.json rest `/x/:name*` matches `/x` and, with Vercel's exact trailing \
         slashes, neither `/x/` nor `/x/a/` (a file without `:name*` rests imports a final \
         `/(.*)` with `trailing_slash: \"strict\"`, which says it); write `/x/:name*` if that \
         is what you mean"
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
                if source.rests.contains(name) {
                    out.push('*');
                } else if after[digits..].starts_with(is_name_char) {
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

/// Whether a path-to-regexp `source` could match some path that `bare` (a source without
/// optional or repeated parts) matches: segment by segment, a literal must equal a literal,
/// and anything with a group, placeholder or modifier is taken to match (so it errs towards
/// yes); a rest or an optional part matches whatever follows.
pub(super) fn could_match(source: &str, bare: &str) -> bool {
    let Some(source) = source.strip_prefix('/') else {
        return false;
    };
    let theirs = split_segments(source);
    let ours = split_segments(bare.strip_prefix('/').unwrap_or(bare));
    let literal = |s: &str| !s.contains([':', '(', '*', '?', '+', '{']);
    // `(a|b)`: its literal alternatives.
    fn alternatives(s: &str) -> Option<Vec<&str>> {
        let inner = s.strip_prefix('(')?.strip_suffix(')')?;
        let alts: Vec<&str> = inner.split('|').collect();
        alts.iter()
            .all(|a| !a.contains([':', '(', '*', '?', '+', '{', '[', '.', '\\']))
            .then_some(alts)
    }
    for (i, seg) in theirs.iter().enumerate() {
        // An optional trailing slash leaves the segments as they are.
        let seg = seg.strip_suffix("(/?)").unwrap_or(seg);
        if let Some(prefix) = seg.strip_suffix("(/.*)?") {
            // `/x(/.*)?`: `/x`, then anything under it.
            return ours
                .get(i)
                .is_some_and(|o| !literal(prefix) || !literal(o) || prefix == o);
        }
        if seg == "(.*)" {
            // It needs the `/` before it: at least one more segment, even an empty one.
            return ours.len() > i;
        }
        // A modifier (`:a*`, `(x)?`) or a group that may hold a `/`: whatever follows.
        if seg.ends_with(['*', '?', '+']) || seg.contains(".*") || seg.contains("(/") {
            return true;
        }
        let Some(o) = ours.get(i) else { return false };
        if !literal(o) {
            continue;
        }
        if literal(seg) && seg != o {
            return false;
        }
        if alternatives(seg).is_some_and(|alts| !alts.contains(&o.as_str())) {
            return false;
        }
    }
    theirs.len() == ours.len()
}
