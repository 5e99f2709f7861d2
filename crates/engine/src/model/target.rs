//! `to` targets: parsed once into literal pieces and placeholders, rendered per request into
//! an absolute, percent-encoded URL that stays on the origin the rule's author wrote.

use crate::model::settings::Settings;
use crate::request::encode::{decode_query, push_encoded, push_normalized, UrlPart};
use crate::request::url::RequestUrl;
use crate::request::visitor::query_pairs;
use std::borrow::Cow;

/// A value captured for a placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Captured<'a> {
    /// Text from the request path, exactly as sent (still percent-encoded).
    Raw(&'a str),
    /// A decoded `when.query` value.
    Decoded(Cow<'a, str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Literal text, already in URL form.
    Lit(String),
    /// A placeholder and the part of the URL it lands in.
    Var(String, UrlPart),
    /// A placeholder inside the host.
    HostVar(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// Relative target: the request's own scheme and host.
    Request,
    /// Absolute target: `scheme://host[:port]` exactly as the author wrote it (normalised).
    Fixed(Box<str>),
    /// Absolute target with placeholders in the host: scheme, then authority pieces.
    Templated(Box<(String, Vec<Piece>)>),
}

/// Everything after the origin of a compiled `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rest {
    /// A plain path without placeholders, query or fragment (most targets): one string.
    Path(Box<str>),
    /// Literal pieces and placeholders, and, when the target has a query, the names of the
    /// parameters it sets (decoded, sorted, each once).
    Pieces(Box<[Piece]>, Option<Box<[String]>>),
}

/// A compiled `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    origin: Origin,
    rest: Rest,
}

/// What is wrong with a `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetError {
    /// The text is not a usable target; message and hint.
    Malformed(String, String),
    /// Placeholders nothing captures.
    Unknown(Vec<String>),
}

impl Target {
    /// The target's text when it is a single literal path on the request's host (no
    /// placeholders, no query): then it is exactly the `to` as written, when that was already
    /// in URL form.
    pub(crate) fn literal_path(&self) -> Option<&str> {
        match (&self.origin, &self.rest) {
            (Origin::Request, Rest::Path(path)) => Some(path),
            _ => None,
        }
    }

    /// Parses `text`; `known` are the names the rule captures.
    pub(crate) fn parse(text: &str, known: &[&str]) -> Result<Self, TargetError> {
        let malformed = |m: &str, h: &str| Err(TargetError::Malformed(m.into(), h.into()));
        if text.is_empty() {
            return malformed(
                "target is empty",
                "write a path such as `/new` or a URL such as `https://example.org/new`",
            );
        }
        if text.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return malformed(
                "target contains a control character (such as CR or LF)",
                "remove it; percent-encode it (`%0A`) if it is really meant",
            );
        }
        let mut unknown = Vec::new();
        let (origin, rest_text) = if text.starts_with("//") || text.starts_with("/\\") {
            return malformed(
                "a target starting with `//` is a scheme-relative URL that leaves the site",
                "write the scheme: `https://host/path`, or a single `/` for a path on this host",
            );
        } else if text.starts_with('/') {
            (Origin::Request, text)
        } else {
            let Some((scheme, after)) = text.split_once("://") else {
                return malformed(
                    "target is neither a path starting with `/` nor an absolute http(s) URL",
                    "write `/path` for this host or `https://example.org/path`",
                );
            };
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return malformed(
                    &format!("scheme `{scheme}` is not allowed in a redirect target"),
                    "use `https://` (or `http://`)",
                );
            }
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let (authority, rest) = after.split_at(end);
            let pieces = scan(authority, UrlPart::Path, true, known, &mut unknown);
            let templated = pieces.iter().any(|p| matches!(p, Piece::HostVar(_)));
            let probe: String = pieces
                .iter()
                .map(|p| match p {
                    Piece::Lit(l) => l.as_str(),
                    _ => "x",
                })
                .collect();
            let parsed = match url::Url::parse(&format!("{scheme}://{probe}/")) {
                Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => u,
                Ok(_) | Err(_) => {
                    return malformed(
                        &format!("`{text}` is not a valid absolute URL (host `{authority}`)"),
                        "write `https://host/path` with a valid host name",
                    )
                }
            };
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return malformed(
                    "target URL contains user info (`user@`)",
                    "remove the `user@` part: it is used to disguise the real host",
                );
            }
            let origin = if templated {
                Origin::Templated(Box::new((scheme, pieces)))
            } else {
                Origin::Fixed(parsed.origin().ascii_serialization().into_boxed_str())
            };
            (origin, rest)
        };
        let rest = if rest_text.is_empty() || !rest_text.starts_with('/') {
            Cow::Owned(format!("/{rest_text}"))
        } else {
            Cow::Borrowed(rest_text)
        };
        let (before_fragment, fragment) = match rest.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (rest.as_ref(), None),
        };
        let (path, query) = match before_fragment.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (before_fragment, None),
        };
        let mut pieces = scan(path, UrlPart::Path, false, known, &mut unknown);
        let mut query_names = Vec::new();
        if let Some(q) = query {
            pieces.push(Piece::Lit("?".into()));
            pieces.extend(scan(q, UrlPart::Query, false, known, &mut unknown));
            for (name, _) in query_pairs(q) {
                if !name.contains(':') {
                    query_names.push(decode_query(name).into_owned());
                }
            }
        }
        if let Some(f) = fragment {
            pieces.push(Piece::Lit("#".into()));
            pieces.extend(scan(f, UrlPart::Fragment, false, known, &mut unknown));
        }
        if !unknown.is_empty() {
            return Err(TargetError::Unknown(unknown));
        }
        let mut merged = merge(pieces);
        // Sorted, so carrying a request's query costs a lookup per pair, not a scan of names.
        query_names.sort_unstable();
        query_names.dedup();
        let query_names = query.map(|_| query_names.into_boxed_slice());
        let rest = if query.is_none() && fragment.is_none() && merged.len() == 1 {
            match merged.pop() {
                Some(Piece::Lit(path)) => Rest::Path(path.into_boxed_str()),
                other => Rest::Pieces(other.into_iter().collect(), None),
            }
        } else {
            Rest::Pieces(merged.into_boxed_slice(), query_names)
        };
        Ok(Target { origin, rest })
    }

    /// Renders the absolute Location for a request. `None` when a host placeholder produced a
    /// host outside `settings.allowed_hosts` (or not a host at all).
    pub(crate) fn render(
        &self,
        url: &RequestUrl<'_>,
        captures: &[(&str, Captured<'_>)],
        preserve_query: bool,
        settings: &Settings,
    ) -> Option<String> {
        let mut out = String::with_capacity(64 + url.path.len() + url.query.map_or(0, str::len));
        match &self.origin {
            Origin::Request => {
                out.push_str(if url.scheme.eq_ignore_ascii_case("https") {
                    "https://"
                } else {
                    "http://"
                });
                out.extend(url.authority.chars().map(|c| c.to_ascii_lowercase()));
            }
            Origin::Fixed(o) => out.push_str(o),
            Origin::Templated(templated) => {
                let (scheme, pieces) = &**templated;
                out.push_str(scheme);
                out.push_str("://");
                let start = out.len();
                for p in pieces {
                    match p {
                        Piece::Lit(l) => out.push_str(&l.to_ascii_lowercase()),
                        Piece::HostVar(name) | Piece::Var(name, _) => {
                            let value = lookup(captures, name)?;
                            let text = match value {
                                Captured::Raw(r) => Cow::Borrowed(*r),
                                Captured::Decoded(d) => Cow::Borrowed(d.as_ref()),
                            };
                            if text.is_empty()
                                || !text
                                    .bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                            {
                                return None;
                            }
                            out.push_str(&text.to_ascii_lowercase());
                        }
                    }
                }
                let authority = &out[start..];
                let host = authority.split(':').next().unwrap_or(authority);
                let host = host.strip_suffix('.').unwrap_or(host);
                if host.starts_with('.')
                    || host.contains("..")
                    || !settings.host_allowed(host)
                    || url::Host::parse(host).is_err()
                {
                    return None;
                }
            }
        }
        let (pieces, target_query) = match &self.rest {
            Rest::Path(path) => {
                out.push_str(path);
                push_carried_query(&mut out, url, preserve_query, None);
                return Some(out);
            }
            Rest::Pieces(pieces, query) => (pieces, query.as_deref()),
        };
        let mut carried = false;
        for p in pieces.iter() {
            match p {
                Piece::Lit(l) => {
                    if l.starts_with('#') && !carried {
                        push_carried_query(&mut out, url, preserve_query, target_query);
                        carried = true;
                    }
                    out.push_str(l);
                }
                Piece::Var(name, part) => match (lookup(captures, name)?, *part) {
                    (Captured::Raw(r), UrlPart::Query) => {
                        push_normalized(&mut out, r, UrlPart::QueryComponent)
                    }
                    (Captured::Raw(r), part) => push_normalized(&mut out, r, part),
                    (Captured::Decoded(d), UrlPart::Path) => {
                        push_encoded(&mut out, d, UrlPart::Segment)
                    }
                    (Captured::Decoded(d), UrlPart::Query) => {
                        push_encoded(&mut out, d, UrlPart::QueryComponent)
                    }
                    (Captured::Decoded(d), part) => push_encoded(&mut out, d, part),
                },
                Piece::HostVar(_) => {}
            }
        }
        if !carried {
            push_carried_query(&mut out, url, preserve_query, target_query);
        }
        Some(out)
    }
}

/// Appends the request's query pairs that the target does not set itself; `target_query` names
/// the parameters of the target's own query (sorted), `None` when it has none.
fn push_carried_query(
    out: &mut String,
    url: &RequestUrl<'_>,
    preserve: bool,
    target_query: Option<&[String]>,
) {
    let Some(query) = url.query.filter(|_| preserve) else {
        return;
    };
    let mut sep = if target_query.is_none() {
        "?"
    } else if out.ends_with('?') {
        ""
    } else {
        "&"
    };
    let names = target_query.unwrap_or_default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split('=').next().unwrap_or(pair);
        if !names.is_empty() {
            let name = decode_query(name);
            if names.binary_search_by(|n| n.as_str().cmp(&name)).is_ok() {
                continue;
            }
        }
        out.push_str(sep);
        sep = "&";
        push_normalized(out, pair, UrlPart::Query);
    }
}

fn lookup<'c, 'a>(captures: &'c [(&str, Captured<'a>)], name: &str) -> Option<&'c Captured<'a>> {
    captures.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// Cuts `text` into literal pieces (normalised for `part`) and placeholders.
fn scan(
    text: &str,
    part: UrlPart,
    host: bool,
    known: &[&str],
    unknown: &mut Vec<String>,
) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut flushed = 0;
    // `$1`, `$2`, ... are placeholders only where the pattern captures them (a path-to-regexp
    // source's groups); elsewhere a `$` is text.
    let numbered = known.iter().any(|k| k.starts_with('$'));
    while let Some((colon, at, end)) = next_placeholder(text, flushed, numbered) {
        let name = &text[at..end];
        push_lit(&mut lit, &text[flushed..colon], part, host);
        if !lit.is_empty() {
            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        if !known.contains(&name) && !unknown.iter().any(|u| u == name) {
            unknown.push(name.to_string());
        }
        pieces.push(if host {
            Piece::HostVar(name.to_string())
        } else {
            Piece::Var(name.to_string(), part)
        });
        // `:name*` is the same placeholder as `:name`.
        flushed = if text[end..].starts_with('*') {
            end + 1
        } else {
            end
        };
    }
    push_lit(&mut lit, &text[flushed..], part, host);
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    pieces
}

/// The next placeholder at or after byte `from`: the position of its `:`, the start and the
/// end of its name. A name is `[A-Za-z_][A-Za-z0-9_]*` and ends at the first other character,
/// so `:8080` and the `:` of `https:` are not placeholders. With `numbered`, `$1`, `$2`, ...
/// are placeholders too, named with their `$`.
fn next_placeholder(text: &str, from: usize, numbered: bool) -> Option<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i + 1 < bytes.len() {
        let end_of = |start: usize, ok: fn(&u8) -> bool| {
            bytes[start..]
                .iter()
                .position(|b| !ok(b))
                .map_or(bytes.len(), |n| start + n)
        };
        if bytes[i] == b':' && (bytes[i + 1].is_ascii_alphabetic() || bytes[i + 1] == b'_') {
            let end = end_of(i + 1, |b| b.is_ascii_alphanumeric() || *b == b'_');
            return Some((i, i + 1, end));
        }
        if numbered && bytes[i] == b'$' && bytes[i + 1].is_ascii_digit() {
            return Some((i, i, end_of(i + 1, u8::is_ascii_digit)));
        }
        i += 1;
    }
    None
}

/// The placeholder names a `to` target uses, in order (`:name`, `:name*`, `:splat`), as the
/// engine reads them when it compiles the target.
pub fn placeholder_names(target: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut from = 0;
    while let Some((_, at, end)) = next_placeholder(target, from, false) {
        names.push(&target[at..end]);
        from = end;
    }
    names
}

fn push_lit(out: &mut String, text: &str, part: UrlPart, host: bool) {
    if host {
        out.push_str(text);
    } else {
        push_normalized(out, text, part);
    }
}

/// Joins adjacent literals.
fn merge(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for p in pieces {
        match (out.last_mut(), p) {
            (Some(Piece::Lit(a)), Piece::Lit(b)) if !b.starts_with('?') && !b.starts_with('#') => {
                a.push_str(&b)
            }
            (_, p) => out.push(p),
        }
    }
    out
}
