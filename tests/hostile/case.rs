//! One hostile request and the category it is reported under, and the check of a list of
//! them against the invariants.

use super::engine;
use edge_redirects::RequestBuf;
use edge_redirects_testkit::invariants;

/// One hostile request, owned, and the category it is reported under.
#[derive(Debug, Clone)]
pub struct Case {
    pub category: &'static str,
    request: RequestBuf,
}

/// A case reads as its request (`c.url`, `c.headers`, `c.with(..)`).
impl std::ops::Deref for Case {
    type Target = RequestBuf;
    fn deref(&self) -> &RequestBuf {
        &self.request
    }
}

impl Case {
    pub fn get(category: &'static str, url: impl Into<String>) -> Case {
        Case {
            category,
            request: RequestBuf::get(url),
        }
    }

    /// The same request sent to `url` instead.
    pub fn at(&self, url: String) -> RequestBuf {
        RequestBuf {
            url,
            ..self.request.clone()
        }
    }

    fn map(self, f: impl FnOnce(RequestBuf) -> RequestBuf) -> Case {
        Case {
            request: f(self.request),
            ..self
        }
    }

    pub fn method(self, m: &str) -> Case {
        self.map(|r| r.method(m))
    }

    pub fn header(self, name: &str, value: impl Into<String>) -> Case {
        self.map(|r| r.header(name, value))
    }

    pub fn geo(self, country: &str, continent: &str) -> Case {
        self.map(|r| r.geo(country, continent))
    }

    /// Checks the invariants for the URL as sent and as the platform normalises it.
    fn check(&self) -> Result<(), String> {
        for url in edge_redirects_testkit::as_sent_and_normalised(&self.url) {
            self.at(url)
                .with(|r| invariants::check(engine(), r))
                .map_err(|e| format!("[{}] {e}", self.category))?;
        }
        Ok(())
    }
}

pub fn run(cases: &[Case]) {
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases.iter().filter_map(|c| c.check().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} hostile requests broke an invariant:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
