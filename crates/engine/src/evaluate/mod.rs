//! Evaluating: a request split once, its candidates found in the index, each tried in file
//! order against what the visitor sends, the first that applies answering.

pub(crate) mod index;
pub(crate) mod request_url;
mod shapes;
pub(crate) mod timed;
pub(crate) mod trace;
pub(crate) mod visitor;

use self::request_url::{PathSegments, RequestUrl};
use self::timed::Clock;
use self::trace::{TraceStep, Verdict};
use self::visitor::Visitor;
use crate::answer::build::{assignment_cookie, debug_value, redirect};
use crate::answer::cache::Varies;
use crate::answer::variant::Assigned;
use crate::answer::{Decision, Forward, Passthrough};
use crate::condition::Condition;
use crate::engine::{Engine, Supply};
use crate::request::Request;
use crate::rule::{Action, Rule};
use crate::target::{Captured, Target};
use smallvec::SmallVec;
use std::borrow::Cow;

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

/// What happened to one candidate rule.
enum Outcome<'e> {
    Applied(Decision<'e>),
    Skipped(Skip<'e>),
}

/// Why a candidate rule was skipped; described in words only when explaining, so skipping
/// thousands of candidates costs no text.
#[derive(Clone, Copy)]
enum Skip<'e> {
    Method,
    When(&'e Condition),
    Unless(&'e Condition),
    Pattern,
    HostNotAllowed,
    Loop,
}

impl Skip<'_> {
    /// The verdict for a request at `now` (a window says when it opens or closed).
    fn verdict(self, now: Option<i64>) -> Verdict {
        match self {
            Skip::Method => Verdict::MethodMismatch,
            Skip::When(c) => Verdict::WhenFailed(c.describe_at(now, false)),
            Skip::Unless(c) => Verdict::UnlessHeld(c.describe_at(now, true)),
            Skip::Pattern => Verdict::PatternMismatch,
            Skip::HostNotAllowed => Verdict::HostNotAllowed,
            Skip::Loop => Verdict::LoopGuard,
        }
    }
}

impl Engine {
    /// The request's URL split, and its path cut as the index compares it; `None` for a URL
    /// the engine cannot read (passed to the origin).
    pub(crate) fn request_path<'r>(
        &self,
        request: &Request<'r>,
    ) -> Option<(RequestUrl<'r>, Paths<'r>)> {
        let url = RequestUrl::split(request.url)?;
        let cut = |case_sensitive| {
            let mut path = PathSegments::new(
                url.path,
                case_sensitive,
                self.settings.trailing_slash_strict,
            );
            if self.settings.trailing_slash_removed {
                path = path.without_trailing_slash();
            }
            if self.settings.trailing_slash_exact {
                path = path.rest_refusing_trailing_slash();
            }
            let key = path.key();
            (path, key)
        };
        let sensitive = self.settings.case_sensitive;
        let paths = Paths {
            main: cut(sensitive),
            sensitive,
            other: self.both_cases.then(|| cut(!sensitive)),
        };
        Some((url, paths))
    }

    /// Evaluates `request`; with `trace`, records each candidate's verdict. `supplied`: the
    /// parts a head needs ([`Engine::evaluate_with`]).
    pub(crate) fn run<'e>(
        &'e self,
        request: &Request<'_>,
        mut trace: Option<&mut Vec<TraceStep<'e>>>,
        supplied: Supply<'_, 'e>,
    ) -> Decision<'e> {
        let Some((url, paths)) = self.request_path(request) else {
            return Decision::Origin(Passthrough::default());
        };
        let host = lower_host(url.host);
        let mut candidates: SmallVec<[&'e Rule; 8]> = SmallVec::new();
        let mut visitor = Visitor::new(request, url.query);
        let mut clock = Clock::at(request.now, trace.is_some());
        if !self.candidates(
            &host,
            &paths,
            &mut visitor.query,
            &mut clock,
            supplied,
            &mut candidates,
        ) {
            return Decision::Origin(Passthrough::default());
        }
        // What the candidates tried read of the visitor: the answer, whichever it is, depends
        // on all of it (a rule that did not hold decided as much as the one that did).
        let mut varies = Varies::at(request.now);
        if let Some(bound) = clock.bound {
            // Windows the index left out (or kept) bound the answer as if they were tried.
            varies.add_window(bound);
        }
        for &rule in &candidates {
            let outcome = if rule.allows_method(request.method) {
                varies.add(rule);
                let path = paths.of(rule.case_sensitive);
                self.try_rule(rule, &mut visitor, &url, path, &varies)
            } else {
                Outcome::Skipped(Skip::Method)
            };
            if let Some(t) = trace.as_deref_mut() {
                t.push(TraceStep {
                    rule_index: rule.index(),
                    rule_id: &rule.id,
                    verdict: match &outcome {
                        Outcome::Applied(_) => Verdict::Applied,
                        Outcome::Skipped(skip) => skip.verdict(request.now),
                    },
                });
            }
            if let Outcome::Applied(decision) = outcome {
                return decision;
            }
        }
        let private = varies.per_visitor();
        Decision::Origin(
            Passthrough {
                private,
                vary: if private { varies.vary() } else { None },
                ..Passthrough::default()
            }
            .bounded_for(varies.fresh_for()),
        )
    }

    fn try_rule<'e, 'r>(
        &'e self,
        rule: &'e Rule,
        visitor: &mut Visitor<'_, 'r>,
        url: &RequestUrl<'r>,
        path: &PathSegments<'r>,
        varies: &Varies<'e>,
    ) -> Outcome<'e> {
        let request = visitor.request;
        let mut query_values: Vec<Cow<'r, str>> = Vec::new();
        for c in &rule.when().list {
            if !c.holds(visitor, &mut query_values) {
                return Outcome::Skipped(Skip::When(c));
            }
        }
        let mut scratch = Vec::new();
        for c in &rule.unless().list {
            if c.holds(visitor, &mut scratch) {
                return Outcome::Skipped(Skip::Unless(c));
            }
        }
        let mut captures: SmallVec<[(&str, Captured<'r>); 4]> = SmallVec::new();
        if !rule.pattern.captures(path, &mut captures, Captured::Raw) {
            // The index only offers rules whose pattern matches; kept as a guard.
            return Outcome::Skipped(Skip::Pattern);
        }
        captures.extend(
            rule.when()
                .capture_names()
                .zip(query_values)
                .map(|(n, v)| (n, Captured::Decoded(v))),
        );
        let head = request.method.eq_ignore_ascii_case("HEAD");
        let https = url.scheme.eq_ignore_ascii_case("https");
        let render = |target: &Target| {
            let location = target
                .render(url, &captures, rule.preserve_query, &self.settings)
                .ok_or(Skip::HostNotAllowed)?;
            if self.is_loop(rule, request, url, &location) {
                return Err(Skip::Loop);
            }
            Ok(location)
        };
        let redirect_to = |location, cookie, variant| {
            Outcome::Applied(Decision::Redirect(redirect(
                rule,
                &self.settings,
                varies,
                location,
                head,
                cookie,
                variant,
            )))
        };
        match &rule.action {
            Action::To(target) => match render(target) {
                Ok(location) => redirect_to(location, None, None),
                Err(v) => Outcome::Skipped(v),
            },
            Action::Forward(target) => {
                let location = match target.as_ref().map(render).transpose() {
                    Ok(l) => l,
                    Err(v) => return Outcome::Skipped(v),
                };
                Outcome::Applied(Decision::Forward(Forward {
                    rule: &rule.id,
                    location,
                    request_url: request.url.to_string(),
                    head,
                    method_changes: method_changes(request.method),
                    rule_headers: rule.headers(),
                    debug: debug_value(rule, &self.settings),
                }))
            }
            Action::Pass => {
                let private = varies.per_visitor();
                Outcome::Applied(Decision::Origin(
                    Passthrough {
                        rule: Some(&rule.id),
                        private,
                        vary: if private { varies.vary() } else { None },
                        debug: debug_value(rule, &self.settings),
                        ..Passthrough::default()
                    }
                    .bounded_for(varies.fresh_for()),
                ))
            }
            Action::Split(split) => {
                let assignment = split.assign(visitor);
                let variant = &split.variants[assignment.variant];
                let cookie = assignment.fresh.then(|| {
                    assignment_cookie(&split.cookie, &variant.name, &self.settings, https)
                });
                match &split.targets[assignment.variant] {
                    // The variant that stays: the origin's page, private to this visitor.
                    None => Outcome::Applied(Decision::Origin(
                        Passthrough {
                            rule: Some(&rule.id),
                            set_cookie: cookie,
                            private: true,
                            vary: varies.vary(),
                            debug: debug_value(rule, &self.settings),
                            assigned: Some(Assigned {
                                rule: &rule.id,
                                variant: &variant.name,
                                cookie: &split.cookie,
                                fresh: assignment.fresh,
                            }),
                            ..Passthrough::default()
                        }
                        .bounded_for(varies.fresh_for()),
                    )),
                    Some(target) => match render(target) {
                        Ok(location) => redirect_to(location, cookie, Some(&variant.name)),
                        Err(v) => Outcome::Skipped(v),
                    },
                }
            }
        }
    }

    /// The loop guard: a Location equal to the request URL would send the visitor straight
    /// back to this rule. A 303 answer to a method other than GET/HEAD is exempt: the browser
    /// follows it with a GET, a different request (the classic Post-Redirect-Get to the same
    /// URL).
    fn is_loop(
        &self,
        rule: &Rule,
        request: &Request<'_>,
        url: &RequestUrl<'_>,
        location: &str,
    ) -> bool {
        !(rule.status == 303 && method_changes(request.method))
            && url.may_share_path(RequestUrl::path_of(location))
            && RequestUrl::split(location).is_some_and(|l| l.same_resource(url))
    }
}

/// Whether a 303 answer turns a request with `method` into a different one (a GET): every
/// method but GET and HEAD.
fn method_changes(method: &str) -> bool {
    !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD")
}
