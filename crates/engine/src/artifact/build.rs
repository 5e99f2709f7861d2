//! Writing an artifact: the bundle validated whole, then its rules routed to parts and each
//! part written as the JSON its rules were written in.

use super::page::{self, order, page_of, PartEntry};
use super::route::{fnv1a_from, key_of_text, Home, Routed, Router, Routing};
use super::{
    fnv1a, FLAG_BOTH_CASES, FLAG_HOSTLESS_HOMES, FLAG_HOST_HOMES, FLAG_HOST_TABLE, FORMAT_VERSION,
    HEADER_BYTES, MAGIC, MAX_PAGE_BITS, PAGE_HOMES, PART_BYTES_PER_ENCODED_BYTE,
    PART_BYTES_PER_RULE, PART_RULES,
};
use crate::compile::{compile_into, Limits};
use crate::error::{CompileError, CompileErrors, ErrorKind};
use crate::limits::{
    MAX_ARTIFACT_PARTS, MAX_BUILD_BUNDLE_BYTES, MAX_BUILD_RULES, MAX_HEAD_BYTES, MAX_HEAD_HOSTS,
    MAX_HOME_COST, MAX_PAGE_BYTES, MAX_PART_BYTES, MAX_RULES,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The bundle as written: its settings and each rule's own text.
#[derive(Deserialize)]
struct Written<'a> {
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
    #[serde(borrow)]
    rules: Vec<&'a RawValue>,
}

fn layout_error(message: String, hint: &str) -> CompileErrors {
    CompileErrors::one(CompileError {
        kind: ErrorKind::Limit,
        rule_index: None,
        rule_id: None,
        pointer: String::new(),
        message,
        hint: hint.into(),
        line: None,
        column: None,
    })
}

fn put_u32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut [u8], at: usize, v: u64) {
    out[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The error for the rules of one home (`crowded`, in file order, their home in page `page`)
/// that pass a limit: what they take, two of them, and what to do.
fn crowded_home(
    what: String,
    page: usize,
    crowded: &[u32],
    texts: &mut dyn Texts,
) -> Result<CompileErrors, Failure> {
    let mut sample = Vec::new();
    for &r in crowded.iter().take(2) {
        let mut bytes = Vec::new();
        texts.append(page, r, &mut bytes)?;
        let text: String = String::from_utf8_lossy(&bytes).chars().take(120).collect();
        sample.push(format!("#{r} {text}"));
    }
    Ok(layout_error(
        format!(
            "{what}: {} rules share one home (the literal segment they are routed by, or none), such as {}",
            crowded.len(),
            sample.join(" and ")
        ),
        "give such rules a literal segment of their own among their first 8 (a path segment only they have), an exact `host` or an exact query value (`\"when\": {\"query\": {\"id\": \"123\"}}` on an exact path), or split the bundle into several artifacts",
    ))
}

/// How an artifact is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// About how many rules a part holds ([`PART_RULES`] by default; at least 1).
    pub part_rules: usize,
    /// Most rules the bundle may hold ([`MAX_RULES`] by default, as a bundle compiled whole;
    /// at most [`MAX_BUILD_RULES`]): an artifact is never compiled whole, so only the build
    /// machine's memory bounds it.
    pub max_rules: usize,
    /// Largest part, in bytes ([`MAX_PART_BYTES`] by default, and at most it): a smaller
    /// bound for readers with less memory than a Workers isolate. A bundle whose rules crowd
    /// one home past it is refused, naming two of them.
    pub max_part_bytes: usize,
    /// Largest page of the filter, in bytes ([`MAX_PAGE_BYTES`] by default, and at most it).
    /// A bundle that would make a larger page is refused, with a `--part-rules` that makes
    /// fewer parts a page.
    pub max_page_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            part_rules: PART_RULES,
            max_rules: MAX_RULES,
            max_part_bytes: MAX_PART_BYTES,
            max_page_bytes: MAX_PAGE_BYTES,
        }
    }
}

/// Validates bundle `text` exactly as [`crate::Engine::compile`] does (every error at once;
/// texts up to [`MAX_BUILD_BUNDLE_BYTES`], and as many rules as [`Options::max_rules`]) and
/// writes it as an artifact, which
/// [`crate::Engine::load`] opens in constant time. The same text always gives the same bytes.
pub fn build(text: &str) -> Result<Vec<u8>, CompileErrors> {
    build_with(text, Options::default())
}

/// A part being laid out: its rules (file order) and the page it is in.
struct Cut {
    page: usize,
    rules: Vec<u32>,
    bytes: usize,
}

/// Why a build wrote nothing: the bundle, or (reading and writing files) the machine.
pub(super) enum Failure {
    Invalid(CompileErrors),
    Io(std::io::Error),
}

impl From<CompileErrors> for Failure {
    fn from(errors: CompileErrors) -> Failure {
        Failure::Invalid(errors)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Io(e)
    }
}

/// Where the layout finds each rule's text as written.
pub(super) trait Texts {
    /// Appends the text of rule `r`, whose home is in page `page`, to `out`.
    fn append(&mut self, page: usize, r: u32, out: &mut Vec<u8>) -> Result<(), Failure>;
}

/// The texts of a bundle held whole.
struct Whole<'t, 'a>(&'t [&'a RawValue]);

impl Texts for Whole<'_, '_> {
    fn append(&mut self, _page: usize, r: u32, out: &mut Vec<u8>) -> Result<(), Failure> {
        out.extend_from_slice(self.0[r as usize].get().as_bytes());
        Ok(())
    }
}

/// What a built artifact holds, as `redirects build` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    /// The content id.
    pub id: u64,
    /// How many rules.
    pub rules: usize,
    /// How many parts.
    pub parts: usize,
    /// How many bytes.
    pub bytes: usize,
    /// How many rules without a host live at the catch-all, which every request reads.
    pub catch_all_rules: usize,
}

/// An artifact laid out, all but its parts: the head and the pages, without id and
/// checksum ([`Laid::seal`]), the parts having been written apart.
pub(super) struct Laid {
    pub(super) head: Vec<u8>,
    head_end: usize,
    pub(super) built: Built,
}

impl Laid {
    /// Puts the content id, given the parts' bytes (`parts`: FNV-1a of the head's bytes from
    /// 32 on, continued over them), and the head's checksum.
    pub(super) fn seal(
        &mut self,
        parts: impl FnOnce(u64) -> Result<u64, Failure>,
    ) -> Result<(), Failure> {
        let id = parts(fnv1a(&self.head[32..]))?;
        put_u64(&mut self.head, 24, id);
        let checksum = fnv1a(&self.head[24..self.head_end]);
        put_u64(&mut self.head, 16, checksum);
        self.built.id = id;
        Ok(())
    }
}

/// The number of page bits for rules living at `homes`, and how many distinct homes they are.
pub(super) fn page_bits(homes: &[Home]) -> Result<(u32, usize), CompileErrors> {
    let mut distinct: Vec<u64> = homes.iter().map(|h| h.hash()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    // Enough pages that each holds about PAGE_HOMES homes.
    let page_bits = distinct
        .len()
        .div_ceil(PAGE_HOMES)
        .next_power_of_two()
        .trailing_zeros();
    if page_bits > MAX_PAGE_BITS {
        return Err(layout_error(
            format!(
                "{} homes; an artifact holds at most {}",
                distinct.len(),
                PAGE_HOMES << MAX_PAGE_BITS
            ),
            "split the bundle by host into several artifacts",
        ));
    }
    Ok((page_bits, distinct.len()))
}

/// [`build`] with other [`Options`].
pub fn build_with(text: &str, options: Options) -> Result<Vec<u8>, CompileErrors> {
    build_text(text, options).map(|(bytes, _)| bytes)
}

/// [`build_with`], with what the artifact holds.
pub(super) fn build_text(text: &str, options: Options) -> Result<(Vec<u8>, Built), CompileErrors> {
    let max_rules = options.max_rules.clamp(1, MAX_BUILD_RULES);
    let key = key_of_text(text.as_bytes());
    let mut routing = Routing::new(Router::new(key));
    let limits = Limits {
        bytes: MAX_BUILD_BUNDLE_BYTES,
        rules: max_rules,
    };
    // Each rule is routed as it compiles, and not kept.
    let settings = compile_into(text, limits, &mut routing)?;
    let routed = routing.finish(settings.case_sensitive);
    drop(settings);
    let written: Written<'_> = serde_json::from_str(text).map_err(|e| {
        layout_error(
            format!("the bundle validates but cannot be split into rules: {e}"),
            "write one `settings` and one `rules` key at the top level",
        )
    })?;
    if written.rules.len() != routed.homes.len() {
        return Err(rules_apart());
    }
    let (page_bits, distinct_homes) = page_bits(&routed.homes)?;
    let size = |r: u32| written.rules[r as usize].get().len();
    let settings = written.settings.map_or("{}", RawValue::get);
    let mut parts = Vec::new();
    let laid = lay_out(
        key,
        routed,
        (page_bits, distinct_homes),
        settings,
        &size,
        options,
        &mut Whole(&written.rules),
        &mut parts,
    );
    let mut laid = match laid {
        Ok(laid) => laid,
        Err(Failure::Invalid(errors)) => return Err(errors),
        Err(Failure::Io(e)) => unreachable!("writing to memory: {e}"),
    };
    let sealed = laid.seal(|h| Ok(fnv1a_from(h, &parts)));
    debug_assert!(sealed.is_ok());
    let mut out = laid.head;
    out.extend_from_slice(&parts);
    Ok((out, laid.built))
}

/// The error for a bundle whose rules the build reads apart in another number than it
/// compiled.
pub(super) fn rules_apart() -> CompileErrors {
    layout_error(
        "the bundle's `rules` could not be told apart".into(),
        "write one `rules` key at the top level",
    )
}

/// Lays out the rules routed to `routed.homes` in `2^page_bits` pages (of `distinct_homes`
/// homes), each rule's text from `texts` (`size` long): writes the parts to `parts` in order,
/// and returns the head and pages that name them, with `settings` (the bundle's settings
/// text) in the head. Every limit of the layout is checked here, in the same order for a
/// bundle held whole and one read from a file.
#[allow(clippy::too_many_arguments)]
pub(super) fn lay_out(
    key: [u64; 2],
    routed: Routed,
    (page_bits, distinct_homes): (u32, usize),
    settings: &str,
    size: &dyn Fn(u32) -> usize,
    options: Options,
    texts: &mut dyn Texts,
    parts: &mut dyn std::io::Write,
) -> Result<Laid, Failure> {
    let per_part = options.part_rules.max(1);
    let max_part_bytes = options.max_part_bytes.clamp(1, MAX_PART_BYTES);
    let max_page_bytes = options.max_page_bytes.clamp(1, MAX_PAGE_BYTES);
    let (homes, used, both_cases) = (routed.homes, routed.used, routed.both_cases);
    let (host_homes, hostless) = (routed.host_homes, routed.hostless);
    let query_names = routed.query_names;
    let mut hosts = routed.hosts;
    let host_table = hosts.len() <= MAX_HEAD_HOSTS;
    if !host_table {
        hosts.clear();
    }

    // Rules in the order of their homes in pages, file order within a home.
    let hash = |r: u32| homes[r as usize].hash();
    let mut ordered: Vec<u32> = (0..homes.len() as u32).collect();
    ordered.sort_unstable_by_key(|&r| (order(hash(r), page_bits), r));
    let size = |r: u32| size(r) + 13;
    let matching = routed.matching;
    let cost = |r: u32| {
        size(r) * PART_BYTES_PER_ENCODED_BYTE + PART_BYTES_PER_RULE + matching[r as usize] as usize
    };
    let cuts = cut_parts(
        &ordered,
        &homes,
        (page_bits, per_part, max_part_bytes),
        &size,
        &cost,
        texts,
    )?;
    drop((ordered, matching));
    if cuts.len() > MAX_ARTIFACT_PARTS {
        return Err(layout_error(
            format!(
                "{} parts of {per_part} rules; a reader takes at most {MAX_ARTIFACT_PARTS}",
                cuts.len()
            ),
            "build with a larger `--part-rules`",
        )
        .into());
    }

    // The parts' bytes, apart, then the pages that name them.
    let mut parts_len = 0;
    let mut entries = Vec::with_capacity(cuts.len());
    let mut part = Vec::new();
    for (n, cut) in cuts.iter().enumerate() {
        let mut rules = cut.rules.clone();
        rules.sort_unstable();
        part.clear();
        part.extend_from_slice(&(rules.len() as u32).to_le_bytes());
        for &r in &rules {
            part.extend_from_slice(&r.to_le_bytes());
        }
        for &r in &rules {
            part.extend_from_slice(&hash(r).to_le_bytes());
        }
        part.push(b'[');
        for (k, &r) in rules.iter().enumerate() {
            if k > 0 {
                part.push(b',');
            }
            texts.append(cut.page, r, &mut part)?;
        }
        part.push(b']');
        let len = part.len();
        debug_assert_eq!(len, PART_FRAME_BYTES + cut.bytes);
        if len > max_part_bytes {
            let what = format!("part {n} would take {len} bytes; the limit is {max_part_bytes}");
            let largest = largest_home(&rules, &homes);
            return Err(crowded_home(what, cut.page, &largest, texts)?.into());
        }
        parts.write_all(&part)?;
        entries.push((parts_len, len, fnv1a(&part)));
        parts_len += len;
    }
    drop(part);

    // The settings as a bundle without rules, then each query parameter rules live by after a
    // NUL (which JSON text never holds).
    let mut settings = format!(r#"{{"version":1,"settings":{settings},"rules":[]}}"#);
    for name in &query_names {
        settings.push('\0');
        settings.push_str(name);
    }
    let head_end = HEADER_BYTES + settings.len() + 8 * hosts.len();
    if head_end > MAX_HEAD_BYTES {
        return Err(layout_error(
            format!("the artifact's head would take {head_end} bytes; a reader takes at most {MAX_HEAD_BYTES}"),
            "move settings out of the bundle, or split it by host into several artifacts",
        ).into());
    }
    let pages = 1usize << page_bits;
    // Each page: its homes' low bits, once each, and the parts starting in it.
    let mut page_homes: Vec<Vec<u32>> = vec![Vec::new(); pages];
    let mut page_parts: Vec<Vec<(u32, usize)>> = vec![Vec::new(); pages];
    for (n, cut) in cuts.iter().enumerate() {
        let list = &mut page_homes[cut.page];
        page_parts[cut.page].push((list.len() as u32, n));
        let mut lows: Vec<u32> = cut.rules.iter().map(|&r| hash(r) as u32).collect();
        lows.dedup();
        list.extend(lows);
    }
    let page_len = |g: usize| 32 + 4 * page_homes[g].len() + 32 * page_parts[g].len();
    let pages_start = head_end + 8 * pages;
    let parts_start = pages_start + (0..pages).map(page_len).sum::<usize>();

    let mut out = vec![0u8; pages_start];
    out[..8].copy_from_slice(&MAGIC);
    put_u32(&mut out, 8, FORMAT_VERSION);
    let flags = [
        (both_cases, FLAG_BOTH_CASES),
        (host_homes, FLAG_HOST_HOMES),
        (hostless, FLAG_HOSTLESS_HOMES),
        (host_table, FLAG_HOST_TABLE),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |f, (_, flag)| f | flag);
    put_u32(&mut out, 12, flags);
    put_u32(&mut out, 32, homes.len() as u32);
    put_u32(&mut out, 36, cuts.len() as u32);
    put_u32(&mut out, 40, page_bits);
    put_u32(&mut out, 44, settings.len() as u32);
    put_u32(&mut out, 48, distinct_homes as u32);
    put_u32(&mut out, 52, hosts.len() as u32);
    put_u64(&mut out, 56, used.0);
    put_u64(&mut out, 64, key[0]);
    put_u64(&mut out, 72, key[1]);
    out[HEADER_BYTES..HEADER_BYTES + settings.len()].copy_from_slice(settings.as_bytes());
    for (k, h) in hosts.iter().enumerate() {
        put_u64(&mut out, HEADER_BYTES + settings.len() + 8 * k, *h);
    }
    for g in 0..pages {
        let parts: Vec<(u32, PartEntry)> = page_parts[g]
            .iter()
            .map(|&(first, n)| {
                let (at, len, checksum) = entries[n];
                let entry = PartEntry {
                    part: n as u32,
                    offset: (parts_start + at) as u64,
                    len: len as u32,
                    checksum,
                };
                (first, entry)
            })
            .collect();
        let bytes = page::write(key[0], g as u32, &page_homes[g], &parts);
        debug_assert_eq!(bytes.len(), page_len(g));
        if bytes.len() > max_page_bytes {
            return Err(layout_error(
                format!(
                    "page {g} of the filter would take {} bytes; the limit is {max_page_bytes}",
                    bytes.len()
                ),
                "build with a larger `--part-rules`",
            )
            .into());
        }
        let Ok(at) = u32::try_from(out.len()) else {
            return Err(layout_error(
                "the artifact's pages would pass 4 GiB".into(),
                "split the bundle by host into several artifacts",
            )
            .into());
        };
        put_u32(&mut out, head_end + 8 * g, at);
        put_u32(&mut out, head_end + 8 * g + 4, bytes.len() as u32);
        out.extend_from_slice(&bytes);
    }
    debug_assert_eq!(out.len(), parts_start);
    let catch_all = Router::new(key).catch_all();
    let built = Built {
        id: 0,
        rules: homes.len(),
        parts: cuts.len(),
        bytes: parts_start + parts_len,
        catch_all_rules: homes.iter().filter(|h| h.hash() == catch_all).count(),
    };
    Ok(Laid {
        head: out,
        head_end,
        built,
    })
}

/// The rules of the home most of `rules` share, in file order.
fn largest_home(rules: &[u32], homes: &[Home]) -> Vec<u32> {
    let mut by_home: rustc_hash::FxHashMap<u64, Vec<u32>> = Default::default();
    for &r in rules {
        by_home.entry(homes[r as usize].hash()).or_default().push(r);
    }
    by_home
        .into_iter()
        .max_by_key(|(h, rs)| (rs.len(), *h))
        .map(|(_, rs)| rs)
        .unwrap_or_default()
}

/// The bytes of a part besides its rules' `size` (the rule count, `[` and `]`, less the
/// comma the last rule does not have).
const PART_FRAME_BYTES: usize = 4 + 2 - 1;

/// Cuts rules in the order of their homes into parts of about `per_part` rules: a part never
/// crosses a page, and never parts the rules of homes a page tells apart only by their full
/// hash (so a page's entry finds every rule of a home), and never passes `max_part_bytes`
/// unless one such unit alone does (refused when the part is written). Refuses a home heavier
/// than [`MAX_HOME_COST`] (a rule's `size` stored and its `cost` compiled, as
/// [`super::Part::cost`] counts it).
fn cut_parts(
    ordered: &[u32],
    homes: &[Home],
    (page_bits, per_part, max_part_bytes): (u32, usize, usize),
    size: &dyn Fn(u32) -> usize,
    cost: &dyn Fn(u32) -> usize,
    texts: &mut dyn Texts,
) -> Result<Vec<Cut>, Failure> {
    let hash = |r: u32| homes[r as usize].hash();
    let mut cuts: Vec<Cut> = Vec::new();
    let mut at = 0;
    while at < ordered.len() {
        // One unit: the rules whose homes share a page and their low bits.
        let (page, low) = (
            page_of(hash(ordered[at]), page_bits),
            hash(ordered[at]) as u32,
        );
        let mut end = at;
        let mut bytes = 0;
        while end < ordered.len()
            && page_of(hash(ordered[end]), page_bits) == page
            && hash(ordered[end]) as u32 == low
        {
            bytes += size(ordered[end]);
            end += 1;
        }
        let unit = &ordered[at..end];
        // Each home of the unit within what the worker's cache holds.
        let mut from = 0;
        while from < unit.len() {
            let h = hash(unit[from]);
            let to = from + unit[from..].iter().take_while(|&&r| hash(r) == h).count();
            let home = &unit[from..to];
            let cost: usize = home.iter().map(|&r| cost(r)).sum();
            if cost > MAX_HOME_COST {
                let mut crowded = home.to_vec();
                crowded.sort_unstable();
                let what = format!("one home's rules would take about {cost} bytes compiled; the limit is {MAX_HOME_COST}");
                let page = page_of(hash(crowded[0]), page_bits);
                return Err(crowded_home(what, page, &crowded, texts)?.into());
            }
            from = to;
        }
        let fits = cuts.last().is_some_and(|c| {
            c.page == page
                && c.rules.len() + unit.len() <= per_part
                && PART_FRAME_BYTES + c.bytes + bytes <= max_part_bytes
        });
        match cuts.last_mut() {
            Some(c) if fits => {
                c.rules.extend_from_slice(unit);
                c.bytes += bytes;
            }
            _ => cuts.push(Cut {
                page,
                rules: unit.to_vec(),
                bytes,
            }),
        }
        at = end;
    }
    Ok(cuts)
}
