//! A rule's `split`: the assignment cookie and the weighted variants.

use super::http::is_token_byte;
use super::json::Value;
use super::report::{Reader, RulePointer};
use crate::error::ErrorKind;
use crate::limits::MAX_LIST_ENTRIES;
use crate::model::split::{Split, Variant};
use crate::model::target::Target;

const SPLIT_KEYS: &[&str] = &["cookie", "variants"];
const VARIANT_KEYS: &[&str] = &["name", "weight", "to"];

/// The assignment cookie of a split that names none: `ab_` and the rule's id, each character
/// that is not an RFC 9110 token character replaced by `_`, so every rule's split has its own
/// cookie and the name is always valid.
pub(super) fn default_cookie_name(rule_id: &str) -> String {
    let mut name = String::from("ab_");
    name.extend(rule_id.chars().map(|c| {
        if c.is_ascii() && is_token_byte(c as u8) {
            c
        } else {
            '_'
        }
    }));
    name
}

impl Reader {
    /// Reads the `split` of the rule at `at` (id `id`); `known` are the placeholders the rule
    /// captures, for the variants' targets.
    pub(super) fn split(
        &mut self,
        v: &Value,
        at: RulePointer,
        id: &str,
        known: &[&str],
    ) -> Option<Split> {
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
            None => default_cookie_name(id),
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
            if let Some((variant, target)) = self.variant(raw, &vp, known, &variants) {
                variants.push(variant);
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

    /// Reads the variant at `vp`; `earlier` are the variants read before it, whose names it
    /// may not repeat. `None` when its name or weight is unusable.
    fn variant(
        &mut self,
        raw: &Value,
        vp: &str,
        known: &[&str],
        earlier: &[Variant],
    ) -> Option<(Variant, Option<Target>)> {
        let Some(vo) = raw.as_object() else {
            self.type_err(
                vp.into(),
                "a variant object `{\"name\", \"weight\", \"to\"}`",
                raw,
            );
            return None;
        };
        self.unknown_keys(vo, VARIANT_KEYS, vp);
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
            } else if earlier.iter().any(|v| v.name == *n) {
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
        Some((
            Variant {
                name: name?,
                weight: weight?,
                to,
            },
            target,
        ))
    }
}
