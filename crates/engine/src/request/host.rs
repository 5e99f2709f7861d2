//! Host names: validation of rule hosts and matching of `example.com` / `*.example.com`.

/// Whether `pattern` (`example.com` or `*.example.com`, lower-case) matches `host` (lower-case).
/// A wildcard matches any subdomain at any depth, never the apex.
pub(crate) fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            host.len() > suffix.len() + 1
                && host.ends_with(suffix)
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
        }
        None => pattern == host,
    }
}

/// Normalises a host written in a rule (`Example.COM`, `*.bücher.example`, `ex.com.`) to the
/// lower-case ASCII form requests carry, or says what is wrong with it.
pub(crate) fn normalize_rule_host(text: &str) -> Result<String, String> {
    let (wild, name) = match text.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.contains('*') {
        return Err("has `*` somewhere other than a leading `*.`".into());
    }
    if name.contains(':') || name.contains('/') {
        return Err("must be a bare host name, without scheme, port or path".into());
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let parsed = url::Url::parse(&format!("http://{name}/"))
        .map_err(|e| format!("is not a valid host name ({e})"))?;
    match parsed.host_str() {
        Some(h) if !h.is_empty() => Ok(if wild {
            format!("*.{h}")
        } else {
            h.to_string()
        }),
        _ => Err("is not a valid host name".into()),
    }
}
