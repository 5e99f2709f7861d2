//! Writing an artifact: the bundle validated whole, then its rules routed to parts and each
//! part written as the JSON its rules were written in.

use super::route::{has_host_homes, homes_of, key_of_text, part_of, Home, Router};
use super::{
    fnv1a, ENTRY_BYTES, FLAG_BOTH_CASES, FLAG_HOST_HOMES, FORMAT_VERSION, HEADER_BYTES, MAGIC,
    PART_RULES,
};
use crate::compile::compile_limited;
use crate::error::{CompileError, CompileErrors, ErrorKind};
use crate::limits::{MAX_ARTIFACT_PARTS, MAX_BUILD_BUNDLE_BYTES, MAX_HEAD_BYTES, MAX_PART_BYTES};
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

/// The error for part `i` of `bytes` bytes: the home most of its rules share, with two of
/// them, and what to do.
fn part_too_large(
    i: usize,
    bytes: usize,
    group: &[u32],
    homes: &[Home],
    rules: &[&RawValue],
) -> CompileErrors {
    let mut count: rustc_hash::FxHashMap<u64, Vec<u32>> = Default::default();
    for &r in group {
        count.entry(homes[r as usize].hash()).or_default().push(r);
    }
    let (_, crowded) = count
        .into_iter()
        .max_by_key(|(h, rs)| (rs.len(), *h))
        .expect("a part over the limit holds rules");
    let sample: Vec<String> = crowded
        .iter()
        .take(2)
        .map(|&r| {
            let text: String = rules[r as usize].get().chars().take(120).collect();
            format!("#{r} {text}")
        })
        .collect();
    layout_error(
        format!(
            "part {i} would take {bytes} bytes; the limit is {MAX_PART_BYTES}: {} rules share one home (the literal segment they are routed by, or none), such as {}",
            crowded.len(),
            sample.join(" and ")
        ),
        "give such rules a literal segment of their own among their first 8 (a path segment only they have), an exact `host`, or split the bundle into several artifacts",
    )
}

/// How an artifact is cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// About how many rules a part holds ([`PART_RULES`] by default; at least 1).
    pub part_rules: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            part_rules: PART_RULES,
        }
    }
}

/// Validates bundle `text` exactly as [`crate::Engine::compile`] does (every error at once;
/// texts up to [`MAX_BUILD_BUNDLE_BYTES`]) and writes it as an artifact, which
/// [`crate::Engine::load`] opens in constant time. The same text always gives the same bytes.
pub fn build(text: &str) -> Result<Vec<u8>, CompileErrors> {
    build_with(text, Options::default())
}

/// [`build`] with other [`Options`].
pub fn build_with(text: &str, options: Options) -> Result<Vec<u8>, CompileErrors> {
    let bundle = compile_limited(text, MAX_BUILD_BUNDLE_BYTES)?;
    let written: Written<'_> = serde_json::from_str(text).map_err(|e| {
        layout_error(
            format!("the bundle validates but cannot be split into rules: {e}"),
            "write one `settings` and one `rules` key at the top level",
        )
    })?;
    if written.rules.len() != bundle.rules.len() {
        return Err(layout_error(
            "the bundle's `rules` could not be told apart".into(),
            "write one `rules` key at the top level",
        ));
    }
    let exact = bundle.rules.iter().filter(|r| r.pattern.is_exact()).count();
    let both_cases = bundle
        .rules
        .iter()
        .any(|r| r.case_sensitive != bundle.settings.case_sensitive);
    let per_part = options.part_rules.max(1);
    let parts_for = |n: usize| n.div_ceil(per_part).max(1) as u32;
    let (exact_parts, prefix_parts) = (parts_for(exact), parts_for(bundle.rules.len() - exact));
    if (exact_parts + prefix_parts) as usize > MAX_ARTIFACT_PARTS {
        return Err(layout_error(
            format!(
                "{} parts of {per_part} rules; a reader takes at most {MAX_ARTIFACT_PARTS}",
                exact_parts + prefix_parts
            ),
            "build with a larger `--part-rules`",
        ));
    }
    let key = key_of_text(text.as_bytes());
    let (homes, used) = homes_of(&Router::new(key), &bundle.rules);
    let host_homes = has_host_homes(&bundle.rules);
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); (exact_parts + prefix_parts) as usize];
    let mut filter = Vec::with_capacity(bundle.rules.len());
    for (rule, &home) in bundle.rules.iter().zip(&homes) {
        filter.push(home.hash());
        groups[part_of(home, exact_parts, prefix_parts)].push(rule.index);
    }
    drop(bundle);
    filter.sort_unstable();
    filter.dedup();

    let settings = format!(
        r#"{{"version":1,"settings":{},"rules":[]}}"#,
        written.settings.map_or("{}", RawValue::get)
    );
    let directory = HEADER_BYTES + settings.len();
    let filter_start = directory + groups.len() * ENTRY_BYTES;
    let body_start = filter_start + filter.len() * 8;
    if body_start > MAX_HEAD_BYTES {
        return Err(layout_error(
            format!("the artifact's head would take {body_start} bytes; a reader takes at most {MAX_HEAD_BYTES}"),
            "move settings out of the bundle, or split it by host into several artifacts",
        ));
    }
    let mut out = vec![0u8; body_start];
    out[..8].copy_from_slice(&MAGIC);
    put_u32(&mut out, 8, FORMAT_VERSION);
    let flags =
        if both_cases { FLAG_BOTH_CASES } else { 0 } | if host_homes { FLAG_HOST_HOMES } else { 0 };
    put_u32(&mut out, 12, flags);
    put_u32(&mut out, 52, used.0);
    put_u64(&mut out, 64, key[0]);
    put_u64(&mut out, 72, key[1]);
    put_u32(&mut out, 32, written.rules.len() as u32);
    put_u32(&mut out, 36, exact_parts);
    put_u32(&mut out, 40, prefix_parts);
    put_u32(&mut out, 44, settings.len() as u32);
    put_u32(&mut out, 48, filter.len() as u32);
    out[HEADER_BYTES..directory].copy_from_slice(settings.as_bytes());
    for (k, h) in filter.iter().enumerate() {
        put_u64(&mut out, filter_start + 8 * k, *h);
    }
    let filter_checksum = fnv1a(&out[filter_start..body_start]);
    put_u64(&mut out, 56, filter_checksum);
    for (i, group) in groups.iter().enumerate() {
        let offset = out.len();
        out.extend_from_slice(&(group.len() as u32).to_le_bytes());
        for &r in group {
            out.extend_from_slice(&r.to_le_bytes());
        }
        for &r in group {
            out.extend_from_slice(&homes[r as usize].hash().to_le_bytes());
        }
        out.push(b'[');
        for (k, &r) in group.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(written.rules[r as usize].get().as_bytes());
        }
        out.push(b']');
        if out.len() - offset > MAX_PART_BYTES {
            return Err(part_too_large(
                i,
                out.len() - offset,
                group,
                &homes,
                &written.rules,
            ));
        }
        let (Ok(at), Ok(len)) = (u32::try_from(offset), u32::try_from(out.len() - offset)) else {
            return Err(layout_error(
                format!("the artifact would pass 4 GiB at part {i}"),
                "split the bundle by host into several artifacts",
            ));
        };
        let checksum = fnv1a(&out[offset..]);
        let entry = directory + i * ENTRY_BYTES;
        put_u32(&mut out, entry, at);
        put_u32(&mut out, entry + 4, len);
        put_u64(&mut out, entry + 8, checksum);
    }
    let id = fnv1a(&out[32..]);
    put_u64(&mut out, 24, id);
    let checksum = fnv1a(&out[24..filter_start]);
    put_u64(&mut out, 16, checksum);
    Ok(out)
}
