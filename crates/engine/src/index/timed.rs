//! Rules of one list that hold only in a time window (`when.after` / `when.before`), found by
//! the request's instant: a launch calendar of a thousand windows on one path costs a request
//! what ten cost, because only the windows open at that instant become candidates.
//!
//! The windows are kept in a segment tree over the instants that bound them: each window is
//! stored at the O(log n) nodes that cover it, and an instant walks one path from the root to
//! its leaf, collecting the windows stored on the way. Memory is O(n log n) rule numbers for
//! n windows.

use crate::index::candidates::Candidates;
use crate::model::rule::Rule;

/// A list is given a tree from this many windowed rules (below it, trying each is cheaper).
pub(crate) const TIMED_FROM: usize = 16;

/// What a lookup offers the index about time, and what it learns.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Clock {
    /// The request's instant (seconds since the Unix epoch), when known.
    pub(crate) now: Option<i64>,
    /// Every rule is a candidate, open or not (explaining: a dormant rule is reported).
    pub(crate) every_rule: bool,
    /// A bound of the windows left out or kept, for the answer's freshness: the nearest ahead
    /// of `now` (or one behind when none is ahead). `None` when no tree was read.
    pub(crate) bound: Option<i64>,
}

impl Clock {
    /// A lookup at `now`; `every_rule` keeps dormant rules as candidates.
    pub(crate) fn at(now: Option<i64>, every_rule: bool) -> Clock {
        Clock {
            now,
            every_rule,
            bound: None,
        }
    }

    /// Notes `bound`, keeping the one that limits freshness most: the nearest ahead of `now`.
    fn note(&mut self, bound: i64) {
        let Some(now) = self.now else {
            self.bound = Some(bound);
            return;
        };
        self.bound = Some(match self.bound {
            Some(b) if b > now && (bound <= now || b <= bound) => b,
            _ => bound,
        });
    }
}

/// The window of `rule`'s `when`, `[after, before)`, if it has one.
fn window_of(rule: &Rule) -> Option<(i64, i64)> {
    if !rule.when().has_window() {
        return None;
    }
    let (after, before) = rule.when().window();
    Some((after.unwrap_or(i64::MIN), before.unwrap_or(i64::MAX)))
}

/// The rules of one list, those with a window held in a tree.
#[derive(Debug)]
pub(crate) struct Timed {
    /// Rules without a window in `when`: always candidates.
    always: Vec<u32>,
    /// Every instant that bounds a window, ascending, once each; leaf `i` of the tree is the
    /// span from `bounds[i - 1]` (inclusive) to `bounds[i]` (exclusive), leaf 0 everything
    /// before `bounds[0]`.
    bounds: Vec<i64>,
    /// Tree node `k` (root 1, children `2k` and `2k + 1`) holds the windowed rules covering
    /// its whole span.
    nodes: Vec<Vec<u32>>,
    /// Leaves: `bounds.len() + 1`, rounded up to a power of two.
    leaves: usize,
}

impl Timed {
    /// A tree over `ids` if enough of them have a window.
    pub(crate) fn build(rules: &[Rule], ids: &[u32]) -> Option<Timed> {
        let windowed = ids
            .iter()
            .filter(|&&r| window_of(&rules[r as usize]).is_some())
            .count();
        if windowed < TIMED_FROM {
            return None;
        }
        let mut always = Vec::new();
        let mut windows = Vec::with_capacity(windowed);
        let mut bounds = Vec::with_capacity(2 * windowed);
        for &r in ids {
            match window_of(&rules[r as usize]) {
                Some((after, before)) => {
                    windows.push((after, before, r));
                    bounds.extend([after, before].into_iter().filter(|&b| {
                        // The open ends are not bounds.
                        b != i64::MIN && b != i64::MAX
                    }));
                }
                None => always.push(r),
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let leaves = (bounds.len() + 1).next_power_of_two();
        let mut timed = Timed {
            always,
            bounds,
            nodes: vec![Vec::new(); 2 * leaves],
            leaves,
        };
        for (after, before, r) in windows {
            // The leaves where `after <= t < before`.
            let first = timed.leaf(after);
            let end = if before == i64::MAX {
                timed.bounds.len() + 1
            } else {
                timed.leaf(before)
            };
            if first < end {
                timed.insert(1, 0, timed.leaves, first, end, r);
            }
        }
        Some(timed)
    }

    /// The leaf whose span holds instant `t`.
    fn leaf(&self, t: i64) -> usize {
        self.bounds.partition_point(|&b| b <= t)
    }

    /// Stores rule `r` at the nodes covering leaves `first..end` under node `k` (spanning
    /// `lo..hi`).
    fn insert(&mut self, k: usize, lo: usize, hi: usize, first: usize, end: usize, r: u32) {
        if first <= lo && hi <= end {
            self.nodes[k].push(r);
            return;
        }
        let mid = (lo + hi) / 2;
        if first < mid {
            self.insert(2 * k, lo, mid, first, end, r);
        }
        if end > mid {
            self.insert(2 * k + 1, mid, hi, first, end, r);
        }
    }

    /// The candidates at `clock`'s instant: the rules without a window and the windowed ones
    /// open then (every one when `clock.every_rule`), in any order. Notes the nearest bound.
    pub(crate) fn collect(&self, clock: &mut Clock, out: &mut Candidates) {
        out.extend_from_slice(&self.always);
        let now = clock.now;
        match now {
            Some(now) => {
                let ahead = self.bounds.partition_point(|&b| b <= now);
                if let Some(&b) = self.bounds.get(ahead).or(self.bounds.last()) {
                    clock.note(b);
                }
            }
            None => {
                if let Some(&b) = self.bounds.first() {
                    clock.note(b);
                }
            }
        }
        if clock.every_rule {
            let mut all: Vec<u32> = self.nodes.iter().flatten().copied().collect();
            all.sort_unstable();
            all.dedup();
            out.extend_from_slice(&all);
            return;
        }
        // Without an instant no window holds.
        let Some(now) = now else { return };
        let mut k = self.leaves + self.leaf(now);
        while k >= 1 {
            out.extend_from_slice(&self.nodes[k]);
            k /= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;

    /// Rules on `/p`: one window each from `windows`, then one without.
    fn rules(windows: &[(Option<&str>, Option<&str>)]) -> Engine {
        let mut list: Vec<String> = windows
            .iter()
            .enumerate()
            .map(|(i, (a, b))| {
                let mut when = Vec::new();
                if let Some(a) = a {
                    when.push(format!(r#""after": "{a}""#));
                }
                if let Some(b) = b {
                    when.push(format!(r#""before": "{b}""#));
                }
                format!(
                    r#"{{ "id": "w{i}", "from": "/p", "when": {{ {} }}, "to": "/w{i}" }}"#,
                    when.join(",")
                )
            })
            .collect();
        list.push(r#"{ "id": "rest", "from": "/p", "to": "/rest" }"#.into());
        Engine::compile(&format!(
            r#"{{ "version": 1, "rules": [ {} ] }}"#,
            list.join(",")
        ))
        .expect("compiles")
    }

    fn open_at(timed: &Timed, now: Option<i64>) -> (Vec<u32>, Option<i64>) {
        let mut clock = Clock::at(now, false);
        let mut out = Candidates::new();
        timed.collect(&mut clock, &mut out);
        let mut v = out.to_vec();
        v.sort_unstable();
        (v, clock.bound)
    }

    #[test]
    fn an_instant_finds_exactly_the_windows_open_then() {
        let t = |h: i64| 1_767_225_600 + 3_600 * h; // 2026-01-01T00:00:00Z + h hours
        let iso = |h: i64| crate::request::instant::format_instant(t(h));
        // Nested, overlapping, open-ended and empty windows.
        let mut spec: Vec<(Option<String>, Option<String>)> = (0..20)
            .map(|i| (Some(iso(i)), Some(iso(i + 1 + i % 3))))
            .collect();
        spec.push((None, Some(iso(5))));
        spec.push((Some(iso(15)), None));
        spec.push((Some(iso(7)), Some(iso(7))));
        let borrowed: Vec<_> = spec
            .iter()
            .map(|(a, b)| (a.as_deref(), b.as_deref()))
            .collect();
        let engine = rules(&borrowed);
        let rules = engine.rules();
        let ids: Vec<u32> = (0..rules.len() as u32).collect();
        let timed = Timed::build(rules, &ids).expect("enough windows");
        for now in (t(-2)..t(26)).step_by(1_800).chain([t(3), t(3) - 1, t(7)]) {
            let expected: Vec<u32> = ids
                .iter()
                .copied()
                .filter(|&r| match window_of(&rules[r as usize]) {
                    None => true,
                    Some((a, b)) => a <= now && now < b,
                })
                .collect();
            let (found, bound) = open_at(&timed, Some(now));
            assert_eq!(found, expected, "at {now}");
            let ahead = timed.bounds.iter().copied().find(|&b| b > now);
            assert_eq!(bound, ahead.or(timed.bounds.last().copied()), "at {now}");
        }
        // No instant: only the rule without a window, and a bound to say windows were read.
        let (found, bound) = open_at(&timed, None);
        assert_eq!(found, [spec.len() as u32]);
        assert!(bound.is_some());
    }

    #[test]
    fn few_windows_get_no_tree() {
        let engine = rules(&[(Some("2026-01-01T00:00:00Z"), None); TIMED_FROM - 1]);
        let ids: Vec<u32> = (0..engine.rules().len() as u32).collect();
        assert!(Timed::build(engine.rules(), &ids).is_none());
    }
}
