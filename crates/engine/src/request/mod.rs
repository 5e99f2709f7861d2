//! The engine's view of an incoming request: borrowed, so adapters never copy a body or rebuild
//! a URL just to ask for a decision.

pub(crate) mod encode;
pub(crate) mod host;
pub(crate) mod instant;
pub(crate) mod network;
pub(crate) mod url;
pub(crate) mod visitor;

/// What the engine needs to know about one request.
///
/// Adapters (the worker, the CLI) fill this from their own request type. Everything is borrowed;
/// evaluating a request never takes ownership of anything.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method as received (`GET`, `post`, ...). Compared case-insensitively.
    pub method: &'a str,
    /// The absolute request URL, as the platform serialises it
    /// (`https://example.com/path?query`). A URL the engine cannot split is passed to the origin.
    pub url: &'a str,
    /// Request headers as `(name, value)` pairs; names are compared case-insensitively and a name
    /// may appear more than once.
    pub headers: &'a [(&'a str, &'a str)],
    /// Where the visitor is, as the edge platform reports it (Cloudflare's `request.cf`).
    pub geo: Geo<'a>,
    /// Uniformly random bits used only when a visitor must be assigned an A/B variant.
    /// The worker draws them from the platform's random source; tests pass fixed values.
    pub random: u64,
    /// The request's time, in whole seconds since the Unix epoch (the worker passes
    /// `Date.now()`). `None`: the time is unknown, and every `after` / `before` condition does
    /// not hold (in `when` and in `unless`), and an answer a window could change is not stored.
    pub now: Option<i64>,
    /// The visitor's address as the platform reports it: the worker passes
    /// `CF-Connecting-IP`, which Cloudflare sets itself, and nothing a visitor can write
    /// (`X-Forwarded-For`, `True-Client-IP`). `None` or text that is not an address makes
    /// every `ip` condition not hold.
    pub ip: Option<&'a str>,
}

/// Geolocation fields of a request, named after Cloudflare's `request.cf` object.
///
/// A field that is `None` makes every condition on it not hold (in `when` and in `unless`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Geo<'a> {
    /// ISO 3166-1 alpha-2 country code (`cf.country`), e.g. `DE`.
    pub country: Option<&'a str>,
    /// Continent code (`cf.continent`): `AF AN AS EU NA OC SA`.
    pub continent: Option<&'a str>,
    /// ISO 3166-2 subdivision code without the country prefix (`cf.regionCode`), e.g. `CA`.
    pub region: Option<&'a str>,
    /// City name (`cf.city`), e.g. `Paris`.
    pub city: Option<&'a str>,
    /// Autonomous system number of the visitor's network (`cf.asn`), e.g. `13335`.
    pub asn: Option<u32>,
}

impl<'a> Request<'a> {
    /// A `GET` request for `url` with no headers, no geolocation and zero randomness.
    pub fn get(url: &'a str) -> Self {
        Request {
            method: "GET",
            url,
            headers: &[],
            geo: Geo::default(),
            random: 0,
            now: None,
            ip: None,
        }
    }

    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Turns a fraction in `[0, 1)` (such as JavaScript's `Math.random()`) into the engine's random
/// bits. Values outside the range are clamped.
pub fn random_from_fraction(fraction: f64) -> u64 {
    if fraction.is_nan() || fraction <= 0.0 {
        return 0;
    }
    if fraction >= 1.0 {
        return u64::MAX;
    }
    (fraction * 18_446_744_073_709_551_616.0) as u64
}

/// An owned request, for callers that build or read requests rather than receive them: the CLI,
/// case files, tests, fuzzers and benchmarks. [`RequestBuf::with`] lends it to the engine as a
/// [`Request`].
///
/// The geolocation fields are flat (`country`, `continent`, `region`, `city`) so a builder can
/// set one without naming the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestBuf {
    /// The HTTP method, as given.
    pub method: String,
    /// The absolute request URL.
    pub url: String,
    /// Header pairs in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// `cf.country`.
    pub country: Option<String>,
    /// `cf.continent`.
    pub continent: Option<String>,
    /// `cf.regionCode`.
    pub region: Option<String>,
    /// `cf.city`.
    pub city: Option<String>,
    /// `cf.asn`.
    pub asn: Option<u32>,
    /// Random bits for a fresh A/B assignment (see [`random_from_fraction`]).
    pub random: u64,
    /// The request's time in seconds since the Unix epoch ([`Request::now`]).
    pub now: Option<i64>,
    /// The visitor's address ([`Request::ip`]).
    pub ip: Option<String>,
}

impl RequestBuf {
    /// A `GET` request for `url` with no headers, no geolocation and zero randomness.
    pub fn get(url: impl Into<String>) -> Self {
        RequestBuf {
            method: "GET".to_string(),
            url: url.into(),
            ..RequestBuf::default()
        }
    }

    /// The same request with method `method`.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// The same request with one more header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same request from `country` on `continent`.
    pub fn geo(mut self, country: impl Into<String>, continent: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self.continent = Some(continent.into());
        self
    }

    /// The same request with random bits `random`.
    pub fn random(mut self, random: u64) -> Self {
        self.random = random;
        self
    }

    /// The headers as borrowed pairs, the shape [`Request::headers`] takes.
    pub fn header_refs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// The engine's view of this request, with its header pairs borrowed from `headers`
    /// (made by [`RequestBuf::header_refs`]). [`RequestBuf::with`] does both in one call.
    pub fn as_request<'a>(&'a self, headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request {
            method: &self.method,
            url: &self.url,
            headers,
            geo: Geo {
                country: self.country.as_deref(),
                continent: self.continent.as_deref(),
                region: self.region.as_deref(),
                city: self.city.as_deref(),
                asn: self.asn,
            },
            random: self.random,
            now: self.now,
            ip: self.ip.as_deref(),
        }
    }

    /// Calls `f` with the engine's view of this request.
    ///
    /// A [`Request`] borrows a slice of `(&str, &str)` pairs, which an owned `Vec<(String,
    /// String)>` cannot lend directly; the pairs live for the duration of the call.
    pub fn with<R>(&self, f: impl FnOnce(&Request<'_>) -> R) -> R {
        let headers = self.header_refs();
        f(&self.as_request(&headers))
    }
}
