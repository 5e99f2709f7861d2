//! A rule's `when` and `unless`: time windows, query, header and cookie tests, geo and
//! language lists, IP ranges and networks.

use super::http::is_token_byte;
use super::json::Value;
use super::report::Reader;
use crate::error::{pointer_token, ErrorKind};
use crate::limits::{MAX_IP_ENTRIES, MAX_LIST_ENTRIES};
use crate::model::condition::{CodeList, Condition, Conditions, GeoField, Glob, QueryTest};
use crate::model::placeholder::is_name;
use crate::request::instant::parse_instant;
use crate::request::network::{parse_entry, IpRanges, Numbers};

const CONDITION_KEYS: &[&str] = &[
    "after",
    "before",
    "query",
    "header",
    "cookie",
    "country",
    "continent",
    "region",
    "city",
    "language",
    "ip",
    "asn",
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
                "after" | "before" => {
                    if let Some(at) = self.instant(v, p) {
                        out.list.push(match *key {
                            "after" => Condition::After(at),
                            _ => Condition::Before(at),
                        });
                    }
                }
                "ip" => {
                    if let Some(c) = self.ip_ranges(v, p) {
                        out.list.push(c);
                    }
                }
                "asn" => {
                    if let Some(c) = self.asns(v, p) {
                        out.list.push(c);
                    }
                }
                _ => {
                    if let Some(c) = self.codes(key, v, p) {
                        out.list.push(c);
                    }
                }
            }
        }
        out
    }

    /// Reads an `after` / `before` instant at `p`: seconds since the Unix epoch.
    fn instant(&mut self, v: &Value, p: String) -> Option<i64> {
        let text = self.string(v, || p.clone())?;
        match parse_instant(text) {
            Ok(at) => Some(at),
            Err(e) => {
                self.err(ErrorKind::Condition, p, e.message, e.hint);
                None
            }
        }
    }

    /// Reads an `ip` list of addresses and CIDR ranges at `p` into a range table.
    fn ip_ranges(&mut self, v: &Value, p: String) -> Option<Condition> {
        let list = self.nonempty_list("ip", v, &p, MAX_IP_ENTRIES)?;
        let mut written = Vec::with_capacity(list.len());
        let mut entries = Vec::with_capacity(list.len());
        for (j, item) in list.iter().enumerate() {
            let ip = format!("{p}/{j}");
            let Some(text) = self.string(item, || ip.clone()) else {
                continue;
            };
            match parse_entry(text) {
                Ok(e) => {
                    entries.push(e);
                    written.push(text.to_string());
                }
                Err(e) => self.err(ErrorKind::Condition, ip, e.message, e.hint),
            }
        }
        Some(Condition::Ip(Box::new(IpRanges::new(written, &entries))))
    }

    /// Reads an `asn` list of autonomous system numbers at `p`.
    fn asns(&mut self, v: &Value, p: String) -> Option<Condition> {
        let list = self.nonempty_list("asn", v, &p, MAX_LIST_ENTRIES)?;
        let mut numbers = Vec::with_capacity(list.len());
        for (j, item) in list.iter().enumerate() {
            match item.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => numbers.push(n),
                None => self.err(
                    ErrorKind::Condition,
                    format!("{p}/{j}"),
                    format!("{item} is not an autonomous system number"),
                    "write the number as a JSON integer from 0 to 4294967295, without \"AS\" (13335, not \"AS13335\")",
                ),
            }
        }
        Some(Condition::Asn(Numbers::new(numbers)))
    }

    /// The array at `p` for condition `key`, if it is one with 1 to `limit` entries.
    fn nonempty_list<'v, 'j>(
        &mut self,
        key: &str,
        v: &'v Value<'j>,
        p: &str,
        limit: usize,
    ) -> Option<&'v [Value<'j>]> {
        let Some(list) = v.as_array() else {
            let expected = match key {
                "asn" => "an array of numbers",
                _ => "an array of strings",
            };
            self.type_err(p.into(), expected, v);
            return None;
        };
        if list.is_empty() {
            self.err(
                ErrorKind::Condition,
                p.into(),
                format!("`{key}` is empty"),
                "list at least one value, or remove the condition",
            );
            return None;
        }
        (!self.over_limit(p, list.len(), limit)).then_some(list)
    }

    /// Whether `len` entries at `p` pass `limit`, reported if so.
    fn over_limit(&mut self, p: &str, len: usize, limit: usize) -> bool {
        if len > limit {
            self.err(
                ErrorKind::Limit,
                p.into(),
                format!("{len} entries; the limit is {limit}"),
                "split the rule",
            );
        }
        len > limit
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
        if self.over_limit(&p, map.len(), MAX_LIST_ENTRIES) {
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
        let list = self.nonempty_list(key, v, &p, MAX_LIST_ENTRIES)?;
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
