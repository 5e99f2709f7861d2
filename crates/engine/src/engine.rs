//! The compiled engine: compile once, evaluate many times.

use crate::answer::Decision;
use crate::answer::Passthrough;
use crate::artifact::{Artifact, ArtifactError, How, Need, Page, Part, PartsCheck};
use crate::compile::{compile, compile_value, json, Bundle};
use crate::error::CompileErrors;
use crate::evaluate;
use crate::evaluate::trace::{Explanation, TraceStep};
use crate::index::prepared::{Paths, Prepared};
use crate::index::timed::Clock;
use crate::model::rule::Rule;
use crate::model::settings::Settings;
use crate::request::visitor::Query;
use crate::request::Request;
use smallvec::SmallVec;
use std::borrow::Cow;

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

/// The homes a request's rules can live in, for each form of its path (a rule with its own
/// `case_sensitive` lives where its literals, in its case, say), each once, with their page.
/// `query`: the request's query, for rules that live by a parameter's value.
fn homes_of(
    a: &Artifact,
    host: &str,
    paths: &Paths<'_>,
    query: &mut Query<'_>,
) -> SmallVec<[(usize, u64); 24]> {
    let mut out: SmallVec<[(usize, u64); 24]> = SmallVec::new();
    for (_, (path, key)) in paths.each() {
        for home in a.homes(host, (key, &mut *query), &path.decoded) {
            if !out.contains(&home) {
                out.push(home);
            }
        }
    }
    out
}

/// What an engine loaded from a head is handed for one request ([`Engine::evaluate_with`]):
/// the pages of the filter its homes fall in ([`Engine::pages_needed`]) and the parts its needs
/// name ([`Engine::needs`]), each whole or cut to the home ([`Part::narrow`]). Empty for an
/// engine compiled from JSON or loaded whole.
#[derive(Debug, Clone, Copy, Default)]
pub struct Supply<'s, 'e> {
    /// Pages of the filter, by any order.
    pub pages: &'s [&'s Page],
    /// Parts, whole or cut to a home.
    pub parts: &'s [&'e Part],
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
    /// its header, page directory, bounds and every page's and part's checksum, and compiles only its
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

    /// Opens the head of an artifact whose pages and parts are stored apart
    /// ([`crate::artifact::split`]): [`Engine::pages_needed`] says which pages of the filter a
    /// request needs, [`Engine::needs`] which parts they name, [`Engine::decode_page`] and
    /// [`Engine::decode_part`] turn stored bytes into [`Page`]s and [`Part`]s, and
    /// [`Engine::evaluate_with`] evaluates with them.
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

    /// For an engine loaded from a head: the pages of the filter `request`'s homes fall in,
    /// ascending, which its caller hands to [`Engine::needs`] and [`Engine::evaluate_with`]
    /// ([`Engine::decode_page`] turns their stored bytes into [`Page`]s). At most one per
    /// home a request can have, whatever the bundle's size; empty for any other engine, and for
    /// a host no rule names when every rule names one.
    pub fn pages_needed(&self, request: &Request<'_>) -> SmallVec<[usize; 4]> {
        let mut out: SmallVec<[usize; 4]> = SmallVec::new();
        if let Source::Artifact(a) = &self.source {
            if let Some(p) = self.prepare(request).filter(|_| a.head_only()) {
                let mut query = Query::new(p.url.query);
                for (page, _) in homes_of(a, &p.host, &p.paths, &mut query) {
                    if let Err(at) = out.binary_search(&page) {
                        out.insert(at, page);
                    }
                }
            }
        }
        out
    }

    /// For an engine loaded from a head: what `request` needs, home by home, according to
    /// `pages` (those [`Engine::pages_needed`] names), so a caller can hand
    /// [`Engine::evaluate_with`] each part whole or [cut](Part::narrow) to the home. Empty for
    /// a request no rule is near, which then reads no part; `None` when a page it needs is not
    /// among `pages`.
    pub fn needs(&self, request: &Request<'_>, pages: &[&Page]) -> Option<SmallVec<[Need; 4]>> {
        match &self.source {
            Source::Artifact(a) if a.head_only() => {
                let Some(p) = self.prepare(request) else {
                    return Some(SmallVec::new());
                };
                let mut query = Query::new(p.url.query);
                a.needs(&homes_of(a, &p.host, &p.paths, &mut query), pages)
            }
            _ => Some(SmallVec::new()),
        }
    }

    /// Page `number` of a head's artifact from its stored bytes (at most
    /// [`crate::limits::MAX_PAGE_BYTES`]), checked: its checksum, that it belongs to this
    /// artifact and that it is that page.
    pub fn decode_page(&self, number: usize, bytes: &[u8]) -> Result<Page, ArtifactError> {
        match &self.source {
            Source::Artifact(a) => a.decode_page(number, bytes),
            Source::Whole(_) => Err(ArtifactError::NoParts),
        }
    }

    /// For an engine loaded from a whole artifact: every part compiled once, one at a time
    /// (memory: one part, whatever the rule count), and what that found; `None` for any other
    /// engine.
    pub fn check_parts(&self) -> Option<PartsCheck> {
        match &self.source {
            Source::Artifact(a) if !a.head_only() => Some(a.check_parts(&self.settings)),
            _ => None,
        }
    }

    /// For an engine loaded from a whole artifact: how many rules without a host have no
    /// literal material to be routed by and live at the catch-all, which every request reads
    /// (`redirects build` reports them when they are many). `None` for any other engine.
    pub fn catch_all_rules(&self) -> Option<usize> {
        match &self.source {
            Source::Artifact(a) => a.catch_all_rules(),
            Source::Whole(_) => None,
        }
    }

    /// For an engine loaded from an artifact: how many pages its filter has.
    pub fn page_count(&self) -> usize {
        match &self.source {
            Source::Artifact(a) => a.page_count(),
            Source::Whole(_) => 0,
        }
    }

    /// The part `need` names from its stored bytes, checked against its page's entry (length
    /// and checksum) and compiled.
    pub fn decode_part(&self, need: &Need, bytes: &[u8]) -> Result<Part, ArtifactError> {
        match &self.source {
            Source::Artifact(a) => a.decode(need, bytes, &self.settings),
            Source::Whole(_) => Err(ArtifactError::NoParts),
        }
    }

    /// [`Engine::evaluate`] with what a head needs for this request ([`Supply`]). A page or
    /// part it needs missing from `supply` sends the request to the origin, as if no rule were
    /// written: a later rule never answers for an earlier one it cannot see.
    pub fn evaluate_with<'e>(
        &'e self,
        request: &Request<'_>,
        supply: Supply<'_, 'e>,
    ) -> Decision<'e> {
        self.run(request, None, supply)
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
        supplied: Supply<'_, 'e>,
        out: &mut SmallVec<[&'e Rule; 8]>,
    ) -> bool {
        match &self.source {
            Source::Whole(part) => part.collect(host, paths, query, clock, out),
            Source::Artifact(a) => {
                // Each part's candidates are ascending; merged into one ascending list.
                let mut runs: SmallVec<[SmallVec<[&'e Rule; 8]>; 4]> = SmallVec::new();
                let mut read: SmallVec<[&'e Part; 4]> = SmallVec::new();
                let Some(needs) = a.needs(&homes_of(a, host, paths, query), supplied.pages) else {
                    out.clear();
                    return false;
                };
                for need in &needs {
                    // A head's parts are handed over by the caller, whole or cut to the
                    // home needed; a part serving two homes is read once.
                    let part = if a.head_only() {
                        supplied.parts.iter().copied().find(|s| s.serves(need))
                    } else {
                        a.part(need, &self.settings)
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
        self.run(request, None, Supply::default())
    }

    /// Like [`Engine::evaluate`], with the reasoning for each candidate rule.
    pub fn explain<'e>(&'e self, request: &Request<'_>) -> Explanation<'e> {
        let mut trace = Vec::new();
        let decision = self.run(request, Some(&mut trace), Supply::default());
        Explanation { decision, trace }
    }

    /// `request` prepared once for this engine's rules: split, its host lower-cased, its path
    /// cut as the index compares it. `None` for a URL the engine cannot read.
    fn prepare<'r>(&self, request: &Request<'r>) -> Option<Prepared<'r>> {
        Prepared::new(request, &self.settings, self.both_cases)
    }

    /// Evaluates `request`; with `trace`, records each candidate's verdict. `supplied`: the
    /// pages and parts a head needs ([`Engine::evaluate_with`]). The request is prepared once, then its
    /// candidates found and tried.
    fn run<'e>(
        &'e self,
        request: &Request<'_>,
        trace: Option<&mut Vec<TraceStep<'e>>>,
        supplied: Supply<'_, 'e>,
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
