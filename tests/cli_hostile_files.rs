//! The `redirects` command given hostile or damaged input: options it must refuse without a
//! panic, artifacts whose header lies about their rules or whose part does not compile, and a
//! published manifest written by another tool. Each case was a crash, an abort or a wrong
//! answer before; each now ends in a clear message and a non-zero exit, or the right action.

#[path = "cli/support.rs"]
mod support;

use support::{run, scratch};

/// FNV-1a 64, the artifact's checksum (`crates/engine/ARTIFACT.md`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize
}

/// The end of an artifact's head: header, settings, 8 bytes per listed host.
fn head_end(bytes: &[u8]) -> usize {
    80 + u32_at(bytes, 44) + 8 * u32_at(bytes, 52)
}

/// Writes the header checksum again after an edit, so that the artifact opens.
fn seal(bytes: &mut [u8]) {
    let sum = fnv1a(&bytes[24..head_end(bytes)]);
    bytes[16..24].copy_from_slice(&sum.to_le_bytes());
}

/// The repository's rules.json built into an artifact; its bytes.
fn built(name: &str) -> Vec<u8> {
    let out = scratch(name, "");
    let (code, _, err) = run(&["build", "rules.json", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    std::fs::read(out).unwrap()
}

#[test]
fn since_with_letters_of_several_bytes_is_a_usage_error_not_a_panic() {
    for since in ["é", "7é", "1д", "д", "7dé", "ﬀ"] {
        let (code, _, err) = run(&["stats", "--since", since, "tests/cli/stats/rules.json"]);
        assert_eq!(code, 2, "--since {since}: {err}");
        assert!(err.contains("--since"), "--since {since}: {err}");
        assert!(!err.contains("panicked"), "--since {since}: {err}");
    }
}

/// An artifact whose header claims 4,294,967,295 rules: reading it allocated for that many
/// (687 GB) and aborted. The count is now checked against the file before anything is
/// allocated from it.
#[test]
fn an_artifact_claiming_four_billion_rules_is_refused_not_allocated() {
    let mut bytes = built("claims-rules.bin");
    bytes[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    seal(&mut bytes);
    let path = scratch("claims-rules.bin", "");
    std::fs::write(&path, &bytes).unwrap();
    let path = path.to_str().unwrap();
    for args in [
        vec!["lint", path],
        vec!["stats", path],
        vec!["explain", path, "https://example.com/"],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("4294967295 rules"), "{args:?}: {err}");
    }
}

/// A part whose checksum matches but whose rules do not compile: lint said "0 errors" and the
/// part's rules were silently left out.
#[test]
fn an_artifact_part_that_does_not_compile_is_an_error() {
    let mut bytes = built("broken-part.bin");
    // Each page of the filter names its parts: (page, entry offset, part, offset, len).
    let directory = head_end(&bytes);
    let entries: Vec<(usize, usize, usize, usize, usize)> = (0..1usize << u32_at(&bytes, 40))
        .flat_map(|g| {
            let page = u32_at(&bytes, directory + 8 * g);
            let (m, k) = (u32_at(&bytes, page + 20), u32_at(&bytes, page + 24));
            (0..k)
                .map(|j| {
                    let e = page + 32 + 4 * m + 32 * j;
                    let part = u32_at(&bytes, e + 4);
                    (g, e, part, u32_at(&bytes, e + 8), u32_at(&bytes, e + 16))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // The first part holding a rule: its first `"from": "/` made `"from": "x` (same length).
    let (page, e, i, at) = entries
        .iter()
        .find_map(|&(g, e, i, offset, len)| {
            let body = &bytes[offset..offset + len];
            let needle = b"\"from\": \"/";
            body.windows(needle.len())
                .position(|w| w == needle)
                .map(|p| (g, e, i, offset + p + needle.len() - 1))
        })
        .expect("a part with a rule");
    bytes[at] = b'x';
    // The part's checksum in its page's entry, then the page's own.
    let (offset, len) = (u32_at(&bytes, e + 8), u32_at(&bytes, e + 16));
    let sum = fnv1a(&bytes[offset..offset + len]);
    bytes[e + 24..e + 32].copy_from_slice(&sum.to_le_bytes());
    let (at, len) = (
        u32_at(&bytes, directory + 8 * page),
        u32_at(&bytes, directory + 8 * page + 4),
    );
    let sum = fnv1a(&bytes[at + 8..at + len]);
    bytes[at..at + 8].copy_from_slice(&sum.to_le_bytes());
    seal(&mut bytes);
    let path = scratch("broken-part.bin", "");
    std::fs::write(&path, &bytes).unwrap();
    let path = path.to_str().unwrap();
    let (code, out, err) = run(&["lint", path]);
    assert_ne!(code, 0, "lint passed a damaged artifact: {out}");
    assert!(!out.contains("0 errors"), "{out}");
    assert!(err.contains(&format!("part {i}")), "{err}");
    let (code, _, err) = run(&["stats", path]);
    assert_eq!(code, 2, "{err}");
}

/// A fake `wrangler` keeping the namespace's manifest in a file beside it: `kv key get
/// manifest --text ...` prints it, `kv key put manifest VALUE ...` replaces it.
#[cfg(unix)]
fn fake_wrangler(name: &str, manifest: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let script = scratch(
        &format!("{name}-wrangler"),
        "#!/bin/sh\n\
         manifest=\"$(dirname \"$0\")/$(basename \"$0\" -wrangler)-manifest.json\"\n\
         case \"$1 $2 $3 $4\" in\n\
         \"kv key get manifest\") cat \"$manifest\" ;;\n\
         \"kv key put manifest\") printf '%s' \"$5\" > \"$manifest\" ;;\n\
         *) echo \"unexpected: $*\" >&2; exit 1 ;;\n\
         esac\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let manifest_file = scratch(&format!("{name}-manifest.json"), manifest);
    (script, manifest_file)
}

/// The README documents the manifest for pipelines that write it themselves; one with a
/// fractional canary share (`12.5`) made `rollback` put the previous version back in use
/// instead of ending the canary, and `promote` refuse.
#[cfg(unix)]
#[test]
fn a_canary_with_a_fractional_percent_is_ended_by_rollback() {
    let manifest = r#"{"format":1,"current":"00000000000000aa","previous":"00000000000000bb","canary":{"id":"00000000000000cc","percent":12.5}}"#;
    let (wrangler, file) = fake_wrangler("fractional", manifest);
    let target = ["--namespace-id", "x", "--local", "--wrangler"];
    let mut args = vec!["rollback"];
    args.extend(target);
    args.push(wrangler.to_str().unwrap());
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("canary 00000000000000cc ended"), "{out}");
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(after["current"], "00000000000000aa");
    assert_eq!(after["previous"], "00000000000000bb");
    assert!(after["canary"].is_null());

    let (wrangler, file) = fake_wrangler("fractional-promote", manifest);
    let mut args = vec!["promote"];
    args.extend(target);
    args.push(wrangler.to_str().unwrap());
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(after["current"], "00000000000000cc");
    assert_eq!(after["previous"], "00000000000000aa");
}

/// A canary share outside 0–100, or not a number, is refused with the manifest's fault named,
/// not taken for "no canary" (which would roll the version in use back).
#[cfg(unix)]
#[test]
fn a_canary_without_a_usable_percent_is_refused_not_ignored() {
    for percent in ["\"ten\"", "-1", "100.5", "null"] {
        let manifest = format!(
            r#"{{"format":1,"current":"00000000000000aa","previous":"00000000000000bb","canary":{{"id":"00000000000000cc","percent":{percent}}}}}"#
        );
        let (wrangler, file) = fake_wrangler("bad-percent", &manifest);
        let (code, _, err) = run(&[
            "rollback",
            "--namespace-id",
            "x",
            "--local",
            "--wrangler",
            wrangler.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "percent {percent}: {err}");
        assert!(err.contains("percent"), "percent {percent}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), manifest);
    }
}
