//! `redirects publish`, `rollback` and `promote`: rules put in use through Workers KV without a
//! redeploy, by driving `wrangler kv` (`--local` for wrangler's local storage, `--remote` for
//! Cloudflare's).
//!
//! A published version is an artifact (`redirects build`) cut into its head and its parts,
//! written under keys named by the artifact's content id (`artifact/<id>/head`,
//! `artifact/<id>/part/<n>`), which never change once written; then the one small `manifest`
//! key is switched to name it. The worker follows the manifest, so every request is answered
//! by one version whole, and a version stays readable for rollback.

use crate::bundle::CmdResult;
use crate::errors::render_errors;
use crate::output::Paint;
use crate::Status;
use base64::Engine as _;
use edge_redirects::artifact;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the namespace is and how wrangler reaches it.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The namespace's binding in wrangler.toml.
    #[arg(long, conflicts_with = "namespace_id")]
    pub binding: Option<String>,
    /// The namespace's id (no wrangler.toml entry needed).
    #[arg(long)]
    pub namespace_id: Option<String>,
    /// Wrangler's local storage (what `make dev` and the tests use).
    #[arg(long, conflicts_with = "remote")]
    pub local: bool,
    /// Cloudflare's storage (production).
    #[arg(long)]
    pub remote: bool,
    /// With --local: the directory of wrangler's local storage.
    #[arg(long)]
    pub persist_to: Option<PathBuf>,
    /// The wrangler command (a path; `REDIRECTS_WRANGLER` also sets it).
    #[arg(long, env = "REDIRECTS_WRANGLER", default_value = "wrangler")]
    pub wrangler: PathBuf,
}

/// Part values written per `wrangler kv bulk put`.
const BULK_ENTRIES: usize = 5_000;

impl Target {
    fn args(&self) -> Result<Vec<String>, String> {
        let mut args = match (&self.binding, &self.namespace_id) {
            (Some(b), None) => vec!["--binding".into(), b.clone()],
            (None, Some(id)) => vec!["--namespace-id".into(), id.clone()],
            _ => return Err("name the namespace: --binding NAME or --namespace-id ID".into()),
        };
        match (self.local, self.remote) {
            (true, false) => args.push("--local".into()),
            (false, true) => args.push("--remote".into()),
            _ => return Err("say where: --local (wrangler's local storage) or --remote".into()),
        }
        if let Some(dir) = &self.persist_to {
            args.push("--persist-to".into());
            args.push(dir.display().to_string());
        }
        Ok(args)
    }

    /// Runs `wrangler kv <what...> <target args>`; its stdout on success.
    fn wrangler(&self, what: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(&self.wrangler);
        cmd.arg("kv").args(what).args(self.args()?);
        let out = cmd.output().map_err(|e| {
            format!(
                "cannot run {} ({e}): install wrangler (npm install wrangler) or pass --wrangler PATH",
                self.wrangler.display()
            )
        })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`wrangler kv {}` failed: {}",
                what.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// The manifest in the namespace; `None` when there is none.
    fn manifest(&self) -> Result<Option<Value>, String> {
        let mut cmd = Command::new(&self.wrangler);
        cmd.args(["kv", "key", "get", "manifest", "--text"])
            .args(self.args()?);
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {} ({e})", self.wrangler.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || text.trim().is_empty() || text.trim() == "Value not found" {
            return Ok(None);
        }
        serde_json::from_str(text.trim()).map(Some).map_err(|e| {
            format!(
                "the namespace's manifest is not JSON ({e}): {}",
                text.trim()
            )
        })
    }

    fn put_manifest(&self, manifest: &Value) -> Result<(), String> {
        self.wrangler(&["key", "put", "manifest", &manifest.to_string()])
            .map(drop)
    }
}

fn id_of(manifest: &Option<Value>, field: &str) -> Option<String> {
    manifest.as_ref()?.get(field)?.as_str().map(str::to_owned)
}

/// The canary a manifest names (its id and share of visitors), `None` when there is none
/// (`"canary": null` or no key). The share may be fractional (`12.5`), as the README's
/// manifest for pipelines allows and the worker reads it; a canary whose id or share cannot
/// be read is an error, never taken for "no canary" (`rollback` would then put the previous
/// version back instead of ending the canary).
fn canary_of(manifest: &Option<Value>) -> Result<Option<(String, f64)>, String> {
    let Some(c) = manifest.as_ref().and_then(|m| m.get("canary")) else {
        return Ok(None);
    };
    if c.is_null() {
        return Ok(None);
    }
    let id = c
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the manifest's canary names no version (`id`): {c}"))?;
    let percent = c
        .get("percent")
        .and_then(Value::as_f64)
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| {
            format!(
                "the manifest's canary has no `percent` from 0 to 100: {c}; fix the manifest \
                 (`redirects publish` writes a whole number)"
            )
        })?;
    Ok(Some((id.to_owned(), percent)))
}

/// Runs `publish`: validate, lint, the case files, build, write, switch.
pub fn run_publish(
    file: &Path,
    cases: &[PathBuf],
    canary: Option<u8>,
    lint: bool,
    target: &Target,
) -> CmdResult {
    target.args()?;
    if canary.is_some_and(|p| p == 0 || p > 100) {
        return Err("--canary takes a share of visitors from 1 to 100".into());
    }
    // Validation is the build's (the same as `validate`, for bundles of any size); lint and
    // the case files then read the artifact, as the worker will.
    let text = crate::bundle::read_text(file)?;
    let bytes = match artifact::build(&text) {
        Ok(bytes) => bytes,
        Err(errors) => {
            let name = file.display().to_string();
            eprint!("{}", render_errors(&name, &errors, &Paint::stderr()));
            eprintln!("nothing published");
            return Ok(Status::Findings);
        }
    };
    drop(text);
    let built = std::env::temp_dir().join(format!("redirects-publish-{}.bin", std::process::id()));
    std::fs::write(&built, &bytes).map_err(|e| format!("cannot write {}: {e}", built.display()))?;
    let checked = check(&built, cases, lint);
    let _ = std::fs::remove_file(&built);
    if checked? == Status::Findings {
        return Ok(Status::Findings);
    }
    let engine = edge_redirects::Engine::load(bytes.clone()).map_err(|e| e.to_string())?;
    let (id, _) = engine.artifact().expect("an artifact");
    let id = format!("{id:016x}");
    let (head, parts) = artifact::split(&bytes).map_err(|e| e.to_string())?;
    let before = target.manifest()?;
    if canary.is_some() && id_of(&before, "current").is_none() {
        return Err("a canary needs a version in use: publish one without --canary first".into());
    }
    if id_of(&before, "current").as_deref() == Some(id.as_str()) {
        println!("version {id} is in use already: nothing to do");
        return Ok(Status::Ok);
    }
    write_values(target, &id, head, &parts)?;
    let manifest = match canary {
        None => json!({
            "format": 1,
            "current": id,
            "previous": id_of(&before, "current"),
            "canary": null,
        }),
        Some(percent) => json!({
            "format": 1,
            "current": id_of(&before, "current"),
            "previous": id_of(&before, "previous"),
            "canary": { "id": id, "percent": percent },
        }),
    };
    target.put_manifest(&manifest)?;
    let paint = Paint::stdout();
    match canary {
        None => println!(
            "{} version {id}: {} rules in {} values; in use within the worker's refresh interval",
            paint.green("published"),
            engine.rule_count(),
            parts.len() + 1
        ),
        Some(p) => println!(
            "{} version {id} to {p} % of visitors (`redirects promote` or `redirects rollback` ends it)",
            paint.green("canary"),
        ),
    }
    Ok(Status::Ok)
}

/// Lint (unless `lint` is false) and the case files, on the built artifact.
fn check(built: &Path, cases: &[PathBuf], lint: bool) -> CmdResult {
    if lint && crate::lint::run(built, false, false, false)? == Status::Findings {
        eprintln!("nothing published: fix the lint errors first");
        return Ok(Status::Findings);
    }
    for case_file in cases {
        if crate::test_cases::run(Some(built), case_file, false)? == Status::Findings {
            eprintln!(
                "nothing published: {} has failing cases",
                case_file.display()
            );
            return Ok(Status::Findings);
        }
    }
    Ok(Status::Ok)
}

/// Writes a version's head and parts (content-addressed: writing them again changes nothing).
/// Values are base64 text, which every way of writing KV keeps as written (wrangler's local
/// `kv bulk put` stores binary values as UTF-8 text, replacing the bytes that are not).
fn write_values(target: &Target, id: &str, head: &[u8], parts: &[&[u8]]) -> Result<(), String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut entries: Vec<Value> = parts
        .iter()
        .enumerate()
        .map(|(n, p)| json!({ "key": format!("artifact/{id}/part/{n}"), "value": b64.encode(p) }))
        .collect();
    // The head last: a worker that can read it can read every part.
    entries.push(json!({ "key": format!("artifact/{id}/head"), "value": b64.encode(head) }));
    let dir = std::env::temp_dir().join(format!("redirects-publish-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = entries
        .chunks(BULK_ENTRIES)
        .enumerate()
        .try_for_each(|(k, chunk)| {
            let path = dir.join(format!("bulk-{k}.json"));
            std::fs::write(&path, Value::Array(chunk.to_vec()).to_string())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            target
                .wrangler(&["bulk", "put", &path.display().to_string()])
                .map(drop)
        });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Runs `rollback`: ends a canary, or puts the previous version back in use.
pub fn run_rollback(target: &Target) -> CmdResult {
    let before = target
        .manifest()?
        .ok_or("nothing is published in this namespace")?;
    let before = Some(before);
    let manifest = if let Some((id, _)) = canary_of(&before)? {
        println!(
            "canary {id} ended; {} stays in use",
            id_of(&before, "current").unwrap_or_default()
        );
        json!({ "format": 1, "current": id_of(&before, "current"), "previous": id_of(&before, "previous"), "canary": null })
    } else {
        let previous = id_of(&before, "previous").ok_or("no previous version to go back to")?;
        println!("version {previous} back in use");
        json!({ "format": 1, "current": previous, "previous": id_of(&before, "current"), "canary": null })
    };
    target.put_manifest(&manifest)?;
    Ok(Status::Ok)
}

/// Runs `promote`: the canary's version in use for every visitor.
pub fn run_promote(target: &Target) -> CmdResult {
    let before = target.manifest()?;
    let (id, _) = canary_of(&before)?.ok_or("no canary to promote")?;
    target.put_manifest(&json!({
        "format": 1, "current": id, "previous": id_of(&before, "current"), "canary": null
    }))?;
    println!("version {id} in use for every visitor");
    Ok(Status::Ok)
}
