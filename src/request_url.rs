//! Splitting a request URL into the parts rules look at, without a full URL parse per request.

use crate::encode::decode_segment;
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
    /// Splits `url`; `None` for anything that is not a plausible absolute http(s) URL.
    pub fn split(url: &'a str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let mut authority = &rest[..end];
        if let Some(at) = authority.rfind('@') {
            authority = &authority[at + 1..];
        }
        if authority.is_empty()
            || !authority
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:[]".contains(&b))
        {
            return None;
        }
        let host = if authority.starts_with('[') {
            &authority[..authority.find(']')? + 1]
        } else {
            authority.split(':').next().unwrap_or(authority)
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() {
            return None;
        }
        let rest = &rest[end..];
        let rest = rest.split('#').next().unwrap_or("");
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let path = if path.is_empty() { "/" } else { path };
        Some(RequestUrl {
            scheme,
            authority,
            host,
            path,
            query,
        })
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
        self.scheme.eq_ignore_ascii_case(other.scheme)
            && self.host.eq_ignore_ascii_case(other.host)
            && self.port() == other.port()
            && same_path(self.path, other.path)
            && same_query(self.query.unwrap_or(""), other.query.unwrap_or(""))
    }
}

fn same_path(a: &str, b: &str) -> bool {
    a == b || {
        let mut xs = a.split('/');
        let mut ys = b.split('/');
        loop {
            match (xs.next(), ys.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if decode_segment(x) == decode_segment(y) => {}
                _ => return false,
            }
        }
    }
}

fn same_query(a: &str, b: &str) -> bool {
    a == b || decode_all(a) == decode_all(b)
}

fn decode_all(s: &str) -> Cow<'_, str> {
    decode_segment(s)
}

/// A request path cut into segments for matching.
///
/// `decoded` holds the comparable form of each segment (percent-decoded, lower-cased when
/// matching is case-insensitive); `raw` the byte range of each segment in the path, so a
/// capture can hand out the segment exactly as the visitor sent it.
#[derive(Debug)]
pub(crate) struct PathSegments<'a> {
    pub path: &'a str,
    pub decoded: Vec<Cow<'a, str>>,
    pub raw: Vec<(usize, usize)>,
}

impl<'a> PathSegments<'a> {
    /// Cuts `path` (starting with `/`). With `strict_slash` false, a trailing empty segment is
    /// dropped, so `/a/` and `/a` are the same; `/` always has no segments.
    pub fn new(path: &'a str, case_sensitive: bool, strict_slash: bool) -> Self {
        let body = path.strip_prefix('/').unwrap_or(path);
        let mut decoded = Vec::new();
        let mut raw = Vec::new();
        if !body.is_empty() {
            let mut start = path.len() - body.len();
            for seg in body.split('/') {
                raw.push((start, start + seg.len()));
                start += seg.len() + 1;
                decoded.push(comparable(seg, case_sensitive));
            }
            if !strict_slash && decoded.len() > 1 && raw.last().is_some_and(|(s, e)| s == e) {
                decoded.pop();
                raw.pop();
            }
            if !strict_slash && decoded.len() == 1 && raw[0].0 == raw[0].1 {
                decoded.clear();
                raw.clear();
            }
        }
        PathSegments { path, decoded, raw }
    }

    /// The raw text of segments `from..` joined by `/`, as sent (empty for no segments).
    pub fn raw_rest(&self, from: usize) -> &'a str {
        if from >= self.raw.len() {
            return "";
        }
        &self.path[self.raw[from].0..self.raw[self.raw.len() - 1].1]
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
pub(crate) fn comparable(segment: &str, case_sensitive: bool) -> Cow<'_, str> {
    let decoded = decode_segment(segment);
    if case_sensitive || !decoded.chars().any(|c| c.is_uppercase()) {
        return decoded;
    }
    Cow::Owned(decoded.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let u = RequestUrl::split("https://user@Example.com:8443/a/b?x=1#f").unwrap();
        assert_eq!(u.authority, "Example.com:8443");
        assert_eq!(u.host, "Example.com");
        assert_eq!(u.port(), "8443");
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.query, Some("x=1"));
        let u = RequestUrl::split("http://[::1]:8787").unwrap();
        assert_eq!(u.host, "[::1]");
        assert_eq!(u.port(), "8787");
        assert_eq!(u.path, "/");
        assert!(RequestUrl::split("ftp://x/").is_none());
        assert!(RequestUrl::split("https://ev il/").is_none());
    }

    #[test]
    fn segments_and_trailing_slash() {
        let p = PathSegments::new("/a/b/", true, false);
        assert_eq!(p.decoded, vec!["a", "b"]);
        assert_eq!(p.key(), "/a/b");
        let p = PathSegments::new("/a/b/", true, true);
        assert_eq!(p.decoded, vec!["a", "b", ""]);
        assert_eq!(p.key(), "/a/b/");
        let p = PathSegments::new("/", true, true);
        assert!(p.decoded.is_empty());
        let p = PathSegments::new("/x/%C3%A9/Y", false, false);
        assert_eq!(p.key(), "/x/é/y");
        assert_eq!(p.raw_rest(1), "%C3%A9/Y");
    }
}
