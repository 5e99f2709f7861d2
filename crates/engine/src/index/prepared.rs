//! A request prepared once, before its rules are looked up: its URL split, its host
//! lower-cased and its path cut as the index compares it. Finding the parts a request needs
//! and evaluating it read the same preparation.

use crate::model::settings::Settings;
use crate::request::url::{PathSegments, RequestUrl};
use crate::request::Request;
use std::borrow::Cow;

/// A request prepared for the index and for evaluation.
pub(crate) struct Prepared<'r> {
    /// The request's URL, split.
    pub(crate) url: RequestUrl<'r>,
    /// Its host as rules compare it ([`lower_host`]).
    pub(crate) host: Cow<'r, str>,
    /// Its path as the index compares it.
    pub(crate) paths: Paths<'r>,
}

impl<'r> Prepared<'r> {
    /// `request` prepared for rules compiled with `settings`; `both_cases` when some rule sets
    /// its own `case_sensitive` against the bundle's. `None` for a URL the engine cannot read
    /// (passed to the origin).
    pub(crate) fn new(
        request: &Request<'r>,
        settings: &Settings,
        both_cases: bool,
    ) -> Option<Prepared<'r>> {
        let url = RequestUrl::parse(request.url)?;
        let cut = |case_sensitive| {
            let mut path =
                PathSegments::new(url.path, case_sensitive, settings.trailing_slash_strict);
            if settings.trailing_slash_removed {
                path = path.without_trailing_slash();
            }
            if settings.trailing_slash_exact {
                path = path.rest_refusing_trailing_slash();
            }
            let key = path.key();
            (path, key)
        };
        let sensitive = settings.case_sensitive;
        let paths = Paths {
            main: cut(sensitive),
            sensitive,
            other: both_cases.then(|| cut(!sensitive)),
        };
        Some(Prepared {
            host: lower_host(url.host),
            url,
            paths,
        })
    }
}

/// A request's path as the index compares it: in the bundle's case and, when some rules set
/// their own `case_sensitive`, in the other; each with its exact-path key.
pub(crate) struct Paths<'r> {
    pub(crate) main: (PathSegments<'r>, Cow<'r, str>),
    /// Whether `main` compares case-sensitively (the bundle's setting).
    pub(crate) sensitive: bool,
    pub(crate) other: Option<(PathSegments<'r>, Cow<'r, str>)>,
}

impl<'r> Paths<'r> {
    /// The path and key in the case of a rule whose literals compare with `case_sensitive`
    /// (an engine keeps the other case only when a rule uses it).
    pub(crate) fn of(&self, case_sensitive: bool) -> &PathSegments<'r> {
        &self.with_key(case_sensitive).0
    }

    pub(crate) fn with_key(&self, case_sensitive: bool) -> &(PathSegments<'r>, Cow<'r, str>) {
        match &self.other {
            Some(other) if case_sensitive != self.sensitive => other,
            _ => &self.main,
        }
    }

    /// Each form the path is compared in, with whether it is case-sensitive.
    pub(crate) fn each(&self) -> impl Iterator<Item = (bool, &(PathSegments<'r>, Cow<'r, str>))> {
        std::iter::once((self.sensitive, &self.main))
            .chain(self.other.as_ref().map(|o| (!self.sensitive, o)))
    }
}

/// A request's host as rules compare it: lower-case (borrowed when it already is).
pub(crate) fn lower_host(host: &str) -> Cow<'_, str> {
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}
