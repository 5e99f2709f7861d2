//! The command line: arguments parsed by clap, each command run, its outcome turned into the
//! exit code (0 ok, 1 findings, 2 usage or I/O errors). The native binary and the wasm library
//! both call [`run`], so the same arguments give the same output and exit code on either.

use crate::{build, explain, import, lint, schema, suggest, test_cases, validate, Status};
#[cfg(not(target_arch = "wasm32"))]
use crate::{publish, stats};
use clap::{Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  success: the bundle is valid, no lint errors, every case passed
  1  findings: validation errors, lint errors (or warnings with --deny-warnings), failed cases,
     rules an import could not express
  2  usage or I/O error: bad arguments, unreadable file, malformed case file";

/// Validate, explain, lint and test redirect rule bundles (rules.json), build them into the
/// artifact the worker starts from, and import rules from Netlify, Cloudflare Bulk Redirects
/// and Vercel.
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
    /// Compile a bundle into the artifact the worker embeds (validating it first): it
    /// starts in constant time whatever the number of rules.
    #[command(after_help = EXIT_CODES)]
    Build {
        /// The rule bundle.
        #[arg(default_value = "rules.json")]
        file: PathBuf,
        /// Where to write the artifact.
        #[arg(short, long, default_value = "rules.bin")]
        output: PathBuf,
        /// About how many rules one part holds (each part is compiled on first use).
        #[arg(long, default_value_t = edge_redirects::artifact::PART_RULES)]
        part_rules: usize,
        /// Most rules the bundle may hold (an artifact is never compiled whole; at most
        /// 16,777,216)
        #[arg(long, default_value_t = edge_redirects::limits::MAX_RULES as u32, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
        max_rules: u32,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    #[cfg(not(target_arch = "wasm32"))]
    /// Put a bundle in use through Workers KV without a redeploy: validate, lint, run the case
    /// files, build, write the version, then switch the manifest the worker follows.
    #[command(after_help = EXIT_CODES)]
    Publish {
        /// The rule bundle, or an artifact `redirects build` wrote (for bundles over a million
        /// rules: `redirects build --max-rules N`).
        #[arg(default_value = "rules.json")]
        file: PathBuf,
        /// Case files (as for `redirects test`) that must pass first; repeatable.
        #[arg(long = "cases")]
        cases: Vec<PathBuf>,
        /// Serve the new version to this share of visitors (1-100, sticky per visitor) until
        /// `promote` or `rollback`.
        #[arg(long)]
        canary: Option<u8>,
        /// Skip `lint` (it compiles every rule at once: about 4 KB of memory a rule).
        #[arg(long)]
        no_lint: bool,
        #[command(flatten)]
        target: publish::Target,
    },
    #[cfg(not(target_arch = "wasm32"))]
    /// End a canary, or put the version in use before the current one back.
    #[command(after_help = EXIT_CODES)]
    Rollback {
        #[command(flatten)]
        target: publish::Target,
    },
    #[cfg(not(target_arch = "wasm32"))]
    /// Serve the canary's version to every visitor.
    #[command(after_help = EXIT_CODES)]
    Promote {
        #[command(flatten)]
        target: publish::Target,
    },
    /// Print the JSON Schema of rules.json.
    Schema,
    #[cfg(not(target_arch = "wasm32"))]
    /// Hits per rule, rules with no hit and top 404 paths, from the worker's Analytics Engine
    /// dataset (CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN).
    #[command(after_help = EXIT_CODES)]
    Stats(Box<stats::Args>),
    /// Propose rules for 404 paths that closely match a live URL (printed, never applied).
    #[command(after_help = EXIT_CODES)]
    Suggest(Box<suggest::Args>),
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

/// Runs the command line `args` (the program name first) and returns the exit code; output goes
/// to the console (see [`crate::console`]).
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
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
        Command::Build {
            file,
            output,
            part_rules,
            max_rules,
            json,
        } => build::run(
            &file,
            &output,
            edge_redirects::artifact::Options {
                part_rules,
                max_rules: max_rules as usize,
                ..Default::default()
            },
            json,
        ),
        #[cfg(not(target_arch = "wasm32"))]
        Command::Publish {
            file,
            cases,
            canary,
            no_lint,
            target,
        } => publish::run_publish(&file, &cases, canary, !no_lint, &target),
        #[cfg(not(target_arch = "wasm32"))]
        Command::Rollback { target } => publish::run_rollback(&target),
        #[cfg(not(target_arch = "wasm32"))]
        Command::Promote { target } => publish::run_promote(&target),
        Command::Schema => schema::run(),
        #[cfg(not(target_arch = "wasm32"))]
        Command::Stats(args) => stats::run(&args),
        Command::Suggest(args) => suggest::run(&args),
    };
    match result {
        Ok(Status::Ok) => 0,
        Ok(Status::Findings) => 1,
        Err(e) => {
            eprintln!("redirects: {e}");
            2
        }
    }
}

/// Prints a parse error, `--help` or `--version` where clap would, and returns its exit code.
fn usage(e: &clap::Error) -> u8 {
    let stream = if e.use_stderr() {
        crate::console::Stream::Err
    } else {
        crate::console::Stream::Out
    };
    let text = if crate::console::colored(stream) {
        e.render().ansi().to_string()
    } else {
        e.render().to_string()
    };
    crate::console::write(stream, format_args!("{text}"));
    u8::try_from(e.exit_code()).unwrap_or(2)
}
