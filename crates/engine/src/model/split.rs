//! A/B splits: sticky assignment from a cookie, fresh assignment by weight.

use crate::model::target::Target;
use crate::request::visitor::VisitorData;

/// One variant of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The name stored in the assignment cookie.
    pub name: String,
    /// Relative weight; 0 means "never assigned fresh" (a cookie can still name it).
    pub weight: u32,
    /// The target as written; `None` means "stay": pass through to the origin.
    pub to: Option<String>,
}

/// A compiled `split`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub(crate) cookie: String,
    pub(crate) variants: Vec<Variant>,
    pub(crate) targets: Vec<Option<Target>>,
    pub(crate) total: u64,
}

/// A variant picked for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub variant: usize,
    /// True when the visitor had no valid cookie and must be sent one.
    pub fresh: bool,
}

impl Split {
    /// The assignment cookie's name.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// The variants in order.
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// The sticky variant named by the visitor's cookie, else a fresh one drawn by weight:
    /// `random` scaled to `[0, total)`, then the first variant whose cumulative weight exceeds it.
    pub(crate) fn assign(&self, visitor: &mut VisitorData<'_, '_>) -> Assignment {
        if let Some(value) = visitor.cookie(&self.cookie) {
            if let Some(i) = self.variants.iter().position(|v| v.name == value) {
                return Assignment {
                    variant: i,
                    fresh: false,
                };
            }
        }
        let point = ((u128::from(visitor.request.random) * u128::from(self.total)) >> 64) as u64;
        let mut cumulative = 0u64;
        for (i, v) in self.variants.iter().enumerate() {
            cumulative += u64::from(v.weight);
            if point < cumulative {
                return Assignment {
                    variant: i,
                    fresh: true,
                };
            }
        }
        // Unreachable while total > 0 (validated), kept total for safety.
        Assignment {
            variant: self
                .variants
                .iter()
                .rposition(|v| v.weight > 0)
                .unwrap_or(0),
            fresh: true,
        }
    }
}
