//! Building an artifact from a bundle file without holding the bundle or the artifact: the
//! file is read three times, one rule at a time, and the rules' texts wait in temporary files
//! cut by page until their parts are written.
//!
//! 1. A first read hashes every byte (the routing key) and finds the settings, wherever the
//!    bundle writes them, and the number of rules.
//! 2. A second compiles and validates each rule as [`super::build`] does, keeping of each only
//!    the hashes of the places it could live at (`route::Routing`).
//! 3. A third writes each rule's text to the bucket of its home's page: a bucket is a run of
//!    pages holding about [`CHUNK_BYTES`] of rule text.
//!
//! Then the parts are cut as [`super::build`] cuts them and written page by page, each bucket
//! read alone, to a temporary file; the head and pages follow from them, and the artifact is
//! the head, the pages and that file: the same bytes as [`super::build`] gives for the same
//! text. A bundle of a shape the one-pass read does not take (a repeated `rules` or
//! `settings`, text that is not a bundle object) is read whole and built by [`super::build`],
//! whose errors it reports.

use super::build::{build_text, lay_out, page_bits, rules_apart, Built, Failure, Options, Texts};
use super::page::page_of;
use super::route::{fnv1a_from, key_of_text, Router, Routing};
use crate::compile::{compile_reader, scan, too_large};
use crate::error::CompileErrors;
use crate::limits::{MAX_BUILD_BUNDLE_BYTES, MAX_BUILD_RULES};
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

/// About how much rule text one bucket holds, and so what a build holds of the bundle at
/// once (its largest bucket), by default.
pub const CHUNK_BYTES: usize = 32 << 20;

/// Why [`build_file`] wrote nothing.
#[derive(Debug)]
pub enum BuildError {
    /// The bundle is not valid, or does not fit an artifact: every error, as [`super::build`]
    /// reports them.
    Invalid(CompileErrors),
    /// Reading the bundle or a temporary file, or writing, failed.
    Io(io::Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Invalid(errors) => write!(f, "{errors}"),
            BuildError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<Failure> for BuildError {
    fn from(failure: Failure) -> BuildError {
        match failure {
            Failure::Invalid(errors) => BuildError::Invalid(errors),
            Failure::Io(e) => BuildError::Io(e),
        }
    }
}

impl From<io::Error> for BuildError {
    fn from(e: io::Error) -> BuildError {
        BuildError::Io(e)
    }
}

/// Builds the bundle at `path` into an artifact written to `out`: the bytes and errors of
/// [`super::build_with`] on the file's text, with memory bounded by about [`CHUNK_BYTES`] of
/// rule text and a few tens of bytes a rule (where each lives), not by the bundle. Temporary
/// files (in the system's temporary directory, about twice the bundle's size at most) are
/// removed when it returns. Nothing is written to `out` unless the build succeeds.
pub fn build_file(path: &Path, options: Options, out: &mut dyn Write) -> Result<Built, BuildError> {
    build_file_chunked(path, options, CHUNK_BYTES, out)
}

/// [`build_file`] with buckets of about `chunk_bytes` of rule text (at least one page each).
pub fn build_file_chunked(
    path: &Path,
    options: Options,
    chunk_bytes: usize,
    out: &mut dyn Write,
) -> Result<Built, BuildError> {
    let file_bytes = std::fs::metadata(path)?.len();
    if file_bytes > MAX_BUILD_BUNDLE_BYTES as u64 {
        let bytes = usize::try_from(file_bytes).unwrap_or(usize::MAX);
        return Err(BuildError::Invalid(too_large(
            bytes,
            MAX_BUILD_BUNDLE_BYTES,
        )));
    }
    // 1. The routing key and the settings.
    let mut hashed = BufReader::with_capacity(1 << 20, Hashing::new(File::open(path)?));
    let found = scan(&mut hashed);
    io::copy(&mut hashed, &mut io::sink())?;
    let key = hashed.into_inner().key();
    let Ok(Some(found)) = found else {
        return whole(path, options, out);
    };
    // 2. Every rule compiled and routed.
    let max_rules = options.max_rules.clamp(1, MAX_BUILD_RULES);
    let mut routing = Routing::new(Router::new(key));
    let reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let settings = match compile_reader(reader, found, max_rules, &mut routing) {
        Ok(Some(Ok(settings))) => settings,
        Ok(Some(Err(errors))) => return Err(BuildError::Invalid(errors)),
        // Read whole, the text gives the same errors as a bundle built in memory.
        Ok(None) | Err(_) => return whole(path, options, out),
    };
    let routed = routing.finish(settings.case_sensitive);
    drop(settings);
    let (page_bits, distinct) = page_bits(&routed.homes).map_err(BuildError::Invalid)?;
    // 3. Each rule's text to its bucket.
    let buckets = (file_bytes as usize)
        .div_ceil(chunk_bytes.max(1))
        .max(1)
        .next_power_of_two()
        .min(1 << page_bits);
    let shift = page_bits - buckets.trailing_zeros();
    let mut split = Split {
        files: (0..buckets)
            .map(|_| tempfile::tempfile().map(BufWriter::new))
            .collect::<io::Result<_>>()?,
        page: routed
            .homes
            .iter()
            .map(|h| page_of(h.hash(), page_bits) as u32)
            .collect(),
        shift,
        sizes: Vec::with_capacity(routed.homes.len()),
        settings: None,
        error: None,
    };
    let reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let read = SplitTop(&mut split)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(e) = split.error.take() {
        return Err(BuildError::Io(e));
    }
    if read.is_err() {
        // The file changed between the reads.
        return whole(path, options, out);
    }
    if split.sizes.len() != routed.homes.len() {
        return Err(BuildError::Invalid(rules_apart()));
    }
    let settings = split.settings.take();
    let settings = settings.as_deref().map_or("{}", RawValue::get);
    let sizes = std::mem::take(&mut split.sizes);
    let mut texts = Buckets {
        files: split
            .files
            .into_iter()
            .map(|f| f.into_inner().map_err(io::IntoInnerError::into_error))
            .collect::<io::Result<_>>()?,
        shift,
        loaded: None,
        text: Vec::new(),
        at: Vec::new(),
    };
    drop(split.page);
    // 4. The parts, then the head and pages that name them.
    let mut parts = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
    let size = |r: u32| sizes[r as usize] as usize;
    let mut laid = lay_out(
        key,
        routed,
        (page_bits, distinct),
        settings,
        &size,
        options,
        &mut texts,
        &mut parts,
    )?;
    drop(texts);
    let mut parts = parts.into_inner().map_err(io::IntoInnerError::into_error)?;
    laid.seal(|mut h| {
        parts.rewind()?;
        let mut chunk = vec![0; 1 << 20];
        loop {
            match parts.read(&mut chunk)? {
                0 => return Ok(h),
                n => h = fnv1a_from(h, &chunk[..n]),
            }
        }
    })?;
    out.write_all(&laid.head)?;
    parts.rewind()?;
    io::copy(&mut parts, out)?;
    out.flush()?;
    Ok(laid.built)
}

/// A bundle of a shape only the reference read takes: built from its whole text.
fn whole(path: &Path, options: Options, out: &mut dyn Write) -> Result<Built, BuildError> {
    let text = std::fs::read_to_string(path)?;
    let (bytes, built) = build_text(&text, options).map_err(BuildError::Invalid)?;
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(built)
}

/// A reader that hashes what passes through it as the routing key does (two FNV-1a 64 from
/// different starts; one used to continue a hash).
struct Hashing<R> {
    inner: R,
    key: [u64; 2],
}

impl<R> Hashing<R> {
    fn new(inner: R) -> Self {
        let start = key_of_text(b"");
        Hashing { inner, key: start }
    }

    fn key(&self) -> [u64; 2] {
        self.key
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.key = [
            fnv1a_from(self.key[0], &buf[..n]),
            fnv1a_from(self.key[1], &buf[..n]),
        ];
        Ok(n)
    }
}

/// The third read: each rule's text to the bucket of its page.
struct Split {
    files: Vec<BufWriter<File>>,
    /// Each rule's page.
    page: Vec<u32>,
    /// A page's bucket is its number shifted right by this.
    shift: u32,
    /// Each rule's text length, as read.
    sizes: Vec<u32>,
    /// The bundle's settings as written.
    settings: Option<Box<RawValue>>,
    /// A failed write, which stops the read.
    error: Option<io::Error>,
}

impl Split {
    /// Writes the next rule: its number, length and text.
    fn put(&mut self, text: &str) -> io::Result<()> {
        let r = self.sizes.len();
        let page = *self
            .page
            .get(r)
            .ok_or_else(|| io::Error::other("more rules than compiled"))?;
        let file = &mut self.files[(page >> self.shift) as usize];
        let len = u32::try_from(text.len()).map_err(io::Error::other)?;
        file.write_all(&(r as u32).to_le_bytes())?;
        file.write_all(&len.to_le_bytes())?;
        file.write_all(text.as_bytes())?;
        self.sizes.push(len);
        Ok(())
    }
}

/// The top level of the bundle, for [`Split`]: its `rules` and `settings` as written.
struct SplitTop<'s>(&'s mut Split);

impl<'de> DeserializeSeed<'de> for SplitTop<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SplitTop<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bundle object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "rules" => map.next_value_seed(SplitRules(&mut *self.0))?,
                "settings" => self.0.settings = Some(map.next_value::<Box<RawValue>>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `rules` array, for [`Split`].
struct SplitRules<'s>(&'s mut Split);

impl<'de> DeserializeSeed<'de> for SplitRules<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SplitRules<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rules")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            if let Err(e) = self.0.put(raw.get()) {
                let message = e.to_string();
                self.0.error = Some(e);
                return Err(A::Error::custom(message));
            }
        }
        Ok(())
    }
}

/// The rules' texts in their buckets, one bucket read at a time.
struct Buckets {
    files: Vec<File>,
    shift: u32,
    /// The bucket read, its rules' texts and where each starts (by rule number).
    loaded: Option<usize>,
    text: Vec<u8>,
    at: Vec<(u32, usize, usize)>,
}

impl Buckets {
    fn load(&mut self, bucket: usize) -> io::Result<()> {
        self.loaded = None;
        self.text.clear();
        self.at.clear();
        let file = &mut self.files[bucket];
        file.rewind()?;
        file.read_to_end(&mut self.text)?;
        let mut i = 0;
        while i < self.text.len() {
            let word = |at: usize| {
                self.text
                    .get(at..at + 4)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .ok_or_else(|| io::Error::other("a bucket file ends inside a record"))
            };
            let (r, len) = (word(i)?, word(i + 4)? as usize);
            self.at.push((r, i + 8, len));
            i += 8 + len;
        }
        if i != self.text.len() {
            return Err(io::Error::other("a bucket file ends inside a record"));
        }
        // Written in file order already; kept sorted for the search.
        self.at.sort_unstable_by_key(|&(r, ..)| r);
        self.loaded = Some(bucket);
        Ok(())
    }
}

impl Texts for Buckets {
    fn append(&mut self, page: usize, r: u32, out: &mut Vec<u8>) -> Result<(), Failure> {
        let bucket = page >> self.shift;
        if self.loaded != Some(bucket) {
            self.load(bucket)?;
        }
        let k = self
            .at
            .binary_search_by_key(&r, |&(r, ..)| r)
            .map_err(|_| io::Error::other("a rule is missing from its bucket"))?;
        let (_, at, len) = self.at[k];
        out.extend_from_slice(&self.text[at..at + len]);
        Ok(())
    }
}
