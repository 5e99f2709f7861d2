//! Requests described on the command line, turned into the engine's owned
//! [`RequestBuf`]; case files are read by `edge_redirects::cases`.

pub use edge_redirects::cases::absolute_url;
pub use edge_redirects::RequestBuf;

/// The current time in seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    (crate::host::current().now_millis() / 1000.0).floor() as i64
}

/// `GET https://example.com/a` plus the context that was given (geo, network, time).
pub fn summary(request: &RequestBuf) -> String {
    let mut s = format!("{} {}", request.method, request.url);
    let asn = request.asn.map(|a| a.to_string());
    let at = request.now.map(edge_redirects::format_instant);
    let geo: Vec<String> = [
        ("country", &request.country),
        ("continent", &request.continent),
        ("region", &request.region),
        ("city", &request.city),
        ("ip", &request.ip),
        ("asn", &asn),
        ("at", &at),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .collect();
    if !geo.is_empty() {
        s.push_str(&format!(" [{}]", geo.join(" ")));
    }
    s
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
