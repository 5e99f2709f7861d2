//! A bundle compiled once and questioned many times: the playground's view of it.

use edge_redirects::analysis::analyse_at;
use edge_redirects::{CompileErrors, Decision, Engine};
use edge_redirects_cli::request_args::summary;
use edge_redirects_cli::{explain, lint, validate};
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One validation error, as `redirects validate --json` lists it. */
export interface CompileError {
  kind: string;
  rule_index: number | null;
  rule_id: string | null;
  /** JSON pointer into the bundle ("/rules/3/to"). */
  pointer: string;
  message: string;
  hint: string;
  /** 1-based, for syntax errors. */
  line: number | null;
  column: number | null;
}
/** `redirects validate --json`. */
export interface ValidateReport {
  file: string;
  valid: boolean;
  rules?: number;
  errors: CompileError[];
  more_errors?: number;
  warnings?: string[];
}
/** A request, as `redirects explain`'s options describe it. */
export interface ExplainRequest {
  url: string;
  method?: string;
  /** "Name: value" each. */
  headers?: string[];
  /** "name=value" each. */
  cookies?: string[];
  country?: string;
  /** Default: the country's continent. */
  continent?: string;
  region?: string;
  city?: string;
  /** Accept-Language. */
  lang?: string;
  /** RFC 3339 instant; default now. */
  at?: string;
  ip?: string;
  asn?: number;
  /** In [0, 1): a fresh A/B assignment. */
  random?: number;
}
/** Why one candidate rule applied or not. */
export interface TraceStep {
  rule_index: number;
  rule_id: string;
  verdict: string;
  reason: string;
}
/** `redirects explain --json`, plus the request's summary and the redirect's HTML note. */
export interface Explanation {
  outcome: "redirect" | "forward" | "origin";
  status: number | null;
  location: string | null;
  rule: string | null;
  headers: Record<string, string>;
  trace: TraceStep[];
  request: string;
  note: string | null;
}
/** One lint finding. */
export interface LintFinding {
  severity: "error" | "warning";
  code: string;
  rules: { index: number; id: string }[];
  message: string;
  hint: string;
}
/** `redirects lint --json`. */
export interface LintReport {
  file: string;
  errors: number;
  warnings: number;
  findings: LintFinding[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ValidateReport`.
    #[wasm_bindgen(typescript_type = "ValidateReport")]
    pub type ValidateReport;
    /// `ExplainRequest`.
    #[wasm_bindgen(typescript_type = "ExplainRequest")]
    pub type ExplainRequest;
    /// `Explanation`.
    #[wasm_bindgen(typescript_type = "Explanation")]
    pub type Explanation;
    /// `LintReport`.
    #[wasm_bindgen(typescript_type = "LintReport")]
    pub type LintReport;
}

/// A JSON value handed to JavaScript as the object it describes.
fn to_js<T: JsCast>(value: &Value) -> T {
    js_sys::JSON::parse(&value.to_string())
        .expect("serde_json writes valid JSON")
        .unchecked_into()
}

/// The fields of an `ExplainRequest`.
#[derive(Deserialize)]
struct RequestInput {
    url: String,
    method: Option<String>,
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default)]
    cookies: Vec<String>,
    country: Option<String>,
    continent: Option<String>,
    region: Option<String>,
    city: Option<String>,
    lang: Option<String>,
    at: Option<String>,
    ip: Option<String>,
    asn: Option<u32>,
    random: Option<f64>,
}

/// Empty text means "not given" (a form's blank field).
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl RequestInput {
    fn args(self) -> explain::Args {
        let mut args = explain::Args::for_url(&self.url);
        if let Some(method) = given(self.method) {
            args.method = method;
        }
        args.headers = self
            .headers
            .into_iter()
            .filter(|h| !h.trim().is_empty())
            .collect();
        args.cookies = self
            .cookies
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect();
        args.country = given(self.country);
        args.continent = given(self.continent);
        args.region = given(self.region);
        args.city = given(self.city);
        args.lang = given(self.lang);
        args.at = given(self.at);
        args.ip = given(self.ip);
        args.asn = self.asn;
        if let Some(random) = self.random {
            args.random = random.to_string();
        }
        args
    }
}

/// A bundle (rules.json text) compiled once: its validation report, explanations of requests
/// and lint findings, each computed by the code of the `redirects` command of that name.
#[wasm_bindgen]
pub struct Rules {
    file: String,
    bytes: usize,
    engine: Result<Engine, CompileErrors>,
}

#[wasm_bindgen]
impl Rules {
    /// Compiles `text`; `file` names it in reports (as the CLI names the file it read).
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str, file: Option<String>) -> Rules {
        Rules {
            file: file.unwrap_or_else(|| "rules.json".to_string()),
            bytes: text.len(),
            engine: Engine::compile(text),
        }
    }

    /// Compiles UTF-8 bytes (`new TextEncoder().encode(text)`): for large bundles, faster to
    /// hand over than a string, which wasm-bindgen copies character by character in JavaScript.
    /// Throws when the bytes are not UTF-8.
    #[wasm_bindgen(js_name = fromUtf8)]
    pub fn from_utf8(bytes: &[u8], file: Option<String>) -> Result<Rules, JsError> {
        let text = std::str::from_utf8(bytes).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Rules::new(text, file))
    }

    /// Whether the bundle compiled.
    #[wasm_bindgen(getter)]
    pub fn valid(&self) -> bool {
        self.engine.is_ok()
    }

    /// Every error at once, as `redirects validate --json`.
    pub fn validate(&self) -> ValidateReport {
        to_js(&validate::report(&self.file, self.bytes, &self.engine))
    }

    /// What `request` gets and why, as `redirects explain --json` (at `now_millis`, since the
    /// epoch, unless the request has its own `at`), with the request's one-line summary and,
    /// for a redirect, the HTML note its body carries. Throws on an invalid bundle or request.
    pub fn explain(
        &self,
        request: ExplainRequest,
        now_millis: f64,
    ) -> Result<Explanation, JsError> {
        let engine = self
            .engine
            .as_ref()
            .map_err(|_| JsError::new("the bundle has errors: validate it first"))?;
        let text = js_sys::JSON::stringify(&request)
            .map(String::from)
            .map_err(|_| JsError::new("the request is not a plain object"))?;
        let input: RequestInput =
            serde_json::from_str(&text).map_err(|e| JsError::new(&format!("request: {e}")))?;
        let request = input.args().request().map_err(|e| JsError::new(&e))?;
        let mut at_now = request.clone();
        at_now
            .now
            .get_or_insert((now_millis / 1000.0).floor() as i64);
        let explanation = at_now.with(|r| engine.explain(r));
        let mut out = explain::explanation_json(&explanation);
        out["request"] = json!(summary(&request));
        out["note"] = match &explanation.decision {
            Decision::Redirect(response) => json!(response.body()),
            _ => Value::Null,
        };
        Ok(to_js(&out))
    }

    /// Loops, chains, shadowed rules, duplicates and risky statuses, as `redirects lint
    /// --json` (time windows judged at `now_millis`). Throws on an invalid bundle.
    pub fn lint(&self, now_millis: f64) -> Result<LintReport, JsError> {
        let engine = self
            .engine
            .as_ref()
            .map_err(|_| JsError::new("the bundle has errors: validate it first"))?;
        let findings = analyse_at(engine, Some((now_millis / 1000.0).floor() as i64));
        Ok(to_js(&lint::report(&self.file, &findings)))
    }
}
