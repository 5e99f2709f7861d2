//! The compiled engine: compile once, evaluate many times.

use crate::answer::Decision;
use crate::compile::{compile, compile_value, json, Bundle};
use crate::evaluate::index::Index;
use crate::evaluate::trace::Explanation;
use crate::request::Request;
use crate::rule::Rule;
use crate::settings::Settings;
use crate::CompileErrors;

/// A compiled, immutable rule bundle. Compile once, evaluate many times; share freely.
#[derive(Debug)]
pub struct Engine {
    pub(crate) settings: Settings,
    pub(crate) rules: Vec<Rule>,
    pub(crate) index: Index,
}

impl Engine {
    /// Parses and validates `rules.json` text, returning every error at once.
    pub fn compile(text: &str) -> Result<Engine, CompileErrors> {
        compile(text).map(Engine::build)
    }

    /// Validates an already parsed bundle, returning every error at once.
    pub fn from_value(value: &serde_json::Value) -> Result<Engine, CompileErrors> {
        compile_value(&json::Value::from_serde(value)).map(Engine::build)
    }

    fn build(bundle: Bundle) -> Engine {
        let index = Index::build(&bundle.rules);
        Engine {
            settings: bundle.settings,
            rules: bundle.rules,
            index,
        }
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The bundle's settings, defaults filled in.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Decides what to do with a request. Never panics, never fails: a request the engine
    /// cannot read is passed to the origin.
    pub fn evaluate<'e>(&'e self, request: &Request<'_>) -> Decision<'e> {
        self.run(request, None)
    }

    /// Like [`Engine::evaluate`], with the reasoning for each candidate rule.
    pub fn explain<'e>(&'e self, request: &Request<'_>) -> Explanation<'e> {
        let mut trace = Vec::new();
        let decision = self.run(request, Some(&mut trace));
        Explanation { decision, trace }
    }
}
