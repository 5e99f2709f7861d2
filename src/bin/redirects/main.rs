//! The `redirects` command-line tool.

fn main() {
    eprintln!("redirects: not yet implemented");
    std::process::exit(2);
}
