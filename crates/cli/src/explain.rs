//! `redirects explain`: the decision for one request, and why.

use crate::bundle::{load_valid, CmdResult};
use crate::continents::continent_of;
use crate::decision_json::decision_json;
use crate::output::{print_json, Paint};
use crate::request_args::{
    absolute_url, parse_fraction, parse_header, summary, unix_now, RequestBuf,
};
use crate::Status;
use edge_redirects::{
    parse_instant, random_from_fraction, Decision, Explanation, TraceStep, Verdict,
};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::PathBuf;

/// Arguments of `redirects explain`.
#[derive(clap::Args)]
pub struct Args {
    /// `[FILE] URL`: the bundle (default rules.json) and the request URL.
    #[arg(num_args = 1..=2, required = true, value_names = ["FILE", "URL"])]
    pub paths: Vec<String>,
    /// Request method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A request header, `Name: value`; repeatable.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// A cookie, `name=value`; repeatable.
    #[arg(long = "cookie", value_name = "NAME=VALUE")]
    pub cookies: Vec<String>,
    /// Visitor country (ISO 3166-1 alpha-2), as `cf.country`.
    #[arg(long)]
    pub country: Option<String>,
    /// Visitor continent (AF AN AS EU NA OC SA), as `cf.continent`; by default the
    /// continent of `--country` (README, "Request context on the command line").
    #[arg(long)]
    pub continent: Option<String>,
    /// Visitor region code, as `cf.regionCode`.
    #[arg(long)]
    pub region: Option<String>,
    /// Visitor city, as `cf.city`.
    #[arg(long)]
    pub city: Option<String>,
    /// Accept-Language of the visitor, e.g. `de-AT` or `de-AT,en;q=0.5`.
    #[arg(long)]
    pub lang: Option<String>,
    /// The request's time, an RFC 3339 instant (`2026-12-24T09:00:00Z`); default: now.
    #[arg(long, value_name = "RFC 3339")]
    pub at: Option<String>,
    /// The visitor's address, as Cloudflare's `CF-Connecting-IP` gives it.
    #[arg(long)]
    pub ip: Option<String>,
    /// The visitor's network: autonomous system number, as `cf.asn`.
    #[arg(long)]
    pub asn: Option<u32>,
    /// Random fraction in [0, 1) for a fresh A/B assignment.
    #[arg(long, default_value = "0")]
    pub random: String,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// The arguments for a request to `url` with every other option at its default, for a
    /// caller that sets the fields itself (the wasm library's `explain`).
    pub fn for_url(url: &str) -> Args {
        Args {
            paths: vec![url.to_string()],
            method: "GET".to_string(),
            headers: Vec::new(),
            cookies: Vec::new(),
            country: None,
            continent: None,
            region: None,
            city: None,
            lang: None,
            at: None,
            ip: None,
            asn: None,
            random: "0".to_string(),
            json: false,
        }
    }

    /// The request these arguments describe (the time is `None` without `--at`: now).
    pub fn request(&self) -> Result<RequestBuf, String> {
        let url = self.paths.last().ok_or("no URL")?;
        let mut req = RequestBuf::get(&absolute_url(url)?);
        req.method = self.method.to_ascii_uppercase();
        for h in &self.headers {
            req.headers.push(parse_header(h)?);
        }
        if !self.cookies.is_empty() {
            for c in &self.cookies {
                if !c.contains('=') {
                    return Err(format!("cookie {c:?} must look like name=value"));
                }
            }
            req.headers
                .push(("Cookie".to_string(), self.cookies.join("; ")));
        }
        if let Some(lang) = &self.lang {
            req.headers
                .push(("Accept-Language".to_string(), lang.clone()));
        }
        req.country = self.country.clone();
        req.continent = self.continent.clone().or_else(|| {
            let country = self.country.as_deref()?;
            continent_of(country).map(str::to_string)
        });
        // Without --at the request is evaluated now (see `run`), and the summary says nothing.
        req.now = match &self.at {
            Some(at) => {
                Some(parse_instant(at).map_err(|e| format!("--at: {} ({})", e.message, e.hint))?)
            }
            None => None,
        };
        req.ip = self.ip.clone();
        req.asn = self.asn;
        req.region = self.region.clone();
        req.city = self.city.clone();
        req.random = random_from_fraction(parse_fraction(&self.random)?);
        Ok(req)
    }
}

/// Runs the command.
pub fn run(args: &Args) -> CmdResult {
    let file = if args.paths.len() == 2 {
        PathBuf::from(&args.paths[0])
    } else {
        PathBuf::from("rules.json")
    };
    let request = args.request()?;
    let Some((_, engine)) = load_valid(&file)? else {
        return Ok(Status::Findings);
    };
    let mut at_now = request.clone();
    at_now.now.get_or_insert_with(unix_now);
    let explanation = at_now.with(|r| engine.explain(r));
    if args.json {
        print_json(&explanation_json(&explanation));
    } else {
        print!("{}", render(&request, &explanation, &Paint::stdout()));
    }
    Ok(Status::Ok)
}

/// The stable JSON object: the decision's fields plus `trace`.
pub fn explanation_json(explanation: &Explanation<'_>) -> Value {
    let mut map = decision_json(&explanation.decision);
    let trace: Vec<Value> = explanation.trace.iter().map(step_json).collect();
    map.insert("trace".into(), Value::Array(trace));
    Value::Object(map)
}

fn step_json(step: &TraceStep<'_>) -> Value {
    json!({
        "rule_index": step.rule_index,
        "rule_id": step.rule_id,
        "verdict": verdict_code(&step.verdict),
        "reason": step.verdict.to_string(),
    })
}

/// A stable snake_case name for a verdict.
pub fn verdict_code(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Applied => "applied",
        Verdict::HostMismatch => "host_mismatch",
        Verdict::MethodMismatch => "method_mismatch",
        Verdict::PatternMismatch => "pattern_mismatch",
        Verdict::WhenFailed(_) => "when_failed",
        Verdict::UnlessHeld(_) => "unless_held",
        Verdict::LoopGuard => "loop_guard",
        Verdict::HostNotAllowed => "host_not_allowed",
    }
}

/// The explanation as people read it.
pub fn render(request: &RequestBuf, explanation: &Explanation<'_>, paint: &Paint) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}", paint.bold("request "), summary(request));
    for (name, value) in &request.headers {
        let _ = writeln!(out, "          {}", paint.dim(&format!("{name}: {value}")));
    }
    let rule = |id: &str| paint.cyan(&format!("{id:?}"));
    match &explanation.decision {
        Decision::Redirect(r) => {
            let _ = writeln!(
                out,
                "{}  {} {} {}",
                paint.bold("decision"),
                paint.green(&format!("redirect {}", r.status)),
                r.location,
                paint.dim(&format!("(rule {})", rule(r.rule)))
            );
        }
        Decision::Forward(f) => {
            let target = f
                .location
                .clone()
                .unwrap_or_else(|| "the origin's Location".to_string());
            let _ = writeln!(
                out,
                "{}  {} to the origin; on 2xx, 303 to {} {}",
                paint.bold("decision"),
                paint.green("forward"),
                target,
                paint.dim(&format!("(rule {})", rule(f.rule)))
            );
        }
        Decision::Origin(p) => {
            let why = match p.rule {
                Some(id) => format!("(rule {} keeps the visitor on the origin)", rule(id)),
                None => "(no rule applied)".to_string(),
            };
            let _ = writeln!(
                out,
                "{}  {} {}",
                paint.bold("decision"),
                paint.yellow("origin"),
                paint.dim(&why)
            );
        }
    }
    for (i, (name, value)) in explanation.decision.headers().iter().enumerate() {
        let label = if i == 0 { "headers " } else { "        " };
        let _ = writeln!(out, "{}  {name}: {value}", paint.bold(label));
    }
    if explanation.trace.is_empty() {
        let _ = writeln!(
            out,
            "{}  no rule's host and pattern match this URL",
            paint.bold("trace   ")
        );
    }
    let width = explanation
        .trace
        .iter()
        .map(|s| s.rule_id.len() + 2)
        .max()
        .unwrap_or(0);
    for (i, step) in explanation.trace.iter().enumerate() {
        let label = if i == 0 { "trace   " } else { "        " };
        let id = format!("{:?}", step.rule_id);
        let id = format!("{id:<width$}");
        let verdict = if step.verdict == Verdict::Applied {
            paint.green("applied")
        } else {
            format!("{} {}", paint.yellow("skipped:"), step.verdict)
        };
        let _ = writeln!(
            out,
            "{}  #{} {} {verdict}",
            paint.bold(label),
            step.rule_index,
            paint.cyan(&id)
        );
    }
    out
}
