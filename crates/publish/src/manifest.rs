//! The `manifest` value: which published version is in use, the canary served to a share of
//! visitors, and the version before. `redirects publish`, `rollback` and `promote` write it;
//! the worker follows it; a pipeline may write it itself (the README shows it):
//!
//! ```json
//! {"format":1,"current":"<id>","previous":"<id or null>","canary":{"id":"<id>","percent":10}}
//! ```
//!
//! Every field is read, and a manifest that cannot be followed whole is refused (the worker
//! then keeps the rules it has, the CLI says what is wrong):
//! - `format`: [`FORMAT`], or absent (read as [`FORMAT`]). Any other value is refused: a
//!   manifest of a later format may mean something this reader would get wrong.
//! - `current`: a version id ([`crate::keys::valid_id`]).
//! - `previous`: a version id, `null` or absent. Only `rollback` uses it; the worker does not
//!   load it (its fallback is the version this isolate had in use before, loaded already,
//!   which costs no KV read), but a manifest naming something that is not a version is refused.
//! - `canary`: `null`, absent, or an object with a version `id` and a `percent` of visitors
//!   from 0 to 100 (fractional allowed; the worker serves whole percents, see
//!   [`Canary::whole_percent`]).
//!
//! `null` is read as absent. Other keys are ignored (not even kept while reading: the worker
//! reads a manifest of up to 16 MiB, and this reader keeps only the fields above).

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;

use crate::keys::valid_id;

/// The manifest format this crate reads and writes.
pub const FORMAT: u64 = 1;

/// A manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// Always [`FORMAT`] once read.
    pub format: u64,
    /// The version in use.
    pub current: String,
    /// The version in use before `current`, for `rollback`.
    pub previous: Option<String>,
    /// A version served to a share of visitors, until promoted or rolled back.
    pub canary: Option<Canary>,
}

/// A canary: a version and the share of visitors it serves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Canary {
    /// The canary's version.
    pub id: String,
    /// The share of visitors, in percent, from 0 to 100. Written as a whole number when it is
    /// one (`redirects publish --canary 10` writes `10`, not `10.0`).
    #[serde(serialize_with = "percent")]
    pub percent: f64,
}

fn percent<S: Serializer>(p: &f64, s: S) -> Result<S::Ok, S::Error> {
    if p.fract() == 0.0 && (0.0..=100.0).contains(p) {
        s.serialize_u64(*p as u64)
    } else {
        s.serialize_f64(*p)
    }
}

impl Canary {
    /// The share the worker serves: whole percents, the fraction dropped (`12.5` serves 12 %).
    pub fn whole_percent(&self) -> u32 {
        self.percent as u32
    }
}

/// Why a manifest cannot be followed.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestError {
    /// The text is not JSON, or not a JSON object.
    NotJson,
    /// `format` is not [`FORMAT`]: the value found, as JSON.
    Format(String),
    /// `current` is missing or not a version id.
    NoCurrent,
    /// `previous` is neither `null` nor a version id: the value found, as JSON.
    Previous(String),
    /// The canary names no version (`id`): the canary, as JSON.
    CanaryId(String),
    /// The canary has no `percent` from 0 to 100: the canary, as JSON.
    CanaryPercent(String),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::NotJson => f.write_str("the manifest is not JSON"),
            ManifestError::Format(v) => write!(
                f,
                "the manifest is of format {v}; format {FORMAT} is the one read"
            ),
            ManifestError::NoCurrent => f.write_str("the manifest names no `current` version"),
            ManifestError::Previous(v) => {
                write!(f, "the manifest's `previous` is not a version: {v}")
            }
            ManifestError::CanaryId(c) => {
                write!(f, "the manifest's canary names no version (`id`): {c}")
            }
            ManifestError::CanaryPercent(c) => write!(
                f,
                "the manifest's canary has no `percent` from 0 to 100: {c}"
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

/// The text of `field` when it is a version id.
fn id(field: Option<&Json>) -> Option<String> {
    match field {
        Some(Json::Text(id)) if valid_id(id) => Some(id.clone()),
        _ => None,
    }
}

/// A JSON value as far as a manifest needs it: objects keep the manifest's [`KEYS`] only,
/// arrays and the values of other keys are skipped as they are read.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null` (or, from JavaScript, `undefined`).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A string.
    Text(String),
    /// A number (`1` and `1.0` alike, as JavaScript reads them).
    Number(f64),
    /// An array, skipped.
    Array,
    /// An object: its [`KEYS`] with their values, in written order (the last of a repeated key
    /// counts).
    Object(Vec<(String, Json)>),
}

/// The keys whose values a manifest reads, at any level.
pub const KEYS: [&str; 6] = ["format", "current", "previous", "canary", "id", "percent"];

impl Json {
    /// The value, for a message: JSON for a string (cut to 40 characters), a whole number or
    /// a literal; the kind of anything else.
    fn describe(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Text(t) if t.chars().count() > 40 => {
                format!("{:?}...", t.chars().take(40).collect::<String>())
            }
            Json::Text(t) => format!("{t:?}"),
            // Whole numbers only: formatting a float would take float formatting into the
            // worker's wasm for a message.
            Json::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => (*n as i64).to_string(),
            Json::Number(_) => "a fractional number".into(),
            Json::Array => "an array".into(),
            Json::Object(fields) => {
                let shown: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k:?}:{}", v.describe()))
                    .collect();
                format!("{{{}}}", shown.join(","))
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n as f64))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n as f64))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Json, E> {
        Ok(Json::Number(value))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
        Ok(Json::Text(s.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Json::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if KEYS.contains(&key.as_str()) {
                let value = map.next_value::<Json>()?;
                fields.push((key, value));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Json::Object(fields))
    }
}

impl Manifest {
    /// A manifest putting `current` in use with no canary.
    pub fn new(current: String, previous: Option<String>) -> Manifest {
        Manifest {
            format: FORMAT,
            current,
            previous,
            canary: None,
        }
    }

    /// Reads a manifest's text.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let json = serde_json::from_str::<Json>(text).map_err(|_| ManifestError::NotJson)?;
        Manifest::from_json(&json)
    }

    /// Reads a manifest parsed already (the worker parses it with JavaScript's `JSON.parse`
    /// and hands over the [`KEYS`] two levels deep, which is all this reads).
    pub fn from_json(json: &Json) -> Result<Manifest, ManifestError> {
        let Json::Object(fields) = json else {
            return Err(ManifestError::NotJson);
        };
        let get = |name: &str| fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
        match get("format") {
            None | Some(Json::Null) => {}
            Some(Json::Number(n)) if *n == FORMAT as f64 => {}
            Some(other) => return Err(ManifestError::Format(other.describe())),
        }
        let current = id(get("current")).ok_or(ManifestError::NoCurrent)?;
        let previous = match get("previous") {
            None | Some(Json::Null) => None,
            Some(v) => Some(id(Some(v)).ok_or_else(|| ManifestError::Previous(v.describe()))?),
        };
        let canary = match get("canary") {
            None | Some(Json::Null) => None,
            Some(c) => {
                let Json::Object(inner) = c else {
                    return Err(ManifestError::CanaryId(c.describe()));
                };
                let get = |name: &str| inner.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
                let id = id(get("id")).ok_or_else(|| ManifestError::CanaryId(c.describe()))?;
                let percent = match get("percent") {
                    Some(Json::Number(value)) if (0.0..=100.0).contains(value) => *value,
                    _ => return Err(ManifestError::CanaryPercent(c.describe())),
                };
                Some(Canary { id, percent })
            }
        };
        Ok(Manifest {
            format: FORMAT,
            current,
            previous,
            canary,
        })
    }

    /// The manifest's text, as it is written to KV: `format`, `current`, `previous`, `canary`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a manifest serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "00000000000000aa";
    const B: &str = "00000000000000bb";
    const C: &str = "00000000000000cc";

    fn with(fields: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(&format!("{{{fields}}}"))
    }

    #[test]
    fn every_field_is_read() {
        let m = with(&format!(
            r#""format":1,"current":"{A}","previous":"{B}","canary":{{"id":"{C}","percent":12.5}}"#
        ))
        .unwrap();
        assert_eq!(m.format, FORMAT);
        assert_eq!(m.current, A);
        assert_eq!(m.previous.as_deref(), Some(B));
        let canary = m.canary.unwrap();
        assert_eq!((canary.id.as_str(), canary.percent), (C, 12.5));
        assert_eq!(canary.whole_percent(), 12);
    }

    #[test]
    fn optional_fields_may_be_null_or_absent() {
        let m = with(&format!(r#""current":"{A}""#)).unwrap();
        assert_eq!(m, Manifest::new(A.into(), None));
        let m = with(&format!(
            r#""format":1,"current":"{A}","previous":null,"canary":null,"extra":[1,2]"#
        ))
        .unwrap();
        assert_eq!(m, Manifest::new(A.into(), None));
    }

    #[test]
    fn written_as_read() {
        let mut m = Manifest::new(A.into(), Some(B.into()));
        assert_eq!(
            m.to_json(),
            format!(r#"{{"format":1,"current":"{A}","previous":"{B}","canary":null}}"#)
        );
        m.canary = Some(Canary {
            id: C.into(),
            percent: 10.0,
        });
        let text = m.to_json();
        assert!(
            text.ends_with(&format!(r#""canary":{{"id":"{C}","percent":10}}}}"#)),
            "{text}"
        );
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        m.canary.as_mut().unwrap().percent = 0.5;
        assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn an_unknown_format_is_refused() {
        for format in [
            "2",
            "0",
            "1.5",
            "\"1\"",
            "{}",
            "-1",
            "1e400",
            "18446744073709551617",
        ] {
            let got = with(&format!(r#""format":{format},"current":"{A}""#));
            assert!(
                matches!(
                    got,
                    Err(ManifestError::Format(_)) | Err(ManifestError::NotJson)
                ),
                "format {format}: {got:?}"
            );
        }
        assert!(with(&format!(r#""format":1.0,"current":"{A}""#)).is_ok());
        assert!(with(&format!(r#""format":null,"current":"{A}""#)).is_ok());
    }

    #[test]
    fn current_must_name_a_version() {
        for current in [
            "null",
            "1",
            "\"\"",
            "\"xyz\"",
            "[\"00aa\"]",
            "{\"id\":\"00aa\"}",
            "\"../../manifest\"",
        ] {
            assert_eq!(
                with(&format!(r#""current":{current}"#)),
                Err(ManifestError::NoCurrent),
                "{current}"
            );
        }
        let huge = "a".repeat(1 << 20);
        assert_eq!(
            with(&format!(r#""current":"{huge}""#)),
            Err(ManifestError::NoCurrent)
        );
        assert_eq!(with(r#""format":1"#), Err(ManifestError::NoCurrent));
    }

    #[test]
    fn previous_must_name_a_version_or_nothing() {
        for previous in ["1", "\"\"", "\"not hex\"", "true", "[]"] {
            let got = with(&format!(r#""current":"{A}","previous":{previous}"#));
            assert!(
                matches!(got, Err(ManifestError::Previous(_))),
                "{previous}: {got:?}"
            );
        }
    }

    #[test]
    fn a_canary_needs_an_id_and_a_percent_in_range() {
        for canary in [
            "{}".to_string(),
            r#"{"percent":10}"#.to_string(),
            r#"{"id":5,"percent":10}"#.to_string(),
            "5".into(),
            "\"yes\"".into(),
            "[]".into(),
        ] {
            let got = with(&format!(r#""current":"{A}","canary":{canary}"#));
            assert!(
                matches!(got, Err(ManifestError::CanaryId(_))),
                "{canary}: {got:?}"
            );
        }
        for percent in ["-1", "100.5", "\"ten\"", "null", "1e300", "[10]"] {
            let got = with(&format!(
                r#""current":"{A}","canary":{{"id":"{C}","percent":{percent}}}"#
            ));
            assert!(
                matches!(&got, Err(ManifestError::CanaryPercent(_))),
                "{percent}: {got:?}"
            );
            assert!(got.unwrap_err().to_string().contains("percent"));
        }
        for (percent, whole) in [("0", 0), ("100", 100), ("99.99", 99), ("0.1", 0)] {
            let m = with(&format!(
                r#""current":"{A}","canary":{{"id":"{C}","percent":{percent}}}"#
            ))
            .unwrap();
            assert_eq!(m.canary.unwrap().whole_percent(), whole, "{percent}");
        }
    }

    #[test]
    fn not_an_object_is_not_a_manifest() {
        for text in [
            "",
            "[]",
            "\"manifest\"",
            "null",
            "{",
            "{\"current\":\"00aa\"} x",
        ] {
            assert_eq!(
                Manifest::parse(text),
                Err(ManifestError::NotJson),
                "{text:?}"
            );
        }
    }

    #[test]
    fn other_keys_are_skipped_and_a_repeated_key_counts_last() {
        let big = "x".repeat(1 << 20);
        let m = with(&format!(
            r#""pad":"{big}","deep":[[[{{"a":[1,2,{{}}]}}]]],"current":"{B}","current":"{A}","canary":{{"id":"{C}","percent":5,"note":[1]}}"#
        ))
        .unwrap();
        assert_eq!(m.current, A);
        assert_eq!(m.canary.unwrap().percent, 5.0);
    }

    #[test]
    fn read_from_a_tree_parsed_elsewhere() {
        let text = |v: &str| Json::Text(v.into());
        let tree = Json::Object(vec![
            ("format".into(), Json::Number(1.0)),
            ("current".into(), text(A)),
            ("previous".into(), Json::Null),
            (
                "canary".into(),
                Json::Object(vec![
                    ("id".into(), text(C)),
                    ("percent".into(), Json::Number(25.0)),
                ]),
            ),
        ]);
        let m = Manifest::from_json(&tree).unwrap();
        assert_eq!(m.canary.as_ref().map(Canary::whole_percent), Some(25));
        assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
        assert_eq!(
            Manifest::from_json(&Json::Array),
            Err(ManifestError::NotJson)
        );
        assert_eq!(Manifest::from_json(&text(A)), Err(ManifestError::NotJson));
    }

    #[test]
    fn messages_name_the_value_found() {
        let e = with(&format!(r#""current":"{A}","format":2"#)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the manifest is of format 2; format 1 is the one read"
        );
        let e = with(&format!(
            r#""current":"{A}","canary":{{"id":"{C}","percent":"ten"}}"#
        ))
        .unwrap_err();
        assert!(e.to_string().contains(r#""percent":"ten""#), "{e}");
        let e = with(&format!(
            r#""current":"{A}","previous":"{}""#,
            "z".repeat(1000)
        ))
        .unwrap_err();
        assert!(e.to_string().len() < 120, "{e}");
    }

    #[test]
    fn deep_nesting_is_skipped_or_refused_not_a_crash() {
        // Under a key the manifest does not read: skipped.
        let deep = format!(
            r#"{{"current":"{A}","pad":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(Manifest::parse(&deep), Ok(Manifest::new(A.into(), None)));
        // Under one it reads: refused at the parser's depth limit (valid JSON otherwise).
        let deep = format!(
            r#"{{"current":"{A}","canary":{}1{}}}"#,
            r#"{"canary":"#.repeat(100_000),
            "}".repeat(100_000)
        );
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(&deep).is_ok());
        assert_eq!(Manifest::parse(&deep), Err(ManifestError::NotJson));
    }
}
