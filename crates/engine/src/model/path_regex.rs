//! `from` patterns in path-to-regexp syntax (`"from_syntax": "path-to-regexp"`): the 6.x
//! syntax Vercel and Next.js read their `source` paths in, with its meaning.
//!
//! The source is read as path-to-regexp 6.1 reads it (delimiter `/`, prefixes `.` and `/`):
//! `:name` (one segment, `[^/]+?`), `:name(re)`, unnamed groups `(re)`, `{...}` groups, the
//! modifiers `?`, `*` and `+` after any of them, `\`-escapes; a nested group must not capture
//! (`(?:...)`), as path-to-regexp requires. It becomes one regular expression over the whole
//! path, as path-to-regexp writes it, compiled by `regex-automata` into a Thompson NFA and run
//! by its PikeVM: linear in the path's length whatever the pattern and the request (no
//! backtracking); look-around, back-references and anchors are refused with a reason.
//!
//! The path a pattern reads is the request's path percent-decoded (`%2F` stays as it is, so a
//! decoded slash never acts as a delimiter), without a trailing slash unless the bundle's
//! trailing slashes are `strict` or `exact`; captures are handed to `to` as the visitor sent
//! them. Letters compare without case (ASCII) unless the bundle is case-sensitive. Every group
//! that captures is `$1`, `$2`, ... in `to` (counted as path-to-regexp counts them, named ones
//! included), a named one also `:name`; a group that took part in no match is empty.

use crate::model::constraint::{parse_hir, parser, syntax_error, Refusal};
use crate::request::url::{comparable, PathSegments};
use regex_automata::nfa::thompson::{self, pikevm::PikeVM};
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{Anchored, Input};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;

/// Most bytes a source may have.
pub const MAX_SOURCE_BYTES: usize = 1024;
/// What one compiled source's automaton may take, in bytes.
const MAX_NFA_BYTES: usize = 256 * 1024;
/// The pattern a `:name` without its own reads: one non-empty segment, shortest first.
const DEFAULT_PATTERN: &str = r"[^\/]+?";

/// A compiled path-to-regexp source.
#[derive(Clone)]
pub struct PathRegex {
    source: Box<str>,
    fold: bool,
    /// The literal text every matching path starts with, in the comparable form the rule
    /// index reads (decoded; lower-case when matching ignores case).
    literal: Box<str>,
    /// Per capturing group, in order: its name when it has one.
    groups: Box<[Option<Box<str>>]>,
    /// `$1`, `$2`, ... for each group, so that a capture can borrow its name.
    numbers: Box<[Box<str>]>,
    /// The regular expression the source translates to, for an automaton built on first use.
    re: Box<str>,
    /// Every path it matches has `/` or its end right after its literal start.
    ends_segment: bool,
    /// The automaton: built with the pattern, or (deferred) when a path is first matched;
    /// `None` if that fails (never for a source a build has checked: such a source matches
    /// nothing).
    vm: Arc<OnceLock<Option<Vm>>>,
}

struct Vm {
    vm: PikeVM,
    /// Tells this automaton from every other built in the process, for [`SCRATCH`].
    id: u64,
}

/// The next [`Vm::id`].
static NEXT_VM: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// A search's scratch space, one a thread, for the automaton it was made for (its id): a
    /// source keeps only its automaton, not a scratch space as large as it, and a thread
    /// makes one for each other source it matches (a scratch space reset for another
    /// automaton can keep the other's captures).
    static SCRATCH: RefCell<Option<(u64, thompson::pikevm::Cache)>> = const { RefCell::new(None) };
}

impl std::fmt::Debug for PathRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathRegex")
            .field("source", &self.source)
            .field("fold", &self.fold)
            .field("literal", &self.literal)
            .field("groups", &self.groups)
            .finish()
    }
}

impl PartialEq for PathRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.fold == other.fold
    }
}

impl Eq for PathRegex {}

/// One token of a source, as path-to-regexp's lexer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lex {
    Open,
    Close,
    Pattern(String),
    Name(String),
    Char(char),
    Escaped(char),
    Modifier(char),
    End,
}

impl Lex {
    fn kind(&self) -> &'static str {
        match self {
            Lex::Open => "`{`",
            Lex::Close => "`}`",
            Lex::Pattern(_) => "a `(...)` group",
            Lex::Name(_) => "a `:name`",
            Lex::Char(_) | Lex::Escaped(_) => "text",
            Lex::Modifier(_) => "a modifier (`?`, `*`, `+`)",
            Lex::End => "the end",
        }
    }
}

/// path-to-regexp's lexer: each token and the character it starts at.
fn lex(source: &str) -> Result<Vec<(usize, Lex)>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '+' | '?' => {
                out.push((i, Lex::Modifier(c)));
                i += 1;
            }
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(format!("a `\\` at character {i} escapes nothing"));
                };
                out.push((i, Lex::Escaped(next)));
                i += 2;
            }
            '{' => {
                out.push((i, Lex::Open));
                i += 1;
            }
            '}' => {
                out.push((i, Lex::Close));
                i += 1;
            }
            ':' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j == i + 1 {
                    return Err(format!(
                        "a `:` at character {i} has no name after it (write `\\:` for a literal colon)"
                    ));
                }
                out.push((i, Lex::Name(chars[i + 1..j].iter().collect())));
                i = j;
            }
            '(' => {
                let mut depth = 1;
                let mut pattern = String::new();
                let mut j = i + 1;
                if chars.get(j) == Some(&'?') {
                    return Err(format!(
                        "the group at character {i} starts with `?`: a group in a path captures; write `(?:...)` only inside one"
                    ));
                }
                while j < chars.len() {
                    if chars[j] == '\\' {
                        pattern.push(chars[j]);
                        if let Some(&n) = chars.get(j + 1) {
                            pattern.push(n);
                        }
                        j += 2;
                        continue;
                    }
                    if chars[j] == ')' {
                        depth -= 1;
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    } else if chars[j] == '(' {
                        depth += 1;
                        if chars.get(j + 1) != Some(&'?') {
                            return Err(format!(
                                "the group at character {j} captures inside another group; write `(?:...)` for a group inside a group"
                            ));
                        }
                    }
                    pattern.push(chars[j]);
                    j += 1;
                }
                if depth != 0 {
                    return Err(format!("the group at character {i} is not closed"));
                }
                if pattern.is_empty() {
                    return Err(format!("the group at character {i} is empty"));
                }
                out.push((i, Lex::Pattern(pattern)));
                i = j;
            }
            _ => {
                out.push((i, Lex::Char(c)));
                i += 1;
            }
        }
    }
    out.push((chars.len(), Lex::End));
    Ok(out)
}

/// A parsed token: literal text, or a parameter (named or numbered, with or without a pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Text(String),
    Param {
        name: Option<String>,
        prefix: String,
        suffix: String,
        /// Empty for a `{...}` group without a parameter (it captures nothing).
        pattern: String,
        modifier: Option<char>,
    },
}

/// Whether every text the tokens after a source's literal start can match begins with `/` or
/// is empty ([`PathRegex::ends_segment`]); `false` when that cannot be told simply. The
/// literal start ends at the first parameter (with its prefix when the parameter must be
/// there, which leaves a pattern next: not a slash unless the pattern says so).
fn slash_or_end_after_literal(tokens: &[Token]) -> bool {
    let Some(first) = tokens.iter().position(|t| matches!(t, Token::Param { .. })) else {
        return true; // All literal: the end follows.
    };
    for token in &tokens[first..] {
        match token {
            Token::Text(t) if t.is_empty() => continue,
            Token::Text(t) => return t.starts_with('/'),
            Token::Param {
                prefix,
                suffix,
                pattern,
                modifier,
                ..
            } => {
                let optional = matches!(modifier, Some('?' | '*'));
                // The first of this token's own text: its prefix, else its pattern, else (a
                // `{...}` group without a parameter) its suffix.
                let slash = if !prefix.is_empty() {
                    prefix.starts_with('/')
                } else if pattern == "/?" {
                    // An optional slash alone: a slash or nothing, then what follows.
                    continue;
                } else if !pattern.is_empty() {
                    let mut chars = pattern.chars();
                    chars.next() == Some('/')
                        && !matches!(chars.next(), Some('?' | '*' | '{' | '|'))
                        && !pattern.contains('|')
                } else {
                    suffix.starts_with('/')
                };
                if !slash {
                    return false;
                }
                if !optional {
                    return true;
                }
            }
        }
    }
    true
}

/// path-to-regexp's parser (prefixes `./`).
fn parse(source: &str) -> Result<Vec<Token>, String> {
    let tokens = lex(source)?;
    let mut at = 0;
    let mut out = Vec::new();
    let mut path = String::new();
    let take = |at: &mut usize, f: &dyn Fn(&Lex) -> bool| -> Option<Lex> {
        let t = &tokens[*at].1;
        f(t).then(|| {
            *at += 1;
            t.clone()
        })
    };
    let is_char = |l: &Lex| matches!(l, Lex::Char(_));
    let is_name = |l: &Lex| matches!(l, Lex::Name(_));
    let is_pattern = |l: &Lex| matches!(l, Lex::Pattern(_));
    let is_modifier = |l: &Lex| matches!(l, Lex::Modifier(_));
    let modifier = |l: Option<Lex>| match l {
        Some(Lex::Modifier(m)) => Some(m),
        _ => None,
    };
    let text = |l: Option<Lex>| match l {
        Some(Lex::Name(s) | Lex::Pattern(s)) => Some(s),
        _ => None,
    };
    loop {
        let ch = take(&mut at, &is_char);
        let name = text(take(&mut at, &is_name));
        let pattern = text(take(&mut at, &is_pattern));
        if name.is_some() || pattern.is_some() {
            let mut prefix = match ch {
                Some(Lex::Char(c)) => c.to_string(),
                _ => String::new(),
            };
            if !matches!(prefix.as_str(), "" | "." | "/") {
                path.push_str(&prefix);
                prefix.clear();
            }
            if !path.is_empty() {
                out.push(Token::Text(std::mem::take(&mut path)));
            }
            out.push(Token::Param {
                name,
                prefix,
                suffix: String::new(),
                pattern: pattern.unwrap_or_else(|| DEFAULT_PATTERN.into()),
                modifier: modifier(take(&mut at, &is_modifier)),
            });
            continue;
        }
        if let Some(Lex::Char(c) | Lex::Escaped(c)) =
            ch.or_else(|| take(&mut at, &|l| matches!(l, Lex::Escaped(_))))
        {
            path.push(c);
            continue;
        }
        if !path.is_empty() {
            out.push(Token::Text(std::mem::take(&mut path)));
        }
        if take(&mut at, &|l| matches!(l, Lex::Open)).is_some() {
            let consume_text = |at: &mut usize| {
                let mut s = String::new();
                while let Some(Lex::Char(c) | Lex::Escaped(c)) =
                    take(at, &|l| matches!(l, Lex::Char(_) | Lex::Escaped(_)))
                {
                    s.push(c);
                }
                s
            };
            let prefix = consume_text(&mut at);
            let name = text(take(&mut at, &is_name));
            let pattern = text(take(&mut at, &is_pattern));
            let suffix = consume_text(&mut at);
            let (i, next) = &tokens[at];
            if *next != Lex::Close {
                return Err(format!(
                    "{} at character {i} where the `{{` group should close with `}}`",
                    next.kind()
                ));
            }
            at += 1;
            let pattern = match (&name, pattern) {
                (_, Some(p)) => p,
                (Some(_), None) => DEFAULT_PATTERN.into(),
                (None, None) => String::new(),
            };
            out.push(Token::Param {
                name,
                prefix,
                suffix,
                pattern,
                modifier: modifier(take(&mut at, &is_modifier)),
            });
            continue;
        }
        let (i, next) = &tokens[at];
        if *next != Lex::End {
            return Err(match next {
                Lex::Modifier(m) => format!(
                    "`{m}` at character {i} follows nothing it could apply to (write `(.*)` for any rest, `\\{m}` for the character)"
                ),
                other => format!("{} at character {i} is out of place", other.kind()),
            });
        }
        return Ok(out);
    }
}

/// A literal text as regular expression syntax over the decoded path: ASCII escaped, other
/// bytes as `\xHH`.
fn push_literal(re: &mut String, text: &str) {
    let decoded = crate::request::encode::decode_segment(text);
    for &b in decoded.as_bytes() {
        if b.is_ascii() {
            let c = b as char;
            if regex_syntax::is_meta_character(c) {
                re.push('\\');
            }
            re.push(c);
        } else {
            re.push_str(&format!("\\x{b:02X}"));
        }
    }
}

impl PathRegex {
    /// Compiles `source`; `fold`: ASCII letters match either case. The error says what is
    /// refused.
    pub(crate) fn parse(source: &str, fold: bool) -> Result<PathRegex, Refusal> {
        Self::parse_as(source, fold, false)
    }

    /// [`PathRegex::parse`]; with `defer`, the source's placeholders' patterns are not checked
    /// and its automaton is built when a path is first matched (for a source a build checked).
    fn parse_as(source: &str, fold: bool, defer: bool) -> Result<PathRegex, Refusal> {
        if !source.starts_with('/') {
            return Err(format!("pattern {source:?} does not start with `/`").into());
        }
        if source.len() > MAX_SOURCE_BYTES {
            return Err(format!("a pattern is at most {MAX_SOURCE_BYTES} bytes").into());
        }
        let tokens = parse(source)?;
        let ends_segment = slash_or_end_after_literal(&tokens);
        let mut re = String::with_capacity(source.len() * 2);
        let mut groups: Vec<Option<Box<str>>> = Vec::new();
        let mut literal = String::new();
        let mut literal_done = false;
        for token in &tokens {
            match token {
                Token::Text(t) => {
                    if !literal_done {
                        literal.push_str(t);
                    }
                    push_literal(&mut re, t);
                }
                Token::Param {
                    name,
                    prefix,
                    suffix,
                    pattern,
                    modifier,
                } => {
                    if !literal_done && !matches!(modifier, Some('?' | '*')) {
                        // A prefix that must be there (`/` before `:name` or `(re)`) is literal
                        // text every match has.
                        literal.push_str(prefix);
                    }
                    literal_done = true;
                    let modifier = modifier.map(String::from).unwrap_or_default();
                    let (mut p, mut s) = (String::new(), String::new());
                    push_literal(&mut p, prefix);
                    push_literal(&mut s, suffix);
                    if pattern.is_empty() {
                        re.push_str(&format!("(?:{p}{s}){modifier}"));
                        continue;
                    }
                    if !defer {
                        check_pattern(pattern, fold)?;
                    }
                    match name {
                        Some(n) => {
                            if groups.iter().flatten().any(|g| &**g == n.as_str()) {
                                return Err(format!("placeholder `{n}` is captured twice").into());
                            }
                            groups.push(Some(n.as_str().into()));
                        }
                        None => groups.push(None),
                    }
                    let many = modifier == "*" || modifier == "+";
                    if !p.is_empty() || !s.is_empty() {
                        if many {
                            let m = if modifier == "*" { "?" } else { "" };
                            re.push_str(&format!(
                                "(?:{p}((?:{pattern})(?:{s}{p}(?:{pattern}))*){s}){m}"
                            ));
                        } else {
                            re.push_str(&format!("(?:{p}({pattern}){s}){modifier}"));
                        }
                    } else {
                        re.push_str(&format!("({pattern}){modifier}"));
                    }
                }
            }
        }
        re.push_str(r"\z");
        let vm = OnceLock::new();
        if !defer {
            let _ = vm.set(Some(automaton(&re, fold)?));
        }
        let literal = comparable(&literal, !fold).into_owned();
        let numbers = (1..=groups.len()).map(|k| format!("${k}").into()).collect();
        Ok(PathRegex {
            source: source.into(),
            fold,
            literal: literal.into(),
            groups: groups.into_boxed_slice(),
            numbers,
            re: re.into(),
            ends_segment,
            vm: Arc::new(vm),
        })
    }

    /// [`PathRegex::compile`] for a source a build has checked already (a rule of an
    /// artifact's part): the automaton is built when a path is first matched, so the rules of
    /// a part that no request tries cost neither the time nor the memory of theirs.
    pub(crate) fn compile_deferred(
        source: &str,
        case_sensitive: bool,
    ) -> Result<PathRegex, String> {
        Self::parse_as(source, !case_sensitive, true).map_err(|e| e.into_owned())
    }

    /// The automaton, built now if it was deferred.
    fn vm(&self) -> Option<&Vm> {
        self.vm
            .get_or_init(|| automaton(&self.re, self.fold).ok())
            .as_ref()
    }

    /// Compiles a path-to-regexp `source` as `"from_syntax": "path-to-regexp"` reads it, with
    /// a bundle's `case_sensitive`; the error says what is refused and why.
    pub fn compile(source: &str, case_sensitive: bool) -> Result<PathRegex, String> {
        Self::parse(source, !case_sensitive).map_err(|e| e.into_owned())
    }

    /// About how many bytes of heap this source takes compiled and once it has matched a path,
    /// from its regular expression's length alone (the same whether or not the automaton is
    /// built yet): the automaton (measured natively: 844 to 1,380 bytes, at most about 1,000
    /// plus 15 a byte of expression) and 512 bytes for the rest; a search's scratch space is
    /// the thread's, not the source's. A rule with `/guide-1(/?)`, `/docs-1/:path*` or
    /// `/x1/(a|b|c)/(.*)` takes 1.8 to 2.2 KB once it has matched (3.7 to 4.8 KB when each
    /// source kept a scratch space of its own); a part costs it 1.2 to 1.5 times that.
    pub fn heap_bytes(&self) -> usize {
        1000 + 15 * self.re.len() + 512
    }

    /// The source as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The literal text every path this pattern matches starts with (comparable form).
    pub(crate) fn literal(&self) -> &str {
        &self.literal
    }

    /// Whether every path this source matches has `/` or its end right after its literal
    /// start (`/guide-1(/?)`, `/docs/:path*`, `/platforms(/.*)?`), so that the path's segment
    /// there is the literal start's last segment whole: a rule can be routed by it as by a
    /// literal segment. Decided from the source's tokens, and `false` when unsure.
    pub(crate) fn ends_segment(&self) -> bool {
        self.ends_segment
    }

    /// The names `to` may use: `:name` for each named group, `$1`, `$2`, ... for every group.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.groups
            .iter()
            .flatten()
            .map(|n| &**n)
            .chain(self.numbers.iter().map(|n| &**n))
    }

    /// Matches the request path and appends its captures (raw, as sent) to `out`: each named
    /// group under its name, every group under `$k`.
    pub(crate) fn captures<'p, 'a, T, const N: usize>(
        &'p self,
        path: &PathSegments<'a>,
        out: &mut SmallVec<[(&'p str, T); N]>,
        wrap: impl Fn(&'a str) -> T,
    ) -> bool {
        // The path as sent; with a trailing slash that matching may ignore, the path without
        // it too (alone when captures leave the slash out: `"remove"`).
        let full = path.path;
        let trimmed = match path.raw.last() {
            Some(&(_, e)) => &full[..e],
            None => &full[..full.len().min(1)],
        };
        let texts: SmallVec<[&str; 2]> = if trimmed.len() == full.len() {
            SmallVec::from_slice(&[full])
        } else if path.rest_to_end {
            SmallVec::from_slice(&[full, trimmed])
        } else {
            SmallVec::from_slice(&[trimmed])
        };
        let Some(vm) = self.vm() else {
            return false;
        };
        let slots_len = vm.vm.get_nfa().group_info().slot_len();
        let mut slots: SmallVec<[Option<NonMaxUsize>; 16]> = SmallVec::from_elem(None, slots_len);
        let mut found = None;
        for raw in texts {
            // The decoded text, and where each of its bytes starts in `raw` (when it differs).
            let (decoded, map): (std::borrow::Cow<'_, [u8]>, Option<Vec<u32>>) =
                if raw.as_bytes().contains(&b'%') {
                    let (d, m) = decode_with_offsets(raw);
                    (d.into(), Some(m))
                } else {
                    (raw.as_bytes().into(), None)
                };
            if search(vm, &decoded, &mut slots) {
                found = Some((raw, map));
                break;
            }
        }
        let Some((raw, map)) = found else {
            return false;
        };
        let to_raw = |i: usize| map.as_ref().map_or(i, |m| m[i] as usize);
        for (k, name) in self.groups.iter().enumerate() {
            let (s, e) = (slots.get(2 * k + 2), slots.get(2 * k + 3));
            let text = match (s.copied().flatten(), e.copied().flatten()) {
                (Some(s), Some(e)) => raw.get(to_raw(s.get())..to_raw(e.get())).unwrap_or(""),
                _ => "",
            };
            if let Some(n) = name {
                out.push((n, wrap(text)));
            }
            out.push((&self.numbers[k], wrap(text)));
        }
        true
    }
}

/// Builds the automaton of a translated regular expression, within [`MAX_NFA_BYTES`].
fn automaton(re: &str, fold: bool) -> Result<Vm, Refusal> {
    let hir = parser(fold).parse(re).map_err(|e| syntax_error(&e))?;
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(false)
                .shrink(false)
                .nfa_size_limit(Some(MAX_NFA_BYTES)),
        )
        .build_from_hir(&hir)
        .map_err(|_| -> Refusal {
            "the pattern expands into too large an automaton (nested or large repeats); simplify it"
                .into()
        })?;
    let vm = PikeVM::new_from_nfa(nfa)
        .map_err(|_| -> Refusal { "the pattern cannot be compiled; simplify it".into() })?;
    Ok(Vm {
        vm,
        id: NEXT_VM.fetch_add(1, Ordering::Relaxed),
    })
}

/// Whether the whole of `text` matches `vm`, with the groups' bounds in `slots`.
fn search(vm: &Vm, text: &[u8], slots: &mut [Option<NonMaxUsize>]) -> bool {
    let input = Input::new(text).anchored(Anchored::Yes);
    let mut search =
        |cache: &mut thompson::pikevm::Cache| vm.vm.search_slots(cache, &input, slots).is_some();
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut kept) => {
            let cache = match kept.as_mut() {
                Some((id, cache)) if *id == vm.id => cache,
                _ => &mut kept.insert((vm.id, vm.vm.create_cache())).1,
            };
            search(cache)
        }
        // In use further up this thread's stack: a scratch space of its own.
        Err(_) => search(&mut vm.vm.create_cache()),
    })
}

/// `raw` percent-decoded (`%2F` kept as it is), and for each decoded byte (and the end) the
/// byte of `raw` it starts at.
fn decode_with_offsets(raw: &str) -> (Vec<u8>, Vec<u32>) {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut map = Vec::with_capacity(bytes.len() + 1);
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten();
        match escape {
            Some((h, l)) if (h << 4 | l) != b'/' => {
                out.push(h << 4 | l);
                map.push(i as u32);
                i += 3;
            }
            Some(_) => {
                out.extend_from_slice(b"%2F");
                map.extend([i as u32, i as u32 + 1, i as u32 + 2]);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                map.push(i as u32);
                i += 1;
            }
        }
    }
    map.push(bytes.len() as u32);
    (out, map)
}

/// Checks one group's regular expression on its own (as a placeholder constraint is
/// checked), for an error that names it.
fn check_pattern(pattern: &str, fold: bool) -> Result<(), Refusal> {
    parse_hir(pattern, fold).map(drop).map_err(|m| {
        let why = if m.contains("look-around") || m.contains("backreference") {
            ": it cannot run in time linear in the path's length, which every request needs"
        } else {
            ""
        };
        format!("`({pattern})`: {m}{why}").into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(source: &str, path: &str) -> Option<Vec<(String, String)>> {
        caps_of(&PathRegex::parse(source, false).unwrap(), path)
    }

    fn caps_of(re: &PathRegex, path: &str) -> Option<Vec<(String, String)>> {
        let segs = PathSegments::new(path, true, true);
        let mut out: SmallVec<[(&str, &str); 8]> = SmallVec::new();
        re.captures(&segs, &mut out, |s| s).then(|| {
            out.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        })
    }

    #[test]
    fn a_deferred_source_builds_its_automaton_when_first_matched_and_matches_alike() {
        let cases = [
            ("/guide-1(/?)", ["/guide-1", "/guide-1/", "/guide-12"]),
            ("/docs/:path*", ["/docs", "/docs/a/b", "/docsx"]),
            ("/x/(a|b)/(.*)", ["/x/a/zz", "/x/c/zz", "/x/b/"]),
        ];
        for (source, paths) in cases {
            let eager = PathRegex::compile(source, false).unwrap();
            let deferred = PathRegex::compile_deferred(source, false).unwrap();
            assert!(
                eager.vm.get().is_some() && deferred.vm.get().is_none(),
                "{source}"
            );
            assert_eq!(eager.heap_bytes(), deferred.heap_bytes(), "{source}");
            assert_eq!(eager.literal(), deferred.literal(), "{source}");
            for path in paths {
                assert_eq!(
                    caps_of(&eager, path),
                    caps_of(&deferred, path),
                    "{source} {path}"
                );
            }
            assert!(deferred.vm.get().is_some(), "{source}");
        }
        // A source that does not build matches nothing (a build refuses it before a part).
        let broken = PathRegex::compile_deferred("/a/(x{100000})", false).unwrap();
        assert_eq!(caps_of(&broken, "/a/x"), None);
        assert!(PathRegex::compile("/a/(x{100000})", false).is_err());
    }

    fn pairs(p: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            p.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn reads_what_vercel_sources_write() {
        assert_eq!(
            caps("/docs/:slug(/?)", "/docs/"),
            pairs(&[("slug", ""), ("$1", "")]),
            "`(/?)` is the slug's own pattern"
        );
        assert_eq!(
            caps("/docs/:slug(/?)", "/docs/a/"),
            None,
            "`(/?)` is the slug's own pattern"
        );
        assert_eq!(caps("/guides(/?)", "/guides/"), pairs(&[("$1", "/")]));
        assert_eq!(caps("/guides(/?)", "/guides"), pairs(&[("$1", "")]));
        assert_eq!(caps("/api/([^/]*)/v1", "/api/x/v1"), pairs(&[("$1", "x")]));
        assert_eq!(caps("/api/([^/]*)/v1", "/api//v1"), pairs(&[("$1", "")]));
        assert_eq!(caps("/meta/(.*)", "/meta/a/b"), pairs(&[("$1", "a/b")]));
        assert_eq!(caps("/meta/(.*)", "/meta"), None);
        assert_eq!(caps("/platforms(/.*)?", "/platforms"), pairs(&[("$1", "")]));
        assert_eq!(
            caps("/platforms(/.*)?", "/platforms/x/y"),
            pairs(&[("$1", "/x/y")])
        );
        assert_eq!(caps("/platforms(/.*)?", "/platformsx"), None);
        assert_eq!(
            caps("/docs/:path*(/?)", "/docs/a/b/"),
            pairs(&[("path", "a/b"), ("$1", "a/b"), ("$2", "/")])
        );
        assert_eq!(
            caps("/docs/:path*(/?)", "/docs"),
            pairs(&[("path", ""), ("$1", ""), ("$2", "")])
        );
        assert_eq!(
            caps("/:lang(en|de)?/x", "/x"),
            pairs(&[("lang", ""), ("$1", "")])
        );
        assert_eq!(
            caps("/:lang(en|de)?/x", "/de/x"),
            pairs(&[("lang", "de"), ("$1", "de")])
        );
        assert_eq!(caps("/a{-:b}?", "/a-c"), pairs(&[("b", "c"), ("$1", "c")]));
        assert_eq!(caps("/a{-:b}?", "/a"), pairs(&[("b", ""), ("$1", "")]));
        assert_eq!(caps("/file(\\.js)?", "/file.js"), pairs(&[("$1", ".js")]));
        assert_eq!(caps("/a\\(b\\)", "/a(b)"), pairs(&[]));
        assert_eq!(caps("/A", "/a"), None, "case-sensitive");
        let folded = PathRegex::parse("/A/:b", true).unwrap();
        let mut out: SmallVec<[(&str, &str); 4]> = SmallVec::new();
        let path = PathSegments::new("/a/B", false, true);
        assert!(folded.captures(&path, &mut out, |s| s));
        assert_eq!(out[0], ("b", "B"), "case folds; the capture is as sent");
    }

    #[test]
    fn captures_are_raw_and_matching_decoded() {
        assert_eq!(
            caps("/café/:x", "/caf%C3%A9/a%20b"),
            pairs(&[("x", "a%20b"), ("$1", "a%20b")])
        );
        assert_eq!(
            caps("/a/:x", "/a/b%2Fc"),
            pairs(&[("x", "b%2Fc"), ("$1", "b%2Fc")]),
            "an encoded slash is not a delimiter"
        );
    }

    #[test]
    fn a_source_ends_its_segment_where_a_slash_or_the_end_must_follow_its_literal_start() {
        let ends = |s: &str| PathRegex::parse(s, true).unwrap().ends_segment();
        for source in [
            "/guide-1(/?)",
            "/docs/:path*",
            "/platforms(/.*)?",
            "/about",
            "/blog/:slug?",
            "/a{/:b}?",
            "/x(/?){/:y}?",
            "/docs/:path+",
        ] {
            assert!(ends(source), "{source}");
        }
        for source in [
            "/guide-1(.*)",
            "/file{.:ext}?",
            "/file.:ext",
            "/a(-b)?",
            "/a(/?)-b",
            "/a(/|-)x",
            "/a:b",
            "/a(/*)x",
            "/a(/b|c)",
        ] {
            assert!(!ends(source), "{source}");
        }
    }

    #[test]
    fn literal_material() {
        let lit = |s: &str| PathRegex::parse(s, true).unwrap().literal().to_string();
        assert_eq!(lit("/Docs/:path*"), "/docs");
        assert_eq!(lit("/guides(/?)"), "/guides");
        assert_eq!(
            lit("/api/([^/]*)/v1"),
            "/api/",
            "a prefix that must be there"
        );
        assert_eq!(
            lit("/api/:p?"),
            "/api",
            "an optional group's prefix need not"
        );
        assert_eq!(lit("/api/x-(.*)"), "/api/x-");
        assert_eq!(lit("/:a"), "/");
    }

    #[test]
    fn refusals_say_why() {
        for (source, says) in [
            ("/a/(?=b)", "starts with `?`"),
            ("/a/((?=b)c)", "look-around"),
            (r"/a/((?:x)\1)", "backreference"),
            ("/a/(b(c))", "captures inside"),
            ("/a/*", "follows nothing"),
            ("/a/(^b)", "anchors"),
            ("/a/:", "no name"),
            ("/a/(b", "not closed"),
            ("/:a/:a", "captured twice"),
            ("/a{b", "should close"),
            ("a", "start with"),
        ] {
            let err = PathRegex::parse(source, false).unwrap_err();
            assert!(err.contains(says), "{source}: {err}");
        }
    }
}
