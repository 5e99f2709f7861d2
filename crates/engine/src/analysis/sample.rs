//! Sample requests: for each rule (and each variant of a split), one request the rule
//! matches, built from its compiled pattern and `when` conditions, with marker values in
//! place of its placeholders so they can be recognised again in targets.

use crate::model::condition::{ConditionView, GeoField, ValueTest};
use crate::model::pattern::Segment;
use crate::model::rule::Rule;
use crate::request::RequestBuf;

/// A sample request is an owned request; [`RequestBuf::with`] lends it to the engine.
pub(super) type Sample = RequestBuf;

/// Marker put in a sample URL for placeholder `name`, recognised again in targets.
pub(super) fn marker(name: &str) -> String {
    format!("zz{name}zz")
}

/// Marker values written back as the placeholders they stand for.
pub(super) fn unmark(text: &str, names: &[String]) -> String {
    let mut text = text.to_string();
    for name in names {
        text = text.replace(&marker(name), &format!(":{name}"));
    }
    text
}

/// A value `test` accepts (a capture is handled by the caller).
fn value_for(test: ValueTest<'_>) -> String {
    match test {
        ValueTest::Present => "1".to_string(),
        ValueTest::Exact(e) | ValueTest::Capture(e) => e.to_string(),
        ValueTest::Glob(pieces) => pieces.join("x"),
    }
}

/// A request that `rule` matches (when it can be built), with the placeholder names whose
/// markers it used. `variant` names the A/B variant to ask for by cookie, for a split rule.
pub(super) fn sample_request(rule: &Rule, variant: Option<&str>) -> Option<(Sample, Vec<String>)> {
    let host = match rule.host() {
        None => "example.com".to_string(),
        Some(h) => match h.strip_prefix("*.") {
            Some(rest) => format!("www.{rest}"),
            None => h.to_string(),
        },
    };
    let mut url = url::Url::parse(&format!("https://{host}/")).ok()?;
    let mut names = Vec::new();
    {
        let mut path = url.path_segments_mut().ok()?;
        path.clear();
        for seg in rule.segments() {
            match seg {
                Segment::Literal(l) => {
                    path.push(l);
                }
                Segment::Param(n) | Segment::Splat(n) | Segment::Shaped(n, _) => {
                    path.push(&marker(n));
                    names.push(n.to_string());
                }
                // A path-to-regexp source: no sample is built for it.
                Segment::Regex(..) => return None,
            }
        }
    }
    let mut req = Sample {
        method: "GET".to_string(),
        ..Sample::default()
    };
    if let Some(m) = rule.methods() {
        if !m.iter().any(|m| m == "GET") {
            req.method = m.first()?.clone();
        }
    }
    let mut cookies = Vec::new();
    {
        let mut query = url.query_pairs_mut();
        for condition in rule.when().iter() {
            match condition {
                ConditionView::Query {
                    name,
                    test: ValueTest::Capture(capture),
                } => {
                    query.append_pair(name, &marker(capture));
                    names.push(capture.to_string());
                }
                ConditionView::Query { name, test } => {
                    query.append_pair(name, &value_for(test));
                }
                ConditionView::Header { name, test } => {
                    req.headers.push((name.to_string(), value_for(test)));
                }
                ConditionView::Cookie { name, test } => {
                    cookies.push(format!("{name}={}", value_for(test)));
                }
                ConditionView::Geo { field, values } => {
                    let first = values.first().cloned();
                    match field {
                        GeoField::Country => req.country = first,
                        GeoField::Continent => req.continent = first,
                        GeoField::Region => req.region = first,
                        GeoField::City => req.city = first,
                    }
                }
                ConditionView::Language { .. } => {}
                // Inside the window: at its opening, or the last second before it closes.
                ConditionView::After { at } => req.now = Some(at),
                ConditionView::Before { at } => {
                    req.now.get_or_insert(at - 1);
                }
                ConditionView::Ip { entries } => {
                    req.ip = entries
                        .first()
                        .map(|e| e.split('/').next().unwrap_or(e).to_string());
                }
                ConditionView::Asn { numbers } => req.asn = numbers.first().copied(),
            }
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    if let (Some(split), Some(variant)) = (rule.split(), variant) {
        cookies.push(format!("{}={variant}", split.cookie()));
    }
    if !cookies.is_empty() {
        req.headers.push(("cookie".into(), cookies.join("; ")));
    }
    let language = rule.when().iter().find_map(|c| match c {
        ConditionView::Language { values } => values.first().cloned(),
        _ => None,
    });
    if let Some(language) = language {
        req.headers.push(("accept-language".into(), language));
    }
    req.url = url.to_string();
    Some((req, names))
}
