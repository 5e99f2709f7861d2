//! `redirects stats`: what the worker's hit analytics say for a time window — hits per rule
//! (per A/B variant), the bundle's rules with no hit, and the top paths the origin answered
//! 404 — read from Workers Analytics Engine through its SQL API.
//!
//! The account and token come from the environment as wrangler takes them
//! (`CLOUDFLARE_ACCOUNT_ID`, `CLOUDFLARE_API_TOKEN`); `CLOUDFLARE_API_BASE_URL` replaces
//! `https://api.cloudflare.com/client/v4` (tests point it at a loopback stand-in).

use crate::bundle::{load_valid, CmdResult};
use crate::output::Paint;
use crate::Status;
use edge_redirects_publish::analytics;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// The dataset the README's `wrangler.toml` lines bind.
pub const DEFAULT_DATASET: &str = "redirect_hits";

/// The API base when `CLOUDFLARE_API_BASE_URL` is unset.
const API_BASE: &str = "https://api.cloudflare.com/client/v4";

/// Arguments of `redirects stats`.
#[derive(clap::Args)]
pub struct Args {
    /// The rule bundle (its rules without a hit are listed).
    #[arg(default_value = "rules.json")]
    file: PathBuf,
    /// The time window, back from now: `30m`, `24h`, `7d`.
    #[arg(long, default_value = "7d")]
    since: String,
    /// The Analytics Engine dataset the worker writes to.
    #[arg(long, default_value = DEFAULT_DATASET)]
    dataset: String,
    /// How many 404 paths to list.
    #[arg(long, default_value_t = 20)]
    top: u32,
    /// Print a JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// One rule's hits in the window.
struct RuleHits {
    id: String,
    hits: u64,
    /// Hits per A/B variant, when a split decided.
    variants: BTreeMap<String, u64>,
}

/// Runs the command.
pub fn run(args: &Args) -> CmdResult {
    let window = Window::parse(&args.since)?;
    if args.dataset.is_empty()
        || !args
            .dataset
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(format!(
            "--dataset {:?}: a dataset name has letters, digits and `_` only",
            args.dataset
        ));
    }
    let Some((_, engine)) = load_valid(&args.file)? else {
        return Ok(Status::Findings);
    };
    let api = Api::from_env()?;
    let rows = api.query(&hits_sql(&args.dataset, &window))?;
    let rules = rule_hits(&rows)?;
    let not_found = api.query(&not_found_sql(&args.dataset, &window, args.top))?;
    let not_found: Vec<(String, u64)> = not_found
        .iter()
        .map(|row| Ok((text(row, "path")?, count(row, "hits")?)))
        .collect::<Result<_, String>>()?;
    let seen: HashSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let known: HashSet<&str> = engine.rules().iter().map(|r| r.id()).collect();
    let unused: Vec<&str> = engine
        .rules()
        .iter()
        .map(|r| r.id())
        .filter(|id| !seen.contains(id))
        .collect();
    if args.json {
        let out = json!({
            "dataset": args.dataset,
            "since": args.since,
            "rules": rules.iter().map(|r| json!({
                "id": r.id, "hits": r.hits, "variants": r.variants,
                "in_bundle": known.contains(r.id.as_str()),
            })).collect::<Vec<_>>(),
            "no_hits": unused,
            "not_found": not_found.iter().map(|(path, hits)| json!({
                "path": path, "hits": hits,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    } else {
        let report = Report {
            rules: &rules,
            known: &known,
            unused: &unused,
            not_found: &not_found,
        };
        print!("{}", render(args, &window, &report));
    }
    Ok(Status::Ok)
}

/// What the queries found, beside the bundle.
struct Report<'a> {
    rules: &'a [RuleHits],
    /// The bundle's rule ids.
    known: &'a HashSet<&'a str>,
    unused: &'a [&'a str],
    not_found: &'a [(String, u64)],
}

/// The text report.
fn render(args: &Args, window: &Window, report: &Report<'_>) -> String {
    let Report {
        rules,
        known,
        unused,
        not_found,
    } = *report;
    let paint = Paint::stdout();
    let mut out = format!(
        "{} last {} (dataset {})\n",
        paint.bold("window"),
        window.words(),
        args.dataset
    );
    out += &format!("{}\n", paint.bold("hits per rule"));
    if rules.is_empty() {
        out += "  none\n";
    }
    for r in rules {
        let variants = r
            .variants
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect::<Vec<_>>();
        let variants = if variants.is_empty() {
            String::new()
        } else {
            format!("  ({})", variants.join(", "))
        };
        let gone = if known.contains(r.id.as_str()) {
            ""
        } else {
            "  (not in the bundle)"
        };
        out += &format!("  {:>9}  {}{variants}{gone}\n", r.hits, paint.cyan(&r.id));
    }
    out += &format!("{} ({})\n", paint.bold("rules with no hit"), unused.len());
    for id in unused {
        out += &format!("  {}\n", paint.cyan(id));
    }
    out += &format!("{}\n", paint.bold("top 404 paths"));
    if not_found.is_empty() {
        out += "  none\n";
    }
    for (path, hits) in not_found {
        out += &format!("  {hits:>9}  {path}\n");
    }
    out
}

/// Hits per rule, most first, from rows of `rule, variant, hits`.
fn rule_hits(rows: &[Value]) -> Result<Vec<RuleHits>, String> {
    let mut by_rule: BTreeMap<String, RuleHits> = BTreeMap::new();
    for row in rows {
        let id = text(row, "rule")?;
        let variant = text(row, "variant")?;
        let hits = count(row, "hits")?;
        let entry = by_rule.entry(id.clone()).or_insert_with(|| RuleHits {
            id,
            hits: 0,
            variants: BTreeMap::new(),
        });
        entry.hits += hits;
        if !variant.is_empty() {
            *entry.variants.entry(variant).or_default() += hits;
        }
    }
    let mut rules: Vec<RuleHits> = by_rule.into_values().collect();
    rules.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.id.cmp(&b.id)));
    Ok(rules)
}

/// A string column of a result row.
fn text(row: &Value, column: &str) -> Result<String, String> {
    row.get(column)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("the SQL API's answer has a row without a text `{column}`: {row}"))
}

/// A count column of a result row: a JSON number, or a string of digits (64-bit integers are
/// quoted in the API's JSON).
fn count(row: &Value, column: &str) -> Result<u64, String> {
    let value = row.get(column);
    value
        .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.round() as u64)))
        .or_else(|| value.and_then(Value::as_str).and_then(|s| s.parse().ok()))
        .ok_or_else(|| format!("the SQL API's answer has a row without a count `{column}`: {row}"))
}

/// A time window back from now.
struct Window {
    amount: u32,
    /// `MINUTE`, `HOUR` or `DAY`.
    unit: &'static str,
}

impl Window {
    fn parse(text: &str) -> Result<Window, String> {
        let bad = || format!("--since {text:?}: write a whole number and m, h or d (`7d`, `24h`)");
        // Cut at the last character, not the last byte: `7é` must be refused, not split
        // inside its `é`.
        let mut chars = text.chars();
        let unit = match chars.next_back() {
            Some('m') => "MINUTE",
            Some('h') => "HOUR",
            Some('d') => "DAY",
            _ => return Err(bad()),
        };
        let digits = chars.as_str();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match digits.parse::<u32>() {
            Ok(amount) if amount > 0 => Ok(Window { amount, unit }),
            _ => Err(bad()),
        }
    }

    /// `7 days`, `1 hour`.
    fn words(&self) -> String {
        let unit = self.unit.to_ascii_lowercase();
        let plural = if self.amount == 1 { "" } else { "s" };
        format!("{} {unit}{plural}", self.amount)
    }

    /// The SQL condition on `timestamp`.
    fn condition(&self) -> String {
        format!(
            "timestamp > NOW() - INTERVAL '{}' {}",
            self.amount, self.unit
        )
    }
}

/// Hits per rule and variant (the README shows this query).
fn hits_sql(dataset: &str, window: &Window) -> String {
    analytics::hits_sql(dataset, &window.condition())
}

/// The top `top` paths the origin answered 404 (the README shows this query).
fn not_found_sql(dataset: &str, window: &Window, top: u32) -> String {
    analytics::not_found_sql(dataset, &window.condition(), top)
}

/// The Analytics Engine SQL API of one account.
struct Api {
    url: String,
    token: String,
}

impl Api {
    fn from_env() -> Result<Api, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("{name} is not set (the account and API token, as wrangler reads them; the token needs Account Analytics: Read)"))
        };
        let account = var("CLOUDFLARE_ACCOUNT_ID")?;
        let token = var("CLOUDFLARE_API_TOKEN")?;
        let base = std::env::var("CLOUDFLARE_API_BASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| API_BASE.to_string());
        Ok(Api {
            url: format!(
                "{}/accounts/{account}/analytics_engine/sql",
                base.trim_end_matches('/')
            ),
            token,
        })
    }

    /// Runs `sql`; the rows of its answer (`{"meta", "data", "rows", ...}`).
    fn query(&self, sql: &str) -> Result<Vec<Value>, String> {
        let answer = ureq::post(&self.url)
            .set("Authorization", &format!("Bearer {}", self.token))
            .send_string(sql);
        let body = match answer {
            Ok(response) => response
                .into_string()
                .map_err(|e| format!("reading the SQL API's answer: {e}"))?,
            Err(ureq::Error::Status(code, response)) => {
                let body = response.into_string().unwrap_or_default();
                return Err(format!(
                    "the SQL API answered {code}: {}",
                    body.trim().chars().take(500).collect::<String>()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "the SQL API at {} could not be reached: {e}",
                    self.url
                ))
            }
        };
        let value: Value = serde_json::from_str(&body)
            .map_err(|e| format!("the SQL API's answer is not JSON ({e})"))?;
        match value.get("data") {
            Some(Value::Array(rows)) => Ok(rows.clone()),
            _ => Err(format!(
                "the SQL API's answer has no `data` array: {}",
                body.chars().take(500).collect::<String>()
            )),
        }
    }
}
