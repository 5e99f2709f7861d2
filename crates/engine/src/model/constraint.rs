//! What a placeholder's value must look like: `:id(\d+)`, `:locale(en|de|fr)`.
//!
//! The text is a regular expression in the syntax of the `regex` crate (what path-to-regexp
//! parameters on Vercel and Next.js carry: literal characters, `.`, `\d`, `\w`, `\s`, classes,
//! groups, alternation and the quantifiers), read over the bytes of the value: `\d`, `\w`,
//! `\s` and case folding are ASCII, and a non-ASCII character counts as its UTF-8 bytes.
//! Anchors, word boundaries, back-references and look-around are refused.
//!
//! It runs on `regex-automata`, a maintained linear-time engine: each constraint is compiled
//! once into a dense DFA, within size limits checked while it is built (a short text that
//! would expand into a huge automaton is refused at once), and matching a value is one table
//! step per byte. A value longer than [`MAX_VALUE_BYTES_TESTED`] never matches a constraint,
//! as a longer header value never matches a glob, so no candidate rule reads more than that
//! of one segment.

use crate::limits::{
    MAX_CONSTRAINT_BYTES, MAX_CONSTRAINT_TEXT, MAX_CONSTRAINT_VALUE_BYTES as MAX_VALUE_BYTES_TESTED,
};
use regex_automata::dfa::{dense, sparse, Automaton, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};
use regex_syntax::hir::{Hir, HirKind};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::sync::Arc;

/// Most nested groups and repetitions a constraint may have.
const MAX_NEST: u32 = 32;
/// What the intermediate automaton (before it becomes a DFA) may take, in bytes.
const MAX_NFA_BYTES: usize = 64 * 1024;
/// What building the DFA may use at once, in bytes.
const MAX_DETERMINIZE_BYTES: usize = 512 * 1024;
/// What one compiled constraint may take, in bytes.
const MAX_DFA_BYTES: usize = 256 * 1024;

/// Why a constraint is refused (the caller names the constraint).
pub(crate) type Refusal = Cow<'static, str>;

/// A compiled constraint: its text and its DFA, shared by every rule that writes the same
/// text with the same case setting.
#[derive(Clone)]
pub(crate) struct Constraint {
    text: Box<str>,
    fold: bool,
    dfa: Arc<Dfa>,
}

/// The automaton (sparse: a few hundred bytes for a usual constraint, where a dense table
/// takes a kilobyte or two) and its anchored start state.
struct Dfa {
    dfa: sparse::DFA<Vec<u8>>,
    start: StateID,
}

impl std::fmt::Debug for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Constraint")
            .field("text", &self.text)
            .field("fold", &self.fold)
            .field("bytes", &self.dfa.dfa.memory_usage())
            .finish()
    }
}

impl PartialEq for Constraint {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.fold == other.fold
    }
}

impl Eq for Constraint {}

impl std::hash::Hash for Constraint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
        self.fold.hash(state);
    }
}

/// The constraints compiled so far in one bundle, by text and case setting: a text written by
/// many rules is compiled once, and the bundle's total stays within [`MAX_CONSTRAINT_BYTES`].
#[derive(Default)]
pub(crate) struct Constraints {
    seen: rustc_hash::FxHashMap<(Box<str>, bool), Arc<Dfa>>,
    bytes: usize,
    /// The last refusal was the bundle's budget, not the constraint itself.
    over_budget: bool,
}

impl Constraints {
    /// The bytes the bundle's distinct compiled constraints take.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the last refusal was for the bundle's budget (and forgets it).
    pub(crate) fn take_over_budget(&mut self) -> bool {
        std::mem::take(&mut self.over_budget)
    }
}

impl Constraint {
    /// Compiles `text` (without the surrounding parentheses); `fold`: letters match either
    /// case. The error says what is refused.
    pub(crate) fn parse(
        text: &str,
        fold: bool,
        known: &mut Constraints,
    ) -> Result<Constraint, Refusal> {
        if let Some(dfa) = known.seen.get(&(text.into(), fold)) {
            return Ok(Constraint {
                text: text.into(),
                fold,
                dfa: Arc::clone(dfa),
            });
        }
        let dfa = Arc::new(compile(text, fold)?);
        let bytes = dfa.dfa.memory_usage();
        if known.bytes + bytes > MAX_CONSTRAINT_BYTES {
            known.over_budget = true;
            return Err(format!(
                "the bundle's distinct constraints would take more than their limit of {} MiB compiled (this one takes {bytes} bytes)",
                MAX_CONSTRAINT_BYTES >> 20
            )
            .into());
        }
        known.bytes += bytes;
        known.seen.insert((text.into(), fold), Arc::clone(&dfa));
        Ok(Constraint {
            text: text.into(),
            fold,
            dfa,
        })
    }

    /// The constraint as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `value` matches: one step per byte, and `false` for a value over
    /// [`MAX_VALUE_BYTES_TESTED`] bytes.
    pub(crate) fn matches(&self, value: &str) -> bool {
        if value.len() > MAX_VALUE_BYTES_TESTED {
            return false;
        }
        let Dfa { dfa, start } = &*self.dfa;
        let mut state = *start;
        for &b in value.as_bytes() {
            state = dfa.next_state(state, b);
            if dfa.is_dead_state(state) {
                return false;
            }
        }
        dfa.is_match_state(dfa.next_eoi_state(state))
    }
}

/// Parses, checks and compiles one constraint within the size limits.
fn compile(text: &str, fold: bool) -> Result<Dfa, Refusal> {
    let hir = parse_hir(text, fold)?;
    let dfa = build_dfa(&[&hir], MAX_DFA_BYTES)
        .and_then(|dense| dense.to_sparse().ok())
        .ok_or_else(too_large)?;
    let start = dfa
        .start_state(&start::Config::new().anchored(Anchored::Yes))
        .map_err(|_| too_large())?;
    Ok(Dfa { dfa, start })
}

fn too_large() -> Refusal {
    "the constraint expands into too large an automaton (nested or large repeats); simplify it"
        .into()
}

/// A constraint's syntax tree: read over bytes, ASCII case folding, no assertions.
pub(crate) fn parse_hir(text: &str, fold: bool) -> Result<Hir, Refusal> {
    if text.len() > MAX_CONSTRAINT_TEXT || !text.is_ascii() {
        return Err(
            format!("a constraint is ASCII, at most {MAX_CONSTRAINT_TEXT} characters").into(),
        );
    }
    let hir = parser(fold).parse(text).map_err(|e| syntax_error(&e))?;
    refuse_assertions(&hir)?;
    Ok(hir)
}

/// What a parse error says.
pub(crate) fn syntax_error(e: &regex_syntax::Error) -> Refusal {
    match e {
        regex_syntax::Error::Parse(e) => e.kind().to_string().into(),
        regex_syntax::Error::Translate(e) => e.kind().to_string().into(),
        _ => "not a regular expression this engine reads".into(),
    }
}

/// The parser of constraints and path-to-regexp sources: over bytes, ASCII case folding when
/// `fold`, `.` matching any byte, nesting limited.
pub(crate) fn parser(fold: bool) -> regex_syntax::Parser {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .case_insensitive(fold)
        .dot_matches_new_line(true)
        .nest_limit(MAX_NEST)
        .build()
}

/// One anchored DFA matching any of `patterns` (pattern `k` is `patterns[k]`), every match
/// kept, within the size limits; `None` when it would be larger.
fn build_dfa(patterns: &[&Hir], max_bytes: usize) -> Option<dense::DFA<Vec<u32>>> {
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(false)
                .shrink(false)
                .which_captures(thompson::WhichCaptures::None)
                .nfa_size_limit(Some(MAX_NFA_BYTES.saturating_mul(patterns.len()))),
        )
        .build_many_from_hir(patterns)
        .ok()?;
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .minimize(false)
                .dfa_size_limit(Some(max_bytes))
                .determinize_size_limit(Some(MAX_DETERMINIZE_BYTES.max(max_bytes * 2))),
        )
        .build_from_nfa(&nfa)
        .ok()
}

/// What a segment must look like for one shaped placeholder: a literal prefix, a middle
/// (any non-empty text, or a constraint) and a literal suffix, as [`ShapeSet`] reads it.
pub(crate) struct ShapeParts<'s> {
    pub prefix: &'s str,
    pub constraint: Option<&'s Constraint>,
    pub suffix: &'s str,
}

/// Many shaped placeholders at one place of the rule index, told apart by one pass over a
/// segment: a request reads a segment once per set, however many shapes the set holds.
pub(crate) struct ShapeSet {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
    /// Per pattern: the bytes of prefix plus suffix, and whether a constraint reads the
    /// middle (then a middle over [`MAX_VALUE_BYTES_TESTED`] never matches).
    frame: Vec<(usize, bool)>,
}

impl std::fmt::Debug for ShapeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShapeSet")
            .field("shapes", &self.frame.len())
            .field("bytes", &self.dfa.memory_usage())
            .finish()
    }
}

/// Most bytes one [`ShapeSet`] may take; a group of shapes that would need more is split.
const MAX_SHAPE_SET_BYTES: usize = 256 * 1024;
/// Most shapes one [`ShapeSet`] holds: the time to build a set grows faster than its number
/// of shapes (every state of the DFA follows all of them), the time to read a segment with
/// the sets only with their number.
const MAX_SHAPES_PER_SET: usize = 16;

/// Which end of a segment a shape's literals are at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Last,
    First,
}

/// Most literals one shape is filed under (a class or an alternation at an end makes several).
const MAX_END_LITERALS: usize = 16;

/// One shape's whole pattern (prefix, middle and suffix), parsed once for both what the index
/// files it under ([`ShapePattern::end_literals`]) and the sets it joins ([`ShapeSet::build`]).
pub(crate) struct ShapePattern {
    hir: Hir,
    /// The bytes of prefix plus suffix, and whether a constraint reads the middle.
    frame: (usize, bool),
}

impl ShapePattern {
    /// The pattern of `shape`; `None` only if its constraint no longer parses (it compiled).
    pub(crate) fn new(shape: &ShapeParts<'_>) -> Option<ShapePattern> {
        use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Repetition};
        let middle = match shape.constraint {
            Some(c) => parse_hir(&c.text, c.fold).ok()?,
            None => Hir::repetition(Repetition {
                min: 1,
                max: None,
                greedy: true,
                sub: Box::new(Hir::class(Class::Bytes(ClassBytes::new([
                    ClassBytesRange::new(0, 255),
                ])))),
            }),
        };
        let literal = |t: &str| Hir::literal(t.as_bytes());
        Some(ShapePattern {
            hir: Hir::concat(vec![literal(shape.prefix), middle, literal(shape.suffix)]),
            frame: (
                shape.prefix.len() + shape.suffix.len(),
                shape.constraint.is_some(),
            ),
        })
    }

    /// Texts one of which every segment with this shape ends (or starts) with: the end whose
    /// shortest text is longest, `None` when neither end has such texts (`\d+`). The rule
    /// index files a shape under them, so that a segment meets only the shapes its ends allow.
    pub(crate) fn end_literals(&self) -> Option<(End, Vec<Vec<u8>>)> {
        use regex_syntax::hir::literal::{ExtractKind, Extractor};
        let side = |kind: ExtractKind| -> Option<Vec<Vec<u8>>> {
            let seq = Extractor::new()
                .kind(kind)
                .limit_class(4)
                .limit_total(MAX_END_LITERALS)
                .extract(&self.hir);
            let lits = seq.literals()?;
            if lits.is_empty() || lits.len() > MAX_END_LITERALS || lits.iter().any(|l| l.is_empty())
            {
                return None;
            }
            Some(lits.iter().map(|l| l.as_bytes().to_vec()).collect())
        };
        let shortest = |l: &Option<Vec<Vec<u8>>>| {
            l.as_ref()
                .map_or(0, |l| l.iter().map(Vec::len).min().unwrap_or(0))
        };
        let (last, first) = (side(ExtractKind::Suffix), side(ExtractKind::Prefix));
        if shortest(&last) >= shortest(&first) {
            last.map(|l| (End::Last, l))
        } else {
            first.map(|l| (End::First, l))
        }
    }
}

impl ShapeSet {
    /// Sets covering `patterns`, in order (pattern `k` of the sets, counted across them, is
    /// `patterns[k]`): as few as the size limit allows. Empty when one pattern cannot be
    /// built into a set (each constraint compiled alone, so only past the limits).
    pub(crate) fn build(patterns: &[&ShapePattern]) -> Vec<ShapeSet> {
        let mut sets = Vec::new();
        for chunk in patterns.chunks(MAX_SHAPES_PER_SET) {
            if !Self::split(chunk, &mut sets) {
                return Vec::new();
            }
        }
        sets
    }

    /// Builds `patterns` into one set, or halves them until each half builds; false if one
    /// alone does not.
    fn split(patterns: &[&ShapePattern], out: &mut Vec<ShapeSet>) -> bool {
        let hirs: Vec<&Hir> = patterns.iter().map(|p| &p.hir).collect();
        if let Some(dfa) = build_dfa(&hirs, MAX_SHAPE_SET_BYTES) {
            if let Ok(start) = dfa.start_state(&start::Config::new().anchored(Anchored::Yes)) {
                out.push(ShapeSet {
                    dfa,
                    start,
                    frame: patterns.iter().map(|p| p.frame).collect(),
                });
                return true;
            }
        }
        if patterns.len() == 1 {
            return false;
        }
        let (a, b) = patterns.split_at(patterns.len() / 2);
        Self::split(a, out) && Self::split(b, out)
    }

    /// How many shapes the set holds.
    pub(crate) fn len(&self) -> usize {
        self.frame.len()
    }

    /// Adds `offset` plus the number of every shape of the set that `segment` (comparable
    /// form) has, in ascending order: one step per byte of the segment.
    pub(crate) fn matching(&self, segment: &str, offset: usize, out: &mut SmallVec<[u32; 8]>) {
        let dfa = &self.dfa;
        let mut state = self.start;
        for &b in segment.as_bytes() {
            state = dfa.next_state(state, b);
            if dfa.is_dead_state(state) {
                return;
            }
        }
        state = dfa.next_eoi_state(state);
        if !dfa.is_match_state(state) {
            return;
        }
        for i in 0..dfa.match_len(state) {
            let k = dfa.match_pattern(state, i).as_usize();
            let (frame, constrained) = self.frame[k];
            let middle = segment.len().saturating_sub(frame);
            if middle > 0 && !(constrained && middle > MAX_VALUE_BYTES_TESTED) {
                out.push((offset + k) as u32);
            }
        }
    }
}

/// Refuses anchors and word boundaries: a constraint always covers the whole value.
fn refuse_assertions(hir: &Hir) -> Result<(), Refusal> {
    match hir.kind() {
        HirKind::Look(_) => {
            Err("no anchors or word boundaries: a constraint always covers the whole value".into())
        }
        HirKind::Repetition(r) => refuse_assertions(&r.sub),
        HirKind::Capture(c) => refuse_assertions(&c.sub),
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            items.iter().try_for_each(refuse_assertions)
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(re: &str, fold: bool) -> Result<Constraint, Refusal> {
        Constraint::parse(re, fold, &mut Constraints::default())
    }

    fn m(re: &str, value: &str) -> bool {
        parse(re, false).unwrap().matches(value)
    }

    #[test]
    fn matches_whole_values() {
        assert!(m(r"\d+", "2024"));
        assert!(!m(r"\d+", "20x4"));
        assert!(!m(r"\d+", ""));
        assert!(m("en|de|fr", "de"));
        assert!(!m("en|de|fr", "den"));
        assert!(
            m("a|ab", "ab"),
            "every branch is tried, not the first that matches"
        );
        assert!(m("[a-z]{2}(-[a-z]{2})?", "en-us"));
        assert!(m("a{2,2}b{1,}", "aabbb") && !m("a{2,2}", "aaa"));
        assert!(!m("[a-z]{2}(-[a-z]{2})?", "en-"));
        assert!(m(r"v\d+\.\d+", "v1.20"));
        assert!(m("[^-]+", "abc") && !m("[^-]+", "a-b"));
        assert!(m("[^-]+", "café"), "a negated class takes non-ASCII bytes");
        assert!(m("(?:a|b)*c", "ababc"));
        assert!(m(".*", "") && m(".+", "x"));
        for refused in ["^a", "a$", r"\ba", r"(a)\1", "(?=a)", "a{2,1}", "[a", "é"] {
            assert!(parse(refused, false).is_err(), "{refused}");
        }
    }

    #[test]
    fn folds_case_when_asked() {
        assert!(parse("[A-Z]+", true).unwrap().matches("abc"));
        assert!(!parse("[A-Z]+", false).unwrap().matches("abc"));
    }

    #[test]
    fn no_backtracking_blowup() {
        // (a*)*b against a long run of a's: exponential for a backtracking engine; here the
        // DFA reads each byte once.
        let c = parse("(a*)*b", false).unwrap();
        assert!(!c.matches(&"a".repeat(1000)));
        assert!(c.matches(&format!("{}b", "a".repeat(1000))));
    }

    #[test]
    fn a_value_over_the_cap_never_matches() {
        let c = parse(".*", false).unwrap();
        assert!(c.matches(&"x".repeat(MAX_VALUE_BYTES_TESTED)));
        assert!(!c.matches(&"x".repeat(MAX_VALUE_BYTES_TESTED + 1)));
    }

    #[test]
    fn nested_repeats_are_refused_at_once() {
        // Nested exact repeats of an empty group: 64^6 copies if expanded, but the parser
        // folds them into one empty match.
        let empty = parse("((((((){64}){64}){64}){64}){64}){64}", false).unwrap();
        assert!(empty.matches("") && !empty.matches("x"));
        let err = parse("(((((a?){64}){64}){64}){64}){64}", false).unwrap_err();
        assert!(err.contains("too large"), "{err}");
        let err = parse("((.*){64}){64}z", false).unwrap_err();
        assert!(err.contains("too large"), "{err}");
    }

    #[test]
    fn a_usual_constraint_takes_a_few_hundred_bytes() {
        let mut known = Constraints::default();
        Constraint::parse(r"[a-z0-9-]+-v1234", false, &mut known).unwrap();
        println!("[a-z0-9-]+-v1234: {} bytes", known.bytes());
        assert!(known.bytes() < 1024, "{} bytes", known.bytes());
    }

    #[test]
    fn one_text_is_compiled_once_per_bundle() {
        let mut known = Constraints::default();
        let a = Constraint::parse(r"[a-z0-9-]+-v1", false, &mut known).unwrap();
        let once = known.bytes();
        let b = Constraint::parse(r"[a-z0-9-]+-v1", false, &mut known).unwrap();
        assert_eq!(known.bytes(), once);
        assert!(Arc::ptr_eq(&a.dfa, &b.dfa));
        Constraint::parse(r"[a-z0-9-]+-v1", true, &mut known).unwrap();
        assert!(
            known.bytes() > once,
            "another case setting is another automaton"
        );
    }
}
