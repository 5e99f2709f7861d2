//! Reading a rules.json bundle: every key checked, every error collected, nothing guessed.

use crate::condition::{Condition, Conditions, GeoField, Glob, QueryTest};
use crate::error::{pointer_token, CompileError, CompileErrors, ErrorKind};
use crate::host::normalize_rule_host;
use crate::json::{Object, Value};
use crate::limits::{
    MAX_BUNDLE_BYTES, MAX_CAPTURES, MAX_ERRORS, MAX_ERROR_TEXT_BYTES, MAX_LIST_ENTRIES,
    MAX_PATTERN_SEGMENTS, MAX_RULES, MAX_SUGGESTED_KEY_CHARS, MAX_TEXT_BYTES,
};
use crate::pattern::{is_name, Pattern};
use crate::rule::{Action, Rare, Rule, Texts};
use crate::settings::Settings;
use crate::split::{Split, Variant};
use crate::target::{Target, TargetError};
use rustc_hash::FxHashMap as HashMap;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A bundle that passed validation.
pub(crate) struct Bundle {
    pub settings: Settings,
    pub rules: Vec<Rule>,
}

const TOP_KEYS: &[&str] = &["$schema", "version", "settings", "rules"];
const SETTINGS_KEYS: &[&str] = &[
    "preserve_query",
    "case_sensitive",
    "trailing_slash",
    "allowed_hosts",
    "permanent_cache_control",
    "sticky_max_age",
    "debug_header",
];
const RULE_KEYS: &[&str] = &[
    "id",
    "from",
    "host",
    "methods",
    "when",
    "unless",
    "to",
    "split",
    "forward",
    "status",
    "preserve_query",
    "headers",
];
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
const SPLIT_KEYS: &[&str] = &["cookie", "variants"];
const VARIANT_KEYS: &[&str] = &["name", "weight", "to"];
const CONTINENTS: &[&str] = &["AF", "AN", "AS", "EU", "NA", "OC", "SA"];
const STATUSES: &[u16] = &[301, 302, 303, 307, 308];
const UNSAFE_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];
const RESERVED_HEADERS: &[&str] = &[
    "location",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "trailer",
];

/// Parses and validates bundle text.
pub(crate) fn compile_text(text: &str) -> Result<Bundle, CompileErrors> {
    if text.len() > MAX_BUNDLE_BYTES {
        return Err(CompileErrors::one(CompileError {
            kind: ErrorKind::Limit,
            rule_index: None,
            rule_id: None,
            pointer: String::new(),
            message: format!(
                "the bundle is {} bytes; the limit is {MAX_BUNDLE_BYTES}",
                text.len()
            ),
            hint: "split the site's rules by host into several workers, or collapse many exact rules into patterns".into(),
            line: None,
            column: None,
        }));
    }
    let syntax = |e: serde_json::Error| {
        CompileErrors::one(CompileError {
            kind: ErrorKind::Syntax,
            rule_index: None,
            rule_id: None,
            pointer: String::new(),
            message: format!("not valid JSON: {e}"),
            hint:
                "check for a missing comma or quote, or a trailing comma, just before this position"
                    .into(),
            line: Some(e.line()),
            column: Some(e.column()),
        })
    };
    match compile_streaming(text) {
        Ok(Some(compiled)) => return compiled,
        // The same parser reads the same text to the same first syntax error: no need to
        // build the tree (up to 16 bytes per byte of text) to find it again.
        Err(e) if e.is_syntax() || e.is_eof() => return Err(syntax(e)),
        _ => {}
    }
    let value: Value<'_> = serde_json::from_str(text).map_err(syntax)?;
    compile_value(&value)
}

/// Compiles the usual bundle in one pass: an object with `settings` (if any) before one `rules`
/// array, each rule compiled as soon as it is read, so the bundle never exists as a whole tree
/// next to the compiled rules (more than [`MAX_RULES`] rules are counted, not compiled, and
/// reported as [`compile_value`] does). `Ok(None)` for another shape or `settings` after
/// `rules`, and `Err` for text the parser rejects (a syntax error, or `rules` not an array):
/// [`compile_value`] on the parsed tree is the reference, and reports those cases with the
/// right errors.
fn compile_streaming(
    text: &str,
) -> Result<Option<Result<Bundle, CompileErrors>>, serde_json::Error> {
    if !text.trim_start().starts_with('{') {
        return Ok(None);
    }
    let mut rules = Vec::new();
    let mut ids = HashMap::default();
    let mut rule_cx = Cx::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let top = TopSeed {
        rules: RulesSeed {
            cx: &mut rule_cx,
            settings: Settings::default(),
            ids: &mut ids,
            rules: &mut rules,
            expected: count_rules(text),
        },
    }
    .deserialize(&mut de)
    .and_then(|top| de.end().map(|()| top))?;
    let TopPass::Done { rest, rules_seen } = top else {
        return Ok(None);
    };
    let mut cx = Cx::default();
    let settings = cx.top(&rest);
    if !rules_seen {
        cx.missing_rules();
    }
    cx.errors.append(&mut rule_cx.errors);
    cx.found += rule_cx.found;
    Ok(Some(cx.finish(settings, rules)))
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
            if key == "settings" {
                if rules_seen {
                    again = true;
                } else {
                    // Errors in the settings are reported by `Cx::top` at the end.
                    let mut settings = Settings::default();
                    if let Some(object) = value.as_object() {
                        Cx::default().settings(object, &mut settings);
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
    cx: &'c mut Cx,
    settings: Settings,
    ids: &'c mut HashMap<Cow<'a, str>, usize>,
    rules: &'c mut Vec<Rule>,
    /// How many rules the text holds, to size the list before reading.
    expected: usize,
}

impl<'a> RulesSeed<'_, 'a> {
    fn by_ref(&mut self) -> RulesSeed<'_, 'a> {
        RulesSeed {
            cx: self.cx,
            settings: self.settings.clone(),
            ids: self.ids,
            rules: self.rules,
            expected: self.expected,
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
            if i == MAX_RULES {
                // As `compile_value` reports it: the count alone, no error of any rule.
                let mut count = i + 1;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                *self.rules = Vec::new();
                *self.cx = Cx::default();
                self.cx.too_many_rules(count);
                return Ok(());
            }
            let rule = self.cx.rule(i, &raw, &self.settings, self.ids);
            if self.cx.found > 0 {
                if self.rules.capacity() > 0 {
                    *self.rules = Vec::new();
                }
            } else if let Some(rule) = rule {
                if self.rules.capacity() == 0 {
                    // Sized once the first rule compiles, so a list of junk reserves nothing.
                    self.rules.reserve_exact(self.expected.min(MAX_RULES));
                    self.ids.reserve(self.expected.min(MAX_RULES));
                }
                self.rules.push(rule);
            }
            i += 1;
        }
        Ok(())
    }
}

/// Validates a parsed bundle.
pub(crate) fn compile_value(value: &Value<'_>) -> Result<Bundle, CompileErrors> {
    let mut cx = Cx::default();
    let settings = cx.top(value);
    let mut rules = Vec::new();
    if let Some(list) = value.get("rules") {
        match list.as_array() {
            Some(list) if list.len() > MAX_RULES => cx.too_many_rules(list.len()),
            Some(list) => {
                let mut ids = HashMap::default();
                ids.reserve(list.len());
                rules.reserve(list.len());
                for (i, raw) in list.iter().enumerate() {
                    let rule = cx.rule(i, raw, &settings, &mut ids);
                    if cx.found > 0 {
                        rules = Vec::new();
                    } else if let Some(rule) = rule {
                        rules.push(rule);
                    }
                }
            }
            None => cx.type_err("/rules".into(), "an array of rules", list),
        }
    } else if value.is_object() {
        cx.missing_rules();
    }
    cx.finish(settings, rules)
}

/// The JSON pointer of rule `i`, `/rules/<i>`, written only when an error needs it.
#[derive(Debug, Clone, Copy)]
struct RulePointer(usize);

impl fmt::Display for RulePointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/rules/{}", self.0)
    }
}

#[derive(Default)]
struct Cx {
    /// The first [`MAX_ERRORS`] errors found.
    errors: Vec<CompileError>,
    /// How many errors were found, kept or not.
    found: usize,
    rule: Option<(usize, Option<String>)>,
}

impl Cx {
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

    fn finish(self, settings: Settings, rules: Vec<Rule>) -> Result<Bundle, CompileErrors> {
        if self.found == 0 {
            Ok(Bundle { settings, rules })
        } else {
            let kept = self.errors.len();
            Err(CompileErrors::new(self.errors, self.found - kept))
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `text` cut to at most [`MAX_ERROR_TEXT_BYTES`], ending in `…` when cut.
fn shorten(mut text: String) -> String {
    if text.len() > MAX_ERROR_TEXT_BYTES {
        let mut end = MAX_ERROR_TEXT_BYTES - '…'.len_utf8();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
        text.shrink_to_fit();
    }
    text
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Cx {
    /// Whether [`MAX_ERRORS`] errors are kept already, so that more are only counted.
    fn full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS
    }

    fn err(&mut self, kind: ErrorKind, pointer: String, message: String, hint: &str) {
        self.found += 1;
        if self.full() {
            return;
        }
        let (rule_index, rule_id) = match &self.rule {
            Some((i, id)) => (Some(*i), id.clone()),
            None => (None, None),
        };
        self.errors.push(CompileError {
            kind,
            rule_index,
            rule_id,
            pointer: shorten(pointer),
            message: shorten(message),
            hint: hint.to_string(),
            line: None,
            column: None,
        });
    }

    fn type_err(&mut self, pointer: String, expected: &str, found: &Value) {
        if self.full() {
            self.found += 1;
            return;
        }
        let hint = format!("write {expected} here");
        self.err(
            ErrorKind::Type,
            pointer,
            format!("expected {expected}, found {}", kind_of(found)),
            &hint,
        );
    }

    /// Reports keys of `object` not in `known`; a close match is suggested.
    fn unknown_keys(&mut self, object: &Object<'_>, known: &[&str], at: impl fmt::Display) {
        for key in object.keys() {
            if known.contains(&key) {
                continue;
            }
            if self.full() {
                self.found += 1;
                continue;
            }
            // A key this long is too far from every known key for a suggestion.
            let close = (key.chars().nth(MAX_SUGGESTED_KEY_CHARS).is_none())
                .then(|| {
                    known
                        .iter()
                        .map(|k| (edit_distance(key, k), *k))
                        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
                        .min()
                })
                .flatten();
            let hint = match close {
                Some((_, k)) => format!("did you mean `{k}`?"),
                None => format!("allowed keys here: {}", known.join(", ")),
            };
            self.err(
                ErrorKind::UnknownKey,
                format!("{at}/{}", pointer_token(key)),
                format!("unknown key `{key}`"),
                &hint,
            );
        }
    }

    fn boolean(&mut self, v: &Value, pointer: impl FnOnce() -> String) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.type_err(pointer(), "`true` or `false`", v);
                None
            }
        }
    }

    fn string<'v>(&mut self, v: &'v Value, pointer: impl FnOnce() -> String) -> Option<&'v str> {
        match v {
            Value::String(s) if s.len() > MAX_TEXT_BYTES => {
                self.err(
                    ErrorKind::Limit,
                    pointer(),
                    format!("{} bytes long; the limit is {MAX_TEXT_BYTES}", s.len()),
                    "shorten it",
                );
                None
            }
            Value::String(s) => Some(s),
            _ => {
                self.type_err(pointer(), "a string", v);
                None
            }
        }
    }

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

    fn settings(&mut self, s: &Object<'_>, out: &mut Settings) {
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
                    _ => self.err(
                        ErrorKind::Setting,
                        p,
                        format!("`trailing_slash` is {v}"),
                        "use \"ignore\" (`/a` and `/a/` match alike) or \"strict\"",
                    ),
                },
                "allowed_hosts" => match v.as_array() {
                    Some(list) => {
                        for (j, h) in list.iter().enumerate() {
                            let hp = format!("{p}/{j}");
                            if let Some(text) = self.string(h, || hp.clone()) {
                                match normalize_rule_host(text) {
                                    Ok(h) => out.allowed_hosts.push(h),
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

    fn rule<'a>(
        &mut self,
        i: usize,
        raw: &Value<'a>,
        settings: &Settings,
        ids: &mut HashMap<Cow<'a, str>, usize>,
    ) -> Option<Rule> {
        let at = RulePointer(i);
        self.rule = Some((i, None));
        let before = self.found;
        let Some(obj) = raw.as_object() else {
            self.type_err(at.to_string(), "a rule object", raw);
            return None;
        };
        // The id first, so every later error names it.
        let id = match obj.get("id") {
            None => {
                self.err(
                    ErrorKind::MissingKey,
                    format!("{at}/id"),
                    "the rule has no `id`".into(),
                    "add a unique `\"id\"` such as \"blog-move\"; it is named in errors, logs and the debug header",
                );
                None
            }
            Some(v) => match self.string(v, || format!("{at}/id")) {
                Some("") => {
                    self.err(
                        ErrorKind::Id,
                        format!("{at}/id"),
                        "the rule's `id` is empty".into(),
                        "give the rule a short unique name",
                    );
                    None
                }
                Some(id) if id.chars().any(char::is_control) => {
                    self.err(
                        ErrorKind::Id,
                        format!("{at}/id"),
                        "the rule's `id` contains a control character".into(),
                        "use letters, digits, `-` and `_`",
                    );
                    None
                }
                Some(id) => {
                    if let Some(first) = ids.get(id) {
                        self.rule = Some((i, Some(id.to_string())));
                        self.err(
                            ErrorKind::Id,
                            format!("{at}/id"),
                            format!("duplicate id {id:?}: rule {first} has the same id"),
                            "give each rule its own id",
                        );
                    } else if let Some(Value::String(text)) = obj.get("id") {
                        ids.insert(text.clone(), i);
                    }
                    Some(id)
                }
                None => None,
            },
        };
        self.rule = Some((i, id.map(str::to_string)));
        self.unknown_keys(obj, RULE_KEYS, at);

        let pattern = match obj.get("from") {
            None => {
                self.err(
                    ErrorKind::MissingKey,
                    format!("{at}/from"),
                    "the rule has no `from`".into(),
                    "add the path it matches, such as \"/old\" or \"/blog/:slug\"",
                );
                None
            }
            Some(v) => self.string(v, || format!("{at}/from")).and_then(|text| {
                let segments = text.bytes().filter(|&b| b == b'/').count();
                if segments > MAX_PATTERN_SEGMENTS {
                    self.err(
                        ErrorKind::Limit,
                        format!("{at}/from"),
                        format!("the pattern has {segments} segments; the limit is {MAX_PATTERN_SEGMENTS}"),
                        "match the tail with `:rest*` instead of spelling out every segment",
                    );
                    return None;
                }
                match Pattern::parse(text, settings.case_sensitive, settings.trailing_slash_strict) {
                    Ok(p) => Some((text, p)),
                    Err(m) => {
                        self.err(
                            ErrorKind::Pattern,
                            format!("{at}/from"),
                            m,
                            "patterns look like `/old`, `/blog/:year/:slug`, `/api/v1/:path*` or `/docs/*`",
                        );
                        None
                    }
                }
            }),
        };

        let host = obj.get("host").and_then(|v| {
            let text = self.string(v, || format!("{at}/host"))?;
            match normalize_rule_host(text) {
                Ok(h) => Some(h),
                Err(m) => {
                    self.err(
                        ErrorKind::Host,
                        format!("{at}/host"),
                        format!("host {text:?} {m}"),
                        "write `example.com`, or `*.example.com` for every subdomain",
                    );
                    None
                }
            }
        });

        let methods = obj.get("methods").and_then(|v| self.methods(v, at));
        let when = obj
            .get("when")
            .map(|v| self.conditions(v, &format!("{at}/when"), true))
            .unwrap_or_default();
        let unless = obj
            .get("unless")
            .map(|v| self.conditions(v, &format!("{at}/unless"), false))
            .unwrap_or_default();
        let to = obj
            .get("to")
            .and_then(|v| self.string(v, || format!("{at}/to")));
        let forward = obj
            .get("forward")
            .and_then(|v| self.boolean(v, || format!("{at}/forward")))
            .unwrap_or(false);
        let preserve_query = obj
            .get("preserve_query")
            .and_then(|v| self.boolean(v, || format!("{at}/preserve_query")))
            .unwrap_or(settings.preserve_query);
        let explicit_status =
            obj.get("status")
                .and_then(|v| match v.as_u64().and_then(|n| u16::try_from(n).ok()) {
                    Some(n) if STATUSES.contains(&n) => Some(n),
                    _ => {
                        self.err(
                        ErrorKind::Status,
                        format!("{at}/status"),
                        format!("status {v} is not a redirect status this engine sends"),
                        "use 301, 302, 303, 307 or 308 (or leave `status` out to have it inferred)",
                    );
                        None
                    }
                });
        let headers = obj
            .get("headers")
            .map(|v| self.headers(v, at))
            .unwrap_or_default();

        let mut known: Vec<&str> = Vec::new();
        if let Some((_, p)) = &pattern {
            known.extend(p.names());
        }
        known.extend(when.capture_names());
        if known.len() > MAX_CAPTURES {
            self.err(
                ErrorKind::Limit,
                format!("{at}/from"),
                format!(
                    "the rule captures {} placeholders; the limit is {MAX_CAPTURES}",
                    known.len()
                ),
                "capture less: use a `:name*` for the rest of the path",
            );
        }
        for (n, name) in known.iter().enumerate() {
            if known[..n].contains(name) {
                self.err(
                    ErrorKind::Placeholder,
                    format!("{at}/when/query"),
                    format!(
                        "placeholder `{name}` is captured twice (in `from` and in `when.query`)"
                    ),
                    "give the query capture another name",
                );
            }
        }

        // What the rule does.
        let split_value = obj.get("split");
        if forward && explicit_status.is_some_and(|s| s != 303) {
            self.err(
                ErrorKind::Status,
                format!("{at}/status"),
                format!(
                    "a `forward` rule answers 303 after the origin succeeds; status {} does not fit",
                    explicit_status.unwrap_or_default()
                ),
                "remove `status` (or set 303), or remove `forward` to redirect at the edge",
            );
        }
        let action = match (to, split_value, forward) {
            (Some(_), Some(_), _) => {
                self.err(
                    ErrorKind::Action,
                    format!("{at}/split"),
                    "the rule has both `to` and `split`".into(),
                    "remove `to`: each split variant has its own `to`",
                );
                None
            }
            (_, Some(_), true) => {
                self.err(
                    ErrorKind::Action,
                    format!("{at}/forward"),
                    "`forward` cannot be combined with `split`".into(),
                    "remove one of them",
                );
                None
            }
            (None, None, false) if obj.contains_key("to") => None,
            (None, None, false) => {
                self.err(
                    ErrorKind::Action,
                    at.to_string(),
                    "the rule does nothing: it has no `to`, `split` or `forward`".into(),
                    "add `\"to\": \"/new-path\"`, a `split`, or `\"forward\": true`",
                );
                None
            }
            (None, Some(s), false) => self
                .split(s, at, id.unwrap_or(""), &known)
                .map(|s| Action::Split(Box::new(s))),
            (Some(t), None, fwd) => self.target(t, || format!("{at}/to"), &known).map(|t| {
                if fwd {
                    Action::Forward(Some(t))
                } else {
                    Action::To(t)
                }
            }),
            (None, None, true) => Some(Action::Forward(None)),
        };

        if self.found > before {
            return None;
        }
        let (from, pattern) = pattern?;
        let action = action?;
        let unsafe_only = methods
            .as_ref()
            .is_some_and(|m: &Vec<String>| m.iter().all(|x| UNSAFE_METHODS.contains(&x.as_str())));
        let status = explicit_status.unwrap_or(
            if matches!(action, Action::Split(_)) || when.has_geo() || when.has_language() {
                307
            } else if matches!(action, Action::Forward(_)) || unsafe_only {
                303
            } else {
                308
            },
        );
        Some(Rule {
            index: i as u32,
            status,
            explicit_status,
            preserve_query,
            id: id?.into(),
            texts: Texts {
                from: (!pattern.is_exact() || pattern.exact_key() != from).then(|| from.into()),
                to: to
                    .filter(|&t| {
                        !matches!(&action, Action::To(target) | Action::Forward(Some(target))
                            if target.literal_path() == Some(t))
                    })
                    .map(Into::into),
            }
            .boxed(),
            pattern,
            action,
            rare: Rare {
                host,
                methods,
                when,
                unless,
                headers,
            }
            .boxed(),
        })
    }

    fn methods(&mut self, v: &Value, at: RulePointer) -> Option<Vec<String>> {
        let p = format!("{at}/methods");
        let Some(list) = v.as_array() else {
            self.type_err(p, "an array of methods such as [\"POST\"]", v);
            return None;
        };
        if list.is_empty() {
            self.err(
                ErrorKind::Method,
                p,
                "`methods` is empty, so the rule could never match".into(),
                "list at least one method, or remove `methods` to match every method",
            );
            return None;
        }
        let mut out = Vec::with_capacity(list.len());
        for (j, m) in list.iter().enumerate() {
            if let Some(text) = self.string(m, || format!("{p}/{j}")) {
                if text.is_empty() || !text.bytes().all(is_token_byte) {
                    self.err(
                        ErrorKind::Method,
                        format!("{p}/{j}"),
                        format!("{text:?} is not an HTTP method"),
                        "use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
                    );
                } else {
                    out.push(text.to_ascii_uppercase());
                }
            }
        }
        Some(out)
    }

    fn conditions(&mut self, v: &Value, at: &str, when: bool) -> Conditions {
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
                "query" | "header" | "cookie" => {
                    let Some(map) = v.as_object() else {
                        self.type_err(p, "an object of name → value", v);
                        continue;
                    };
                    if map.len() > MAX_LIST_ENTRIES {
                        self.err(
                            ErrorKind::Limit,
                            p.clone(),
                            format!("{} entries; the limit is {MAX_LIST_ENTRIES}", map.len()),
                            "split the rule",
                        );
                        continue;
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
                        match *key {
                            "query" => {
                                let test = match text.strip_prefix(':') {
                                    Some(c) if is_name(c) && when => {
                                        QueryTest::Capture(c.to_string())
                                    }
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
                                out.list.push(Condition::Query(name.to_string(), test));
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
                                out.list.push(Condition::Header(
                                    name.to_ascii_lowercase(),
                                    Glob::new(text),
                                ));
                            }
                            _ => out
                                .list
                                .push(Condition::Cookie(name.to_string(), Glob::new(text))),
                        }
                    }
                }
                _ => {
                    let Some(list) = v.as_array() else {
                        self.type_err(p, "an array of strings", v);
                        continue;
                    };
                    if list.is_empty() {
                        self.err(
                            ErrorKind::Condition,
                            p,
                            format!("`{key}` is empty"),
                            "list at least one value, or remove the condition",
                        );
                        continue;
                    }
                    if list.len() > MAX_LIST_ENTRIES {
                        self.err(
                            ErrorKind::Limit,
                            p,
                            format!("{} entries; the limit is {MAX_LIST_ENTRIES}", list.len()),
                            "split the rule",
                        );
                        continue;
                    }
                    let mut values = Vec::with_capacity(list.len());
                    for (j, item) in list.iter().enumerate() {
                        let ip = format!("{p}/{j}");
                        let Some(text) = self.string(item, || ip.clone()) else {
                            continue;
                        };
                        let (ok, hint) = match *key {
                            "country" => (
                                text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()),
                                "use an ISO 3166-1 alpha-2 code such as \"DE\"; Cloudflare also sends \"XX\" (unknown) and \"T1\" (Tor)",
                            ),
                            "continent" => (
                                CONTINENTS.iter().any(|c| c.eq_ignore_ascii_case(text)),
                                "use one of AF, AN, AS, EU, NA, OC, SA",
                            ),
                            "region" => (
                                (1..=3).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric()),
                                "use the ISO 3166-2 subdivision code without the country, as cf.regionCode gives it (\"CA\" for California)",
                            ),
                            "city" => (!text.trim().is_empty(), "write the city's name as cf.city gives it, such as \"Paris\""),
                            _ => (
                                (1..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphabetic()),
                                "use a primary language subtag such as \"de\" (not \"de-AT\": regional variants count as their language)",
                            ),
                        };
                        // Tor exits ("T1") are reported as a country by Cloudflare.
                        let ok = ok || (*key == "country" && text.eq_ignore_ascii_case("T1"));
                        if ok {
                            values.push(text.trim().to_lowercase());
                        } else {
                            self.err(
                                ErrorKind::Condition,
                                ip,
                                format!("{text:?} is not a valid {key} code"),
                                hint,
                            );
                        }
                    }
                    out.list.push(match *key {
                        "country" => Condition::Geo(GeoField::Country, values),
                        "continent" => Condition::Geo(GeoField::Continent, values),
                        "region" => Condition::Geo(GeoField::Region, values),
                        "city" => Condition::Geo(GeoField::City, values),
                        _ => Condition::Language(values),
                    });
                }
            }
        }
        out
    }

    fn target(
        &mut self,
        text: &str,
        pointer: impl FnOnce() -> String,
        known: &[&str],
    ) -> Option<Target> {
        match Target::parse(text, known) {
            Ok(t) => Some(t),
            Err(TargetError::Malformed(m, h)) => {
                self.err(ErrorKind::Target, pointer(), m, &h);
                None
            }
            Err(TargetError::Unknown(names)) => {
                let list = names
                    .iter()
                    .map(|n| format!(":{n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let have = if known.is_empty() {
                    "the rule captures nothing".to_string()
                } else {
                    format!(
                        "the rule captures {}",
                        known
                            .iter()
                            .map(|n| format!(":{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                self.err(
                    ErrorKind::Placeholder,
                    pointer(),
                    format!("unknown placeholder {list} in {text:?}; {have}"),
                    "capture it in `from` (`/blog/:slug`) or with `when.query` (`\"id\": \":id\"`), or write `%3A` for a literal colon",
                );
                None
            }
        }
    }

    fn split(&mut self, v: &Value, at: RulePointer, id: &str, known: &[&str]) -> Option<Split> {
        let p = format!("{at}/split");
        let Some(obj) = v.as_object() else {
            self.type_err(p, "a split object with `variants`", v);
            return None;
        };
        self.unknown_keys(obj, SPLIT_KEYS, &p);
        let cookie = match obj.get("cookie") {
            Some(c) => {
                let text = self.string(c, || format!("{p}/cookie"))?;
                if text.is_empty() || !text.bytes().all(is_token_byte) {
                    self.err(
                        ErrorKind::Split,
                        format!("{p}/cookie"),
                        format!("{text:?} is not a valid cookie name"),
                        "use letters, digits, `-` and `_`",
                    );
                    return None;
                }
                text.to_string()
            }
            None => {
                let mut name = String::from("ab_");
                name.extend(id.chars().map(|c| {
                    if c.is_ascii() && is_token_byte(c as u8) {
                        c
                    } else {
                        '_'
                    }
                }));
                name
            }
        };
        let Some(list) = obj.get("variants") else {
            self.err(
                ErrorKind::MissingKey,
                format!("{p}/variants"),
                "the split has no `variants`".into(),
                "add `\"variants\": [{\"name\": \"control\", \"weight\": 50, \"to\": null}, ...]`",
            );
            return None;
        };
        let Some(list) = list.as_array() else {
            self.type_err(format!("{p}/variants"), "an array of variants", list);
            return None;
        };
        if list.is_empty() {
            self.err(
                ErrorKind::Split,
                format!("{p}/variants"),
                "the split has no variants".into(),
                "list the variants with their weights",
            );
            return None;
        }
        if list.len() > MAX_LIST_ENTRIES {
            self.err(
                ErrorKind::Limit,
                format!("{p}/variants"),
                format!(
                    "the split has {} variants; the limit is {MAX_LIST_ENTRIES}",
                    list.len()
                ),
                "use fewer variants",
            );
            return None;
        }
        let before = self.found;
        let mut variants = Vec::with_capacity(list.len());
        let mut targets = Vec::with_capacity(list.len());
        for (j, raw) in list.iter().enumerate() {
            let vp = format!("{p}/variants/{j}");
            let Some(vo) = raw.as_object() else {
                self.type_err(vp, "a variant object `{\"name\", \"weight\", \"to\"}`", raw);
                continue;
            };
            self.unknown_keys(vo, VARIANT_KEYS, &vp);
            let name = match vo.get("name") {
                Some(n) => self.string(n, || format!("{vp}/name")).map(str::to_string),
                None => {
                    self.err(
                        ErrorKind::MissingKey,
                        format!("{vp}/name"),
                        "the variant has no `name`".into(),
                        "name it; the name is stored in the visitor's cookie",
                    );
                    None
                }
            };
            if let Some(n) = &name {
                if n.is_empty()
                    || !n
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                {
                    self.err(
                        ErrorKind::Split,
                        format!("{vp}/name"),
                        format!("variant name {n:?} cannot be stored in a cookie"),
                        "use letters, digits, `-`, `_` and `.`",
                    );
                } else if variants.iter().any(|v: &Variant| v.name == *n) {
                    self.err(
                        ErrorKind::Split,
                        format!("{vp}/name"),
                        format!("variant name {n:?} is used twice"),
                        "give each variant its own name",
                    );
                }
            }
            let weight = match vo.get("weight") {
                Some(w) => match w.as_u64().and_then(|w| u32::try_from(w).ok()) {
                    Some(w) => Some(w),
                    None => {
                        self.err(
                            ErrorKind::Split,
                            format!("{vp}/weight"),
                            format!(
                                "weight {w} is not a whole number between 0 and {}",
                                u32::MAX
                            ),
                            "use integers such as 70 and 30",
                        );
                        None
                    }
                },
                None => {
                    self.err(
                        ErrorKind::MissingKey,
                        format!("{vp}/weight"),
                        "the variant has no `weight`".into(),
                        "add a weight such as 50",
                    );
                    None
                }
            };
            let (to, target) = match vo.get("to") {
                None | Some(Value::Null) => (None, None),
                Some(t) => match self.string(t, || format!("{vp}/to")) {
                    Some(text) => (
                        Some(text.to_string()),
                        self.target(text, || format!("{vp}/to"), known),
                    ),
                    None => (None, None),
                },
            };
            if let (Some(name), Some(weight)) = (name, weight) {
                variants.push(Variant { name, weight, to });
                targets.push(target);
            }
        }
        if self.found > before {
            return None;
        }
        let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
        if total == 0 {
            self.err(
                ErrorKind::Split,
                format!("{p}/variants"),
                "every variant has weight 0, so no visitor could be assigned".into(),
                "give at least one variant a positive weight",
            );
            return None;
        }
        Some(Split {
            cookie,
            variants,
            targets,
            total,
        })
    }

    fn headers(&mut self, v: &Value, at: RulePointer) -> Vec<(String, String)> {
        let p = format!("{at}/headers");
        let Some(obj) = v.as_object() else {
            self.type_err(p, "an object of header name → value", v);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(obj.len());
        for (name, value) in obj.iter() {
            let hp = format!("{p}/{}", pointer_token(name));
            let Some(text) = self.string(value, || hp.clone()) else {
                continue;
            };
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                self.err(
                    ErrorKind::Header,
                    hp,
                    format!("{name:?} is not a valid header name"),
                    "header names are letters, digits and `-`",
                );
            } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                self.err(
                    ErrorKind::Header,
                    hp,
                    format!("`{name}` is set by the engine and cannot be given in `headers`"),
                    "remove it; the target goes in `to`",
                );
            } else if !header_value_ok(text) {
                self.err(
                    ErrorKind::Header,
                    hp,
                    format!("the value of `{name}` contains a control or non-ASCII character"),
                    "use visible ASCII only; percent-encode anything else",
                );
            } else {
                out.push((name.to_string(), text.to_string()));
            }
        }
        out
    }
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn header_value_ok(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
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
