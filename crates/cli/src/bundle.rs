//! Reading inputs: files (or `-` for stdin) and compiled bundles.

use crate::host;
use crate::Status;
use edge_redirects::limits::MAX_BUILD_RULES;
use edge_redirects::{artifact, CompileErrors, Engine};
use std::path::Path;

/// The result of a command: how it ended, or a usage / I/O error message (exit 2).
pub type CmdResult = Result<Status, String>;

/// Reads a whole file as UTF-8 text; `-` reads stdin.
pub fn read_text(path: &Path) -> Result<String, String> {
    let host = host::current();
    if path.as_os_str() == "-" {
        return host
            .read_stdin()
            .map_err(|e| format!("cannot read stdin: {e}"));
    }
    host.read_text(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A bundle read from disk and compiled.
pub struct Loaded {
    /// The bundle's text.
    pub text: String,
    /// The compiled engine, or every error in the bundle.
    pub engine: Result<Engine, CompileErrors>,
}

/// Reads and compiles a bundle.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let text = read_text(path)?;
    let engine = Engine::compile(&text);
    Ok(Loaded { text, engine })
}

/// Compiles a bundle for commands that need a valid one, printing its errors to stderr when
/// it is not (the caller then exits 1). An artifact (`redirects build`) is loaded as the
/// worker loads it, with an empty text.
pub fn load_valid(path: &Path) -> Result<Option<(String, Engine)>, String> {
    let loaded = if path.as_os_str() == "-" {
        load(path)?
    } else {
        // Read once: an artifact is loaded from the bytes, anything else compiled as text
        // (an unreadable file is read again for read_text's message).
        match host::current().read(path) {
            Ok(bytes) if bytes.len() >= 8 && artifact::is_artifact(&bytes[..8]) => {
                return load_artifact(path, bytes).map(|engine| Some((String::new(), engine)));
            }
            Ok(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("cannot read {}: {}", path.display(), host::NOT_UTF8))?;
                let engine = Engine::compile(&text);
                Loaded { text, engine }
            }
            Err(_) => load(path)?,
        }
    };
    match loaded.engine {
        Ok(engine) => Ok(Some((loaded.text, engine))),
        Err(errors) => {
            let paint = crate::output::Paint::stderr();
            eprint!(
                "{}",
                crate::errors::render_errors(&path.display().to_string(), &errors, &paint)
            );
            eprintln!("run `redirects validate` after fixing them");
            Ok(None)
        }
    }
}

/// Reads an artifact whole and checks what the commands rely on: the rule count its header
/// claims against what the file can hold and the compile limit (checked before anything is
/// allocated from it), then every part compiled, once each and apart, holding every rule
/// number once. A part that does not
/// compile would otherwise leave its rules out without a word (and `lint` find nothing).
fn load_artifact(path: &Path, bytes: Vec<u8>) -> Result<Engine, String> {
    let name = path.display().to_string();
    let rebuild = "the artifact is damaged: build it again with `redirects build`";
    let size = bytes.len();
    let engine = Engine::load(bytes).map_err(|e| format!("{name}: {e}"))?;
    let claimed = engine.rule_count();
    // Every rule takes at least its 4-byte number in a part.
    if claimed > MAX_BUILD_RULES || claimed > size / 4 {
        return Err(format!(
            "{name}: the header claims {claimed} rules, more than a file of {size} bytes can \
             hold (and the limit is {MAX_BUILD_RULES}); {rebuild}"
        ));
    }
    // Every part compiled once, apart (memory: one part, whatever the rule count).
    let check = engine.check_parts().expect("a whole artifact");
    if check.errors.is_empty() && check.numbered {
        return Ok(engine);
    }
    let broken: Vec<String> = check.errors.iter().map(|e| e.to_string()).collect();
    if broken.is_empty() {
        return Err(format!(
            "{name}: the header claims {claimed} rules but the parts hold {} (numbered {}); \
             {rebuild}",
            check.rules,
            if check.rules == claimed {
                "out of order"
            } else {
                "in order"
            }
        ));
    }
    let them = if broken.len() == 1 { "it" } else { "them" };
    Err(format!(
        "{name}: {}: the rules in {them} would be left out; {rebuild}",
        broken.join(", ")
    ))
}
