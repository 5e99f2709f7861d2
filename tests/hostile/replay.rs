//! Which hostile requests can cross a real HTTP stack, and each as the JSON the workerd replay
//! in `tests/e2e/hostile.test.mjs` reads.

use super::case::Case;
use super::engine;

/// Whether a client can send the request to a worker: valid header bytes, a URL the platform
/// accepts, sizes within its limits.
pub fn sendable(c: &Case) -> bool {
    // Only URLs a client can send to a worker: http(s), a plain host name or address.
    let routable = url::Url::parse(&c.url).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some_and(|h| {
                h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            })
    });
    c.url.len() <= 16 * 1024 + 64
        && routable
        && c.url.is_ascii()
        && !c.method.is_empty()
        && c.method.len() < 64
        && c.method.bytes().all(|b| b.is_ascii_alphabetic())
        && c.headers.len() <= 100
        && c.headers
            .iter()
            .all(|(_, v)| v.len() <= 8 * 1024 && !v.bytes().any(|b| b < 0x20 || b == 0x7f))
        && c.headers.iter().map(|(_, v)| v.len()).sum::<usize>() <= 32 * 1024
}

/// The request as the replay sends it (headers joined as HTTP joins them, geo as `cf`), and
/// whether its answer depends on who asks.
pub fn to_json(c: &Case) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> =
        c.headers
            .iter()
            .fold(serde_json::Map::new(), |mut m, (n, v)| {
                let slot = m.entry(n.clone()).or_insert_with(|| "".into());
                let joined = match slot.as_str() {
                    Some("") => v.clone(),
                    Some(prev) if n == "cookie" => format!("{prev}; {v}"),
                    Some(prev) => format!("{prev}, {v}"),
                    None => v.clone(),
                };
                *slot = joined.into();
                m
            });
    let mut cf = serde_json::Map::new();
    if let Some(country) = &c.country {
        cf.insert("country".into(), country.clone().into());
    }
    if let Some(continent) = &c.continent {
        cf.insert("continent".into(), continent.clone().into());
    }
    // Whether the answer depends on who asks: a candidate tried reads the visitor. Asked
    // of the URL as the platform hands it over (WHATWG-normalised).
    let normalized = url::Url::parse(&c.url).map_or(c.url.clone(), |u| u.to_string());
    let per_visitor = c.at(normalized).with(|r| {
        engine().explain(r).trace.iter().any(|step| {
            step.verdict != edge_redirects::Verdict::MethodMismatch
                && engine().rules()[step.rule_index].per_visitor()
        })
    });
    serde_json::json!({
        "category": c.category,
        "method": c.method,
        "url": c.url,
        "headers": headers,
        "cf": cf,
        "per_visitor": per_visitor,
    })
}
