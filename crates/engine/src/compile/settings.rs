//! The `settings` object of a bundle, read into [`Settings`] with its documented defaults.

use super::http::header_value_ok;
use super::json::{Object, Value};
use super::report::Reader;
use crate::error::{pointer_token, ErrorKind};
use crate::model::settings::Settings;
use crate::request::host::normalize_rule_host;

const SETTINGS_KEYS: &[&str] = &[
    "preserve_query",
    "case_sensitive",
    "trailing_slash",
    "allowed_hosts",
    "permanent_cache_control",
    "sticky_max_age",
    "debug_header",
];

impl Reader {
    /// Reads `settings` into `out`; a setting in error keeps its default.
    pub(super) fn settings(&mut self, s: &Object<'_>, out: &mut Settings) {
        self.unknown_keys(s, SETTINGS_KEYS, "/settings");
        for (key, v) in s.iter() {
            let p = format!("/settings/{}", pointer_token(key));
            match key {
                "preserve_query" => out.preserve_query = self.boolean(v, || p).unwrap_or(true),
                "case_sensitive" => out.case_sensitive = self.boolean(v, || p).unwrap_or(true),
                "debug_header" => out.debug_header = self.boolean(v, || p).unwrap_or(false),
                "trailing_slash" => match v.as_str() {
                    Some("ignore") => out.trailing_slash_strict = false,
                    Some("strict") => out.trailing_slash_strict = true,
                    Some("remove") => out.trailing_slash_removed = true,
                    Some("exact") => {
                        out.trailing_slash_strict = true;
                        out.trailing_slash_exact = true;
                    }
                    _ => self.err(
                        ErrorKind::Setting,
                        p,
                        format!("`trailing_slash` is {v}"),
                        "use \"ignore\" (`/a` and `/a/` match alike), \"remove\" (alike, and no capture keeps the slash), \"strict\" or \"exact\" (they differ; with \"exact\" no placeholder takes the slash)",
                    ),
                },
                "allowed_hosts" => match v.as_array() {
                    Some(list) => self.allowed_hosts(list, &p, &mut out.allowed_hosts),
                    None => self.type_err(p, "an array of host names", v),
                },
                "permanent_cache_control" => {
                    if let Some(text) = self.string(v, || p.clone()) {
                        if text.is_empty() || !header_value_ok(text) {
                            self.err(
                                ErrorKind::Setting,
                                p,
                                "`permanent_cache_control` must be a non-empty header value of visible ASCII".into(),
                                "for example \"public, max-age=86400\"",
                            );
                        } else {
                            out.permanent_cache_control = text.to_string();
                        }
                    }
                }
                "sticky_max_age" => match v.as_u64() {
                    Some(n) => out.sticky_max_age = n,
                    None => self.err(
                        ErrorKind::Setting,
                        p,
                        format!("`sticky_max_age` is {v}; it must be a whole number of seconds"),
                        "for example 2592000 (30 days)",
                    ),
                },
                _ => {}
            }
        }
    }

    /// Reads the `allowed_hosts` list at `p`, normalised, into `out`.
    fn allowed_hosts(&mut self, list: &[Value<'_>], p: &str, out: &mut Vec<String>) {
        for (j, h) in list.iter().enumerate() {
            let hp = format!("{p}/{j}");
            if let Some(text) = self.string(h, || hp.clone()) {
                match normalize_rule_host(text) {
                    Ok(h) => out.push(h),
                    Err(m) => self.err(
                        ErrorKind::Setting,
                        hp,
                        format!("allowed host {text:?} {m}"),
                        "write `example.com` or `*.example.com`",
                    ),
                }
            }
        }
    }
}
