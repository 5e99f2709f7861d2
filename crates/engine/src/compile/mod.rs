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

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use report::too_large;
pub(crate) use stream::compile_part;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use stream::{compile_reader, scan};

use crate::error::CompileErrors;
use crate::error::ErrorKind;
use crate::limits::{MAX_BUNDLE_BYTES, MAX_RULES};
use crate::model::rule::Rule;
use crate::model::settings::Settings;
use json::Value;
use report::Reader;
use rules::Ids;
use rustc_hash::FxHashMap as HashMap;

/// Where compiled rules go: a list, or a caller that keeps only what it needs of each
/// (`redirects build` keeps where a rule lives, not the rule, so a bundle of millions of
/// rules never exists compiled).
pub(crate) trait Sink {
    /// Takes the next rule, in file order.
    fn take(&mut self, rule: Rule);
    /// Drops what was taken: the bundle has an error and is rejected anyway.
    fn clear(&mut self);
    /// A hint: about this many rules will come.
    fn reserve(&mut self, _rules: usize) {}
}

impl Sink for Vec<Rule> {
    fn take(&mut self, rule: Rule) {
        self.push(rule);
    }
    fn clear(&mut self) {
        if self.capacity() > 0 {
            *self = Vec::new();
        }
    }
    fn reserve(&mut self, rules: usize) {
        if self.capacity() == 0 {
            self.reserve_exact(rules);
        }
    }
}

/// How large a bundle a compile reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Longest text, in bytes.
    pub bytes: usize,
    /// Most rules.
    pub rules: usize,
}

impl Limits {
    /// The limits of a bundle compiled whole ([`MAX_BUNDLE_BYTES`], [`MAX_RULES`]).
    pub(crate) const WHOLE: Limits = Limits {
        bytes: MAX_BUNDLE_BYTES,
        rules: MAX_RULES,
    };
}

/// A bundle that passed validation.
pub(crate) struct Bundle {
    pub settings: Settings,
    pub rules: Vec<Rule>,
}

const TOP_KEYS: &[&str] = &["$schema", "version", "settings", "rules"];

/// Parses and validates bundle text.
pub(crate) fn compile(text: &str) -> Result<Bundle, CompileErrors> {
    let mut rules = Vec::new();
    let settings = compile_into(text, Limits::WHOLE, &mut rules)?;
    Ok(Bundle { settings, rules })
}

/// [`compile`] within other [`Limits`], each rule handed to `sink` as it compiles: `redirects
/// build` reads bundles far larger than an isolate could compile, since the artifact it writes
/// is never compiled whole. Returns the settings.
pub(crate) fn compile_into(
    text: &str,
    limits: Limits,
    sink: &mut dyn Sink,
) -> Result<Settings, CompileErrors> {
    if text.len() > limits.bytes {
        return Err(report::too_large(text.len(), limits.bytes));
    }
    match stream::compile_streaming(text, limits.rules, sink) {
        Ok(Some(compiled)) => return compiled,
        // The same parser reads the same text to the same first syntax error: no need to
        // build the tree (up to 16 bytes per byte of text) to find it again.
        Err(e) if e.is_syntax() || e.is_eof() => return Err(report::syntax(e)),
        _ => {}
    }
    sink.clear();
    let value: Value<'_> = serde_json::from_str(text).map_err(report::syntax)?;
    compile_tree(&value, limits.rules, sink)
}

/// Validates a parsed bundle.
pub(crate) fn compile_value(value: &Value<'_>) -> Result<Bundle, CompileErrors> {
    let mut rules = Vec::new();
    let settings = compile_tree(value, MAX_RULES, &mut rules)?;
    Ok(Bundle { settings, rules })
}

/// Validates a parsed bundle of at most `max_rules` rules, each rule handed to `sink`.
fn compile_tree(
    value: &Value<'_>,
    max_rules: usize,
    sink: &mut dyn Sink,
) -> Result<Settings, CompileErrors> {
    let mut reader = Reader::default();
    let settings = reader.top(value);
    if let Some(list) = value.get("rules") {
        match list.as_array() {
            Some(list) if list.len() > max_rules => reader.too_many_rules(list.len(), max_rules),
            Some(list) => {
                let mut ids = Ids::Kept(HashMap::default());
                ids.reserve(list.len());
                sink.reserve(list.len());
                for (i, raw) in list.iter().enumerate() {
                    let rule = reader.rule(i, raw, &settings, &mut ids);
                    if reader.found > 0 {
                        sink.clear();
                    } else if let Some(rule) = rule {
                        sink.take(rule);
                    }
                }
            }
            None => reader.type_err("/rules".into(), "an array of rules", list),
        }
    } else if value.is_object() {
        reader.missing_rules();
    }
    reader.finish(settings)
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

    fn too_many_rules(&mut self, count: usize, max: usize) {
        let hint = if max == MAX_RULES {
            "build it into an artifact, which takes more (`redirects build --max-rules N`), or split the rules over several bundles by host"
        } else {
            "build with a larger `--max-rules`, or split the rules over several bundles by host"
        };
        self.err(
            ErrorKind::Limit,
            "/rules".into(),
            format!("{count} rules; the limit is {max}"),
            hint,
        );
    }
}
