//! The shaped placeholders leaving one node of the rule index (`:id(\d+)`, `{:slug}.html`,
//! `:page([a-z0-9-]+-v2)`): which of them a request segment can have, found without reading
//! the segment once per shape.
//!
//! Each shape is filed under the literal texts every segment with it must end (or start)
//! with, found in its pattern (`-v2`, `.html`); a segment looks up its own ends, one lookup
//! per distinct length of text filed. Shapes with no such text, and any group of shapes
//! filed under one text that is larger than [`MAX_PLAIN_GROUP`], are told apart by sets of
//! DFAs ([`ShapeSet`]) that read the segment once per set of up to 16 shapes. The rule of a
//! shape found still checks its whole pattern; what is found here only narrows the
//! candidates, so a request's cost does not grow with the number of shapes at one place.

use crate::model::constraint::{End, ShapeParts, ShapePattern, ShapeSet};
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

/// Most shapes a group holds before it is told apart by sets: each shape of a plain group
/// found by a segment costs its rule one check of at most 1 KiB.
const MAX_PLAIN_GROUP: usize = 8;

/// Shapes that a segment may have, by number (their position in the node's list).
#[derive(Debug, Default)]
struct Group {
    shapes: Vec<u32>,
    /// Empty: every shape of the group is a candidate. Else the sets over `shapes`, in order.
    sets: Vec<ShapeSet>,
}

impl Group {
    fn finish(&mut self, patterns: &[Option<ShapePattern>]) {
        if self.shapes.len() > MAX_PLAIN_GROUP {
            let mine: Option<Vec<&ShapePattern>> = self
                .shapes
                .iter()
                .map(|&k| patterns[k as usize].as_ref())
                .collect();
            if let Some(mine) = mine {
                self.sets = ShapeSet::build(&mine);
            }
        }
    }

    fn collect(&self, segment: &str, out: &mut SmallVec<[u32; 8]>) {
        if self.sets.is_empty() {
            out.extend_from_slice(&self.shapes);
            return;
        }
        let mut hits: SmallVec<[u32; 8]> = SmallVec::new();
        let mut offset = 0;
        for set in &self.sets {
            set.matching(segment, offset, &mut hits);
            offset += set.len();
        }
        out.extend(hits.into_iter().map(|k| self.shapes[k as usize]));
    }
}

/// Shapes filed under literal texts at one end of a segment.
#[derive(Debug, Default)]
struct Ends {
    /// The distinct lengths of the texts filed, ascending.
    lens: Vec<usize>,
    by_text: HashMap<Box<[u8]>, Group>,
}

impl Ends {
    fn collect(&self, segment: &str, end: End, out: &mut SmallVec<[u32; 8]>) {
        let bytes = segment.as_bytes();
        for &len in self.lens.iter().take_while(|&&l| l <= bytes.len()) {
            let text = match end {
                End::Last => &bytes[bytes.len() - len..],
                End::First => &bytes[..len],
            };
            if let Some(group) = self.by_text.get(text) {
                group.collect(segment, out);
            }
        }
    }
}

/// Finds the shapes of one node that a segment may have.
#[derive(Debug, Default)]
pub(crate) struct ShapeFinder {
    last: Ends,
    first: Ends,
    rest: Group,
}

impl ShapeFinder {
    /// Files `parts` (shape `k` is `parts[k]`).
    pub(crate) fn build(parts: &[ShapeParts<'_>]) -> ShapeFinder {
        let patterns: Vec<Option<ShapePattern>> = parts.iter().map(ShapePattern::new).collect();
        let mut finder = ShapeFinder::default();
        for (k, pattern) in patterns.iter().enumerate() {
            match pattern.as_ref().and_then(ShapePattern::end_literals) {
                Some((end, texts)) => {
                    let ends = match end {
                        End::Last => &mut finder.last,
                        End::First => &mut finder.first,
                    };
                    for text in texts {
                        let group = ends.by_text.entry(text.into()).or_default();
                        // One shape under two texts of one end is found once by either.
                        if group.shapes.last() != Some(&(k as u32)) {
                            group.shapes.push(k as u32);
                        }
                    }
                }
                None => finder.rest.shapes.push(k as u32),
            }
        }
        for ends in [&mut finder.last, &mut finder.first] {
            ends.lens = ends.by_text.keys().map(|t| t.len()).collect();
            ends.lens.sort_unstable();
            ends.lens.dedup();
            for group in ends.by_text.values_mut() {
                group.finish(&patterns);
            }
        }
        finder.rest.finish(&patterns);
        finder
    }

    /// The shapes `segment` (comparable form, not empty) may have, ascending, each once.
    pub(crate) fn collect(&self, segment: &str, out: &mut SmallVec<[u32; 8]>) {
        self.last.collect(segment, End::Last, out);
        self.first.collect(segment, End::First, out);
        self.rest.collect(segment, out);
        out.sort_unstable();
        out.dedup();
    }
}
