//! The engine's view of an incoming request: borrowed, so adapters never copy a body or rebuild
//! a URL just to ask for a decision.

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
