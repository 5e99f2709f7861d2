//! The fuzz input: the shapes of the bundle's rule groups and of the hostile request, the
//! bounds on their sizes, and the names and values both sides draw from.

use arbitrary::Arbitrary;

// Sizes are bounded so that one input compiles and runs in milliseconds (libFuzzer must make
// progress) while still reaching the sizes a real request can have: Cloudflare accepts URLs up
// to 16 KB and request headers up to 128 KB in all (32 KB per header, as the cases of the
// issue that motivated this target use).
/// Most rules in one bundle (well under `limits::MAX_RULES`: compile time is per input).
pub const MAX_RULES: usize = 4_000;
/// Most rules in one group (rules sharing a path and a shape).
pub const MAX_GROUP: usize = 2_000;
/// Longest request URL.
pub const MAX_URL: usize = 16 * 1024;
/// Longest single header value.
pub const MAX_HEADER: usize = 32 * 1024;
/// Most bytes of headers in all.
pub const MAX_HEADERS_TOTAL: usize = 128 * 1024;
/// Most entries in one condition list (a quarter of the most query names in one target).
pub const MAX_LIST: usize = 256;
/// Most bytes of bundle text: compile time grows with it (about 0.1 s a megabyte here), and a
/// request meets one target only, so long targets and lists need not repeat on every rule.
pub const MAX_BUNDLE_TEXT: usize = 512 * 1024;

/// Names used on both sides, so rules and requests meet.
pub const NAMES: &[&str] = &[
    "campaign",
    "a",
    "utm_source",
    "ref",
    "id",
    "session",
    "x",
    "lang",
];
/// Values used on both sides.
pub const VALUES: &[&str] = &["x", "1", "spring", "v", "", "abc", "de", "Mobile"];
/// Language tags for Accept-Language items (the empty one makes runs of commas).
pub const LANGS: &[&str] = &["", "de", "de-AT", "en", "fr", "*", "en-US", "zz"];
pub const PRIMARY: &[&str] = &["de", "en", "fr", "es", "it", "nl", "pl", "zz"];
pub const CONTINENTS: &[&str] = &["EU", "NA", "AS", "AF", "AN", "OC", "SA"];

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub groups: Vec<Group>,
    pub request: RequestSpec,
}

/// `count` rules of one shape on one path; rule `i` varies what `Vary` marks by `i`.
#[derive(Arbitrary, Debug)]
pub struct Group {
    pub count: u16,
    pub path: PathShape,
    pub when: Vec<Cond>,
    pub unless: Vec<Cond>,
    pub target: TargetSpec,
    pub split: Option<SplitSpec>,
    pub methods_post: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum PathShape {
    Root,
    One,
    Two,
    Param,
    Splat,
    RootParam,
    /// `/p` and then `1 + segments % 4` shaped placeholders, each `:sK(CONSTRAINTS[c])`
    /// with the rule's index written into the constraint where it has `{i}`, or
    /// `pre-{:sK}.html` when `c` picks past the list.
    Shaped { constraint: u8, segments: u8 },
}

/// Constraints of shaped placeholders, realistic and built to hurt a backtracking or
/// Thompson-simulating engine; `{i}` becomes the rule's index.
pub const CONSTRAINTS: &[&str] = &[
    "[a-z0-9-]+-v{i}",
    r"\d+",
    "(a|a)*{i}b",
    "((a*)*)*x{i}",
    "[a-z]{2}(-[a-z]{2})?",
    "(.*){8}z{i}",
    "(?:en|de|fr|es)-{i}",
    ".*",
    "((a|b|ab)*c){2}",
    "(a?){32}a{16}",
    "((.*){16}){4}-{i}",
    "[^-]+-[^-]+-{i}",
];

/// Fillers of long request segments, each close to some constraint above.
pub const FILLS: &[&str] = &["a", "a-", "ab", "ab-v", "1", "x", "%61", "a%2F"];

impl PathShape {
    /// The pattern of rule `i`, a path that matches the group's shape, and how many shaped
    /// segments follow `/p` (0 for the other shapes). The control path
    /// `/__control/none/of/these` (four segments, no rule starts with `__control`) is reached
    /// by no rule.
    pub fn pattern(self, i: usize) -> (String, &'static str, usize) {
        let (pattern, path) = match self {
            PathShape::Root => ("/", "/"),
            PathShape::One => ("/p", "/p"),
            PathShape::Two => ("/p/q", "/p/q"),
            PathShape::Param => ("/p/:seg", "/p/anything"),
            PathShape::Splat => ("/p/*", "/p/a/b/c"),
            PathShape::RootParam => ("/:seg", "/anything"),
            PathShape::Shaped {
                constraint,
                segments,
            } => {
                let n = 1 + usize::from(segments) % 4;
                let c = usize::from(constraint) % (CONSTRAINTS.len() + 1);
                let mut pattern = String::from("/p");
                for k in 0..n {
                    match CONSTRAINTS.get(c) {
                        Some(text) => {
                            let text = text.replace("{i}", &i.to_string());
                            pattern.push_str(&format!("/:s{k}({text})"));
                        }
                        None => pattern.push_str(&format!("/pre-{{:s{k}}}.html")),
                    }
                }
                return (pattern, "/p/x", n);
            }
        };
        (pattern.into(), path, 0)
    }
}

/// A name: fixed, or `NAMES[base]` followed by the rule's index modulo `modulo`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Name {
    Fixed(u8),
    Indexed(u8, u16),
}

impl Name {
    pub fn for_rule(self, i: usize) -> String {
        match self {
            Name::Fixed(b) => pick(NAMES, b).to_string(),
            Name::Indexed(b, m) => format!("{}{}", pick(NAMES, b), i % (usize::from(m) + 1)),
        }
    }
}

/// A value test as the bundle writes it; `Indexed*` vary with the rule's index.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum GlobShape {
    Any,
    Exact(u8),
    IndexedExact(u8),
    Prefix(u8),
    Contains(u8),
    IndexedContains(u8),
    /// `*v*v*...*v`: `n` pieces, the slow shape for a glob matcher.
    Pieces(u8, u8),
}

impl GlobShape {
    pub fn for_rule(self, i: usize) -> String {
        match self {
            GlobShape::Any => "*".into(),
            GlobShape::Exact(v) => nonempty(pick(VALUES, v)).into(),
            GlobShape::IndexedExact(v) => format!("{}{i}", pick(VALUES, v)),
            GlobShape::Prefix(v) => format!("{}*", nonempty(pick(VALUES, v))),
            GlobShape::Contains(v) => format!("*{}*", nonempty(pick(VALUES, v))),
            GlobShape::IndexedContains(v) => format!("*{}{i}*", pick(VALUES, v)),
            GlobShape::Pieces(v, n) => {
                let piece = nonempty(pick(VALUES, v));
                let n = 2 + usize::from(n) % 16;
                vec![piece; n].join("*")
            }
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Cond {
    Query(Name, GlobShape),
    Capture(Name),
    Cookie(Name, GlobShape),
    Header(Name, GlobShape),
    /// `n` primary subtags, starting at the rule's index when `vary`.
    Language(u8, bool),
    Country(u8, bool),
    Continent(u8),
    Region(u8),
    City(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct TargetSpec {
    /// Query parameters the target sets: `NAMES[base]0=1&NAMES[base]1=1...`.
    pub query_names: u16,
    pub base: u8,
    /// `:c` in the path when a `when.query` capture exists.
    pub use_capture: bool,
    pub preserve_query: Option<bool>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct SplitSpec {
    pub cookie: Name,
    pub variants: u8,
    pub stay_first: bool,
}

/// Query pairs, cookie pairs, headers and language items come as runs: `repeat` copies,
/// numbered when the name is indexed, so a short input makes a large request.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Run {
    pub name: Name,
    /// Percent-encode every byte of the name (`%61` for `a`).
    pub encode: bool,
    pub value: u8,
    /// Extra bytes appended to the value.
    pub pad: u8,
    pub repeat: u16,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct LangRun {
    pub tag: u8,
    pub q: Option<u8>,
    pub repeat: u16,
}

#[derive(Arbitrary, Debug)]
pub struct RequestSpec {
    /// Which group's path the request is for.
    pub group: u8,
    pub post: bool,
    pub query: Vec<Run>,
    pub cookie: Vec<Run>,
    pub accept_language: Vec<LangRun>,
    pub headers: Vec<Run>,
    pub country: Option<u8>,
    pub continent: Option<u8>,
    pub random: u64,
    /// For a group of shaped placeholders: every segment after `/p` is `FILLS[fill]`
    /// repeated to `len % 12 KiB / segments` bytes (the control path has the same segments).
    pub segment: Option<(u16, u8)>,
}

pub fn pick<T: Copy>(list: &[T], i: u8) -> T {
    list[usize::from(i) % list.len()]
}

pub fn nonempty(s: &str) -> &str {
    if s.is_empty() {
        "e"
    } else {
        s
    }
}

/// Two ASCII letters from an index: `AA`, `AB`, ... (a country code shape).
pub fn letters(i: usize) -> String {
    let a = b'A' + (i / 26 % 26) as u8;
    let b = b'A' + (i % 26) as u8;
    String::from_utf8(vec![a, b]).unwrap()
}
