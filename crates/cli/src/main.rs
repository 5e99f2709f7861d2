//! The `redirects` command-line tool: check a rule bundle before it reaches the edge.
//!
//! Each command lives in its own module; this file only parses arguments and maps outcomes to
//! exit codes (0 ok, 1 findings, 2 usage or I/O errors).

mod bundle;
mod decision_json;
mod errors;
mod explain;
mod import;
mod lint;
mod output;
mod request_args;
mod schema;
mod test_cases;
mod validate;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  success: the bundle is valid, no lint errors, every case passed
  1  findings: validation errors, lint errors (or warnings with --deny-warnings), failed cases,
     rules an import could not express
  2  usage or I/O error: bad arguments, unreadable file, malformed case file";

/// Validate, explain, lint and test redirect rule bundles (rules.json), and import rules from
/// Netlify, Cloudflare Bulk Redirects and Vercel.
#[derive(Parser)]
#[command(name = "redirects", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report every error in a bundle at once: rule, JSON pointer, message and hint.
    #[command(after_help = EXIT_CODES)]
    Validate {
        /// The rule bundle.
        #[arg(default_value = "rules.json")]
        file: PathBuf,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show what a request gets and why each candidate rule did or did not apply.
    #[command(after_help = EXIT_CODES)]
    Explain(Box<explain::Args>),
    /// Find loops, chains, rules that never fire, duplicates and risky statuses.
    #[command(after_help = EXIT_CODES)]
    Lint {
        /// The rule bundle.
        #[arg(default_value = "rules.json")]
        file: PathBuf,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// List every finding (the text output shows 10 of each kind and counts the rest).
        #[arg(long)]
        all: bool,
    },
    /// Check your own expectations (request → status, location or origin) against a bundle.
    #[command(after_help = EXIT_CODES)]
    Test {
        /// `[FILE] CASES.json`: the bundle and the case file. Without FILE, the case file's own
        /// `bundle` / `bundle_file` is used, else rules.json.
        #[arg(num_args = 1..=2, required = true, value_names = ["FILE", "CASES"])]
        paths: Vec<PathBuf>,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Convert rules from another platform into rules.json (v1) on stdout.
    #[command(after_help = EXIT_CODES)]
    Import {
        /// The input format.
        format: ImportFormat,
        /// Netlify `_redirects` or `netlify.toml`, a Cloudflare Bulk Redirects CSV, or
        /// `vercel.json`, or a Next.js `redirects()` array saved as JSON; `-` reads stdin.
        input: PathBuf,
    },
    /// Print the JSON Schema of rules.json.
    Schema,
}

/// Formats `redirects import` understands.
#[derive(Clone, Copy, ValueEnum)]
enum ImportFormat {
    /// Netlify `_redirects` or `[[redirects]]` in netlify.toml.
    Netlify,
    /// Cloudflare Bulk Redirects list (CSV).
    CloudflareCsv,
    /// `vercel.json` `redirects` (paths case-sensitive, as on Vercel).
    Vercel,
    /// The array a Next.js `redirects()` returns, saved as JSON (paths case-insensitive, as in
    /// Next.js).
    Nextjs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { file, json } => validate::run(&file, json),
        Command::Explain(args) => explain::run(&args),
        Command::Lint {
            file,
            json,
            deny_warnings,
            all,
        } => lint::run(&file, json, deny_warnings, all),
        Command::Test { paths, json } => {
            let (bundle, cases) = match paths.as_slice() {
                [cases] => (None, cases.clone()),
                [bundle, cases, ..] => (Some(bundle.clone()), cases.clone()),
                [] => unreachable!("clap requires at least one path"),
            };
            test_cases::run(bundle.as_deref(), &cases, json)
        }
        Command::Import { format, input } => {
            let format = match format {
                ImportFormat::Netlify => import::Format::Netlify,
                ImportFormat::CloudflareCsv => import::Format::CloudflareCsv,
                ImportFormat::Vercel => import::Format::Vercel,
                ImportFormat::Nextjs => import::Format::Nextjs,
            };
            import::run(format, &input)
        }
        Command::Schema => schema::run(),
    };
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            eprintln!("redirects: {e}");
            ExitCode::from(2)
        }
    }
}

/// How a command ended when it ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing to report.
    Ok,
    /// Errors, findings or failed cases were reported.
    Findings,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        match status {
            Status::Ok => ExitCode::SUCCESS,
            Status::Findings => ExitCode::from(1),
        }
    }
}
