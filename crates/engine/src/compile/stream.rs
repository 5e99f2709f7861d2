//! The one-pass read of the usual bundle: each rule compiled as soon as the parser has read
//! it, so the bundle never exists as a whole tree next to the compiled rules.

use super::json::{Object, Value};
use super::report::Reader;
use super::rules::Ids;
use super::Sink;
use crate::error::CompileErrors;
use crate::model::rule::Rule;
use crate::model::settings::Settings;
use rustc_hash::FxHashMap as HashMap;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Compiles the usual bundle in one pass: an object with `settings` (if any) before one `rules`
/// array, each rule compiled as soon as it is read, so the bundle never exists as a whole tree
/// next to the compiled rules, each handed to `sink` (more than `max_rules` rules are counted,
/// not compiled, and
/// reported as [`compile_value`](super::compile_value) does). `Ok(None)` for another shape or
/// `settings` after `rules`, and `Err` for text the parser rejects (a syntax error, or `rules`
/// not an array): [`compile_value`](super::compile_value) on the parsed tree is the reference,
/// and reports those cases with the right errors.
pub(super) fn compile_streaming(
    text: &str,
    max_rules: usize,
    rules: &mut dyn Sink,
) -> Result<Option<Result<Settings, CompileErrors>>, serde_json::Error> {
    if !text.trim_start().starts_with('{') {
        return Ok(None);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let ids = Ids::Kept(HashMap::default());
    compile_from(&mut de, None, ids, count_rules(text), max_rules, rules)
}

/// [`compile_streaming`] of a bundle read from `reader`, with the `settings` a first pass found
/// ([`scan`]): the rules compile with them wherever the bundle writes them, and nothing of the
/// text is kept but one rule at a time, nor the rules' ids: a fingerprint of each. `Ok(None)`
/// and `Err` as for [`compile_streaming`], and `Ok(None)` too when two ids may be the same
/// (read whole, the text reports them).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn compile_reader<R: std::io::Read>(
    reader: R,
    scan: Scan,
    max_rules: usize,
    rules: &mut dyn Sink,
) -> Result<Option<Result<Settings, CompileErrors>>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let ids = Ids::Fingerprints(Vec::new());
    compile_from(
        &mut de,
        Some(scan.settings),
        ids,
        scan.rules,
        max_rules,
        rules,
    )
}

/// The one-pass read itself, from text or a reader: the rules compile with `known` settings,
/// or with those written before them (another `settings` after them is then `Ok(None)`).
fn compile_from<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    known: Option<Settings>,
    mut ids: Ids<'de>,
    expected: usize,
    max_rules: usize,
    rules: &mut dyn Sink,
) -> Result<Option<Result<Settings, CompileErrors>>, serde_json::Error> {
    let mut rule_reader = Reader::default();
    let top = TopSeed {
        known: known.is_some(),
        rules: RulesSeed {
            reader: &mut rule_reader,
            settings: known.unwrap_or_default(),
            ids: &mut ids,
            rules,
            expected,
            max_rules,
        },
    }
    .deserialize(&mut *de)
    .and_then(|top| de.end().map(|()| top))?;
    let TopPass::Done { rest, rules_seen } = top else {
        return Ok(None);
    };
    if ids.may_repeat() {
        // Maybe a repeated id, not reported: the text whole is the reference.
        return Ok(None);
    }
    let mut reader = Reader::default();
    let settings = reader.top(&rest);
    if !rules_seen {
        reader.missing_rules();
    }
    reader.append(rule_reader);
    Ok(Some(reader.finish(settings)))
}

/// What a first pass over a bundle's bytes finds ([`scan`]).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) struct Scan {
    /// The settings its rules compile with (defaults for settings in error, which are
    /// reported when the rules are compiled).
    pub(crate) settings: Settings,
    /// How many rules it holds.
    pub(crate) rules: usize,
}

/// A first pass over a bundle read from `reader`, each rule skipped as read: its settings,
/// wherever written, and how many rules it has. `Ok(None)` for a shape the one-pass read does
/// not take (a repeated `settings` or `rules`), and `Err` for anything else it does not (not an
/// object, `rules` not an array, a syntax error): the bundle's text whole is the reference then.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn scan<R: std::io::Read>(reader: R) -> Result<Option<Scan>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let scan = ScanTop.deserialize(&mut de)?;
    de.end()?;
    Ok(scan)
}

/// The top level of a bundle, for [`scan`].
#[cfg(not(target_arch = "wasm32"))]
struct ScanTop;

#[cfg(not(target_arch = "wasm32"))]
impl<'de> DeserializeSeed<'de> for ScanTop {
    type Value = Option<Scan>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<Scan>, D::Error> {
        d.deserialize_map(self)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<'de> Visitor<'de> for ScanTop {
    type Value = Option<Scan>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bundle object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Scan>, A::Error> {
        let (mut settings, mut rules) = (None, None);
        let mut repeated = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "rules" => {
                    repeated |= rules.replace(map.next_value_seed(CountSeed)?).is_some();
                }
                "settings" => {
                    let value = map.next_value::<Value<'de>>()?;
                    let mut read = Settings::default();
                    if let Some(object) = value.as_object() {
                        Reader::default().settings(object, &mut read);
                    }
                    repeated |= settings.replace(read).is_some();
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((!repeated).then(|| Scan {
            settings: settings.unwrap_or_default(),
            rules: rules.unwrap_or(0),
        }))
    }
}

/// Counts the elements of an array, each skipped.
#[cfg(not(target_arch = "wasm32"))]
struct CountSeed;

#[cfg(not(target_arch = "wasm32"))]
impl<'de> DeserializeSeed<'de> for CountSeed {
    type Value = usize;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<'de> Visitor<'de> for CountSeed {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rules")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut count = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(count)
    }
}

/// Compiles the rules of one part of an artifact: a JSON array of rule objects, checked when
/// the artifact was built, read with the bundle's `settings`. `None` if anything is wrong
/// (the text is not what `redirects build` writes). Rules are numbered from 0 in the part.
/// Path-to-regexp sources build their automata when a request first tries them: a part is read
/// for the rules of one home, and its other rules may never be tried.
pub(crate) fn compile_part(text: &str, settings: &Settings, expected: usize) -> Option<Vec<Rule>> {
    let mut rules = Vec::new();
    let mut ids = Ids::Kept(HashMap::default());
    let mut reader = Reader::default();
    reader.defer_automata = true;
    let mut de = serde_json::Deserializer::from_str(text);
    RulesSeed {
        reader: &mut reader,
        settings: settings.clone(),
        ids: &mut ids,
        rules: &mut rules,
        expected,
        max_rules: expected,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .ok()?;
    reader.finish(()).ok()?;
    Some(rules)
}

/// The number of elements of the top-level `rules` array of a bundle's text (the last one, as
/// parsing takes it), found by a scan of the bytes without parsing; 0 when there is none. Only
/// a size hint: a bundle that fools it compiles all the same.
fn count_rules(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    let (mut key_is_rules, mut after_colon) = (false, false);
    let (mut counting, mut count, mut found) = (false, 0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 && !after_colon {
                    key_is_rules = bytes.get(start..i) == Some(b"rules");
                }
                if counting && depth == 2 && count == 0 {
                    count = 1;
                }
            }
            b':' if depth == 1 => after_colon = true,
            b',' if depth == 1 => {
                after_colon = false;
                key_is_rules = false;
            }
            b',' if counting && depth == 2 => count += 1,
            b'[' | b'{' => {
                if depth == 1 && after_colon && key_is_rules && b == b'[' {
                    counting = true;
                    count = 0;
                } else if counting && depth == 2 && count == 0 {
                    count = 1;
                }
                depth += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if counting && depth == 1 {
                    counting = false;
                    found = count;
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                if counting && depth == 2 && count == 0 {
                    count = 1;
                }
            }
        }
        i += 1;
    }
    found
}

/// How the one-pass read of a bundle object ended.
enum TopPass<'a> {
    /// The rules are compiled; `rest` is the top level with `rules` as `null`.
    Done { rest: Value<'a>, rules_seen: bool },
    /// A `settings` (or a second `rules`) came after the rules: compile from the tree.
    Again,
}

/// Reads a bundle object, compiling `rules` with the `settings` written before it.
struct TopSeed<'c, 'a> {
    rules: RulesSeed<'c, 'a>,
    /// The rules' settings are known before the read (a `settings` after the rules is then no
    /// reason to read again).
    known: bool,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = TopPass<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<TopPass<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, 'de> {
    type Value = TopPass<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bundle object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<TopPass<'de>, A::Error> {
        let mut rest = Vec::new();
        let mut rules_seen = false;
        let mut again = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "rules" {
                if rules_seen {
                    again = true;
                    map.next_value::<IgnoredAny>()?;
                } else {
                    rules_seen = true;
                    map.next_value_seed(self.rules.by_ref())?;
                }
                rest.push((key, Value::Null));
                continue;
            }
            let value = map.next_value::<Value<'de>>()?;
            if key == "settings" && !self.known {
                if rules_seen {
                    again = true;
                } else {
                    // Errors in the settings are reported by `Reader::top` at the end.
                    let mut settings = Settings::default();
                    if let Some(object) = value.as_object() {
                        Reader::default().settings(object, &mut settings);
                    }
                    self.rules.settings = settings;
                }
            }
            rest.push((key, value));
        }
        Ok(if again {
            TopPass::Again
        } else {
            TopPass::Done {
                rest: Value::Object(Object::from_entries(rest)),
                rules_seen,
            }
        })
    }
}

/// Compiles the rules of a `rules` array as the parser reads them, one rule's tree at a time.
/// Anything but an array fails the pass. Once a rule has an error, compiled rules are no
/// longer kept: the bundle is rejected anyway.
struct RulesSeed<'c, 'a> {
    reader: &'c mut Reader,
    settings: Settings,
    ids: &'c mut Ids<'a>,
    rules: &'c mut dyn Sink,
    /// How many rules the text holds, to size the list before reading.
    expected: usize,
    /// Most rules compiled: past them, rules are counted.
    max_rules: usize,
}

impl<'a> RulesSeed<'_, 'a> {
    fn by_ref(&mut self) -> RulesSeed<'_, 'a> {
        RulesSeed {
            reader: self.reader,
            settings: self.settings.clone(),
            ids: self.ids,
            rules: &mut *self.rules,
            expected: self.expected,
            max_rules: self.max_rules,
        }
    }
}

impl<'de> DeserializeSeed<'de> for RulesSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RulesSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rules")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(raw) = seq.next_element::<Value<'de>>()? {
            if i == self.max_rules {
                // As `compile_value` reports it: the count alone, no error of any rule.
                let mut count = i + 1;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                self.rules.clear();
                *self.reader = Reader::default();
                self.reader.too_many_rules(count, self.max_rules);
                return Ok(());
            }
            let rule = self.reader.rule(i, &raw, &self.settings, self.ids);
            if self.reader.found > 0 {
                self.rules.clear();
            } else if let Some(rule) = rule {
                if i == 0 {
                    // Sized once the first rule compiles, so a list of junk reserves nothing.
                    self.rules.reserve(self.expected.min(self.max_rules));
                    self.ids.reserve(self.expected.min(self.max_rules));
                }
                self.rules.take(rule);
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::count_rules;

    #[test]
    fn counts_the_rules_array_only() {
        assert_eq!(count_rules(r#"{"rules": []}"#), 0);
        assert_eq!(count_rules(r#"{"rules": [{}]}"#), 1);
        assert_eq!(
            count_rules(
                r#"{"x": [1, 2, 3], "rules": [{"a": [1, 2]}, "s,\"]", null], "y": {"rules": [1]}}"#
            ),
            3
        );
        assert_eq!(count_rules(r#"{"rules": [1], "rules": [1, 2]}"#), 2);
        assert_eq!(count_rules(r#"{"version": 1}"#), 0);
        assert_eq!(count_rules("[1, 2]"), 0);
    }
}
