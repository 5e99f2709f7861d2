//! Which version answers a request, and which one its answer is compared with, when the
//! versions' parts are read from storage and some cannot be.
//!
//! The visitor's version ([`pick`]) answers when its parts can be read. When they cannot, the
//! canary gives way to the stable version (compared with the canary, whose answer is then
//! unknown: per-visitor), then the version in use before answers, then the bundle the worker
//! carries: every answer comes from one version whole. While a canary runs, whatever answers is
//! compared with the version the visitor is not served ([`crate::canary::decide`]).

use crate::canary::{in_canary, pick};
use std::future::Future;

/// The versions a worker has in use.
#[derive(Debug, Clone)]
pub struct Versions<V> {
    /// The stable version the manifest names.
    pub current: V,
    /// The canary with its share of visitors in percent, while one runs.
    pub canary: Option<(V, u32)>,
    /// The version in use before `current`: answers when `current`'s parts cannot be read.
    pub previous: Option<V>,
}

/// The version chosen for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice<V, P> {
    /// The version that answers, with the parts the request needs of it; `None`: none of the
    /// published versions could be read, the bundle the worker carries answers.
    pub answers: Option<(V, P)>,
    /// While a canary runs, the version the answer is compared with, with its parts (`None`
    /// when they could not be read: its answer is unknown).
    pub other: Option<(V, Option<P>)>,
}

/// Chooses the version that answers a visitor at `address` and reads the parts the request
/// needs of it with `read` (`None` when they cannot be read), in the order the module
/// describes. `read` is called at most once per version.
pub async fn choose<V, P, F, Fut>(
    versions: &Versions<V>,
    address: Option<&str>,
    read: F,
) -> Choice<V, P>
where
    V: Clone,
    P: Clone,
    F: Fn(&V) -> Fut,
    Fut: Future<Output = Option<P>>,
{
    let canary_picked = versions
        .canary
        .as_ref()
        .is_some_and(|(_, percent)| in_canary(address, *percent));
    let (picked, other) = pick(versions.current.clone(), versions.canary.clone(), address);
    let other_parts = match &other {
        Some(other) => Some(read(other).await),
        None => None,
    };
    if let Some(parts) = read(&picked).await {
        return Choice {
            answers: Some((picked, parts)),
            other: other.zip(other_parts),
        };
    }
    // The visitor's version cannot answer. The canary gives way to the stable version (its
    // parts read already), compared with the canary, whose answer is unknown: per-visitor.
    if canary_picked {
        if let (Some(stable), Some(Some(parts))) = (&other, &other_parts) {
            return Choice {
                answers: Some((stable.clone(), parts.clone())),
                other: Some((picked, None)),
            };
        }
    }
    let other = other.zip(other_parts);
    if let Some(previous) = &versions.previous {
        if let Some(parts) = read(previous).await {
            return Choice {
                answers: Some((previous.clone(), parts)),
                other,
            };
        }
    }
    Choice {
        answers: None,
        other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::future::ready;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Runs a future whose reads complete at once.
    fn now<T>(future: impl Future<Output = T>) -> T {
        let mut future = pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("the reads complete at once"),
        }
    }

    /// An address in the canary's share at 50 %, and one outside it.
    fn addresses() -> (String, String) {
        let all: Vec<String> = (0..200).map(|n| format!("198.51.100.{n}")).collect();
        let inside = all.iter().find(|a| in_canary(Some(a), 50)).unwrap();
        let outside = all.iter().find(|a| !in_canary(Some(a), 50)).unwrap();
        (inside.clone(), outside.clone())
    }

    /// Chooses with the versions named in `broken` unreadable; the parts of a version are its
    /// name with `+parts`.
    fn choose_with(
        versions: &Versions<&'static str>,
        address: Option<&str>,
        broken: &[&str],
    ) -> Choice<&'static str, String> {
        let broken: HashSet<&str> = broken.iter().copied().collect();
        now(choose(versions, address, |v: &&'static str| {
            ready((!broken.contains(v)).then(|| format!("{v}+parts")))
        }))
    }

    fn versions(canary: bool, previous: bool) -> Versions<&'static str> {
        Versions {
            current: "stable",
            canary: canary.then_some(("canary", 50)),
            previous: previous.then_some("before"),
        }
    }

    fn parts(v: &'static str) -> (&'static str, String) {
        (v, format!("{v}+parts"))
    }

    #[test]
    fn the_visitor_s_version_answers_compared_with_the_other() {
        let (inside, outside) = addresses();
        let got = choose_with(&versions(false, true), Some(&inside), &[]);
        assert_eq!(got.answers, Some(parts("stable")));
        assert_eq!(got.other, None);
        let got = choose_with(&versions(true, true), Some(&inside), &[]);
        assert_eq!(got.answers, Some(parts("canary")));
        assert_eq!(got.other, Some(("stable", Some("stable+parts".into()))));
        let got = choose_with(&versions(true, true), Some(&outside), &[]);
        assert_eq!(got.answers, Some(parts("stable")));
        assert_eq!(got.other, Some(("canary", Some("canary+parts".into()))));
    }

    #[test]
    fn an_unreadable_other_version_is_compared_as_unknown() {
        let (_, outside) = addresses();
        let got = choose_with(&versions(true, true), Some(&outside), &["canary"]);
        assert_eq!(got.answers, Some(parts("stable")));
        assert_eq!(got.other, Some(("canary", None)));
    }

    #[test]
    fn a_broken_canary_gives_way_to_the_stable_version() {
        let (inside, _) = addresses();
        let got = choose_with(&versions(true, true), Some(&inside), &["canary"]);
        assert_eq!(got.answers, Some(parts("stable")));
        assert_eq!(got.other, Some(("canary", None)));
    }

    #[test]
    fn then_the_version_before_answers() {
        let (inside, outside) = addresses();
        let got = choose_with(&versions(false, true), None, &["stable"]);
        assert_eq!(got.answers, Some(parts("before")));
        assert_eq!(got.other, None);
        // The stable version broken for a visitor outside the canary: the version before
        // answers, compared with the canary.
        let got = choose_with(&versions(true, true), Some(&outside), &["stable"]);
        assert_eq!(got.answers, Some(parts("before")));
        assert_eq!(got.other, Some(("canary", Some("canary+parts".into()))));
        // Both published versions broken for a canary visitor.
        let got = choose_with(&versions(true, true), Some(&inside), &["canary", "stable"]);
        assert_eq!(got.answers, Some(parts("before")));
        assert_eq!(got.other, Some(("stable", None)));
    }

    #[test]
    fn then_the_carried_bundle() {
        let got = choose_with(&versions(false, true), None, &["stable", "before"]);
        assert_eq!(got.answers, None);
        let got = choose_with(&versions(false, false), None, &["stable"]);
        assert_eq!(
            got,
            Choice {
                answers: None,
                other: None
            }
        );
        let (inside, _) = addresses();
        let got = choose_with(
            &versions(true, true),
            Some(&inside),
            &["canary", "stable", "before"],
        );
        assert_eq!(got.answers, None);
        assert_eq!(got.other, Some(("stable", None)));
    }

    #[test]
    fn each_version_is_read_at_most_once() {
        let (inside, _) = addresses();
        let reads = std::cell::RefCell::new(Vec::new());
        let versions = versions(true, true);
        now(choose(&versions, Some(&inside), |v: &&'static str| {
            reads.borrow_mut().push(*v);
            ready(None::<()>)
        }));
        let mut reads = reads.into_inner();
        reads.sort_unstable();
        assert_eq!(reads, ["before", "canary", "stable"]);
    }
}
