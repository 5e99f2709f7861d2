//! Splitting a request URL into the parts rules look at, without a full URL parse per request.

use crate::request::encode::decode_segment;
use smallvec::SmallVec;
use std::borrow::Cow;

/// The parts of an absolute http(s) request URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestUrl<'a> {
    /// `http` or `https`, as written.
    pub scheme: &'a str,
    /// `host[:port]`, without user info.
    pub authority: &'a str,
    /// The host without port, as written (compare case-insensitively).
    pub host: &'a str,
    /// The path, starting with `/`, still percent-encoded.
    pub path: &'a str,
    /// The query without `?`, if there is one.
    pub query: Option<&'a str>,
}

impl<'a> RequestUrl<'a> {
    /// Reads `url` into its parts; `None` for anything that is not a plausible absolute http(s) URL.
    /// One pass over the bytes: this runs for every request.
    pub fn parse(url: &'a str) -> Option<Self> {
        let bytes = url.as_bytes();
        let colon = bytes.iter().take(6).position(|&b| b == b':')?;
        let scheme = &url[..colon];
        if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
            || bytes.get(colon + 1..colon + 3) != Some(b"//")
        {
            return None;
        }
        let start = colon + 3;
        let mut auth_start = start;
        let mut end = bytes.len();
        for (i, &b) in bytes[start..].iter().enumerate() {
            match b {
                b'/' | b'?' | b'#' => {
                    end = start + i;
                    break;
                }
                b'@' => auth_start = start + i + 1,
                // WHATWG parsers end the authority at `\` for http(s); such a URL never comes
                // from the platform, so it is not worth guessing: pass it to the origin.
                b'\\' => return None,
                _ => {}
            }
        }
        let authority = &url[auth_start..end];
        if authority.is_empty()
            || !authority.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'[' | b']')
            })
        {
            return None;
        }
        let (host, port) = if authority.starts_with('[') {
            let close = authority.find(']')?;
            (&authority[..close + 1], &authority[close + 1..])
        } else {
            match authority.bytes().position(|b| b == b':') {
                Some(i) => (&authority[..i], &authority[i..]),
                None => (authority, ""),
            }
        };
        // A host with a stray `[`, `]` or `:`, or a port that is not a number a URL parser
        // accepts, would be copied into a Location nobody can follow.
        let bracketed = host.starts_with('[');
        if host[usize::from(bracketed)..host.len() - usize::from(bracketed)]
            .bytes()
            .any(|b| b == b'[' || b == b']' || (!bracketed && b == b':'))
        {
            return None;
        }
        if host_needs_parsing(host) && url::Host::parse(host).is_err() {
            return None;
        }
        if let Some(digits) = port.strip_prefix(':') {
            if !digits.is_empty()
                && (digits.len() > 5
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || digits.parse::<u32>().map_or(true, |p| p > 65_535))
            {
                return None;
            }
        } else if !port.is_empty() {
            return None;
        }
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() {
            return None;
        }
        let mut path_end = bytes.len();
        let mut query = None;
        for (i, &b) in bytes[end..].iter().enumerate() {
            match b {
                b'?' => {
                    path_end = end + i;
                    let q_start = path_end + 1;
                    let q_end = bytes[q_start..]
                        .iter()
                        .position(|&b| b == b'#')
                        .map_or(bytes.len(), |j| q_start + j);
                    query = Some(&url[q_start..q_end]);
                    break;
                }
                b'#' => {
                    path_end = end + i;
                    break;
                }
                _ => {}
            }
        }
        let path = if path_end == end {
            "/"
        } else {
            &url[end..path_end]
        };
        Some(RequestUrl {
            scheme,
            authority,
            host,
            path,
            query,
        })
    }

    /// The path of an absolute URL (up to `?` or `#`, `/` when empty), found without checking
    /// the rest: a cheap first test before [`RequestUrl::split`].
    pub fn path_of(url: &str) -> &str {
        let bytes = url.as_bytes();
        let Some(colon) = bytes.iter().take(6).position(|&b| b == b':') else {
            return url;
        };
        let after = &url[(colon + 3).min(url.len())..];
        let start = after
            .bytes()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        let rest = &after[start..];
        let end = rest
            .bytes()
            .position(|b| matches!(b, b'?' | b'#'))
            .unwrap_or(rest.len());
        if end == 0 {
            "/"
        } else {
            &rest[..end]
        }
    }

    /// Whether `other`'s path may name the same resource as `self`'s: false only when it
    /// surely does not (see [`RequestUrl::same_resource`]).
    pub fn may_share_path(&self, other_path: &str) -> bool {
        same_path(self.path, other_path)
    }

    /// The port written in the authority, or the scheme's default.
    pub fn port(&self) -> &'a str {
        let after_host = &self.authority[self.authority.len().min(
            self.authority
                .find(']')
                .map(|i| i + 1)
                .unwrap_or_else(|| self.authority.find(':').unwrap_or(self.authority.len())),
        )..];
        match after_host.strip_prefix(':') {
            Some(p) if !p.is_empty() => p,
            _ if self.scheme.eq_ignore_ascii_case("https") => "443",
            _ => "80",
        }
    }

    /// Whether two URLs name the same resource: scheme, host and port compared as URLs compare
    /// them, path compared after percent-decoding, query compared as written (an empty query
    /// equals none).
    pub fn same_resource(&self, other: &RequestUrl<'_>) -> bool {
        // The path differs for almost every redirect, so it is compared first.
        same_path(self.path, other.path)
            && same_query(self.query.unwrap_or(""), other.query.unwrap_or(""))
            && self.host.eq_ignore_ascii_case(other.host)
            && self.scheme.eq_ignore_ascii_case(other.scheme)
            && self.port() == other.port()
    }
}

/// Whether a host has a shape a URL parser treats specially, and so must be checked by one: an
/// IP address literal (a bracketed IPv6 address, or a last label starting with a digit, which
/// WHATWG parsers read as IPv4) or a punycode label (`xn--`). Plain names need no check.
pub(crate) fn host_needs_parsing(host: &str) -> bool {
    let name = host.strip_suffix('.').unwrap_or(host);
    let last = name.rsplit('.').next().unwrap_or(name);
    host.starts_with('[')
        || last.bytes().next().is_some_and(|b| b.is_ascii_digit())
        || host
            .as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"xn--"))
}

fn same_path(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if !(needs_resolving(a) || needs_resolving(b)) {
        return false;
    }
    resolved_segments(a) == resolved_segments(b)
}

/// Whether a path may read differently once decoded and resolved: it has a `%` or a segment
/// starting with `.`.
fn needs_resolving(path: &str) -> bool {
    let mut prev = 0u8;
    path.bytes().any(|b| {
        let hit = b == b'%' || (b == b'.' && prev == b'/');
        prev = b;
        hit
    })
}

/// The decoded segments of a path after removing `.` and `..` segments (RFC 3986 §5.2.4, with
/// `%2E` counted as `.` as browsers do): the path a browser actually requests.
fn resolved_segments(path: &str) -> Vec<Cow<'_, str>> {
    let mut out: Vec<Cow<'_, str>> = Vec::new();
    let body = path.strip_prefix('/').unwrap_or(path);
    let mut parts = body.split('/').peekable();
    while let Some(raw) = parts.next() {
        let seg = decode_segment(raw);
        let last = parts.peek().is_none();
        let dots = match seg.as_ref() {
            "." => 1,
            ".." => 2,
            _ => 0,
        };
        if dots == 2 {
            out.pop();
        }
        if dots == 0 {
            out.push(seg);
        } else if last {
            out.push(Cow::Borrowed(""));
        }
    }
    out
}

fn same_query(a: &str, b: &str) -> bool {
    a == b || (a.contains('%') || b.contains('%')) && decode_segment(a) == decode_segment(b)
}

/// A request path cut into segments for matching.
///
/// `decoded` holds the comparable form of each segment (percent-decoded, lower-cased when
/// matching is case-insensitive); `raw` the byte range of each segment in the path, so a
/// capture can hand out the segment exactly as the visitor sent it.
#[derive(Debug)]
pub(crate) struct PathSegments<'a> {
    pub path: &'a str,
    /// Whether a rest capture runs to the end of the path (a trailing slash included) or stops
    /// at the last segment (`trailing_slash: "remove"`).
    pub rest_to_end: bool,
    /// Whether a rest capture may take the empty segment after a trailing slash (not with
    /// `trailing_slash: "exact"`).
    pub rest_takes_slash: bool,
    pub decoded: SmallVec<[Cow<'a, str>; 8]>,
    pub raw: SmallVec<[(usize, usize); 8]>,
    /// Whether each decoded segment has one byte per byte counted by [`raw_offset`] (`%XX` one,
    /// `%2F` three, anything else one), so that offsets in it map back to the raw text: checked
    /// once per request here, not by every candidate rule that cuts the segment.
    pub aligned: SmallVec<[bool; 8]>,
}

impl<'a> PathSegments<'a> {
    /// Cuts `path` (starting with `/`). With `strict_slash` false, a trailing empty segment is
    /// dropped, so `/a/` and `/a` are the same; `/` always has no segments.
    pub fn new(path: &'a str, case_sensitive: bool, strict_slash: bool) -> Self {
        let raw = Self::ranges(path, strict_slash);
        let decoded = raw
            .iter()
            .map(|&(s, e)| comparable(&path[s..e], case_sensitive))
            .collect::<SmallVec<[Cow<'a, str>; 8]>>();
        let aligned = raw
            .iter()
            .zip(&decoded)
            .map(|(&(s, e), d)| {
                let raw = &path[s..e];
                // A segment decoded to itself is aligned as it stands.
                d.as_ptr() == raw.as_ptr() || raw_offset(raw, d.len()) == Some(raw.len())
            })
            .collect();
        PathSegments {
            path,
            decoded,
            raw,
            aligned,
            rest_to_end: true,
            rest_takes_slash: true,
        }
    }

    /// No rest capture takes a trailing slash: a path ending in one does not match a rest.
    pub fn rest_refusing_trailing_slash(self) -> Self {
        PathSegments {
            rest_takes_slash: false,
            ..self
        }
    }

    /// Rest captures stop at the last segment, leaving a trailing slash out.
    pub fn without_trailing_slash(self) -> Self {
        PathSegments {
            rest_to_end: false,
            ..self
        }
    }

    /// The byte range of each segment of `path`, cut as [`PathSegments::new`] cuts it.
    pub fn ranges(path: &str, strict_slash: bool) -> SmallVec<[(usize, usize); 8]> {
        let body_start = usize::from(path.starts_with('/'));
        let mut raw: SmallVec<[(usize, usize); 8]> = SmallVec::new();
        if body_start < path.len() {
            let bytes = path.as_bytes();
            let mut start = body_start;
            for i in body_start..=bytes.len() {
                if i == bytes.len() || bytes[i] == b'/' {
                    raw.push((start, i));
                    start = i + 1;
                }
            }
            if !strict_slash && raw.len() > 1 && raw.last().is_some_and(|(s, e)| s == e) {
                raw.pop();
            }
            if !strict_slash && raw.len() == 1 && raw[0].0 == raw[0].1 {
                raw.clear();
            }
        }
        raw
    }

    /// The raw text of segments `from..` as sent, up to the end of the path: a trailing slash
    /// the visitor sent stays, even when matching ignored it, unless rest captures stop at
    /// the last segment (empty for no segments).
    pub fn raw_rest(&self, from: usize) -> &'a str {
        if from >= self.raw.len() {
            return "";
        }
        let end = if self.rest_to_end {
            self.path.len()
        } else {
            self.raw[self.raw.len() - 1].1
        };
        &self.path[self.raw[from].0..end]
    }

    /// The raw text of segment `i`.
    pub fn raw_segment(&self, i: usize) -> &'a str {
        let (s, e) = self.raw[i];
        &self.path[s..e]
    }

    /// The comparable key for exact-path lookup: `/` + decoded segments joined by `/`.
    pub fn key(&self) -> Cow<'a, str> {
        if self.decoded.is_empty() {
            return Cow::Borrowed("/");
        }
        let borrowed = self.decoded.iter().all(|d| matches!(d, Cow::Borrowed(_)));
        if borrowed {
            let end = self.raw[self.raw.len() - 1].1;
            return Cow::Borrowed(&self.path[..end]);
        }
        let mut key = String::with_capacity(self.path.len());
        for d in &self.decoded {
            key.push('/');
            key.push_str(d);
        }
        Cow::Owned(key)
    }
}

/// The comparable form of one segment: decoded, and lower-cased unless case-sensitive.
/// The decoded width of the escape `%XX` at the start of `bytes` (one byte; `%2F` stays
/// three), if one starts there.
fn escape_width(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'%', h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
            Some(if *h == b'2' && l.eq_ignore_ascii_case(&b'f') {
                3
            } else {
                1
            })
        }
        _ => None,
    }
}

/// The byte of `raw` where decoded byte `at` starts: `%XX` decodes to one byte (`%2F` stays
/// three). `None` when `at` falls inside an escape, or past the end.
pub(crate) fn raw_offset(raw: &str, at: usize) -> Option<usize> {
    let bytes = raw.as_bytes();
    let (mut i, mut decoded) = (0, 0);
    while decoded < at && i < bytes.len() {
        match escape_width(&bytes[i..]) {
            Some(width) => {
                decoded += width;
                i += 3;
            }
            None => {
                decoded += 1;
                i += 1;
            }
        }
    }
    (decoded == at).then_some(i)
}

/// The number of bytes at the end of `raw` that decode to its last `count` decoded bytes (see
/// [`raw_offset`]; escapes never overlap, so reading from the end cuts as from the start);
/// `None` when that count ends inside an escape.
pub(crate) fn raw_offset_from_end(raw: &str, count: usize) -> Option<usize> {
    let bytes = raw.as_bytes();
    let (mut taken, mut decoded) = (0, 0);
    while decoded < count && taken < bytes.len() {
        let at = bytes.len() - taken;
        match at.checked_sub(3).and_then(|s| escape_width(&bytes[s..at])) {
            Some(width) => {
                decoded += width;
                taken += 3;
            }
            None => {
                decoded += 1;
                taken += 1;
            }
        }
    }
    (decoded == count).then_some(taken)
}

pub(crate) fn comparable(segment: &str, case_sensitive: bool) -> Cow<'_, str> {
    let decoded = decode_segment(segment);
    if case_sensitive {
        return decoded;
    }
    if decoded.is_ascii() {
        if !decoded.bytes().any(|b| b.is_ascii_uppercase()) {
            return decoded;
        }
        return Cow::Owned(decoded.to_ascii_lowercase());
    }
    if !decoded.chars().any(char::is_uppercase) {
        return decoded;
    }
    Cow::Owned(decoded.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = RequestUrl::parse("https://user@Example.com:8443/a/b?x=1#f").unwrap();
        assert_eq!(u.authority, "Example.com:8443");
        assert_eq!(u.host, "Example.com");
        assert_eq!(u.port(), "8443");
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.query, Some("x=1"));
        let u = RequestUrl::parse("http://[::1]:8787").unwrap();
        assert_eq!(u.host, "[::1]");
        assert_eq!(u.port(), "8787");
        assert_eq!(u.path, "/");
        assert!(RequestUrl::parse("ftp://x/").is_none());
        assert!(RequestUrl::parse("https://ev il/").is_none());
    }

    #[test]
    fn segments_and_trailing_slash() {
        let p = PathSegments::new("/a/b/", true, false);
        assert_eq!(p.decoded.as_slice(), ["a", "b"]);
        assert_eq!(p.key(), "/a/b");
        let p = PathSegments::new("/a/b/", true, true);
        assert_eq!(p.decoded.as_slice(), ["a", "b", ""]);
        assert_eq!(p.key(), "/a/b/");
        let p = PathSegments::new("/", true, true);
        assert!(p.decoded.is_empty());
        let p = PathSegments::new("/x/%C3%A9/Y", false, false);
        assert_eq!(p.key(), "/x/é/y");
        assert_eq!(p.raw_rest(1), "%C3%A9/Y");
    }
}
