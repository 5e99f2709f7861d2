//! The Analytics Engine layout: one data point per request a rule decided and one per
//! passthrough the origin answered 404, written by the worker, read by `redirects stats` with
//! the SQL below (and by the README's queries).
//!
//! | field | rule hit | origin 404 |
//! |---|---|---|
//! | `blob1` | `rule` | `404` |
//! | `blob2` | rule id | path (no query) |
//! | `blob3` | outcome: `redirect`, `forward` or `origin` | referrer host (`""` when none) |
//! | `blob4` | A/B variant (`""` when no split decided) | `""` |
//! | `blob5` | country (`request.cf.country`, `""` when unknown) | country |
//! | `blob6` | host | host |
//! | `double1` | status answered | 404 |
//! | `index1` | rule id (the sampling key) | host |

use edge_redirects::Decision;

/// Longest index Analytics Engine accepts, in bytes.
pub const MAX_INDEX_BYTES: usize = 96;

/// Longest blob written, in bytes: six of them stay far below the 16 KB a point may carry.
pub const MAX_BLOB_BYTES: usize = 1024;

/// `blob1`'s value on a rule hit.
pub const KIND_RULE: &str = "rule";

/// `blob1`'s value on an origin 404.
pub const KIND_NOT_FOUND: &str = "404";

/// The column of the kind of point: [`KIND_RULE`] or [`KIND_NOT_FOUND`].
const KIND: &str = "blob1";
/// The column of a hit's rule id, and of a 404's path.
const RULE_OR_PATH: &str = "blob2";
/// The column of a hit's A/B variant.
const VARIANT: &str = "blob4";

/// One data point, every text cut to its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Point<'a> {
    /// `blob1` to `blob6`.
    pub blobs: [&'a str; 6],
    /// `double1`: the status answered.
    pub status: f64,
    /// `index1`.
    pub index: &'a str,
}

impl<'a> Point<'a> {
    /// What is worth writing about one answered request: a rule hit when a rule decided, an
    /// origin 404 when none did and the origin answered 404; else nothing.
    pub fn of(
        decision: &'a Decision<'_>,
        status: u16,
        url: &'a str,
        referrer: Option<&'a str>,
        country: Option<&'a str>,
    ) -> Option<Point<'a>> {
        let host = host_of(url);
        let country = country.unwrap_or("");
        let (blobs, index) = match decision.rule() {
            Some(rule) => {
                let outcome = decision.outcome().name();
                let variant = decision.variant().unwrap_or("");
                ([KIND_RULE, rule, outcome, variant, country, host], rule)
            }
            None if status == 404 => {
                let referrer = referrer.map(host_of).unwrap_or("");
                (
                    [KIND_NOT_FOUND, path_of(url), referrer, "", country, host],
                    host,
                )
            }
            None => return None,
        };
        Some(Point {
            blobs: blobs.map(|b| cut(b, MAX_BLOB_BYTES)),
            status: f64::from(status),
            index: cut(index, MAX_INDEX_BYTES),
        })
    }
}

/// Hits per rule and variant over `dataset`, where `window` (an SQL condition on `timestamp`)
/// holds: columns `rule`, `variant`, `hits`.
pub fn hits_sql(dataset: &str, window: &str) -> String {
    format!(
        "SELECT {RULE_OR_PATH} AS rule, {VARIANT} AS variant, SUM(_sample_interval) AS hits\n\
         FROM {dataset}\n\
         WHERE {KIND} = '{KIND_RULE}' AND {window}\n\
         GROUP BY rule, variant\n\
         ORDER BY hits DESC"
    )
}

/// The `top` paths the origin answered 404 most often over `dataset`, where `window` holds:
/// columns `path`, `hits`.
pub fn not_found_sql(dataset: &str, window: &str, top: u32) -> String {
    format!(
        "SELECT {RULE_OR_PATH} AS path, SUM(_sample_interval) AS hits\n\
         FROM {dataset}\n\
         WHERE {KIND} = '{KIND_NOT_FOUND}' AND {window}\n\
         GROUP BY path\n\
         ORDER BY hits DESC\n\
         LIMIT {top}"
    )
}

/// The host of an absolute URL, without port or user info; `""` if there is none.
pub fn host_of(url: &str) -> &str {
    let Some(at) = url.find("://") else {
        return "";
    };
    let rest = &url[at + 3..];
    let authority = &rest[..end_of(rest, b"/?#")];
    let host = &authority[authority.rfind('@').map_or(0, |at| at + 1)..];
    match host.strip_prefix('[') {
        Some(v6) => &v6[..end_of(v6, b"]")],
        None => &host[..end_of(host, b":")],
    }
}

/// The path of an absolute URL, without query or fragment.
pub fn path_of(url: &str) -> &str {
    let rest = url.find("://").map_or(url, |at| &url[at + 3..]);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    &path[..end_of(path, b"?#")]
}

/// Where the first of the ASCII `stops` is in `text`, else its length.
fn end_of(text: &str, stops: &[u8]) -> usize {
    text.bytes()
        .position(|b| stops.contains(&b))
        .unwrap_or(text.len())
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use edge_redirects::{Engine, Request};

    const BUNDLE: &str = r#"{"version":1,"rules":[{"id":"moved","from":"/old","to":"/new"}]}"#;

    #[test]
    fn a_rule_hit_in_layout_order() {
        let engine = Engine::compile(BUNDLE).unwrap();
        let url = "https://user@shop.example:8443/old?x=1";
        let d = engine.evaluate(&Request::get(url));
        let p = Point::of(&d, 301, url, None, Some("NZ")).unwrap();
        assert_eq!(
            p.blobs,
            ["rule", "moved", "redirect", "", "NZ", "shop.example"]
        );
        assert_eq!((p.status, p.index), (301.0, "moved"));
    }

    #[test]
    fn an_origin_404_and_nothing_else() {
        let engine = Engine::compile(BUNDLE).unwrap();
        let url = "https://[::1]:8787/missing/page?q=1#f";
        let d = engine.evaluate(&Request::get(url));
        let p = Point::of(&d, 404, url, Some("https://ref.example/a"), None).unwrap();
        assert_eq!(
            p.blobs,
            ["404", "/missing/page", "ref.example", "", "", "::1"]
        );
        assert_eq!((p.status, p.index), (404.0, "::1"));
        assert_eq!(Point::of(&d, 200, url, None, None), None);
    }

    #[test]
    fn long_texts_are_cut_on_character_boundaries() {
        let engine = Engine::compile(BUNDLE).unwrap();
        let host = format!("{}.example", "é".repeat(100));
        let url = format!("https://{host}/{}", "ü".repeat(2000));
        let d = engine.evaluate(&Request::get(&url));
        let p = Point::of(&d, 404, &url, None, None).unwrap();
        assert!(p.blobs[1].len() <= MAX_BLOB_BYTES && p.blobs[1].len() >= MAX_BLOB_BYTES - 1);
        assert_eq!(p.index.len(), 96);
        assert_eq!(cut("aé", 2), "a");
    }

    #[test]
    fn the_sql_reads_the_columns_the_points_are_written_in() {
        let hits = hits_sql("redirects", "timestamp > NOW() - INTERVAL '1' DAY");
        assert_eq!(
            hits,
            "SELECT blob2 AS rule, blob4 AS variant, SUM(_sample_interval) AS hits\n\
             FROM redirects\n\
             WHERE blob1 = 'rule' AND timestamp > NOW() - INTERVAL '1' DAY\n\
             GROUP BY rule, variant\n\
             ORDER BY hits DESC"
        );
        let nf = not_found_sql("redirects", "timestamp > 0", 5);
        assert!(nf.starts_with("SELECT blob2 AS path,"), "{nf}");
        assert!(
            nf.contains("WHERE blob1 = '404' AND timestamp > 0\n"),
            "{nf}"
        );
        assert!(nf.ends_with("LIMIT 5"), "{nf}");
        // The columns named are where a point puts them.
        let col = |name: &str| name[4..].parse::<usize>().unwrap() - 1;
        let engine = Engine::compile(BUNDLE).unwrap();
        let d = engine.evaluate(&Request::get("https://a.example/old"));
        let p = Point::of(&d, 301, "https://a.example/old", None, None).unwrap();
        assert_eq!(p.blobs[col(KIND)], KIND_RULE);
        assert_eq!(p.blobs[col(RULE_OR_PATH)], "moved");
        assert_eq!(p.blobs[col(VARIANT)], "");
    }
}
