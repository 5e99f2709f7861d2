//! The compiled engine: placeholder until the implementation lands.

use crate::{CompileErrors, Decision, Explanation, Passthrough, Request};

/// A compiled, immutable rule bundle. Compile once, evaluate many times; share freely.
#[derive(Debug)]
pub struct Engine {
    _rules: Vec<()>,
}

impl Engine {
    /// Parses and validates `rules.json` text, returning every error at once.
    pub fn compile(_text: &str) -> Result<Engine, CompileErrors> {
        Ok(Engine { _rules: Vec::new() })
    }

    /// Decides what to do with a request. Never panics, never fails.
    pub fn evaluate<'e>(&'e self, _request: &Request<'_>) -> Decision<'e> {
        Decision::Origin(Passthrough::default())
    }

    /// Like [`Engine::evaluate`], with the reasoning for each candidate rule.
    pub fn explain<'e>(&'e self, request: &Request<'_>) -> Explanation<'e> {
        Explanation {
            decision: self.evaluate(request),
            trace: Vec::new(),
        }
    }
}
