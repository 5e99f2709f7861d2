//! One rule: `id`, `from`, `host`, `methods`, `to` / `split` / `forward`, `status`,
//! `preserve_query` and `headers` (its `when` and `unless` are read by `conditions.rs`, its
//! `split` by `splits.rs`).

use super::http::{header_value_ok, is_token_byte};
use super::json::{Object, Value};
use super::report::{Reader, RulePointer};
use crate::error::{pointer_token, ErrorKind};
use crate::limits::{MAX_CAPTURES, MAX_PATTERN_SEGMENTS};
use crate::model::condition::Conditions;
use crate::model::pattern::Pattern;
use crate::model::rule::{Action, Rule, RuleExtras, WrittenTexts};
use crate::model::settings::Settings;
use crate::model::target::{Target, TargetError};
use crate::request::host::normalize_rule_host;
use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;

const RULE_KEYS: &[&str] = &[
    "id",
    "from",
    "from_syntax",
    "host",
    "methods",
    "when",
    "unless",
    "to",
    "split",
    "forward",
    "status",
    "preserve_query",
    "case_sensitive",
    "headers",
];
/// The one value `from_syntax` takes besides its default.
const PATH_TO_REGEXP: &str = "path-to-regexp";
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

/// The status of a rule that gives none: 307 when the answer varies per visitor in a way a
/// browser must not remember (a split, a geo, language, `ip` or `asn` condition) or changes at
/// a set time (an `after` / `before` window); 303 when the rule
/// forwards to the origin first, or matches only unsafe methods (POST, PUT, PATCH, DELETE),
/// so the browser follows with a GET; 308 otherwise.
pub(super) fn inferred_status(
    action: &Action,
    when: &Conditions,
    methods: Option<&[String]>,
) -> u16 {
    let unsafe_only =
        methods.is_some_and(|m| m.iter().all(|x| UNSAFE_METHODS.contains(&x.as_str())));
    if matches!(action, Action::Split(_))
        || when.has_geo()
        || when.has_language()
        || when.has_network()
        || when.has_window()
    {
        307
    } else if matches!(action, Action::Forward(_)) || unsafe_only {
        303
    } else {
        308
    }
}

/// The `from` and `to` of a rule as written, kept only where the compiled pattern and action
/// cannot give them back.
fn written_texts(
    from: &str,
    to: Option<&str>,
    pattern: &Pattern,
    action: &Action,
) -> Option<Box<WrittenTexts>> {
    WrittenTexts {
        from: (!pattern.is_exact() || pattern.exact_key() != from).then(|| from.into()),
        to: to
            .filter(|&t| {
                !matches!(action, Action::To(target) | Action::Forward(Some(target))
                    if target.literal_path() == Some(t))
            })
            .map(Into::into),
    }
    .boxed()
}

/// The ids of the rules read so far, to refuse a repeated one.
pub(super) enum Ids<'a> {
    /// Each id with the number of its first rule, which the error names.
    Kept(HashMap<Cow<'a, str>, usize>),
    /// A fingerprint of each id only (a bundle read from a file: 8 bytes a rule instead of
    /// the id kept): nothing is reported as read, and two ids that may be the same are found
    /// after the read ([`Ids::may_repeat`]), to read the bundle again whole. (Files are read
    /// natively only.)
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    Fingerprints(Vec<u64>),
}

impl Ids<'_> {
    /// Room for `n` more ids.
    pub(super) fn reserve(&mut self, n: usize) {
        match self {
            Ids::Kept(ids) => ids.reserve(n),
            Ids::Fingerprints(prints) => prints.reserve_exact(n),
        }
    }

    /// Whether two of the ids may be the same and were not reported: two equal fingerprints.
    pub(super) fn may_repeat(self) -> bool {
        match self {
            Ids::Kept(_) => false,
            Ids::Fingerprints(mut prints) => {
                prints.sort_unstable();
                prints.windows(2).any(|w| w[0] == w[1])
            }
        }
    }
}

/// A 64-bit fingerprint of an id (SipHash-1-3 under fixed keys).
fn fingerprint(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl Reader {
    /// Reads rule `i` with the bundle's `settings`; `ids` holds the ids of the rules before it.
    pub(super) fn rule<'a>(
        &mut self,
        i: usize,
        raw: &Value<'a>,
        settings: &Settings,
        ids: &mut Ids<'a>,
    ) -> Option<Rule> {
        let at = RulePointer(i);
        self.in_rule(i, None);
        let before = self.found;
        let Some(obj) = raw.as_object() else {
            self.type_err(at.to_string(), "a rule object", raw);
            return None;
        };
        // The id first, so every later error names it.
        let id = self.id(obj, at, ids);
        self.in_rule(i, id);
        self.unknown_keys(obj, RULE_KEYS, at);

        let case_sensitive = obj
            .get("case_sensitive")
            .and_then(|v| self.boolean(v, || format!("{at}/case_sensitive")))
            .unwrap_or(settings.case_sensitive);
        let pattern = self.from(obj, at, settings, case_sensitive);
        let host = obj.get("host").and_then(|v| self.host(v, at));
        let methods = obj.get("methods").and_then(|v| self.methods(v, at));
        let when = obj
            .get("when")
            .map(|v| self.conditions(v, &format!("{at}/when"), true))
            .unwrap_or_default();
        let unless = obj
            .get("unless")
            .map(|v| self.conditions(v, &format!("{at}/unless"), false))
            .unwrap_or_default();
        let to_null = matches!(obj.get("to"), Some(Value::Null));
        let to = obj
            .get("to")
            .filter(|_| !to_null)
            .and_then(|v| self.string(v, || format!("{at}/to")));
        let forward = obj
            .get("forward")
            .and_then(|v| self.boolean(v, || format!("{at}/forward")))
            .unwrap_or(false);
        let preserve_query = obj
            .get("preserve_query")
            .and_then(|v| self.boolean(v, || format!("{at}/preserve_query")))
            .unwrap_or(settings.preserve_query);
        let explicit_status = obj.get("status").and_then(|v| self.status(v, at));
        let headers = obj
            .get("headers")
            .map(|v| self.headers(v, at))
            .unwrap_or_default();
        let known = self.captures(at, pattern.as_ref().map(|(_, p)| p), &when);
        if forward {
            self.forward_status(explicit_status, at);
        }
        let action = if to_null {
            self.pass(obj, at, forward)
        } else {
            self.action(obj, at, to, forward, id, &known)
        };

        if self.found > before {
            return None;
        }
        let (from, pattern) = pattern?;
        let action = action?;
        let status =
            explicit_status.unwrap_or_else(|| inferred_status(&action, &when, methods.as_deref()));
        Some(Rule {
            index: i as u32,
            status,
            explicit_status,
            preserve_query,
            case_sensitive,
            id: id?.into(),
            texts: written_texts(from, to, &pattern, &action),
            pattern,
            action,
            extras: RuleExtras {
                host,
                methods,
                when,
                unless,
                headers,
            }
            .boxed(),
        })
    }

    /// The rule's `id` if it is usable; a duplicate is reported (naming the rule) but usable.
    fn id<'v, 'a>(
        &mut self,
        obj: &'v Object<'a>,
        at: RulePointer,
        ids: &mut Ids<'a>,
    ) -> Option<&'v str> {
        let Some(v) = obj.get("id") else {
            self.err(
                ErrorKind::MissingKey,
                format!("{at}/id"),
                "the rule has no `id`".into(),
                "add a unique `\"id\"` such as \"blog-move\"; it is named in errors, logs and the debug header",
            );
            return None;
        };
        match self.string(v, || format!("{at}/id")) {
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
                let ids = match ids {
                    Ids::Kept(ids) => ids,
                    Ids::Fingerprints(prints) => {
                        prints.push(fingerprint(id));
                        return Some(id);
                    }
                };
                if let Some(first) = ids.get(id) {
                    self.in_rule(at.0, Some(id));
                    self.err(
                        ErrorKind::Id,
                        format!("{at}/id"),
                        format!("duplicate id {id:?}: rule {first} has the same id"),
                        "give each rule its own id",
                    );
                } else if let Value::String(text) = v {
                    ids.insert(text.clone(), at.0);
                }
                Some(id)
            }
            None => None,
        }
    }

    /// The `from` as written and its compiled pattern, its literals compared with
    /// `case_sensitive`.
    fn from<'v>(
        &mut self,
        obj: &'v Object<'_>,
        at: RulePointer,
        settings: &Settings,
        case_sensitive: bool,
    ) -> Option<(&'v str, Pattern)> {
        let Some(v) = obj.get("from") else {
            self.err(
                ErrorKind::MissingKey,
                format!("{at}/from"),
                "the rule has no `from`".into(),
                "add the path it matches, such as \"/old\" or \"/blog/:slug\"",
            );
            return None;
        };
        let text = self.string(v, || format!("{at}/from"))?;
        if let Some(syntax) = obj.get("from_syntax") {
            let syntax = self.string(syntax, || format!("{at}/from_syntax"))?;
            if syntax != PATH_TO_REGEXP {
                self.err(
                    ErrorKind::Pattern,
                    format!("{at}/from_syntax"),
                    format!("`from_syntax` {syntax:?} is not a syntax this engine reads"),
                    "write \"path-to-regexp\" (the syntax of Vercel and Next.js sources), or leave `from_syntax` out for the rules.json syntax",
                );
                return None;
            }
            return match Pattern::parse_path_to_regexp(text, case_sensitive, self.defer_automata) {
                Ok(p) => Some((text, p)),
                Err(m) => {
                    self.err(
                        ErrorKind::Pattern,
                        format!("{at}/from"),
                        m,
                        "path-to-regexp sources look like `/docs/:slug`, `/blog/(.*)`, `/guides(/?)`, `/platforms(/.*)?`, `/docs/:path*`, `/:lang(en|de)?/about` or `/file{.:ext}?`",
                    );
                    None
                }
            };
        }
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
        match Pattern::parse_in(
            text,
            case_sensitive,
            settings.trailing_slash_strict,
            &mut self.constraints,
        ) {
            Ok(p) => Some((text, p)),
            Err(m) if self.constraints.take_over_budget() => {
                self.err(
                    ErrorKind::Limit,
                    format!("{at}/from"),
                    m,
                    "rules that write the same constraint text share one compiled copy: reuse one text, or use plain `:name` placeholders where the value need not be checked",
                );
                None
            }
            Err(m) => {
                self.err(
                    ErrorKind::Pattern,
                    format!("{at}/from"),
                    m,
                    "patterns look like `/old`, `/blog/:year/:slug`, `/post/:id(\\d+)`, `/api/v1/:path*` or `/docs/*`",
                );
                None
            }
        }
    }

    /// The `host`, normalised (lower-case, `*.` for every subdomain).
    fn host(&mut self, v: &Value, at: RulePointer) -> Option<String> {
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
    }

    /// The `status` as written, if it is one this engine sends.
    fn status(&mut self, v: &Value, at: RulePointer) -> Option<u16> {
        match v.as_u64().and_then(|n| u16::try_from(n).ok()) {
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
        }
    }

    /// The placeholder names the rule captures: those of `from`, then those of `when.query`.
    fn captures<'p>(
        &mut self,
        at: RulePointer,
        pattern: Option<&'p Pattern>,
        when: &'p Conditions,
    ) -> Vec<&'p str> {
        let mut known: Vec<&str> = Vec::new();
        if let Some(p) = pattern {
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
        known
    }

    /// Reports a `status` other than 303 on a `forward` rule.
    fn forward_status(&mut self, explicit_status: Option<u16>, at: RulePointer) {
        if let Some(status) = explicit_status.filter(|&s| s != 303) {
            self.err(
                ErrorKind::Status,
                format!("{at}/status"),
                format!(
                    "a `forward` rule answers 303 after the origin succeeds; status {status} does not fit"
                ),
                "remove `status` (or set 303), or remove `forward` to redirect at the edge",
            );
        }
    }

    /// What the rule does: redirect to `to`, split, or forward to the origin first.
    fn action(
        &mut self,
        obj: &Object<'_>,
        at: RulePointer,
        to: Option<&str>,
        forward: bool,
        id: Option<&str>,
        known: &[&str],
    ) -> Option<Action> {
        match (to, obj.get("split"), forward) {
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
                .split(s, at, id.unwrap_or(""), known)
                .map(|s| Action::Split(Box::new(s))),
            (Some(t), None, fwd) => self.target(t, || format!("{at}/to"), known).map(|t| {
                if fwd {
                    Action::Forward(Some(t))
                } else {
                    Action::To(t)
                }
            }),
            (None, None, true) => Some(Action::Forward(None)),
        }
    }

    /// A `"to": null` rule: it claims its requests for the origin, so it answers nothing
    /// itself and `split`, `forward`, `status` and `headers` have no meaning on it.
    fn pass(&mut self, obj: &Object<'_>, at: RulePointer, forward: bool) -> Option<Action> {
        let mut ok = true;
        for (key, present) in [
            ("split", obj.contains_key("split")),
            ("forward", forward),
            ("status", obj.contains_key("status")),
            ("headers", obj.contains_key("headers")),
        ] {
            if present {
                ok = false;
                self.err(
                    ErrorKind::Action,
                    format!("{at}/{key}"),
                    format!(
                        "`\"to\": null` passes the request to the origin untouched, so `{key}` does nothing"
                    ),
                    "remove it, or give `to` a target to redirect at the edge",
                );
            }
        }
        ok.then_some(Action::Pass)
    }

    /// The `methods`, upper-case.
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

    /// A `to` target (of the rule or of a split variant); `known` are the placeholders the
    /// rule captures.
    pub(super) fn target(
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

    /// The extra response `headers`, in written order.
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
