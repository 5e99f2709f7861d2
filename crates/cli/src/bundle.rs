//! Reading inputs: files (or `-` for stdin) and compiled bundles.

use crate::Status;
use edge_redirects::{CompileErrors, Engine};
use std::io::Read;
use std::path::Path;

/// The result of a command: how it ended, or a usage / I/O error message (exit 2).
pub type CmdResult = Result<Status, String>;

/// Reads a whole file as UTF-8 text; `-` reads stdin.
pub fn read_text(path: &Path) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
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
    if path.as_os_str() != "-" {
        let mut head = [0u8; 8];
        let is_artifact = std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| edge_redirects::artifact::is_artifact(&head));
        if is_artifact {
            let bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let engine = Engine::load(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok(Some((String::new(), engine)));
        }
    }
    let loaded = load(path)?;
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
