//! Evaluating: a prepared request's candidates tried in file order against what the visitor
//! sends, the first that applies answering. Free functions over prepared data: the engine
//! prepares the request and finds its candidates ([`crate::engine`]); this decides.

pub(crate) mod trace;

use self::trace::{TraceStep, Verdict};
use crate::answer::build::{assignment_cookie, debug_value, redirect};
use crate::answer::cache::DependsOn;
use crate::answer::variant::Assigned;
use crate::answer::{Decision, Forward, Passthrough};
use crate::index::prepared::Prepared;
use crate::index::timed::Clock;
use crate::model::condition::Condition;
use crate::model::rule::{Action, Rule};
use crate::model::settings::Settings;
use crate::model::target::{Captured, Target};
use crate::request::url::{PathSegments, RequestUrl};
use crate::request::visitor::{Query, VisitorData};
use crate::request::Request;
use smallvec::SmallVec;
use std::borrow::Cow;

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

/// Evaluates `request`, prepared for rules compiled with `settings`; with `trace`, records each
/// candidate's verdict. `candidates` finds the candidate rules, ascending by file order, as
/// far as the query and the clock say; `false` when a part the request needs is damaged or
/// missing, and the request goes to the origin as if no rule were written (a later rule must
/// not answer for an earlier one it cannot see).
pub(crate) fn run<'e, 'r>(
    settings: &'e Settings,
    request: &Request<'r>,
    prepared: &Prepared<'r>,
    mut trace: Option<&mut Vec<TraceStep<'e>>>,
    candidates: impl FnOnce(&mut Query<'r>, &mut Clock, &mut SmallVec<[&'e Rule; 8]>) -> bool,
) -> Decision<'e> {
    let (url, paths) = (&prepared.url, &prepared.paths);
    let mut found: SmallVec<[&'e Rule; 8]> = SmallVec::new();
    let mut visitor = VisitorData::new(request, url.query);
    let mut clock = Clock::at(request.now, trace.is_some());
    if !candidates(&mut visitor.query, &mut clock, &mut found) {
        return Decision::Origin(Passthrough::default());
    }
    // What the candidates tried read of the visitor: the answer, whichever it is, depends
    // on all of it (a rule that did not hold decided as much as the one that did).
    let mut depends = DependsOn::at(request.now);
    if let Some(bound) = clock.bound {
        // Windows the index left out (or kept) bound the answer as if they were tried.
        depends.add_window(bound);
    }
    for &rule in &found {
        let outcome = if rule.allows_method(request.method) {
            depends.add(rule);
            let path = paths.of(rule.case_sensitive);
            try_rule(settings, rule, &mut visitor, url, path, &depends)
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
    let private = depends.per_visitor();
    Decision::Origin(
        Passthrough {
            private,
            vary: if private { depends.vary() } else { None },
            ..Passthrough::default()
        }
        .bounded_for(depends.fresh_for()),
    )
}

fn try_rule<'e, 'r>(
    settings: &'e Settings,
    rule: &'e Rule,
    visitor: &mut VisitorData<'_, 'r>,
    url: &RequestUrl<'r>,
    path: &PathSegments<'r>,
    depends: &DependsOn<'e>,
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
            .render(url, &captures, rule.preserve_query, settings)
            .ok_or(Skip::HostNotAllowed)?;
        if is_loop(rule, request, url, &location) {
            return Err(Skip::Loop);
        }
        Ok(location)
    };
    let redirect_to = |location, cookie, variant| {
        Outcome::Applied(Decision::Redirect(redirect(
            rule, settings, depends, location, head, cookie, variant,
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
                debug: debug_value(rule, settings),
            }))
        }
        Action::Pass => {
            let private = depends.per_visitor();
            Outcome::Applied(Decision::Origin(
                Passthrough {
                    rule: Some(&rule.id),
                    private,
                    vary: if private { depends.vary() } else { None },
                    debug: debug_value(rule, settings),
                    ..Passthrough::default()
                }
                .bounded_for(depends.fresh_for()),
            ))
        }
        Action::Split(split) => {
            let assignment = split.assign(visitor);
            let variant = &split.variants[assignment.variant];
            let cookie = assignment
                .fresh
                .then(|| assignment_cookie(&split.cookie, &variant.name, settings, https));
            match &split.targets[assignment.variant] {
                // The variant that stays: the origin's page, private to this visitor.
                None => Outcome::Applied(Decision::Origin(
                    Passthrough {
                        rule: Some(&rule.id),
                        set_cookie: cookie,
                        private: true,
                        vary: depends.vary(),
                        debug: debug_value(rule, settings),
                        assigned: Some(Assigned {
                            rule: &rule.id,
                            variant: &variant.name,
                            cookie: &split.cookie,
                            fresh: assignment.fresh,
                        }),
                        ..Passthrough::default()
                    }
                    .bounded_for(depends.fresh_for()),
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
fn is_loop(rule: &Rule, request: &Request<'_>, url: &RequestUrl<'_>, location: &str) -> bool {
    !(rule.status == 303 && method_changes(request.method))
        && url.may_share_path(RequestUrl::path_of(location))
        && RequestUrl::parse(location).is_some_and(|l| l.same_resource(url))
}

/// Whether a 303 answer turns a request with `method` into a different one (a GET): every
/// method but GET and HEAD.
fn method_changes(method: &str) -> bool {
    !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD")
}
