//! What the conditions of one request read (query, cookies, language, headers), each parsed
//! once, the first time a condition asks for it, and capped.
//!
//! A request can be tens of kilobytes (a `Cookie` of thousands of pairs, an `Accept-Language`
//! of commas, a query repeating one name a thousand times) and a path can have thousands of
//! candidate rules. Parsing once makes a request's parsing cost linear in its size; the caps
//! ([`crate::limits`]) bound what each candidate's test can look at, so the cost of a request is
//! its size times a small constant plus its candidates times another, never the two multiplied.

use crate::limits::{
    MAX_COOKIE_PAIRS, MAX_LANGUAGE_RANGES, MAX_QUERY_PAIRS, MAX_REQUEST_HEADERS, MAX_VALUES_TESTED,
};
use crate::request::encode::decode_query;
use crate::request::network::request_address;
use crate::request::Request;
use std::borrow::Cow;
use std::net::IpAddr;

/// One request as the conditions see it.
#[derive(Debug)]
pub(crate) struct VisitorData<'q, 'r> {
    pub request: &'q Request<'r>,
    pub query: Query<'r>,
    /// `(name, value)` cookie pairs sorted by name, pairs of one name in the order sent.
    cookies: Option<Pairs<'r>>,
    /// The primary subtag of the preferred language, once computed.
    language: Option<Option<&'r str>>,
    /// `(lower-case name, value)` header pairs sorted by name, pairs of one name in order.
    headers: Option<Pairs<'r>>,
    /// The visitor's address, once parsed (IPv4-mapped IPv6 as IPv4).
    address: Option<Option<IpAddr>>,
}

impl<'q, 'r> VisitorData<'q, 'r> {
    /// Nothing parsed yet; `query` is the URL's query without `?`.
    pub(crate) fn new(request: &'q Request<'r>, query: Option<&'r str>) -> Self {
        VisitorData {
            request,
            query: Query::new(query),
            cookies: None,
            language: None,
            headers: None,
            address: None,
        }
    }

    /// The visitor's address ([`Request::ip`]), parsed the first time an `ip` condition asks.
    pub(crate) fn address(&mut self) -> Option<IpAddr> {
        let ip = self.request.ip;
        *self
            .address
            .get_or_insert_with(|| ip.and_then(request_address))
    }

    /// The value of cookie `name`: its first occurrence among the first
    /// [`MAX_COOKIE_PAIRS`] pairs.
    pub(crate) fn cookie(&mut self, name: &str) -> Option<&str> {
        let request = self.request;
        let pairs = self.cookies.get_or_insert_with(|| cookie_pairs(request));
        let at = pairs.partition_point(|(n, _)| n.as_ref() < name);
        pairs
            .get(at)
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The primary subtag of the visitor's preferred language (see [`preferred_language`]).
    pub(crate) fn language(&mut self) -> Option<&'r str> {
        let request = self.request;
        *self
            .language
            .get_or_insert_with(|| preferred_language(request))
    }

    /// The values of header `name` (case-insensitive), in order, at most [`MAX_VALUES_TESTED`].
    pub(crate) fn header_values(&mut self, name: &str) -> impl Iterator<Item = &str> + '_ {
        let request = self.request;
        let pairs = self.headers.get_or_insert_with(|| {
            let mut pairs: Pairs<'r> = request
                .headers
                .iter()
                .take(MAX_REQUEST_HEADERS)
                .map(|&(n, v)| (lower(n), Cow::Borrowed(v)))
                .collect();
            sort_by_name(&mut pairs);
            pairs
        });
        let name = lower(name);
        let (start, len) = equal_range(pairs, |(n, _)| n.as_ref().cmp(name.as_ref()));
        pairs[start..start + len]
            .iter()
            .take(MAX_VALUES_TESTED)
            .map(|(_, v)| v.as_ref())
    }
}

/// `(name, value)` pairs of one part of a request, sorted by name once parsed.
type Pairs<'r> = Vec<(Cow<'r, str>, Cow<'r, str>)>;

/// Sorts `pairs` by name, pairs of one name kept in the order sent (one sort for every part
/// of a request: each instance of a sort costs kilobytes of wasm).
fn sort_by_name(pairs: &mut Pairs<'_>) {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
}

fn lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// `(start, len)` of the run of sorted `items` that `order` finds equal.
fn equal_range<T>(items: &[T], order: impl Fn(&T) -> std::cmp::Ordering) -> (usize, usize) {
    let start = items.partition_point(|x| order(x).is_lt());
    let len = items[start..].partition_point(|x| order(x).is_eq());
    (start, len)
}

/// A request's query string, decoded once, the first time a condition or the index asks for
/// it: every rule that tests the query then costs a lookup, not another pass over the whole
/// string (a query can be kilobytes long, and a lookup table of query rules can make thousands
/// of candidates). Only the first [`MAX_QUERY_PAIRS`] pairs are read, and a lookup yields at
/// most the first [`MAX_VALUES_TESTED`] values of a name.
#[derive(Debug)]
pub(crate) struct Query<'r> {
    raw: Option<&'r str>,
    /// Decoded `(name, value)` pairs, sorted by name; pairs of one name keep their order.
    pairs: Option<Pairs<'r>>,
    /// The last name looked up and its range in `pairs`: candidates sharing a path usually
    /// test the same parameter.
    /// Keyed by the name's address and length (the compiled rules' own strings), confirmed
    /// against the pairs, so no copy of the name is made; a miss only costs a search.
    last: Option<((usize, usize), usize, usize)>,
}

impl<'r> Query<'r> {
    /// The query of a request, without `?`, if it has one.
    pub(crate) fn new(raw: Option<&'r str>) -> Self {
        Query {
            raw,
            pairs: None,
            last: None,
        }
    }

    /// The decoded values of parameter `name`, in the order they were sent.
    pub(crate) fn values(&mut self, name: &str) -> impl Iterator<Item = &Cow<'r, str>> + '_ {
        let raw = self.raw.unwrap_or("");
        let pairs = self.pairs.get_or_insert_with(|| {
            let mut pairs: Vec<_> = query_pairs(raw)
                .take(MAX_QUERY_PAIRS)
                .map(|(n, v)| (decode_query(n), decode_query(v)))
                .collect();
            sort_by_name(&mut pairs);
            pairs
        });
        let key = (name.as_ptr() as usize, name.len());
        let (start, len) = match self.last {
            // Checked against the pairs too, so a name at a reused address never hits.
            Some((last, start, len)) if last == key && len > 0 && pairs[start].0 == *name => {
                (start, len)
            }
            _ => {
                let (start, len) = equal_range(pairs, |(n, _)| n.as_ref().cmp(name));
                self.last = Some((key, start, len));
                (start, len)
            }
        };
        pairs[start..start + len]
            .iter()
            .take(MAX_VALUES_TESTED)
            .map(|(_, v)| v)
    }
}

/// The raw `(name, value)` pairs of a query string, empty pairs skipped.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// The request's cookie pairs (the first [`MAX_COOKIE_PAIRS`]), names and values trimmed,
/// one pair of double quotes removed from a value, sorted by name with the order sent kept.
fn cookie_pairs<'r>(request: &Request<'r>) -> Pairs<'r> {
    let mut pairs: Pairs<'r> = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((Cow::Borrowed(n.trim()), Cow::Borrowed(v)))
        })
        .take(MAX_COOKIE_PAIRS)
        .collect();
    sort_by_name(&mut pairs);
    pairs
}

/// The primary subtag of the visitor's first acceptable language: the highest q-value in
/// `Accept-Language`, ties kept in header order, `q=0` and `*` ignored. Only the first
/// [`MAX_LANGUAGE_RANGES`] language ranges count (empty items between commas are skipped).
pub(crate) fn preferred_language<'r>(request: &Request<'r>) -> Option<&'r str> {
    let header = request.header("accept-language")?;
    let mut best: Option<(&str, u32)> = None;
    let items = header
        .split(',')
        .filter(|item| !item.trim().is_empty())
        .take(MAX_LANGUAGE_RANGES);
    for item in items {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        if tag.is_empty() || tag == "*" {
            continue;
        }
        let mut q = 1000;
        for param in parts {
            if let Some(v) = param
                .trim()
                .strip_prefix("q=")
                .or_else(|| param.trim().strip_prefix("Q="))
            {
                q = parse_q(v.trim()).unwrap_or(0);
            }
        }
        if q == 0 {
            continue;
        }
        if best.is_none_or(|(_, bq)| q > bq) {
            best = Some((tag, q));
        }
    }
    best.map(|(tag, _)| tag.split('-').next().unwrap_or(tag))
}

/// Parses a q-value (`0`, `0.8`, `1.000`) into thousandths.
fn parse_q(v: &str) -> Option<u32> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u32::from(b - b'0') * [100, 10, 1][i];
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_headers(headers: &[(&str, &str)], f: impl FnOnce(&mut VisitorData<'_, '_>)) {
        let request = Request {
            headers,
            ..Request::get("https://a/")
        };
        f(&mut VisitorData::new(&request, None));
    }

    #[test]
    fn languages() {
        with_headers(&[("Accept-Language", "fr;q=0.5, de-AT, en;q=0.9")], |v| {
            assert_eq!(v.language(), Some("de"))
        });
        with_headers(&[("accept-language", "*, en;q=0")], |v| {
            assert_eq!(v.language(), None)
        });
        // Empty items do not count towards the cap.
        let commas = format!("{}de", ",".repeat(10_000));
        with_headers(&[("accept-language", &commas)], |v| {
            assert_eq!(v.language(), Some("de"))
        });
        let many = format!("{}de", "x;q=0.1,".repeat(MAX_LANGUAGE_RANGES));
        with_headers(&[("accept-language", &many)], |v| {
            assert_eq!(v.language(), Some("x"))
        });
    }

    #[test]
    fn cookies_first_occurrence_and_cap() {
        with_headers(&[("Cookie", "b=2; a=\"1\""), ("cookie", "a=3; c")], |v| {
            assert_eq!(v.cookie("a"), Some("1"));
            assert_eq!(v.cookie("b"), Some("2"));
            assert_eq!(v.cookie("c"), None);
            assert_eq!(v.cookie("d"), None);
        });
        let mut many: String = (0..MAX_COOKIE_PAIRS).map(|i| format!("k{i}=v; ")).collect();
        many.push_str("late=1");
        with_headers(&[("cookie", &many)], |v| {
            assert_eq!(v.cookie("k0"), Some("v"));
            assert_eq!(v.cookie("late"), None);
        });
    }

    #[test]
    fn headers_by_name_in_order() {
        with_headers(&[("X-A", "1"), ("b", "2"), ("x-a", "3")], |v| {
            assert_eq!(v.header_values("x-A").collect::<Vec<_>>(), ["1", "3"]);
            assert_eq!(v.header_values("c").count(), 0);
        });
    }

    #[test]
    fn query_values_capped() {
        let raw = "a=1&".repeat(MAX_VALUES_TESTED + 5) + "b=%41";
        let mut q = Query::new(Some(&raw));
        assert_eq!(q.values("a").count(), MAX_VALUES_TESTED);
        assert_eq!(
            q.values("b").map(|v| v.to_string()).collect::<Vec<_>>(),
            ["A"]
        );
        let raw = "z=1&".repeat(MAX_QUERY_PAIRS) + "late=1";
        let mut q = Query::new(Some(&raw));
        assert_eq!(q.values("late").count(), 0);
    }
}
