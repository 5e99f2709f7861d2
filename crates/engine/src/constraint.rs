//! What a placeholder's value must look like: `:id(\d+)`, `:locale(en|de|fr)`.
//!
//! The text is the small part of regular expressions that migrations carry (path-to-regexp
//! parameters on Vercel and Next.js): literal characters, `.`, `\d`, `\w`, `\s`, classes
//! `[a-z0-9_-]` (negated with `^`), groups `(...)` / `(?:...)`, alternation `|` and the
//! quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`. It is compiled into a Thompson automaton
//! and run over the value by keeping the set of live states, so a match costs at most
//! (value length × automaton size) steps whatever the text: there is no backtracking, and no
//! visitor can make a value expensive. Anchors, back-references and look-around are refused.

use smallvec::SmallVec;

/// Longest constraint text, and most automaton states, a rule may have.
const MAX_TEXT: usize = 256;
const MAX_STATES: usize = 1024;
/// Largest bound of a `{n,m}` quantifier.
const MAX_REPEAT: u8 = 64;

/// A set of ASCII characters (bit `c` for character `c`), possibly negated: a negated set
/// also holds every non-ASCII character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Set {
    bits: Bits,
    negated: bool,
}

/// One bit per ASCII character, in two words (wasm has no 128-bit integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Bits([u64; 2]);

impl std::ops::BitOr for Bits {
    type Output = Bits;
    fn bitor(self, o: Bits) -> Bits {
        Bits([self.0[0] | o.0[0], self.0[1] | o.0[1]])
    }
}

impl std::ops::BitOrAssign for Bits {
    fn bitor_assign(&mut self, o: Bits) {
        *self = *self | o;
    }
}

impl Bits {
    fn of(c: u8) -> Bits {
        let mut b = Bits::default();
        b.0[usize::from(c >> 6) & 1] = 1 << (c & 63);
        b
    }
    fn has(self, c: u8) -> bool {
        c < 128 && self.0[usize::from(c >> 6)] & (1 << (c & 63)) != 0
    }
}

impl Set {
    fn range(lo: u8, hi: u8) -> Bits {
        (lo..=hi).fold(Bits::default(), |bits, c| bits | Bits::of(c))
    }
    fn contains(self, c: char, fold: bool) -> bool {
        let hit = |c: char| c.is_ascii() && self.bits.has(c as u8);
        let found =
            hit(c) || (fold && (hit(c.to_ascii_uppercase()) || hit(c.to_ascii_lowercase())));
        found != self.negated
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Consume one character of the set, then go to the next state.
    Char(Set, u16),
    /// Go to both states without consuming.
    Split(u16, u16),
    Match,
}

/// A compiled constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Constraint {
    text: Box<str>,
    states: Box<[State]>,
    start: u16,
}

/// A parsed piece of the expression, before it becomes states.
#[derive(Debug, Clone)]
enum Node {
    Set(Set),
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u8, Option<u8>),
}

/// Why a constraint is refused (a fixed text: the caller names the constraint).
type Refusal = &'static str;

/// The state every unfinished transition points at until `Match` is placed.
const END: u16 = u16::MAX;

impl Constraint {
    /// Compiles `text` (without the surrounding parentheses); the error says what is refused.
    pub(crate) fn parse(text: &str) -> Result<Constraint, Refusal> {
        if text.len() > MAX_TEXT || !text.is_ascii() {
            return Err("a constraint is ASCII, at most 256 characters");
        }
        let mut p = Parser {
            text: text.as_bytes(),
            at: 0,
        };
        let node = p.alternation()?;
        if p.at != p.text.len() {
            return Err("unbalanced `)`");
        }
        let mut states = Vec::new();
        let start = emit(&node, &mut states, END)?;
        let end = states.len() as u16;
        states.push(State::Match);
        let fix = |n: &mut u16| {
            if *n == END {
                *n = end;
            }
        };
        for s in &mut states {
            match s {
                State::Char(_, n) => fix(n),
                State::Split(a, b) => {
                    fix(a);
                    fix(b);
                }
                State::Match => {}
            }
        }
        Ok(Constraint {
            text: text.into(),
            states: states.into_boxed_slice(),
            start: if start == END { end } else { start },
        })
    }

    /// The constraint as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `value` matches; `fold`: compare letters case-insensitively.
    pub(crate) fn matches(&self, value: &str, fold: bool) -> bool {
        let mut seen: SmallVec<[u32; 64]> = SmallVec::from_elem(0, self.states.len());
        let mut current: SmallVec<[u16; 16]> = SmallVec::new();
        let mut generation = 1;
        self.add(self.start, &mut current, &mut seen, generation);
        for c in value.chars() {
            generation += 1;
            let mut next: SmallVec<[u16; 16]> = SmallVec::new();
            for &s in &current {
                if let State::Char(set, to) = self.states[s as usize] {
                    if set.contains(c, fold) {
                        self.add(to, &mut next, &mut seen, generation);
                    }
                }
            }
            if next.is_empty() {
                return false;
            }
            current = next;
        }
        current
            .iter()
            .any(|&s| self.states[s as usize] == State::Match)
    }

    /// Adds `s` and every state reachable from it without consuming.
    fn add(&self, s: u16, list: &mut SmallVec<[u16; 16]>, seen: &mut [u32], generation: u32) {
        let mut stack: SmallVec<[u16; 16]> = SmallVec::new();
        stack.push(s);
        while let Some(s) = stack.pop() {
            if std::mem::replace(&mut seen[s as usize], generation) == generation {
                continue;
            }
            match self.states[s as usize] {
                State::Split(a, b) => stack.extend([b, a]),
                _ => list.push(s),
            }
        }
    }
}

/// Emits `node` so that it continues at `next`; returns its first state (`next` when empty).
fn emit(node: &Node, states: &mut Vec<State>, next: u16) -> Result<u16, Refusal> {
    if states.len() >= MAX_STATES {
        return Err("the constraint needs more than 1024 automaton states; simplify it");
    }
    let push = |states: &mut Vec<State>, s: State| {
        states.push(s);
        (states.len() - 1) as u16
    };
    Ok(match node {
        Node::Set(set) => push(states, State::Char(*set, next)),
        Node::Seq(items) => {
            let mut at = next;
            for item in items.iter().rev() {
                at = emit(item, states, at)?;
            }
            at
        }
        Node::Alt(branches) => {
            let mut first = emit(&branches[branches.len() - 1], states, next)?;
            for b in branches[..branches.len() - 1].iter().rev() {
                let start = emit(b, states, next)?;
                first = push(states, State::Split(start, first));
            }
            first
        }
        Node::Repeat(inner, min, max) => {
            let mut at = next;
            match max {
                None => {
                    // A loop: the split goes into the body (which comes back) or on.
                    let split = push(states, State::Split(next, next));
                    let body = emit(inner, states, split)?;
                    states[split as usize] = State::Split(body, next);
                    at = split;
                }
                Some(max) => {
                    for _ in *min..*max {
                        let body = emit(inner, states, at)?;
                        at = push(states, State::Split(body, at));
                    }
                }
            }
            for _ in 0..*min {
                at = emit(inner, states, at)?;
            }
            at
        }
    })
}

/// A recursive-descent reader of the expression's bytes.
struct Parser<'t> {
    text: &'t [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }
    fn next(&mut self) -> Result<u8, Refusal> {
        let c = self.peek().ok_or("the constraint ends too early")?;
        self.at += 1;
        Ok(c)
    }

    fn alternation(&mut self) -> Result<Node, Refusal> {
        let mut branches = vec![self.sequence()?];
        while self.peek() == Some(b'|') {
            self.at += 1;
            branches.push(self.sequence()?);
        }
        Ok(if branches.len() == 1 {
            branches.swap_remove(0)
        } else {
            Node::Alt(branches)
        })
    }

    fn sequence(&mut self) -> Result<Node, Refusal> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(Node::Seq(items))
    }

    fn number(&mut self) -> Result<u8, Refusal> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        std::str::from_utf8(&self.text[start..self.at])
            .ok()
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|&n| n <= MAX_REPEAT)
            .ok_or("repeat bounds go up to 64")
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, Refusal> {
        let (min, max) = match self.peek() {
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'?') => (0, Some(1)),
            Some(b'{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.peek() == Some(b',') {
                    self.at += 1;
                    match self.peek() {
                        Some(b'}') => None,
                        _ => Some(self.number()?),
                    }
                } else {
                    Some(min)
                };
                if self.peek() != Some(b'}') || max.is_some_and(|m| m < min) {
                    return Err("a repeat is {n}, {n,} or {n,m} with n ≤ m");
                }
                // The `}` is consumed below, as the other quantifiers are.
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.at += 1;
        if self.peek() == Some(b'?') {
            // A lazy quantifier matches the same whole values.
            self.at += 1;
        }
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn atom(&mut self) -> Result<Node, Refusal> {
        Ok(Node::Set(match self.next()? {
            b'.' => Set {
                bits: Bits::of(b'/'),
                negated: true,
            },
            b'\\' => self.escape()?,
            b'[' => self.class()?,
            b'(' => {
                if self.peek() == Some(b'?') {
                    self.at += 1;
                    if self.next()? != b':' {
                        return Err("look-around and named groups are not supported");
                    }
                }
                let inner = self.alternation()?;
                if self.next()? != b')' {
                    return Err("a `(` without its `)`");
                }
                return Ok(inner);
            }
            b'^' | b'$' => return Err("no anchors: a constraint always covers the whole value"),
            b'*' | b'+' | b'?' | b'{' | b')' | b']' | b'}' => {
                return Err("a quantifier or bracket where a character is expected")
            }
            c => Set {
                bits: Bits::of(c),
                negated: false,
            },
        }))
    }

    fn escape(&mut self) -> Result<Set, Refusal> {
        let c = self.next()?;
        let bits = match c.to_ascii_lowercase() {
            b'd' => Set::range(b'0', b'9'),
            b'w' => {
                Set::range(b'0', b'9')
                    | Set::range(b'A', b'Z')
                    | Set::range(b'a', b'z')
                    | Bits::of(b'_')
            }
            b's' => Set::range(b'\t', b'\r') | Bits::of(b' '),
            _ if c.is_ascii_alphanumeric() => {
                return Err("back-references and other letter escapes are not supported")
            }
            _ => Bits::of(c),
        };
        Ok(Set {
            bits,
            negated: c.is_ascii_uppercase(),
        })
    }

    fn class(&mut self) -> Result<Set, Refusal> {
        let negated = self.peek() == Some(b'^');
        if negated {
            self.at += 1;
        }
        let mut bits = Bits::default();
        loop {
            let lo = match self.next()? {
                b']' => break,
                b'\\' => {
                    let set = self.escape()?;
                    if set.negated {
                        return Err("a negated escape inside `[...]` is not supported");
                    }
                    bits |= set.bits;
                    continue;
                }
                c => c,
            };
            if self.peek() == Some(b'-') && self.text.get(self.at + 1).is_some_and(|&c| c != b']') {
                let hi = self.text[self.at + 1];
                self.at += 2;
                if hi < lo {
                    return Err("a backwards range in `[...]`");
                }
                bits |= Set::range(lo, hi);
            } else {
                bits |= Bits::of(lo);
            }
        }
        Ok(Set { bits, negated })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, value: &str) -> bool {
        Constraint::parse(re).unwrap().matches(value, false)
    }

    #[test]
    fn matches_whole_values() {
        assert!(m(r"\d+", "2024"));
        assert!(!m(r"\d+", "20x4"));
        assert!(!m(r"\d+", ""));
        assert!(m("en|de|fr", "de"));
        assert!(!m("en|de|fr", "den"));
        assert!(m("[a-z]{2}(-[a-z]{2})?", "en-us"));
        assert!(m("a{2,2}b{1,}", "aabbb") && !m("a{2,2}", "aaa"));
        assert!(!m("[a-z]{2}(-[a-z]{2})?", "en-"));
        assert!(m(r"v\d+\.\d+", "v1.20"));
        assert!(m("[^-]+", "abc") && !m("[^-]+", "a-b"));
        assert!(m("(?:a|b)*c", "ababc"));
        assert!(m(".*", "") && m(".+", "x"));
        assert!(Constraint::parse("^a").is_err());
        assert!(Constraint::parse(r"(a)\1").is_err());
        assert!(Constraint::parse("(?=a)").is_err());
        assert!(Constraint::parse("a{2,1}").is_err());
        assert!(Constraint::parse("[a").is_err());
    }

    #[test]
    fn folds_case_when_asked() {
        let c = Constraint::parse("[A-Z]+").unwrap();
        assert!(c.matches("abc", true));
        assert!(!c.matches("abc", false));
    }

    #[test]
    fn no_backtracking_blowup() {
        // (a*)*b against a long run of a's: exponential for a backtracking engine.
        let c = Constraint::parse("(a*)*b").unwrap();
        let value = "a".repeat(5000);
        let start = std::time::Instant::now();
        assert!(!c.matches(&value, false));
        assert!(start.elapsed().as_millis() < 500);
    }
}
