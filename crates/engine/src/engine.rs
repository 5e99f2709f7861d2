//! The compiled engine: compile once, evaluate many times.

use crate::answer::Decision;
use crate::answer::Passthrough;
use crate::artifact::{Artifact, ArtifactError, How, Need};
use crate::compile::{compile, compile_value, json, Bundle};
use crate::error::CompileErrors;
use crate::evaluate;
use crate::evaluate::trace::{Explanation, TraceStep};
use crate::index::candidates::Candidates;
use crate::index::lookup::Index;
use crate::index::prepared::{Paths, Prepared};
use crate::index::timed::Clock;
use crate::model::rule::Rule;
use crate::model::settings::Settings;
use crate::request::visitor::Query;
use crate::request::Request;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::sync::OnceLock;

/// A compiled, immutable rule bundle. Compile once, evaluate many times; share freely.
///
/// Compiled from JSON ([`Engine::compile`]), every rule is compiled at once; loaded from an
/// artifact ([`Engine::load`]), each part of the bundle is compiled the first time a request
/// needs it. Either way a request is evaluated by the same code.
#[derive(Debug)]
pub struct Engine {
    pub(crate) settings: Settings,
    source: Source,
    /// Whether some rule sets its own `case_sensitive` against the bundle's: a request's path
    /// is then also compared in the other case.
    pub(crate) both_cases: bool,
}

/// Where an engine's rules come from.
#[derive(Debug)]
enum Source {
    /// Compiled from JSON: every rule, in one part.
    Whole(Box<Part>),
    /// An artifact: parts compiled on first use.
    Artifact(Box<Artifact>),
}

/// Compiled rules with their own index: the whole bundle, or one part of an artifact (from
/// [`Engine::decode_part`] when parts are kept apart from the head). Rules keep their number
/// in the bundle ([`Rule::index`]); the index numbers them by position here.
#[derive(Debug)]
pub struct Part {
    pub(crate) rules: Vec<Rule>,
    /// Built with the part, or (a piece cut by [`Part::narrow`]) when first read: most
    /// pieces of a part are kept for a request that may never come.
    index: OnceLock<Index>,
    /// The part's number in its artifact (`usize::MAX` for a whole bundle).
    number: usize,
    /// For a part cut to one home ([`Part::narrow`]): that home's hash.
    home: Option<u64>,
    /// For a part decoded from an artifact: each rule's home, as the build routed it.
    homes: Box<[u64]>,
    /// The bytes of the stored part these rules were compiled from (a piece cut by
    /// [`Part::narrow`] has its rules' share); 0 when not compiled from a stored part.
    encoded: u32,
}

impl Part {
    pub(crate) fn new(rules: Vec<Rule>, number: usize) -> Part {
        let index = OnceLock::from(Index::build(&rules));
        Part {
            rules,
            index,
            number,
            home: None,
            homes: Box::default(),
            encoded: 0,
        }
    }

    /// A part compiled from `encoded` bytes of a stored artifact, its rules living at `homes`.
    pub(crate) fn decoded(
        rules: Vec<Rule>,
        homes: Box<[u64]>,
        number: usize,
        encoded: u32,
    ) -> Part {
        Part {
            encoded,
            homes,
            ..Part::new(rules, number)
        }
    }

    /// An estimate of the memory this part takes, in bytes, for a cache that keeps parts
    /// within a memory budget: [`crate::artifact::PART_BYTES_PER_ENCODED_BYTE`] for each byte of the stored
    /// part it was compiled from, plus [`crate::artifact::PART_BYTES_PER_RULE`] for each rule: at
    /// least what the part takes, and at most about twice, for the rules measured. A piece cut by
    /// [`Part::narrow`] is costed its rules' share of the part's bytes (by their number).
    pub fn cost(&self) -> usize {
        use crate::artifact::{PART_BYTES_PER_ENCODED_BYTE, PART_BYTES_PER_RULE};
        (self.encoded as usize)
            .saturating_mul(PART_BYTES_PER_ENCODED_BYTE)
            .saturating_add(self.rules.len().saturating_mul(PART_BYTES_PER_RULE))
    }

    /// This part cut by home ([`Need::home`]): the rules living at `home` as a part of their
    /// own (empty if none do), and one part for each other home it holds. The part of a home
    /// stands in for this whole part for every request with that home ([`Part::serves`]), so a
    /// reader that keeps many requests' rules (the worker, with parts read from KV) keeps
    /// these, about one rule each, instead of whole parts of about 64. Rules move, in file
    /// order; each piece builds its index when first read.
    pub fn narrow(self, home: u64) -> (Part, Vec<Part>) {
        let number = self.number;
        let (encoded, total) = (self.encoded as usize, self.rules.len().max(1));
        if self.homes.len() != self.rules.len() {
            // Not decoded from an artifact: no homes to cut by.
            return (self, Vec::new());
        }
        // Linear: each home's group found by a map, whatever the number of homes.
        let mut groups: Vec<(u64, Vec<Rule>)> = vec![(home, Vec::new())];
        let mut at: rustc_hash::FxHashMap<u64, usize> = Default::default();
        at.insert(home, 0);
        for (rule, &h) in self.rules.into_iter().zip(self.homes.iter()) {
            let g = *at.entry(h).or_insert_with(|| {
                groups.push((h, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(rule);
        }
        let mut pieces = groups.into_iter().map(|(h, rules)| Part {
            // The piece's share of the stored bytes, by its rules.
            encoded: (encoded.saturating_mul(rules.len()) / total) as u32,
            rules,
            index: OnceLock::new(),
            number,
            home: Some(h),
            homes: Box::default(),
        });
        let wanted = pieces.next().expect("the wanted home comes first");
        (wanted, pieces.collect())
    }

    /// The home this part was narrowed to, if it was.
    pub fn home(&self) -> Option<u64> {
        self.home
    }

    /// Whether this part answers for `need`: its part, whole or narrowed to its home.
    pub fn serves(&self, need: &Need) -> bool {
        self.number == need.part && self.home.is_none_or(|h| h == need.home)
    }

    /// The part's number in its artifact.
    pub fn number(&self) -> usize {
        self.number
    }

    /// How many rules it holds.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether it holds no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// This part's candidate rules for a request, ascending.
    fn collect<'e>(
        &'e self,
        host: &str,
        paths: &Paths<'_>,
        query: &mut Query<'_>,
        clock: &mut Clock,
        out: &mut SmallVec<[&'e Rule; 8]>,
    ) {
        let mut ids = Candidates::new();
        self.index
            .get_or_init(|| Index::build(&self.rules))
            .candidates(&self.rules, host, paths, query, clock, &mut ids);
        out.extend(ids.iter().map(|&i| &self.rules[i as usize]));
    }
}

/// The homes a request's rules can live in, for each form of its path (a rule with its own
/// `case_sensitive` lives where its literals, in its case, say), each once; `None` when the
/// artifact's filter is damaged.
fn needs_of(a: &Artifact, host: &str, paths: &Paths<'_>) -> Option<SmallVec<[Need; 4]>> {
    let mut out: SmallVec<[Need; 4]> = SmallVec::new();
    for (_, (path, key)) in paths.each() {
        for need in a.needs(host, key, &path.decoded)? {
            if !out.contains(&need) {
                out.push(need);
            }
        }
    }
    Some(out)
}

/// Merges runs ascending by rule number into `out`, ascending (a request reads at most a few
/// parts, so the head of each run is compared directly).
fn merge_runs<'e>(runs: &mut [SmallVec<[&'e Rule; 8]>], out: &mut SmallVec<[&'e Rule; 8]>) {
    let mut at: SmallVec<[usize; 4]> = runs.iter().map(|_| 0).collect();
    loop {
        let next = (0..runs.len())
            .filter(|&r| at[r] < runs[r].len())
            .min_by_key(|&r| runs[r][at[r]].index);
        let Some(r) = next else { break };
        out.push(runs[r][at[r]]);
        at[r] += 1;
    }
}

impl Engine {
    /// Parses and validates `rules.json` text, returning every error at once.
    pub fn compile(text: &str) -> Result<Engine, CompileErrors> {
        compile(text).map(Engine::whole)
    }

    /// Validates an already parsed bundle, returning every error at once.
    pub fn from_value(value: &serde_json::Value) -> Result<Engine, CompileErrors> {
        compile_value(&json::Value::from_serde(value)).map(Engine::whole)
    }

    fn whole(bundle: Bundle) -> Engine {
        let both_cases = bundle
            .rules
            .iter()
            .any(|r| r.case_sensitive != bundle.settings.case_sensitive);
        Engine {
            settings: bundle.settings,
            source: Source::Whole(Box::new(Part::new(bundle.rules, usize::MAX))),
            both_cases,
        }
    }

    /// Opens an artifact written by [`crate::artifact::build`] (`redirects build`): checks
    /// its header, directory, bounds and every part's checksum, and compiles only its
    /// settings. Time and memory grow with the number of parts, not with the rules: each part
    /// is compiled when a request first needs it.
    pub fn load(bytes: impl Into<Cow<'static, [u8]>>) -> Result<Engine, ArtifactError> {
        Engine::open(bytes.into(), How::Full)
    }

    /// [`Engine::load`] for an artifact the program carries (embedded when it was built): the
    /// parts' checksums are checked when each part is first compiled, not all at once, so the
    /// start costs the same at a thousand rules and at a million.
    pub fn load_embedded(bytes: &'static [u8]) -> Result<Engine, ArtifactError> {
        Engine::open(Cow::Borrowed(bytes), How::Lazy)
    }

    /// Opens the head of an artifact whose parts are stored apart ([`crate::artifact::split`]):
    /// [`Engine::parts_needed`] says which parts a request needs, [`Engine::decode_part`]
    /// turns their bytes into [`Part`]s, and [`Engine::evaluate_with`] evaluates with them.
    pub fn load_head(bytes: impl Into<Cow<'static, [u8]>>) -> Result<Engine, ArtifactError> {
        Engine::open(bytes.into(), How::Head)
    }

    fn open(bytes: Cow<'static, [u8]>, how: How) -> Result<Engine, ArtifactError> {
        let (artifact, settings) = Artifact::open(bytes, how)?;
        let settings = compile(&settings)
            .map_err(|e| ArtifactError::Settings(format!("do not compile: {e}")))?
            .settings;
        Ok(Engine {
            settings,
            both_cases: artifact.both_cases(),
            source: Source::Artifact(Box::new(artifact)),
        })
    }

    /// The rules, in file order. An engine loaded from an artifact compiles every part for
    /// this (once); evaluating never needs it. An engine loaded from a head lists none.
    pub fn rules(&self) -> &[Rule] {
        match &self.source {
            Source::Whole(part) => &part.rules,
            Source::Artifact(a) => &a.whole(&self.settings).rules,
        }
    }

    /// How many rules the bundle holds, without compiling any.
    pub fn rule_count(&self) -> usize {
        match &self.source {
            Source::Whole(part) => part.rules.len(),
            Source::Artifact(a) => a.rule_count(),
        }
    }

    /// For an engine loaded from an artifact: its content id (the same bundle text always
    /// builds the same id) and its number of parts.
    pub fn artifact(&self) -> Option<(u64, usize)> {
        match &self.source {
            Source::Whole(_) => None,
            Source::Artifact(a) => Some((a.id(), a.part_count())),
        }
    }

    /// The bundle's settings, defaults filled in.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// For an engine loaded from a head: the parts `request` needs that its caller must hand
    /// to [`Engine::evaluate_with`], by number. Empty for any other engine, and for a request
    /// no rule is near (the filter holds every rule's home), which then reads no storage.
    pub fn parts_needed(&self, request: &Request<'_>) -> SmallVec<[usize; 4]> {
        let mut out: SmallVec<[usize; 4]> = SmallVec::new();
        for need in self.needs(request) {
            // At most four: kept ascending and unique by insertion.
            if let Err(at) = out.binary_search(&need.part) {
                out.insert(at, need.part);
            }
        }
        out
    }

    /// For an engine loaded from a head: what `request` needs, home by home, so a caller can
    /// hand [`Engine::evaluate_with`] each part whole or [cut](Part::narrow) to the home.
    /// Empty where [`Engine::parts_needed`] is.
    pub fn needs(&self, request: &Request<'_>) -> SmallVec<[Need; 4]> {
        match &self.source {
            Source::Artifact(a) if a.head_only() => self
                .prepare(request)
                .and_then(|p| needs_of(a, &p.host, &p.paths))
                .unwrap_or_default(),
            _ => SmallVec::new(),
        }
    }

    /// For an engine loaded from an artifact: the length in bytes of part `number` as the
    /// directory gives it (`None` if there is no such part), so that a reader can refuse a
    /// stored value of another length before reading it whole.
    pub fn part_len(&self, number: usize) -> Option<usize> {
        match &self.source {
            Source::Artifact(a) => a.part_len(number),
            Source::Whole(_) => None,
        }
    }

    /// Part `number` of a head's artifact from its stored bytes, checked against the head's
    /// directory and compiled.
    pub fn decode_part(&self, number: usize, bytes: &[u8]) -> Result<Part, ArtifactError> {
        match &self.source {
            Source::Artifact(a) => a.decode(number, bytes, &self.settings),
            Source::Whole(_) => Err(ArtifactError::NoParts),
        }
    }

    /// [`Engine::evaluate`] with the parts a head needs for this request
    /// ([`Engine::parts_needed`]). A needed part missing from `parts` sends the request to the
    /// origin, as if no rule were written: a later rule never answers for an earlier one it
    /// cannot see.
    pub fn evaluate_with<'e>(&'e self, request: &Request<'_>, parts: &[&'e Part]) -> Decision<'e> {
        self.run(request, None, parts)
    }

    /// Candidate rules for a request, ascending by file order; `false` when a part the
    /// request needs is damaged or missing, and the request must go to the origin as if no
    /// rule were written (a later rule must not answer for an earlier one it cannot see).
    fn candidates<'e>(
        &'e self,
        host: &str,
        paths: &Paths<'_>,
        query: &mut Query<'_>,
        clock: &mut Clock,
        supplied: &[&'e Part],
        out: &mut SmallVec<[&'e Rule; 8]>,
    ) -> bool {
        match &self.source {
            Source::Whole(part) => part.collect(host, paths, query, clock, out),
            Source::Artifact(a) => {
                // Each part's candidates are ascending; merged into one ascending list.
                let mut runs: SmallVec<[SmallVec<[&'e Rule; 8]>; 4]> = SmallVec::new();
                let mut read: SmallVec<[&'e Part; 4]> = SmallVec::new();
                let Some(needs) = needs_of(a, host, paths) else {
                    return false;
                };
                for need in &needs {
                    // A head's parts are handed over by the caller, whole or cut to the
                    // home needed; a part serving two homes is read once.
                    let part = if a.head_only() {
                        supplied.iter().copied().find(|s| s.serves(need))
                    } else {
                        a.part(need.part, &self.settings)
                    };
                    let Some(part) = part else {
                        out.clear();
                        return false;
                    };
                    if !read.iter().any(|r| std::ptr::eq(*r, part)) {
                        read.push(part);
                    }
                }
                for part in read {
                    let mut run = SmallVec::new();
                    part.collect(host, paths, query, clock, &mut run);
                    runs.push(run);
                }
                merge_runs(&mut runs, out);
            }
        }
        true
    }

    /// Decides what to do with a request. Never panics, never fails: a request the engine
    /// cannot read is passed to the origin.
    pub fn evaluate<'e>(&'e self, request: &Request<'_>) -> Decision<'e> {
        self.run(request, None, &[])
    }

    /// Like [`Engine::evaluate`], with the reasoning for each candidate rule.
    pub fn explain<'e>(&'e self, request: &Request<'_>) -> Explanation<'e> {
        let mut trace = Vec::new();
        let decision = self.run(request, Some(&mut trace), &[]);
        Explanation { decision, trace }
    }

    /// `request` prepared once for this engine's rules: split, its host lower-cased, its path
    /// cut as the index compares it. `None` for a URL the engine cannot read.
    fn prepare<'r>(&self, request: &Request<'r>) -> Option<Prepared<'r>> {
        Prepared::new(request, &self.settings, self.both_cases)
    }

    /// Evaluates `request`; with `trace`, records each candidate's verdict. `supplied`: the
    /// parts a head needs ([`Engine::evaluate_with`]). The request is prepared once, then its
    /// candidates found and tried.
    fn run<'e>(
        &'e self,
        request: &Request<'_>,
        trace: Option<&mut Vec<TraceStep<'e>>>,
        supplied: &[&'e Part],
    ) -> Decision<'e> {
        let Some(prepared) = self.prepare(request) else {
            return Decision::Origin(Passthrough::default());
        };
        let (host, paths) = (&prepared.host, &prepared.paths);
        evaluate::run(
            &self.settings,
            request,
            &prepared,
            trace,
            |query, clock, out| self.candidates(host, paths, query, clock, supplied, out),
        )
    }
}
