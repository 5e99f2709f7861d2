//! Matching a path the origin answered 404 against the site's live paths: what a moved page
//! usually looks like (a renamed folder, another extension, letter case, a trailing slash, a
//! one-letter typo), each with a confidence. Nothing is proposed when two live pages fit
//! equally well, or none fits.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

/// Extensions a moved page often gains or loses.
const EXTENSIONS: [&str; 9] = [
    ".html", ".htm", ".php", ".asp", ".aspx", ".jsp", ".shtml", ".cgi", ".xhtml",
];

/// Shortest normalised path a one-letter typo is looked for in: shorter ones are too easily
/// one letter away from an unrelated page.
const MIN_TYPO_CHARS: usize = 6;

/// Shortest page name matched in another folder.
const MIN_SLUG_CHARS: usize = 3;

/// Confidence of a path equal to a live one once case, slash and extension are ignored.
pub const SAME_PAGE: f64 = 0.95;
/// Confidence of a unique page name found in another folder.
pub const MOVED_FOLDER: f64 = 0.85;
/// Confidence of a path one letter away from a live one.
pub const TYPO: f64 = 0.75;
/// Confidence of a page name found in several folders, one of them closest.
pub const CLOSEST_FOLDER: f64 = 0.6;

/// A proposed target for one 404 path.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'l> {
    /// The live URL's path (and query), as listed.
    pub target: &'l str,
    /// 0 to 1: how sure the match is.
    pub confidence: f64,
    /// Why, in words.
    pub reason: String,
}

/// The site's live paths, indexed for the three kinds of match.
pub struct Site<'l> {
    live: Vec<&'l str>,
    /// Normalised path → live paths.
    normal: HashMap<String, Vec<u32>>,
    /// Normalised page name (last segment) → live paths.
    slugs: HashMap<String, Vec<u32>>,
    /// Hash of each normalised path and of each with one character deleted → live paths
    /// (symmetric deletion: two strings one edit apart share one of these).
    deletes: HashMap<u64, Vec<u32>>,
    normals: Vec<Vec<char>>,
    hasher: std::collections::hash_map::RandomState,
    /// The base of the deletion hashes, drawn at random so that no input is built to collide.
    base: u64,
}

impl<'l> Site<'l> {
    /// Indexes `live` (paths, with or without a query).
    pub fn new(live: Vec<&'l str>) -> Site<'l> {
        let mut site = Site {
            live: Vec::new(),
            normal: HashMap::new(),
            slugs: HashMap::new(),
            deletes: HashMap::new(),
            normals: Vec::new(),
            hasher: Default::default(),
            base: 0,
        };
        site.base = (site.hasher.hash_one(0x5eed_u64) % (MODULUS - 512)) + 256;
        for path in live {
            let i = site.live.len() as u32;
            let normal = normalize(path);
            if site
                .normal
                .get(&normal)
                .is_some_and(|v| v.iter().any(|&j| site.live[j as usize] == path))
            {
                continue;
            }
            site.live.push(path);
            site.slugs
                .entry(slug(&normal).to_string())
                .or_default()
                .push(i);
            let chars: Vec<char> = normal.chars().collect();
            // Once each: deleting any letter of a run (`aaaa`) gives the same key.
            let mut keys: Vec<u64> = site.delete_keys(&chars).collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                site.deletes.entry(key).or_default().push(i);
            }
            site.normals.push(chars);
            site.normal.entry(normal).or_default().push(i);
        }
        site
    }

    /// Whether `path` is itself live (listed exactly).
    pub fn is_live(&self, path: &str) -> bool {
        self.normal
            .get(&normalize(path))
            .is_some_and(|v| v.iter().any(|&i| self.live[i as usize] == path))
    }

    /// The best match for the 404 path `gone`, if one live page fits better than any other.
    pub fn best(&self, gone: &str) -> Option<Match<'l>> {
        let normal = normalize(gone);
        if normal.is_empty() {
            return None;
        }
        if let Some(found) = self.same_page(gone, &normal) {
            return found;
        }
        let mut found: Vec<Match<'l>> = Vec::new();
        found.extend(self.typo(&normal));
        found.extend(self.moved(&normal));
        let best = found.iter().map(|m| m.confidence).fold(0.0, f64::max);
        let mut top = found.into_iter().filter(|m| m.confidence == best);
        let first = top.next()?;
        if top.any(|m| m.target != first.target) {
            return None; // two pages fit equally well: a person must choose
        }
        Some(first)
    }

    /// The live page equal once case, slash and extension are ignored: `Some(None)` when
    /// several are.
    fn same_page(&self, gone: &str, normal: &str) -> Option<Option<Match<'l>>> {
        let hits = self.normal.get(normal)?;
        let [i] = hits.as_slice() else {
            return Some(None);
        };
        let target = self.live[*i as usize];
        Some(Some(Match {
            target,
            confidence: SAME_PAGE,
            reason: format!("the same page {}", differences(gone, target)),
        }))
    }

    /// Live pages one letter away (a typo in a link).
    fn typo(&self, normal: &str) -> Vec<Match<'l>> {
        let chars: Vec<char> = normal.chars().collect();
        if chars.len() < MIN_TYPO_CHARS {
            return Vec::new();
        }
        let mut keys: Vec<u64> = self.delete_keys(&chars).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut seen: Vec<u32> = keys
            .iter()
            .filter_map(|k| self.deletes.get(k))
            .flatten()
            .copied()
            .collect();
        // Each candidate checked once, however many keys it shares.
        seen.sort_unstable();
        seen.dedup();
        seen.retain(|&i| one_edit_apart(&chars, &self.normals[i as usize]));
        seen.into_iter()
            .map(|i| Match {
                target: self.live[i as usize],
                confidence: TYPO,
                reason: "one letter away (a typo in a link)".to_string(),
            })
            .collect()
    }

    /// The same page name in another folder.
    fn moved(&self, normal: &str) -> Vec<Match<'l>> {
        let name = slug(normal);
        if name.chars().count() < MIN_SLUG_CHARS {
            return Vec::new();
        }
        let Some(hits) = self.slugs.get(name) else {
            return Vec::new();
        };
        if let [i] = hits.as_slice() {
            return vec![Match {
                target: self.live[*i as usize],
                confidence: MOVED_FOLDER,
                reason: format!("the page name {name:?} in another folder"),
            }];
        }
        // Several folders have it: the one sharing most folder names, if one does.
        let own: HashSet<&str> = folders(normal).collect();
        let shared = |i: u32| {
            let normal: String = self.normals[i as usize].iter().collect();
            folders(&normal).filter(|f| own.contains(f)).count()
        };
        let scored: Vec<(usize, u32)> = hits.iter().map(|&i| (shared(i), i)).collect();
        let best = scored.iter().map(|s| s.0).max().unwrap_or(0);
        if best == 0 {
            return Vec::new();
        }
        scored
            .into_iter()
            .filter(|s| s.0 == best)
            .map(|(_, i)| Match {
                target: self.live[i as usize],
                confidence: CLOSEST_FOLDER,
                reason: format!("the page name {name:?} in the closest of several folders"),
            })
            .collect()
    }

    /// Keys of `chars` and of `chars` with each one character deleted, in time linear in its
    /// length (hashing each deletion anew took time quadratic in it: 9–21 s for a 40 KB path).
    fn delete_keys<'a>(&'a self, chars: &'a [char]) -> impl Iterator<Item = u64> + 'a {
        let keys = DeleteKeys::new(chars, self.base);
        (0..=chars.len()).map(move |skip| self.hasher.hash_one(keys.without(skip)))
    }
}

/// Polynomial hashes modulo the prime 2^61 − 1 of every prefix and suffix of a string, so
/// the hash of the string without any one character takes constant time. Two strings one
/// edit apart share a key; a collision only costs one [`one_edit_apart`] check.
struct DeleteKeys {
    /// `prefix[k]`: the hash of the first `k` characters.
    prefix: Vec<u64>,
    /// `suffix[k]`: the hash of the characters from `k` on.
    suffix: Vec<u64>,
    /// `power[k]`: the base to the `k`.
    power: Vec<u64>,
}

/// 2^61 − 1.
const MODULUS: u64 = (1 << 61) - 1;

fn mul_mod(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    let folded = (p & u128::from(MODULUS)) + (p >> 61);
    let folded = folded as u64;
    if folded >= MODULUS {
        folded - MODULUS
    } else {
        folded
    }
}

fn add_mod(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= MODULUS {
        s - MODULUS
    } else {
        s
    }
}

impl DeleteKeys {
    fn new(chars: &[char], base: u64) -> DeleteKeys {
        let n = chars.len();
        let digit = |c: char| u64::from(c) + 1;
        let mut power = Vec::with_capacity(n + 1);
        power.push(1);
        for k in 0..n {
            power.push(mul_mod(power[k], base));
        }
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0);
        for (k, &c) in chars.iter().enumerate() {
            prefix.push(add_mod(mul_mod(prefix[k], base), digit(c)));
        }
        let mut suffix = vec![0; n + 1];
        for k in (0..n).rev() {
            suffix[k] = add_mod(mul_mod(digit(chars[k]), power[n - 1 - k]), suffix[k + 1]);
        }
        DeleteKeys {
            prefix,
            suffix,
            power,
        }
    }

    /// The hash of the string without character `skip` (the whole string when `skip` is its
    /// length), and that string's length.
    fn without(&self, skip: usize) -> (u64, usize) {
        let n = self.prefix.len() - 1;
        if skip >= n {
            return (self.prefix[n], n);
        }
        let head = mul_mod(self.prefix[skip], self.power[n - 1 - skip]);
        (add_mod(head, self.suffix[skip + 1]), n - 1)
    }
}

/// A path as moved pages are compared: percent-decoded, lower-case, without query, trailing
/// slash, a known extension or a final `index`.
pub fn normalize(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let decoded = percent_decode(path);
    let mut segments: Vec<String> = decoded
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
        .collect();
    if let Some(last) = segments.last_mut() {
        if let Some(ext) = EXTENSIONS
            .iter()
            .find(|e| last.ends_with(*e) && last.len() > e.len())
        {
            last.truncate(last.len() - ext.len());
        }
        if last == "index" || last == "default" {
            segments.pop();
        }
    }
    segments.join("/")
}

/// `%XX` sequences decoded where they form UTF-8; everything else kept.
fn percent_decode(path: &str) -> String {
    let raw = path.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if raw[i] == b'%' && i + 2 < raw.len() {
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_string())
}

/// The last segment of a normalised path.
fn slug(normal: &str) -> &str {
    normal.rsplit('/').next().unwrap_or(normal)
}

/// The folder names of a normalised path (every segment but the last).
fn folders(normal: &str) -> impl Iterator<Item = &str> {
    let mut parts: Vec<&str> = normal.split('/').collect();
    parts.pop();
    parts.into_iter()
}

/// What differs between two paths that normalise alike, in words.
fn differences(gone: &str, live: &str) -> String {
    let strip = |p: &str| p.split(['?', '#']).next().unwrap_or(p).to_string();
    let (gone, live) = (strip(gone), strip(live));
    let mut what = Vec::new();
    let ext = |p: &str| {
        let last = p
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_lowercase();
        EXTENSIONS.iter().find(|e| last.ends_with(*e)).copied()
    };
    if ext(&gone) != ext(&live) {
        what.push("another extension");
    }
    if gone.ends_with('/') != live.ends_with('/') {
        what.push("a trailing slash");
    }
    let mixed_case = gone.to_lowercase() != gone || live.to_lowercase() != live;
    if mixed_case && (what.is_empty() || gone.to_lowercase() == live.to_lowercase()) {
        what.push("letter case");
    }
    if what.is_empty() {
        return "written differently".to_string();
    }
    format!("but for {}", what.join(" and "))
}

/// Whether `a` and `b` are exactly one substitution, insertion, deletion or swap of two
/// neighbours apart.
pub fn one_edit_apart(a: &[char], b: &[char]) -> bool {
    if a == b {
        return false;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match diff.as_slice() {
                [_] => true,
                [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
                _ => false,
            }
        }
        1 => {
            let start = short.iter().zip(long).take_while(|(x, y)| x == y).count();
            short[start..] == long[start + 1..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(a: &str, b: &str) -> bool {
        one_edit_apart(
            &a.chars().collect::<Vec<_>>(),
            &b.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn one_edit() {
        assert!(edit("shoes", "shoez"));
        assert!(edit("shoes", "shoe"));
        assert!(edit("shoes", "sheos"));
        assert!(edit("shoes", "shoess"));
        assert!(!edit("shoes", "shoes"));
        assert!(!edit("shoes", "hsoez"));
        assert!(!edit("shoes", "sho"));
    }

    #[test]
    fn a_deletion_hashes_as_the_shorter_string_does() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        let (long, short) = (chars("shoes/é"), chars("shes/é"));
        let (a, b) = (DeleteKeys::new(&long, 131), DeleteKeys::new(&short, 131));
        assert_eq!(a.without(2), b.without(short.len()));
        assert_ne!(a.without(1), b.without(short.len()));
        assert_eq!(a.without(long.len()).1, long.len());
    }

    #[test]
    fn normal_forms() {
        assert_eq!(normalize("/Blog/Hello.HTML/"), "blog/hello");
        assert_eq!(normalize("/docs/index.html?x=1"), "docs");
        assert_eq!(normalize("/caf%C3%A9"), "café");
        assert_eq!(normalize("/"), "");
    }
}
