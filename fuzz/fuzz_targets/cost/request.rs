//! The hostile request of one input: its URL, the same-size control URL and the headers.

use super::input::{
    pick, Name, RequestSpec, Run, FILLS, LANGS, MAX_HEADER, MAX_HEADERS_TOTAL, MAX_URL, VALUES,
};
use std::fmt::Write as _;

/// Appends the text of one run item `k` of `run`: its name (encoded if asked) and value.
fn run_name(run: &Run, k: usize) -> String {
    let name = run.name.for_rule(k);
    if run.encode {
        name.bytes().map(|b| format!("%{b:02X}")).collect()
    } else {
        name
    }
}

fn run_value(run: &Run, k: usize) -> String {
    let mut v = pick(VALUES, run.value).to_string();
    if matches!(run.name, Name::Indexed(..)) {
        let _ = write!(v, "{k}");
    }
    v.extend(std::iter::repeat_n('v', usize::from(run.pad) % 64));
    v
}

/// `name=value` items of `runs` joined by `sep`, at most `max` bytes; returns the text and the
/// number of items.
fn items(runs: &[Run], sep: &str, max: usize) -> (String, usize) {
    let mut out = String::new();
    let mut n = 0;
    'runs: for run in runs.iter().take(8) {
        for k in 0..usize::from(run.repeat) % 8_192 + 1 {
            let item = format!("{}={}", run_name(run, k), run_value(run, k));
            if out.len() + sep.len() + item.len() > max {
                break 'runs;
            }
            if !out.is_empty() {
                out.push_str(sep);
            }
            out.push_str(&item);
            n += 1;
        }
    }
    (out, n)
}

pub struct Built {
    pub url: String,
    pub control_url: String,
    pub headers: Vec<(String, String)>,
    pub sizes: String,
}

pub fn request(spec: &RequestSpec, paths: &[(&str, usize)]) -> Built {
    let (mut path, shaped) = (
        paths[usize::from(spec.group) % paths.len()].0.to_string(),
        paths[usize::from(spec.group) % paths.len()].1,
    );
    let mut control = "/__control/none/of/these".to_string();
    if let (true, Some((len, fill))) = (shaped > 0, spec.segment) {
        // Long segments for shaped placeholders, the same under the control path.
        let fill = pick(FILLS, fill);
        let each = (usize::from(len) % (12 * 1024) / shaped).max(1);
        let segment: String = fill.repeat(each.div_ceil(fill.len()))[..each]
            .trim_end_matches('%')
            .to_string();
        let tail = format!("/{segment}").repeat(shaped);
        path = format!("/p{tail}");
        control = format!("/__control{tail}");
    }
    let path = path.as_str();
    let origin = "https://example.com";
    let room = MAX_URL.saturating_sub(origin.len() + path.len().max(24) + 1);
    let (query, pairs) = items(&spec.query, "&", room);
    let with_query = |p: &str| {
        if query.is_empty() {
            format!("{origin}{p}")
        } else {
            format!("{origin}{p}?{query}")
        }
    };
    let mut headers = Vec::new();
    let mut total = 0;
    let (cookie, cookies) = items(&spec.cookie, "; ", MAX_HEADER);
    if !cookie.is_empty() {
        total += cookie.len();
        headers.push(("cookie".to_string(), cookie));
    }
    let mut lang = String::new();
    let mut langs = 0;
    'runs: for run in spec.accept_language.iter().take(8) {
        for _ in 0..usize::from(run.repeat) % 16_384 + 1 {
            let mut item = pick(LANGS, run.tag).to_string();
            if let Some(q) = run.q {
                let _ = write!(item, ";q=0.{}", q % 10);
            }
            if lang.len() + 1 + item.len() > MAX_HEADER {
                break 'runs;
            }
            if langs > 0 {
                lang.push(',');
            }
            lang.push_str(&item);
            langs += 1;
        }
    }
    if langs > 0 {
        total += lang.len();
        headers.push(("accept-language".to_string(), lang));
    }
    let mut extra = 0;
    'runs: for run in spec.headers.iter().take(8) {
        for k in 0..usize::from(run.repeat) % 2_048 + 1 {
            let name = format!("x-{}", run.name.for_rule(k));
            let value = run_value(run, k);
            if total + name.len() + value.len() > MAX_HEADERS_TOTAL {
                break 'runs;
            }
            total += name.len() + value.len();
            headers.push((name, value));
            extra += 1;
        }
    }
    let sizes = format!(
        "URL {} B ({pairs} query pairs), Cookie {} B ({cookies} pairs), Accept-Language {} B ({langs} items), {extra} other headers, {total} B of headers",
        with_query(path).len(),
        headers.iter().find(|h| h.0 == "cookie").map_or(0, |h| h.1.len()),
        headers.iter().find(|h| h.0 == "accept-language").map_or(0, |h| h.1.len()),
    );
    Built {
        url: with_query(path),
        control_url: with_query(&control),
        headers,
        sizes,
    }
}
