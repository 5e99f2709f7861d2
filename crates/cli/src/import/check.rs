//! The checks every import ends with: what the bundle needs so that its rules can fire, and
//! the engine's own compile, so that `import` never writes a bundle `validate` rejects.

use super::Imported;
use edge_redirects::Engine;

/// A target with a placeholder in its host (`https://:sub.example.com/`) never fires unless
/// the host it renders is in `settings.allowed_hosts`: the pattern (`*.example.com`) is added,
/// with a note. A placeholder outside the leftmost labels, or one leaving less than a
/// registrable domain (`https://:site.com/`), is refused: no host pattern would be safe.
pub(super) fn allow_placeholder_hosts(imported: &mut Imported) {
    let mut refused = Vec::new();
    let mut allowed: Vec<(Option<usize>, String, String)> = Vec::new();
    for (i, rule) in imported.bundle.rules.iter().enumerate() {
        let Some(host) = rule.to.as_deref().and_then(target_host) else {
            continue;
        };
        if !host.contains(':') {
            continue;
        }
        let labels: Vec<&str> = host.split('.').collect();
        let fixed = labels
            .iter()
            .rposition(|l| l.contains(':'))
            .map_or(0, |p| p + 1);
        let rest = &labels[fixed..];
        if labels[fixed..].iter().any(|l| l.contains(':')) || rest.len() < 2 {
            refused.push((
                i,
                format!(
                    "target host {host:?} takes a placeholder where no safe host pattern can \
                     allow it; placeholders may fill the leftmost labels of a fixed domain \
                     (`:sub.example.com`)"
                ),
            ));
            continue;
        }
        let pattern = format!("*.{}", rest.join(".").to_ascii_lowercase());
        allowed.push((imported.lines[i], host.to_string(), pattern));
    }
    remove(imported, refused);
    let settings = imported
        .bundle
        .settings
        .get_or_insert_with(Default::default);
    for (line, host, pattern) in allowed {
        if !settings.allowed_hosts.contains(&pattern) {
            settings.allowed_hosts.push(pattern.clone());
        }
        imported.problems.push(super::Problem {
            line,
            dropped: false,
            message: format!(
                "target host {host:?} is filled from the request; `{pattern}` added to \
                 settings.allowed_hosts so that the rule can fire"
            ),
        });
    }
    if imported.bundle.settings == Some(Default::default()) {
        imported.bundle.settings = None;
    }
}

/// The host part of an absolute `http(s)` target.
fn target_host(to: &str) -> Option<&str> {
    let (_, rest) = to.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Compiles the bundle; every rule an error names is refused with the error and its line, and
/// the rest compiled again (a bundle error outside any rule is reported without a line).
pub(super) fn compile(imported: &mut Imported) {
    loop {
        let Err(errors) = Engine::compile(&imported.to_json()) else {
            return;
        };
        let mut refused: Vec<(usize, String)> = Vec::new();
        let mut outside = false;
        for e in errors.errors() {
            match e.rule_index {
                Some(i) if i < imported.bundle.rules.len() => {
                    refused.push((i, format!("{} ({})", e.message, e.hint)))
                }
                _ => {
                    outside = true;
                    imported.drop_rule(None, format!("{} (at {})", e.message, e.pointer));
                }
            }
        }
        if outside || refused.is_empty() {
            // Nothing more can be taken out rule by rule: write no rules at all.
            imported.bundle.rules.clear();
            imported.lines.clear();
            return;
        }
        remove(imported, refused);
    }
}

/// Takes rules out (each index with its reason) and reports them as not imported, in one
/// pass over the rules (removing them one by one moved every later rule each time).
fn remove(imported: &mut Imported, mut refused: Vec<(usize, String)>) {
    refused.sort_by_key(|(i, _)| *i);
    refused.dedup_by_key(|(i, _)| *i);
    let rules = std::mem::take(&mut imported.bundle.rules);
    let lines = std::mem::take(&mut imported.lines);
    let mut refused = refused.into_iter().peekable();
    let mut dropped = Vec::new();
    for (i, (rule, line)) in rules.into_iter().zip(lines).enumerate() {
        match refused.next_if(|(r, _)| *r == i) {
            Some((_, message)) => dropped.push((line, format!("{}: {message}", rule.from))),
            None => {
                imported.bundle.rules.push(rule);
                imported.lines.push(line);
            }
        }
    }
    // Reported last rule first, as before (problems are then sorted by line, stably).
    for (line, message) in dropped.into_iter().rev() {
        imported.drop_rule(line, message);
    }
}
