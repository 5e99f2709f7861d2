//! Bundle-wide settings (`settings` in rules.json) with their documented defaults.

/// The validated `settings` object of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Default for rules: carry the request's query string over to the target.
    pub preserve_query: bool,
    /// Path literals match case-sensitively.
    pub case_sensitive: bool,
    /// `trailing_slash: "strict"`: `/a` and `/a/` are different paths.
    pub trailing_slash_strict: bool,
    /// `trailing_slash: "remove"`: `/a` and `/a/` match alike, as with `"ignore"`, and a rest
    /// capture never holds the trailing slash (Next.js removes it before its redirects run).
    pub trailing_slash_removed: bool,
    /// `trailing_slash: "exact"`: as `"strict"`, and no placeholder takes a trailing slash, so
    /// `/docs/:path*` does not match `/docs/a/` (Vercel: path-to-regexp's `strict`).
    pub trailing_slash_exact: bool,
    /// Hosts (exact or `*.example.com`, lower-case) a target may reach when a placeholder is
    /// substituted into its host.
    pub allowed_hosts: Vec<String>,
    /// Cache-Control sent with 301/308.
    pub permanent_cache_control: String,
    /// Max-Age in seconds of A/B assignment cookies.
    pub sticky_max_age: u64,
    /// Add `X-Redirect-Rule: <rule id>` to every response the engine decides.
    pub debug_header: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            preserve_query: true,
            case_sensitive: true,
            trailing_slash_strict: false,
            trailing_slash_removed: false,
            trailing_slash_exact: false,
            allowed_hosts: Vec::new(),
            permanent_cache_control: "public, max-age=86400".to_string(),
            sticky_max_age: 2_592_000,
            debug_header: false,
        }
    }
}

impl Settings {
    /// Whether `host` (lower-case) is listed in `allowed_hosts`, exactly or under a wildcard.
    pub fn host_allowed(&self, host: &str) -> bool {
        self.allowed_hosts
            .iter()
            .any(|allowed| crate::request::host::host_matches(allowed, host))
    }
}
