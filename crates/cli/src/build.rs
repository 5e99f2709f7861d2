//! `redirects build`: a bundle compiled into the artifact the worker embeds or reads from KV.

use crate::bundle::CmdResult;
use crate::errors::render_errors;
use crate::output::{plural, print_json, Paint};
use crate::Status;
use edge_redirects::artifact::{self, Built, Options};
use edge_redirects::{CompileErrors, Engine};
use serde_json::json;
use std::path::Path;

/// More rules at the catch-all than this are reported: each request of the worker reads and
/// tries them.
const CATCH_ALL_NOTE: usize = 64;

/// Runs the command: validates `input` (every error at once, as `validate`), writes the
/// artifact to `output`, and says what it holds. A file is read a rule at a time
/// ([`artifact::build_file`]), so the bundle's size does not bound the build's memory;
/// stdin (`-`) is read whole.
pub fn run(input: &Path, output: &Path, options: Options, as_json: bool) -> CmdResult {
    let host = crate::host::current();
    let started = host.now_millis();
    let file = input.display().to_string();
    let streamed = streams(input);
    let built = match build(input, output, options)? {
        Ok(built) => built,
        Err(errors) => {
            eprint!("{}", render_errors(&file, &errors, &Paint::stderr()));
            eprintln!("nothing written; run `redirects validate {file}` after fixing them");
            return Ok(Status::Findings);
        }
    };
    let seconds = ((host.now_millis() - started) / 1000.0).max(0.0);
    let catch_all = built.catch_all_rules;
    let (parts, rules) = (built.parts, built.rules);
    let id = format!("{:016x}", built.id);
    if as_json {
        print_json(&json!({
            "file": file,
            "artifact": output.display().to_string(),
            "id": id,
            "rules": rules,
            "parts": parts,
            "catch_all_rules": catch_all,
            "bytes": built.bytes,
            "streamed": streamed,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        }));
    } else {
        let paint = Paint::stdout();
        println!(
            "{} {}: {}, {} parts, {} bytes, id {id} ({seconds:.2} s)",
            paint.green("built"),
            output.display(),
            plural(rules, "rule"),
            parts,
            built.bytes,
        );
        if catch_all > CATCH_ALL_NOTE {
            eprintln!(
                "{} {} have no literal segment (or 4 literal bytes at a segment's start) among their first 8 to be routed by: every request reads them; give them one to keep requests cheap",
                paint.yellow("note:"),
                plural(catch_all, "rule"),
            );
        }
    }
    Ok(Status::Ok)
}

/// Whether `input` is read a rule at a time ([`artifact::build_file`]): a file on this
/// machine's file system; stdin, and files a wasm host serves, are read whole.
fn streams(input: &Path) -> bool {
    cfg!(not(target_arch = "wasm32")) && input.as_os_str() != "-" && crate::host::is_native()
}

/// Builds `input` into `output`: what the artifact holds, or the bundle's errors (nothing
/// written then).
fn build(
    input: &Path,
    output: &Path,
    options: Options,
) -> Result<Result<Built, CompileErrors>, String> {
    #[cfg(not(target_arch = "wasm32"))]
    if streams(input) {
        return build_file(input, output, options);
    }
    let text = crate::bundle::read_text(input)?;
    let bytes = match artifact::build_with(&text, options) {
        Ok(bytes) => bytes,
        Err(errors) => return Ok(Err(errors)),
    };
    drop(text);
    let engine = Engine::load(bytes.as_slice().to_vec())
        .map_err(|e| format!("the artifact just built does not load (a bug): {e}"))?;
    let (id, parts) = engine.artifact().expect("loaded from an artifact");
    crate::host::current()
        .write(output, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(Ok(Built {
        id,
        rules: engine.rule_count(),
        parts,
        bytes: bytes.len(),
        catch_all_rules: engine.catch_all_rules().unwrap_or(0),
    }))
}

/// [`build`] of a file, read a rule at a time ([`artifact::build_file`]), which writes only
/// once the artifact is valid: `output` is created then.
#[cfg(not(target_arch = "wasm32"))]
fn build_file(
    input: &Path,
    output: &Path,
    options: Options,
) -> Result<Result<Built, CompileErrors>, String> {
    use std::io::Write;
    let mut out = Lazy {
        path: output,
        file: None,
    };
    let built = artifact::build_file(input, options, &mut out);
    let cannot_write = |e: std::io::Error| format!("cannot write {}: {e}", output.display());
    if let Some(file) = out.file.as_mut() {
        file.flush().map_err(cannot_write)?;
    }
    match built {
        Ok(built) => Ok(Ok(built)),
        Err(artifact::BuildError::Invalid(errors)) => Ok(Err(errors)),
        Err(artifact::BuildError::Io(e)) if out.file.is_some() => Err(cannot_write(e)),
        Err(artifact::BuildError::Io(e)) => Err(format!("cannot read {}: {e}", input.display())),
    }
}

/// A file created on the first write.
#[cfg(not(target_arch = "wasm32"))]
struct Lazy<'p> {
    path: &'p Path,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

#[cfg(not(target_arch = "wasm32"))]
impl std::io::Write for Lazy<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let file = std::fs::File::create(self.path)?;
                self.file
                    .insert(std::io::BufWriter::with_capacity(1 << 20, file))
            }
        };
        file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), std::io::Write::flush)
    }
}
