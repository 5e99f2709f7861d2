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
use edge_redirects_publish::keys;
use edge_redirects_publish::manifest::{Canary, Manifest};
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

    /// The manifest in the namespace; `None` when there is none. One that cannot be read
    /// whole is an error, never taken for "none" or "no canary" (`rollback` would then put
    /// the previous version back instead of ending the canary).
    fn manifest(&self) -> Result<Option<Manifest>, String> {
        let mut cmd = Command::new(&self.wrangler);
        cmd.args(["kv", "key", "get", keys::MANIFEST, "--text"])
            .args(self.args()?);
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {} ({e})", self.wrangler.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let text = text.trim();
        if !out.status.success() || text.is_empty() || text == "Value not found" {
            return Ok(None);
        }
        Manifest::parse(text).map(Some).map_err(|e| {
            format!("{e}: {text}; fix the manifest (`redirects publish` writes format 1, a whole percent)")
        })
    }

    fn put_manifest(&self, manifest: &Manifest) -> Result<(), String> {
        self.wrangler(&["key", "put", keys::MANIFEST, &manifest.to_json()])
            .map(drop)
    }
}

/// The bytes of `file` when it is an artifact (`redirects build`); `None` for anything else
/// (a bundle, or `-`).
fn built_already(file: &Path) -> Result<Option<Vec<u8>>, String> {
    if file.as_os_str() == "-" {
        return Ok(None);
    }
    let mut head = [0u8; 8];
    let is_artifact = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && artifact::is_artifact(&head);
    if !is_artifact {
        return Ok(None);
    }
    std::fs::read(file)
        .map(Some)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))
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
    // the case files then read the artifact, as the worker will. An artifact already built
    // (`redirects build`, which takes `--max-rules` for bundles over a million rules) is
    // published as it is, once checked the same way.
    let bytes = match built_already(file)? {
        Some(bytes) => bytes,
        None => {
            let text = crate::bundle::read_text(file)?;
            match artifact::build(&text) {
                Ok(bytes) => bytes,
                Err(errors) => {
                    let name = file.display().to_string();
                    eprint!("{}", render_errors(&name, &errors, &Paint::stderr()));
                    eprintln!("nothing published");
                    return Ok(Status::Findings);
                }
            }
        }
    };
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
    let pieces = artifact::split(&bytes).map_err(|e| e.to_string())?;
    let before = target.manifest()?;
    if before.as_ref().is_some_and(|b| b.current == id) {
        println!("version {id} is in use already: nothing to do");
        return Ok(Status::Ok);
    }
    let manifest = match (canary, before) {
        (None, before) => Manifest::new(id.clone(), before.map(|b| b.current)),
        (Some(percent), Some(before)) => Manifest {
            canary: Some(Canary {
                id: id.clone(),
                percent: f64::from(percent),
            }),
            ..before
        },
        (Some(_), None) => {
            return Err(
                "a canary needs a version in use: publish one without --canary first".into(),
            )
        }
    };
    write_values(target, &id, &pieces)?;
    target.put_manifest(&manifest)?;
    let paint = Paint::stdout();
    match canary {
        None => println!(
            "{} version {id}: {} rules in {} values; in use within the worker's refresh interval",
            paint.green("published"),
            engine.rule_count(),
            pieces.pages.len() + pieces.parts.len() + 1
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
fn write_values(target: &Target, id: &str, pieces: &artifact::Pieces<'_>) -> Result<(), String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let pages = pieces.pages.iter().enumerate();
    let mut entries: Vec<Value> = pieces
        .parts
        .iter()
        .enumerate()
        .map(|(n, p)| json!({ "key": keys::part(id, n), "value": b64.encode(p) }))
        .chain(pages.map(|(g, p)| json!({ "key": keys::page(id, g), "value": b64.encode(p) })))
        .collect();
    // The head last: a worker that can read it can read every page and part.
    entries.push(json!({ "key": keys::head(id), "value": b64.encode(pieces.head) }));
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
    let manifest = if let Some(canary) = &before.canary {
        println!(
            "canary {} ended; {} stays in use",
            canary.id, before.current
        );
        Manifest {
            canary: None,
            ..before
        }
    } else {
        let previous = before.previous.ok_or("no previous version to go back to")?;
        println!("version {previous} back in use");
        Manifest::new(previous, Some(before.current))
    };
    target.put_manifest(&manifest)?;
    Ok(Status::Ok)
}

/// Runs `promote`: the canary's version in use for every visitor.
pub fn run_promote(target: &Target) -> CmdResult {
    let before = target.manifest()?.ok_or("no canary to promote")?;
    let canary = before.canary.ok_or("no canary to promote")?;
    target.put_manifest(&Manifest::new(canary.id.clone(), Some(before.current)))?;
    println!("version {} in use for every visitor", canary.id);
    Ok(Status::Ok)
}
