//! What a lookup in the index returns.

use smallvec::SmallVec;

/// The candidate rules of one request (rarely more than a few), by position in their part.
pub(crate) type Candidates = SmallVec<[u32; 8]>;
