//! A borrowed JSON tree for reading bundles: strings point into the bundle text when they have
//! no escapes, and objects keep their keys in written order in a small vector. Compiling
//! 100,000 rules reads about a million values; this keeps that to a few allocations per rule.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A JSON number as the parser saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Object<'a>),
}

/// A JSON object: keys in written order; on a repeated key the last one counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Object<'a>(Vec<(Cow<'a, str>, Value<'a>)>);

impl<'a> Object<'a> {
    /// An object of these entries, in order.
    pub fn from_entries(entries: Vec<(Cow<'a, str>, Value<'a>)>) -> Self {
        Object(entries)
    }
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<'a> Value<'a> {
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object().and_then(|o| o.get(key))
    }
    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// A non-negative integer (not `1.0`), as `serde_json::Value::as_u64` reads it.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(Number::Unsigned(n)) => Some(*n),
            Value::Number(Number::Signed(n)) => u64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// Borrows a `serde_json::Value` as this tree.
    pub fn from_serde(v: &'a serde_json::Value) -> Value<'a> {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(if let Some(u) = n.as_u64() {
                Number::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Number::Signed(i)
            } else {
                Number::Float(n.as_f64().unwrap_or(f64::NAN))
            }),
            serde_json::Value::String(s) => Value::String(Cow::Borrowed(s)),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from_serde).collect()),
            serde_json::Value::Object(o) => Value::Object(Object(
                o.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Value::from_serde(v)))
                    .collect(),
            )),
        }
    }
}

impl fmt::Display for Value<'_> {
    /// Scalars as JSON; arrays and objects abbreviated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(Number::Unsigned(n)) => write!(f, "{n}"),
            Value::Number(Number::Signed(n)) => write!(f, "{n}"),
            Value::Number(Number::Float(n)) => write_decimal(f, *n),
            Value::String(s) => write!(f, "{}", serde_json::Value::from(s.as_ref())),
            Value::Array(_) => f.write_str("[…]"),
            Value::Object(_) => f.write_str("{…}"),
        }
    }
}

/// A float as a message shows it, to six decimals, without the platform's float formatting
/// (a message is the only place a bundle's float is printed, and that code is ~15 KiB of wasm).
fn write_decimal(f: &mut fmt::Formatter<'_>, n: f64) -> fmt::Result {
    if !n.is_finite() || n.abs() >= 1e15 {
        return f.write_str(if n.is_nan() {
            "NaN"
        } else {
            "a very large number"
        });
    }
    let micros = (n.abs() * 1e6).round() as u64;
    let (whole, mut frac) = (micros / 1_000_000, micros % 1_000_000);
    write!(f, "{}{whole}", if n < 0.0 { "-" } else { "" })?;
    if frac > 0 {
        let mut digits = 6;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        write!(f, ".{frac:0digits$}")?;
    }
    Ok(())
}

struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value<'de>, E> {
                Ok(Value::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value<'de>, E> {
                Ok(Value::Number(Number::Unsigned(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value<'de>, E> {
                Ok(Value::Number(Number::Signed(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value<'de>, E> {
                Ok(Value::Number(Number::Float(v)))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value<'de>, E> {
                Ok(Value::String(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value<'de>, E> {
                Ok(Value::String(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Value<'de>, E> {
                Ok(Value::String(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Value::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(Key(k)) = map.next_key()? {
                    out.push((k, map.next_value()?));
                }
                Ok(Value::Object(Object(out)))
            }
        }
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_plain_strings_and_keeps_order() {
        let text = r#"{"b": "x", "a": [1, -2, 1.5, null, true], "b": "y\n"}"#;
        let v: Value<'_> = serde_json::from_str(text).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o.keys().collect::<Vec<_>>(), vec!["b", "a", "b"]);
        assert_eq!(o.get("b").and_then(Value::as_str), Some("y\n"));
        let a = o.get("a").and_then(Value::as_array).unwrap();
        assert_eq!(a[0].as_u64(), Some(1));
        assert_eq!(a[1].as_u64(), None);
        assert_eq!(a[2].as_u64(), None);
        assert!(matches!(o.0[0].1, Value::String(Cow::Borrowed("x"))));
    }

    #[test]
    fn floats_in_messages() {
        let show = |n: f64| Value::Number(Number::Float(n)).to_string();
        assert_eq!(show(1.5), "1.5");
        assert_eq!(show(-0.25), "-0.25");
        assert_eq!(show(2.0), "2");
        assert_eq!(show(0.1234567), "0.123457");
        assert_eq!(show(1e300), "a very large number");
    }
}
