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
const MAX_REPEAT: u32 = 64;

/// A set of characters: ranges, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set {
    ranges: Vec<(char, char)>,
    negated: bool,
}

impl Set {
    fn one(c: char) -> Set {
        Set {
            ranges: vec![(c, c)],
            negated: false,
        }
    }
    fn contains(&self, c: char, fold: bool) -> bool {
        let hit = |c: char| self.ranges.iter().any(|&(a, b)| a <= c && c <= b);
        let found =
            hit(c) || (fold && (hit(c.to_ascii_uppercase()) || hit(c.to_ascii_lowercase())));
        found != self.negated
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Consume one character of the set, then go to the next state.
    Char(Set, usize),
    /// Go to both states without consuming.
    Split(usize, usize),
    Match,
}

/// A compiled constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Constraint {
    text: Box<str>,
    states: Box<[State]>,
    start: usize,
}

/// A parsed piece of the expression, before it becomes states.
#[derive(Debug, Clone)]
enum Node {
    Set(Set),
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

impl Constraint {
    /// Compiles `text` (without the surrounding parentheses); the error says what is refused.
    pub(crate) fn parse(text: &str) -> Result<Constraint, String> {
        if text.len() > MAX_TEXT {
            return Err(format!(
                "the constraint is longer than {MAX_TEXT} characters"
            ));
        }
        let chars: Vec<char> = text.chars().collect();
        let mut at = 0;
        let node = alternation(&chars, &mut at)?;
        if at != chars.len() {
            return Err(format!("unexpected `{}` in ({text})", chars[at]));
        }
        let mut states = Vec::new();
        let start = emit(&node, &mut states, usize::MAX)?;
        let end = states.len();
        states.push(State::Match);
        for s in &mut states {
            match s {
                State::Char(_, n) if *n == usize::MAX => *n = end,
                State::Split(a, b) => {
                    if *a == usize::MAX {
                        *a = end;
                    }
                    if *b == usize::MAX {
                        *b = end;
                    }
                }
                _ => {}
            }
        }
        let start = if start == usize::MAX { end } else { start };
        if states.len() > MAX_STATES {
            return Err(format!(
                "the constraint needs more than {MAX_STATES} states; simplify it"
            ));
        }
        Ok(Constraint {
            text: text.into(),
            states: states.into_boxed_slice(),
            start,
        })
    }

    /// The constraint as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `value` matches; `fold`: compare letters case-insensitively.
    pub(crate) fn matches(&self, value: &str, fold: bool) -> bool {
        let n = self.states.len();
        let mut current: SmallVec<[usize; 16]> = SmallVec::new();
        let mut seen: SmallVec<[u32; 64]> = SmallVec::from_elem(0, n);
        let mut generation = 1;
        self.add(self.start, &mut current, &mut seen, generation);
        for c in value.chars() {
            generation += 1;
            let mut next: SmallVec<[usize; 16]> = SmallVec::new();
            for &s in &current {
                if let State::Char(set, to) = &self.states[s] {
                    if set.contains(c, fold) {
                        self.add(*to, &mut next, &mut seen, generation);
                    }
                }
            }
            if next.is_empty() {
                return false;
            }
            current = next;
        }
        current.iter().any(|&s| self.states[s] == State::Match)
    }

    /// Adds `s` and every state reachable from it without consuming.
    fn add(&self, s: usize, list: &mut SmallVec<[usize; 16]>, seen: &mut [u32], generation: u32) {
        let mut stack: SmallVec<[usize; 16]> = SmallVec::new();
        stack.push(s);
        while let Some(s) = stack.pop() {
            if seen[s] == generation {
                continue;
            }
            seen[s] = generation;
            match self.states[s] {
                State::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                _ => list.push(s),
            }
        }
    }
}

/// Emits `node` so that it continues at `next`; returns its first state (`next` when empty).
fn emit(node: &Node, states: &mut Vec<State>, next: usize) -> Result<usize, String> {
    if states.len() > MAX_STATES {
        return Err(format!(
            "the constraint needs more than {MAX_STATES} states; simplify it"
        ));
    }
    Ok(match node {
        Node::Set(set) => {
            states.push(State::Char(set.clone(), next));
            states.len() - 1
        }
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
                states.push(State::Split(start, first));
                first = states.len() - 1;
            }
            first
        }
        Node::Repeat(inner, min, max) => {
            let mut at = next;
            match max {
                None => {
                    // A loop: split into the body (which jumps back) or on.
                    let split = states.len();
                    states.push(State::Split(usize::MAX - 1, next));
                    let body = emit(inner, states, split)?;
                    states[split] = State::Split(body, next);
                    at = split;
                }
                Some(max) => {
                    for _ in *min..*max {
                        let body = emit(inner, states, at)?;
                        states.push(State::Split(body, at));
                        at = states.len() - 1;
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

fn alternation(chars: &[char], at: &mut usize) -> Result<Node, String> {
    let mut branches = vec![sequence(chars, at)?];
    while chars.get(*at) == Some(&'|') {
        *at += 1;
        branches.push(sequence(chars, at)?);
    }
    Ok(if branches.len() == 1 {
        branches.pop().unwrap_or(Node::Seq(Vec::new()))
    } else {
        Node::Alt(branches)
    })
}

fn sequence(chars: &[char], at: &mut usize) -> Result<Node, String> {
    let mut items = Vec::new();
    while let Some(&c) = chars.get(*at) {
        if c == '|' || c == ')' {
            break;
        }
        let atom = atom(chars, at)?;
        items.push(quantified(atom, chars, at)?);
    }
    Ok(Node::Seq(items))
}

fn quantified(atom: Node, chars: &[char], at: &mut usize) -> Result<Node, String> {
    let (min, max) = match chars.get(*at) {
        Some('*') => (0, None),
        Some('+') => (1, None),
        Some('?') => (0, Some(1)),
        Some('{') => {
            let close = chars[*at..]
                .iter()
                .position(|&c| c == '}')
                .ok_or("unclosed `{`")?;
            let inside: String = chars[*at + 1..*at + close].iter().collect();
            *at += close;
            let bound = |s: &str| {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("bad repeat {{{inside}}}"))
            };
            let (min, max) = match inside.split_once(',') {
                None => (bound(&inside)?, Some(bound(&inside)?)),
                Some((a, "")) => (bound(a)?, None),
                Some((a, b)) => (bound(a)?, Some(bound(b)?)),
            };
            if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                return Err(format!(
                    "repeat {{{inside}}}: bounds up to {MAX_REPEAT}, min ≤ max"
                ));
            }
            (min, max)
        }
        _ => return Ok(atom),
    };
    *at += 1;
    if chars.get(*at) == Some(&'?') {
        // A lazy quantifier matches the same whole values.
        *at += 1;
    }
    Ok(Node::Repeat(Box::new(atom), min, max))
}

fn atom(chars: &[char], at: &mut usize) -> Result<Node, String> {
    let c = chars[*at];
    *at += 1;
    Ok(match c {
        '.' => Node::Set(Set {
            ranges: vec![('/', '/')],
            negated: true,
        }),
        '\\' => Node::Set(escape(chars, at)?),
        '[' => Node::Set(class(chars, at)?),
        '(' => {
            if chars.get(*at) == Some(&'?') {
                if chars.get(*at + 1) != Some(&':') {
                    return Err("look-around and named groups are not supported".into());
                }
                *at += 2;
            }
            let inner = alternation(chars, at)?;
            if chars.get(*at) != Some(&')') {
                return Err("unclosed `(`".into());
            }
            *at += 1;
            inner
        }
        '^' | '$' => return Err(format!("`{c}`: a constraint always covers the whole value")),
        '*' | '+' | '?' | '{' | ')' | ']' | '}' => return Err(format!("unexpected `{c}`")),
        c => Node::Set(Set::one(c)),
    })
}

fn escape(chars: &[char], at: &mut usize) -> Result<Set, String> {
    let c = *chars.get(*at).ok_or("a trailing `\\`")?;
    *at += 1;
    let ranges = match c {
        'd' | 'D' => vec![('0', '9')],
        'w' | 'W' => vec![('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        's' | 'S' => vec![('\t', '\r'), (' ', ' ')],
        c if c.is_ascii_alphanumeric() => {
            return Err(format!(
                "`\\{c}` is not supported (back-references, anchors)"
            ))
        }
        c => return Ok(Set::one(c)),
    };
    Ok(Set {
        ranges,
        negated: c.is_ascii_uppercase(),
    })
}

fn class(chars: &[char], at: &mut usize) -> Result<Set, String> {
    let negated = chars.get(*at) == Some(&'^');
    if negated {
        *at += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let c = *chars.get(*at).ok_or("unclosed `[`")?;
        *at += 1;
        let lo = match c {
            ']' => break,
            '\\' => {
                let set = escape(chars, at)?;
                if set.negated {
                    return Err("a negated escape inside `[...]` is not supported".into());
                }
                ranges.extend(set.ranges);
                continue;
            }
            c => c,
        };
        if chars.get(*at) == Some(&'-') && chars.get(*at + 1).is_some_and(|&c| c != ']') {
            let hi = chars[*at + 1];
            *at += 2;
            if hi < lo {
                return Err(format!("range {lo}-{hi} is backwards"));
            }
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
    Ok(Set { ranges, negated })
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
