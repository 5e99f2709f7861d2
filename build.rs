//! Builds the bundled `rules.json` into the artifact the worker embeds (`OUT_DIR/rules.bin`),
//! so an isolate starts by checking a header instead of compiling JSON. A bundle with errors
//! stops the build with every error, as `redirects validate` prints them.

fn main() {
    println!("cargo:rerun-if-changed=rules.json");
    let text = std::fs::read_to_string("rules.json")
        .unwrap_or_else(|e| panic!("cannot read rules.json: {e}"));
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("rules.bin");
    match edge_redirects::artifact::build(&text) {
        Ok(bytes) => std::fs::write(&out, bytes)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display())),
        Err(errors) => {
            eprintln!("rules.json does not compile:\n{errors}");
            std::process::exit(1);
        }
    }
}
