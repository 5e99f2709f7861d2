//! Reading a rules.json bundle: every key checked, every error collected, nothing guessed.
//!
//! [`compile`] is the entry: the usual bundle is read in one pass (`stream.rs`), anything else
//! from its parsed tree ([`compile_value`], the reference). Each part of the format is read
//! beside the type it builds: the top level here, `settings.rs`, `rules.rs`,
//! `conditions.rs`, `splits.rs`; every error goes through `report.rs`.

mod conditions;
mod http;
pub(crate) mod json;
mod report;
mod rules;
mod settings;
mod splits;
mod stream;

pub(crate) use stream::compile_part;

use crate::error::CompileErrors;
use crate::error::ErrorKind;
use crate::limits::{MAX_BUNDLE_BYTES, MAX_RULES};
use crate::model::rule::Rule;
use crate::model::settings::Settings;
use json::Value;
use report::Reader;
use rustc_hash::FxHashMap as HashMap;

/// A bundle that passed validation.
pub(crate) struct Bundle {
    pub settings: Settings,
    pub rules: Vec<Rule>,
}

const TOP_KEYS: &[&str] = &["$schema", "version", "settings", "rules"];

/// Parses and validates bundle text.
pub(crate) fn compile(text: &str) -> Result<Bundle, CompileErrors> {
    compile_limited(text, MAX_BUNDLE_BYTES)
}

/// [`compile`] with another limit on the text's length: `redirects build` reads bundles far
/// larger than an isolate could compile, since the artifact it writes is never compiled whole.
pub(crate) fn compile_limited(text: &str, max_bytes: usize) -> Result<Bundle, CompileErrors> {
    if text.len() > max_bytes {
        return Err(report::too_large(text.len(), max_bytes));
    }
    match stream::compile_streaming(text) {
        Ok(Some(compiled)) => return compiled,
        // The same parser reads the same text to the same first syntax error: no need to
        // build the tree (up to 16 bytes per byte of text) to find it again.
        Err(e) if e.is_syntax() || e.is_eof() => return Err(report::syntax(e)),
        _ => {}
    }
    let value: Value<'_> = serde_json::from_str(text).map_err(report::syntax)?;
    compile_value(&value)
}

/// Validates a parsed bundle.
pub(crate) fn compile_value(value: &Value<'_>) -> Result<Bundle, CompileErrors> {
    let mut reader = Reader::default();
    let settings = reader.top(value);
    let mut rules = Vec::new();
    if let Some(list) = value.get("rules") {
        match list.as_array() {
            Some(list) if list.len() > MAX_RULES => reader.too_many_rules(list.len()),
            Some(list) => {
                let mut ids = HashMap::default();
                ids.reserve(list.len());
                rules.reserve(list.len());
                for (i, raw) in list.iter().enumerate() {
                    let rule = reader.rule(i, raw, &settings, &mut ids);
                    if reader.found > 0 {
                        rules = Vec::new();
                    } else if let Some(rule) = rule {
                        rules.push(rule);
                    }
                }
            }
            None => reader.type_err("/rules".into(), "an array of rules", list),
        }
    } else if value.is_object() {
        reader.missing_rules();
    }
    reader.finish(Bundle { settings, rules })
}

impl Reader {
    /// Reads the top level (`version`, `settings`), not `rules`; the settings in error keep
    /// their defaults.
    fn top(&mut self, value: &Value) -> Settings {
        let mut settings = Settings::default();
        let Some(object) = value.as_object() else {
            self.type_err(
                String::new(),
                "an object `{\"version\": 1, \"rules\": [...]}`",
                value,
            );
            return settings;
        };
        self.unknown_keys(object, TOP_KEYS, "");
        match object.get("version") {
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => self.err(
                ErrorKind::Version,
                "/version".into(),
                format!("unsupported version {v}; this engine reads format version 1"),
                "set `\"version\": 1`",
            ),
            None => self.err(
                ErrorKind::Version,
                "/version".into(),
                "the bundle has no `version`".into(),
                "add `\"version\": 1` at the top level",
            ),
        }
        if let Some(s) = object.get("settings") {
            match s.as_object() {
                Some(s) => self.settings(s, &mut settings),
                None => self.type_err("/settings".into(), "an object", s),
            }
        }
        settings
    }

    fn missing_rules(&mut self) {
        self.err(
            ErrorKind::MissingKey,
            "/rules".into(),
            "the bundle has no `rules`".into(),
            "add `\"rules\": []` and put rule objects in it",
        );
    }

    fn too_many_rules(&mut self, count: usize) {
        self.err(
            ErrorKind::Limit,
            "/rules".into(),
            format!("{count} rules; the limit is {MAX_RULES}"),
            "split the rules over several bundles by host, or replace runs of exact rules with patterns",
        );
    }
}
