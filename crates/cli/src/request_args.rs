//! Requests described on the command line or in a case file, turned into the engine's
//! borrowed [`Request`].

use edge_redirects::{random_from_fraction, Geo, Request};
use serde_json::Value;

/// An owned request description; [`OwnedRequest::with`] lends it to the engine.
#[derive(Debug, Clone, Default)]
pub struct OwnedRequest {
    /// Upper-case method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header pairs in order.
    pub headers: Vec<(String, String)>,
    /// `cf.country`.
    pub country: Option<String>,
    /// `cf.continent`.
    pub continent: Option<String>,
    /// `cf.regionCode`.
    pub region: Option<String>,
    /// `cf.city`.
    pub city: Option<String>,
    /// Random bits for a fresh A/B assignment.
    pub random: u64,
}

impl OwnedRequest {
    /// A GET request for an absolute URL.
    pub fn get(url: &str) -> OwnedRequest {
        OwnedRequest {
            method: "GET".to_string(),
            url: url.to_string(),
            ..OwnedRequest::default()
        }
    }

    /// Calls `f` with the engine's view of this request.
    pub fn with<R>(&self, f: impl FnOnce(&Request<'_>) -> R) -> R {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: &self.method,
            url: &self.url,
            headers: &headers,
            geo: Geo {
                country: self.country.as_deref(),
                continent: self.continent.as_deref(),
                region: self.region.as_deref(),
                city: self.city.as_deref(),
            },
            random: self.random,
        };
        f(&request)
    }

    /// `GET https://example.com/a` plus the context that was given (headers, geo).
    pub fn summary(&self) -> String {
        let mut s = format!("{} {}", self.method, self.url);
        let geo: Vec<String> = [
            ("country", &self.country),
            ("continent", &self.continent),
            ("region", &self.region),
            ("city", &self.city),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if !geo.is_empty() {
            s.push_str(&format!(" [{}]", geo.join(" ")));
        }
        s
    }
}

/// Makes a URL absolute: `example.com/a` becomes `https://example.com/a`; a bare path is an
/// error because rules may depend on the host.
pub fn absolute_url(url: &str) -> Result<String, String> {
    if url.contains("://") {
        return Ok(url.to_string());
    }
    if url.starts_with('/') {
        return Err(format!(
            "URL {url:?} has no host; write it in full, e.g. https://example.com{url}"
        ));
    }
    Ok(format!("https://{url}"))
}

/// Parses `Name: value`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("header {text:?} must look like 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("header {text:?} has no name"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// A fraction in `[0, 1)` for A/B assignment.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let f: f64 = text
        .parse()
        .map_err(|_| format!("random {text:?} is not a number in [0, 1)"))?;
    if !(0.0..1.0).contains(&f) {
        return Err(format!("random {text} is not in [0, 1)"));
    }
    Ok(f)
}

/// Reads a request from a case file: a URL string (a GET), or an object with `method`, `url`,
/// `headers`, `cf` and `random` as in the shared fixture format.
pub fn from_case_json(value: &Value) -> Result<OwnedRequest, String> {
    if let Some(url) = value.as_str() {
        return Ok(OwnedRequest::get(&absolute_url(url)?));
    }
    let obj = value
        .as_object()
        .ok_or("request must be a URL string or an object")?;
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "method" | "url" | "headers" | "cf" | "random" | "cookies"
        ) {
            return Err(format!(
                "unknown key {key:?} in request (method, url, headers, cookies, cf, random)"
            ));
        }
    }
    let url = obj
        .get("url")
        .and_then(Value::as_str)
        .ok_or("request.url must be a string")?;
    let mut req = OwnedRequest::get(&absolute_url(url)?);
    if let Some(m) = obj.get("method") {
        req.method = m
            .as_str()
            .ok_or("request.method must be a string")?
            .to_ascii_uppercase();
    }
    if let Some(h) = obj.get("headers") {
        let h = h.as_object().ok_or("request.headers must be an object")?;
        for (name, value) in h {
            let value = value
                .as_str()
                .ok_or_else(|| format!("request.headers.{name} must be a string"))?;
            req.headers.push((name.clone(), value.to_string()));
        }
    }
    if let Some(c) = obj.get("cookies") {
        let c = c.as_object().ok_or("request.cookies must be an object")?;
        let mut pairs = Vec::new();
        for (name, value) in c {
            let value = value
                .as_str()
                .ok_or_else(|| format!("request.cookies.{name} must be a string"))?;
            pairs.push(format!("{name}={value}"));
        }
        if !pairs.is_empty() {
            req.headers.push(("cookie".to_string(), pairs.join("; ")));
        }
    }
    if let Some(cf) = obj.get("cf") {
        let cf = cf.as_object().ok_or("request.cf must be an object")?;
        let field = |k: &str| -> Result<Option<String>, String> {
            match cf.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("request.cf.{k} must be a string")),
            }
        };
        req.country = field("country")?;
        req.continent = field("continent")?;
        req.region = field("regionCode")?;
        req.city = field("city")?;
    }
    if let Some(r) = obj.get("random") {
        let f = r.as_f64().ok_or("request.random must be a number")?;
        req.random = random_from_fraction(f);
    }
    Ok(req)
}
