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
//! Other keys are ignored.

use serde::{Serialize, Serializer};
use serde_json::Value;
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
        let value: Value = serde_json::from_str(text).map_err(|_| ManifestError::NotJson)?;
        Manifest::from_value(&value)
    }

    /// Reads a manifest already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Manifest, ManifestError> {
        let Value::Object(fields) = value else {
            return Err(ManifestError::NotJson);
        };
        match fields.get("format") {
            None => {}
            Some(Value::Number(n)) if n.as_u64() == Some(FORMAT) => {}
            Some(other) => return Err(ManifestError::Format(other.to_string())),
        }
        let id = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .filter(|id| valid_id(id))
                .map(str::to_owned)
        };
        let current = id(fields.get("current")).ok_or(ManifestError::NoCurrent)?;
        let previous = match fields.get("previous") {
            None | Some(Value::Null) => None,
            Some(v) => Some(id(Some(v)).ok_or_else(|| ManifestError::Previous(v.to_string()))?),
        };
        let canary = match fields.get("canary") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let id = id(c.get("id")).ok_or_else(|| ManifestError::CanaryId(c.to_string()))?;
                let percent = c
                    .get("percent")
                    .and_then(Value::as_f64)
                    .filter(|p| (0.0..=100.0).contains(p))
                    .ok_or_else(|| ManifestError::CanaryPercent(c.to_string()))?;
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
            "null",
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
        assert!(with(&format!(r#""format":1.0,"current":"{A}""#)).is_err());
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
    fn deep_nesting_is_refused_not_a_crash() {
        let deep = format!(
            r#"{{"current":"{A}","pad":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(Manifest::parse(&deep), Err(ManifestError::NotJson));
    }
}
