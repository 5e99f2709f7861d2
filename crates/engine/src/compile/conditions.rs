//! A rule's `when` and `unless`: query, header and cookie tests, and geo and language lists.

use super::http::is_token_byte;
use super::json::Value;
use super::report::Reader;
use crate::condition::{CodeList, Condition, Conditions, GeoField, Glob, QueryTest};
use crate::error::{pointer_token, ErrorKind};
use crate::limits::MAX_LIST_ENTRIES;
use crate::pattern::is_name;

const CONDITION_KEYS: &[&str] = &[
    "query",
    "header",
    "cookie",
    "country",
    "continent",
    "region",
    "city",
    "language",
];
const CONTINENTS: &[&str] = &["AF", "AN", "AS", "EU", "NA", "OC", "SA"];

/// Whether `text` has the shape of a `key` code (`country`, `continent`, `region`, `city` or
/// `language`), as Cloudflare reports it; Tor exits are reported as the country `T1`.
fn code_fits(key: &str, text: &str) -> bool {
    match key {
        "country" => {
            (text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()))
                || text.eq_ignore_ascii_case("T1")
        }
        "continent" => CONTINENTS.iter().any(|c| c.eq_ignore_ascii_case(text)),
        "region" => {
            (1..=3).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        "city" => !text.trim().is_empty(),
        _ => (1..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphabetic()),
    }
}

/// How to write a `key` code that does not fit.
fn code_hint(key: &str) -> &'static str {
    match key {
        "country" => "use an ISO 3166-1 alpha-2 code such as \"DE\"; Cloudflare also sends \"XX\" (unknown) and \"T1\" (Tor)",
        "continent" => "use one of AF, AN, AS, EU, NA, OC, SA",
        "region" => "use the ISO 3166-2 subdivision code without the country, as cf.regionCode gives it (\"CA\" for California)",
        "city" => "write the city's name as cf.city gives it, such as \"Paris\"",
        _ => "use a primary language subtag such as \"de\" (not \"de-AT\": regional variants count as their language)",
    }
}

impl Reader {
    /// Reads the conditions at `at`: `when` (which alone may capture query values) if `when`,
    /// else `unless`. Conditions keep the order of [`CONDITION_KEYS`], not the written order.
    pub(super) fn conditions(&mut self, v: &Value, at: &str, when: bool) -> Conditions {
        let mut out = Conditions::default();
        let Some(obj) = v.as_object() else {
            self.type_err(at.into(), "an object of conditions", v);
            return out;
        };
        self.unknown_keys(obj, CONDITION_KEYS, at);
        for key in CONDITION_KEYS {
            let Some(v) = obj.get(key) else { continue };
            let p = format!("{at}/{key}");
            match *key {
                "query" | "header" | "cookie" => self.named_tests(key, v, p, when, &mut out.list),
                _ => {
                    if let Some(c) = self.codes(key, v, p) {
                        out.list.push(c);
                    }
                }
            }
        }
        out
    }

    /// Reads a `query`, `header` or `cookie` object of name → value test at `p`.
    fn named_tests(
        &mut self,
        key: &str,
        v: &Value,
        p: String,
        when: bool,
        out: &mut Vec<Condition>,
    ) {
        let Some(map) = v.as_object() else {
            self.type_err(p, "an object of name → value", v);
            return;
        };
        if map.len() > MAX_LIST_ENTRIES {
            self.err(
                ErrorKind::Limit,
                p.clone(),
                format!("{} entries; the limit is {MAX_LIST_ENTRIES}", map.len()),
                "split the rule",
            );
            return;
        }
        for (name, value) in map.iter() {
            let vp = format!("{p}/{}", pointer_token(name));
            let Some(text) = self.string(value, || vp.clone()) else {
                continue;
            };
            if name.is_empty() {
                self.err(
                    ErrorKind::Condition,
                    vp,
                    format!("empty {key} name"),
                    "name the parameter, header or cookie",
                );
                continue;
            }
            match key {
                "query" => {
                    let test = match text.strip_prefix(':') {
                        Some(c) if is_name(c) && when => QueryTest::Capture(c.to_string()),
                        Some(c) if is_name(c) => {
                            self.err(
                                ErrorKind::Condition,
                                vp,
                                format!("`:{c}` captures a value, which only `when.query` can do"),
                                "move it to `when.query`, or use \"*\" for \"present with any value\"",
                            );
                            continue;
                        }
                        _ => QueryTest::Glob(Glob::new(text)),
                    };
                    out.push(Condition::Query(name.to_string(), test));
                }
                "header" => {
                    if !name.bytes().all(is_token_byte) {
                        self.err(
                            ErrorKind::Condition,
                            vp,
                            format!("{name:?} is not a valid header name"),
                            "header names are letters, digits and `-`",
                        );
                        continue;
                    }
                    out.push(Condition::Header(
                        name.to_ascii_lowercase(),
                        Glob::new(text),
                    ));
                }
                _ => out.push(Condition::Cookie(name.to_string(), Glob::new(text))),
            }
        }
    }

    /// Reads a list of `key` codes (geo or language) at `p`, lower-cased.
    fn codes(&mut self, key: &str, v: &Value, p: String) -> Option<Condition> {
        let Some(list) = v.as_array() else {
            self.type_err(p, "an array of strings", v);
            return None;
        };
        if list.is_empty() {
            self.err(
                ErrorKind::Condition,
                p,
                format!("`{key}` is empty"),
                "list at least one value, or remove the condition",
            );
            return None;
        }
        if list.len() > MAX_LIST_ENTRIES {
            self.err(
                ErrorKind::Limit,
                p,
                format!("{} entries; the limit is {MAX_LIST_ENTRIES}", list.len()),
                "split the rule",
            );
            return None;
        }
        let mut values = Vec::with_capacity(list.len());
        for (j, item) in list.iter().enumerate() {
            let ip = format!("{p}/{j}");
            let Some(text) = self.string(item, || ip.clone()) else {
                continue;
            };
            if code_fits(key, text) {
                values.push(text.trim().to_lowercase());
            } else {
                self.err(
                    ErrorKind::Condition,
                    ip,
                    format!("{text:?} is not a valid {key} code"),
                    code_hint(key),
                );
            }
        }
        Some(match key {
            "country" => Condition::Geo(GeoField::Country, CodeList::new(values)),
            "continent" => Condition::Geo(GeoField::Continent, CodeList::new(values)),
            "region" => Condition::Geo(GeoField::Region, CodeList::new(values)),
            "city" => Condition::Geo(GeoField::City, CodeList::new(values)),
            _ => Condition::Language(CodeList::new(values)),
        })
    }
}
