//! A compiled rule and the read-only view tools (explain, lint) use.

use crate::model::condition::Conditions;
use crate::model::pattern::{Pattern, Segments};
use crate::model::split::Split;
use crate::model::target::Target;

/// What a rule does once it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Redirect to a target.
    To(Target),
    /// A/B split between variants.
    Split(Box<Split>),
    /// Post-Redirect-Get through the origin, with an optional 303 target.
    Forward(Option<Target>),
    /// `"to": null`: the request goes to the origin untouched; the rule only claims it, so
    /// that no later rule does (an import keeps a platform's rewrite or proxy this way).
    Pass,
}

/// One validated rule of a bundle.
///
/// Kept small: a bundle may hold 100,000 of them. What most rules do not have (a host or
/// method restriction, conditions, extra headers) lives in one optional box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub(crate) index: u32,
    pub(crate) status: u16,
    pub(crate) explicit_status: Option<u16>,
    pub(crate) preserve_query: bool,
    /// Whether the pattern's literals compare case-sensitively: the bundle's setting, or the
    /// rule's own `case_sensitive`.
    pub(crate) case_sensitive: bool,
    pub(crate) id: Box<str>,
    /// The `from` and `to` as written, when the compiled pattern and target cannot give them
    /// back (see [`Rule::from`] and [`Rule::to`]); most exact rules need neither.
    pub(crate) texts: Option<Box<WrittenTexts>>,
    pub(crate) pattern: Pattern,
    pub(crate) action: Action,
    pub(crate) extras: Option<Box<RuleExtras>>,
}

/// A rule's `from` and `to` as written, kept only when needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WrittenTexts {
    /// `None` when `from` is the pattern's exact-path key itself.
    pub from: Option<Box<str>>,
    /// `None` when there is no `to`, or when it is the compiled target's own literal path.
    pub to: Option<Box<str>>,
}

impl WrittenTexts {
    /// `None` when neither text is needed.
    pub(crate) fn boxed(self) -> Option<Box<WrittenTexts>> {
        (self != WrittenTexts::default()).then(|| Box::new(self))
    }
}

/// The parts of a rule most rules leave out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RuleExtras {
    pub host: Option<String>,
    pub methods: Option<Vec<String>>,
    pub when: Conditions,
    pub unless: Conditions,
    pub headers: Vec<(String, String)>,
}

impl RuleExtras {
    /// `None` when every part is empty.
    pub(crate) fn boxed(self) -> Option<Box<RuleExtras>> {
        (self != RuleExtras::default()).then(|| Box::new(self))
    }
}

static NO_CONDITIONS: Conditions = Conditions { list: Vec::new() };

impl Conditions {
    /// Whether the answer depends on who asks (geolocation, language, cookies, headers, the
    /// visitor's address or network), as opposed to what the URL says.
    pub(crate) fn per_visitor(&self) -> bool {
        self.has_geo()
            || self.has_language()
            || self.has_cookie()
            || self.has_header()
            || self.has_network()
    }
}

impl Rule {
    /// Position in the bundle's `rules`.
    pub fn index(&self) -> usize {
        self.index as usize
    }
    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The `from` pattern as written.
    pub fn from(&self) -> &str {
        self.texts
            .as_ref()
            .and_then(|t| t.from.as_deref())
            .unwrap_or_else(|| self.pattern.exact_key())
    }
    /// The compiled pattern's segments.
    pub fn segments(&self) -> Segments<'_> {
        self.pattern.segments()
    }
    /// The `host` restriction (lower-case, `*.` prefix for subdomains), if any.
    pub fn host(&self) -> Option<&str> {
        self.extras.as_ref()?.host.as_deref()
    }
    /// The `methods` restriction, upper-case, if any.
    pub fn methods(&self) -> Option<&[String]> {
        self.extras.as_ref()?.methods.as_deref()
    }
    /// The `to` as written, if any.
    pub fn to(&self) -> Option<&str> {
        let written = self.texts.as_ref().and_then(|t| t.to.as_deref());
        written.or(match &self.action {
            Action::To(t) | Action::Forward(Some(t)) => t.literal_path(),
            _ => None,
        })
    }
    /// The `split`, if any.
    pub fn split(&self) -> Option<&Split> {
        match &self.action {
            Action::Split(s) => Some(s),
            _ => None,
        }
    }
    /// Whether the rule passes its requests to the origin untouched (`"to": null`).
    pub fn passes(&self) -> bool {
        matches!(self.action, Action::Pass)
    }
    /// Whether the rule forwards to the origin first (`forward: true`).
    pub fn forward(&self) -> bool {
        matches!(self.action, Action::Forward(_))
    }
    /// The status the rule answers with (explicit, or inferred from the rule's shape).
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The `status` as written, if any.
    pub fn explicit_status(&self) -> Option<u16> {
        self.explicit_status
    }
    /// Conditions that must all hold.
    pub fn when(&self) -> &Conditions {
        self.extras.as_ref().map_or(&NO_CONDITIONS, |r| &r.when)
    }
    /// Conditions of which none may hold.
    pub fn unless(&self) -> &Conditions {
        self.extras.as_ref().map_or(&NO_CONDITIONS, |r| &r.unless)
    }
    /// Whether the query string is carried over to the target.
    pub fn preserve_query(&self) -> bool {
        self.preserve_query
    }
    /// Extra response headers, in order.
    pub fn headers(&self) -> &[(String, String)] {
        self.extras.as_ref().map_or(&[], |r| &r.headers)
    }
    /// Whether the answer varies per visitor: a split, or a geo, language, cookie, header, `ip`
    /// or `asn` condition in `when` or `unless`. Such answers are never cacheable by shared caches,
    /// whatever their status.
    pub fn per_visitor(&self) -> bool {
        matches!(self.action, Action::Split(_))
            || self.when().per_visitor()
            || self.unless().per_visitor()
    }

    /// Whether the method `method` (any case) is allowed by `methods`.
    pub(crate) fn allows_method(&self, method: &str) -> bool {
        self.methods()
            .is_none_or(|m| m.iter().any(|x| x.eq_ignore_ascii_case(method)))
    }
}
