//! The bundled rules: `rules.json` built into an artifact by `scripts/build` and uploaded
//! beside the wasm as a module of its own (`build/rules.bin`, a Data module: an `ArrayBuffer`
//! outside wasm memory), which the module entry (`scripts/worker-entry.js`) hands over.
//!
//! The worker copies into wasm memory only what requests need, as it does for a version
//! published through KV (`published.rs`, whose caches keep the pieces): the head once, then
//! each page of the filter and each part a request needs. So neither the wasm module nor wasm
//! memory grows with the bundle. Every range is checked to lie inside the artifact before it
//! is copied ([`Places`]), and every piece is checked when decoded, as pieces from KV are.

use std::ops::Range;

use edge_redirects::artifact::{ArtifactError, Need, Places, HEADER_BYTES};
use edge_redirects::Engine;
use worker::js_sys;

/// The artifact uploaded beside the worker, and where its pieces lie.
pub(crate) struct Embedded {
    buffer: js_sys::ArrayBuffer,
    places: Places,
}

impl Embedded {
    /// Opens the artifact in `buffer`: its places read from the header, its head copied in
    /// and loaded.
    pub(crate) fn open(buffer: js_sys::ArrayBuffer) -> Result<(Embedded, Engine), ArtifactError> {
        let len = buffer.byte_length() as usize;
        let header = copy(&buffer, 0..HEADER_BYTES.min(len));
        let places = Places::read(&header, len)?;
        let engine = Engine::load_head(copy(&buffer, places.head()))?;
        Ok((Embedded { buffer, places }, engine))
    }

    /// The bytes of page `g` of the filter, for [`Engine::decode_page`].
    pub(crate) fn page(&self, g: usize) -> Result<Vec<u8>, ArtifactError> {
        let entry = copy(&self.buffer, self.places.page_entry(g)?);
        Ok(copy(&self.buffer, self.places.page(g, &entry)?))
    }

    /// The bytes of the part `need` names, for [`Engine::decode_part`].
    pub(crate) fn part(&self, need: &Need) -> Result<Vec<u8>, ArtifactError> {
        Ok(copy(&self.buffer, self.places.part(need)?))
    }
}

/// Bytes `range` of `buffer`, copied into wasm memory (`range` lies inside it: [`Places`]
/// checks every range against the buffer's length).
fn copy(buffer: &js_sys::ArrayBuffer, range: Range<usize>) -> Vec<u8> {
    js_sys::Uint8Array::new_with_byte_offset_and_length(
        buffer,
        range.start as u32,
        (range.end - range.start) as u32,
    )
    .to_vec()
}
