//! What caches may do with an answer: whether it depends on who asks, and the headers that
//! keep such an answer out of every shared cache.
//!
//! An answer depends on the visitor when any candidate rule that was tried read something
//! about the visitor (geolocation, language, a cookie, a header, an A/B assignment) — not only
//! the rule that applied: `/welcome` redirects English visitors to `/en/welcome` only because
//! the German rule before it did not hold. Such an answer is marked private whatever a rule or
//! the origin says, and names the request headers it depends on in `Vary`.

use crate::model::condition::{Condition, Conditions};
use crate::model::rule::{Action, Rule};
use std::borrow::Cow;

/// Cache-Control of every edge answer that must not be stored by any cache.
pub(crate) const PRIVATE: &str = "private, no-store";

/// Headers addressed to shared caches only (CDNs, proxies): a per-visitor answer never carries
/// them, neither from a rule's `headers` nor from the origin.
pub(crate) const SHARED_CACHE_HEADERS: [&str; 3] = [
    "cdn-cache-control",
    "cloudflare-cdn-cache-control",
    "surrogate-control",
];

/// Whether `name` is `Cache-Control` or one of [`SHARED_CACHE_HEADERS`].
pub(crate) fn is_cache_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("cache-control")
        || SHARED_CACHE_HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
}

/// What one request's answer depends on: what about the visitor the candidates tried have read,
/// and until when their time windows leave the answer as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DependsOn<'e> {
    /// Anything at all: the answer is per visitor.
    any: bool,
    language: bool,
    cookie: bool,
    /// Header conditions' names, as written (repeats removed in [`DependsOn::vary`]).
    headers: Vec<&'e str>,
    /// The request's time, for the window bounds.
    now: Option<i64>,
    /// What the windows of the candidates tried say about how long the answer holds.
    window: Window,
}

/// How long the time windows of the candidates tried leave an answer as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Window {
    /// No window was read: as long as the rules stay.
    #[default]
    None,
    /// Until this instant (seconds since the Unix epoch), the nearest bound ahead.
    Until(i64),
    /// A window was read and all its bounds are behind: as long as the rules stay.
    Passed,
    /// A window was read without knowing the time: the answer must not be stored.
    Unknown,
}

impl<'e> DependsOn<'e> {
    /// Nothing read yet, for a request at `now`.
    pub(crate) fn at(now: Option<i64>) -> Self {
        DependsOn {
            now,
            ..DependsOn::default()
        }
    }

    /// Notes what `rule` reads about the visitor; called for every candidate that is tried.
    pub(crate) fn add(&mut self, rule: &'e Rule) {
        if rule.extras.is_some() && rule.when().has_window() {
            let (after, before) = rule.when().window();
            let open = self.now.is_some_and(|now| {
                after.is_none_or(|a| now >= a) && before.is_none_or(|b| now < b)
            });
            if !open {
                // Dormant at this instant: nothing else it reads can change the answer before
                // its window's next bound does.
                after
                    .into_iter()
                    .chain(before)
                    .for_each(|t| self.add_window(t));
                return;
            }
        }
        if matches!(rule.action, Action::Split(_)) {
            // The assignment is read from a cookie, or drawn when there is none.
            self.any = true;
            self.cookie = true;
        }
        if rule.extras.is_some() {
            self.add_conditions(rule.when());
            self.add_conditions(rule.unless());
        }
    }

    /// The seconds a shareable answer may be kept: `None` when no window bounds it, `Some(0)`
    /// when it must not be stored (a window read without knowing the time).
    pub(crate) fn fresh_for(&self) -> Option<u64> {
        match (self.window, self.now) {
            (Window::Until(t), Some(now)) => Some(t.saturating_sub(now).max(0) as u64),
            (Window::Unknown, _) => Some(0),
            _ => None,
        }
    }

    /// Notes a window bound read at this request (one of the candidates', or of the windows
    /// the index left out).
    pub(crate) fn add_window(&mut self, bound: i64) {
        let Some(now) = self.now else {
            self.window = Window::Unknown;
            return;
        };
        self.window = match (self.window, bound > now) {
            (Window::Unknown, _) => Window::Unknown,
            (Window::Until(t), true) => Window::Until(t.min(bound)),
            (_, true) => Window::Until(bound),
            (Window::Until(t), false) => Window::Until(t),
            (_, false) => Window::Passed,
        };
    }

    fn add_conditions(&mut self, conditions: &'e Conditions) {
        for c in &conditions.list {
            match c {
                Condition::After(t) | Condition::Before(t) => self.add_window(*t),
                Condition::Query(..) => {}
                Condition::Geo(..) | Condition::Ip(_) | Condition::Asn(_) => self.any = true,
                Condition::Language(_) => {
                    self.any = true;
                    self.language = true;
                }
                Condition::Cookie(..) => {
                    self.any = true;
                    self.cookie = true;
                }
                Condition::Header(name, _) => {
                    // Names are made unique once, in `vary`: a check here would cost the
                    // square of the candidates tried.
                    self.any = true;
                    self.headers.push(name);
                }
            }
        }
    }

    /// Whether the answer depends on who asks.
    pub(crate) fn per_visitor(&self) -> bool {
        self.any
    }

    /// The `Vary` value naming the request headers read, if any (geolocation has none). More
    /// than [`MAX_VARY_BYTES`] of names (hundreds of rules each testing a header of its own)
    /// give `Vary: *`: the answer is private anyway, and a header that long would cost more
    /// than it says and could pass what a response head may hold.
    pub(crate) fn vary(&self) -> Option<Box<str>> {
        let mut names: Vec<&str> = Vec::new();
        if self.language {
            names.push("Accept-Language");
        }
        if self.cookie {
            names.push("Cookie");
        }
        let mut seen: rustc_hash::FxHashSet<String> = Default::default();
        let mut bytes = 0;
        for h in &self.headers {
            let lower = h.to_ascii_lowercase();
            if !seen.contains(&lower) {
                bytes += lower.len() + 2;
                if bytes > MAX_VARY_BYTES {
                    return Some("*".into());
                }
                seen.insert(lower);
            }
        }
        let mut headers: Vec<String> = seen.into_iter().collect();
        headers.sort_unstable();
        for h in &headers {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(h)) {
                names.push(h);
            }
        }
        (!names.is_empty()).then(|| names.join(", ").into_boxed_str())
    }
}

/// The most bytes of distinct header names a `Vary` lists before it becomes `Vary: *`.
pub(crate) const MAX_VARY_BYTES: usize = 2048;

/// The origin's `Cache-Control` for a per-visitor page: what lets a shared cache store it
/// (`public`, `s-maxage`, `proxy-revalidate`) removed and `private` put first, the rest kept,
/// so the visitor's own browser may still cache what the origin allows.
pub(crate) fn made_private(origin: Option<&str>) -> Cow<'static, str> {
    let Some(origin) = origin else {
        return Cow::Borrowed("private");
    };
    let mut out = String::from("private");
    for directive in origin.split(',').map(str::trim) {
        let name = directive.split('=').next().unwrap_or("").trim();
        let shared = ["public", "private", "s-maxage", "proxy-revalidate"]
            .iter()
            .any(|d| name.eq_ignore_ascii_case(d));
        if !directive.is_empty() && !shared {
            out.push_str(", ");
            out.push_str(directive);
        }
    }
    Cow::Owned(out)
}

/// `cache_control` kept no longer than `seconds`: each `max-age` and `s-maxage` lowered to it,
/// `max-age` added when there is none; `no-store` when `seconds` is 0 (and `private, no-store`
/// when the value was private). A value with `no-store` already is kept as it is.
pub(crate) fn capped(cache_control: &str, seconds: u64) -> String {
    let directives: Vec<&str> = cache_control
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let name = |d: &str| {
        d.split('=')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    if directives.iter().any(|d| name(d) == "no-store") {
        return cache_control.to_string();
    }
    if seconds == 0 {
        let private = directives.iter().any(|d| name(d) == "private");
        return if private { PRIVATE } else { "no-store" }.to_string();
    }
    let mut out: Vec<String> = Vec::with_capacity(directives.len() + 1);
    let mut has_max_age = false;
    for d in directives {
        let n = name(d);
        if n == "max-age" || n == "s-maxage" {
            has_max_age |= n == "max-age";
            let given = d
                .split_once('=')
                .and_then(|(_, v)| v.trim().trim_matches('"').parse::<u64>().ok());
            let kept = given.map_or(seconds, |g| g.min(seconds));
            out.push(format!("{n}={kept}"));
        } else {
            out.push(d.to_string());
        }
    }
    if !has_max_age {
        out.push(format!("max-age={seconds}"));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keeps_what_the_browser_may_do() {
        assert_eq!(made_private(None), "private");
        assert_eq!(
            made_private(Some("public, max-age=600, s-maxage=3600")),
            "private, max-age=600"
        );
        assert_eq!(
            made_private(Some(
                "Public,PROXY-REVALIDATE, no-cache, private=\"set-cookie\""
            )),
            "private, no-cache"
        );
        assert_eq!(made_private(Some("no-store")), "private, no-store");
    }

    #[test]
    fn capped_at_the_window_bound() {
        assert_eq!(capped("public, max-age=86400", 60), "public, max-age=60");
        assert_eq!(capped("public, max-age=30", 60), "public, max-age=30");
        assert_eq!(
            capped("public, s-maxage=9999, max-age=100", 60),
            "public, s-maxage=60, max-age=60"
        );
        assert_eq!(capped("public", 60), "public, max-age=60");
        assert_eq!(capped("private, max-age=600", 60), "private, max-age=60");
        assert_eq!(capped("max-age=bad", 60), "max-age=60");
        assert_eq!(capped("no-store", 60), "no-store");
        assert_eq!(capped("public, max-age=86400", 0), "no-store");
        assert_eq!(capped("private", 0), "private, no-store");
    }

    #[test]
    fn the_nearest_bound_ahead() {
        let mut v = DependsOn::at(Some(100));
        assert_eq!(v.fresh_for(), None);
        v.add_window(50);
        assert_eq!((v.window, v.fresh_for()), (Window::Passed, None));
        v.add_window(400);
        v.add_window(160);
        v.add_window(90);
        assert_eq!(v.fresh_for(), Some(60));
        let mut unknown = DependsOn::at(None);
        unknown.add_window(50);
        assert_eq!(unknown.fresh_for(), Some(0));
    }
}
