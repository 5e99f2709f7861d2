//! `when.ip`: addresses and CIDR ranges compiled into sorted, merged range tables, so a
//! request's address is one binary search whatever the number of ranges (10,000 cost what 10
//! do, give or take a few comparisons).
//!
//! IPv4 addresses are `u32`s and IPv6 addresses `u128`s. An IPv4-mapped IPv6 address
//! (`::ffff:192.0.2.1`), in a rule or in a request, is the IPv4 address it maps: an IPv6 range
//! that covers part of `::ffff:0:0/96` also covers those IPv4 addresses.

use std::net::IpAddr;

/// The start of `::ffff:0:0/96`, the IPv4-mapped block.
const MAPPED: u128 = 0xffff << 32;

/// A request's address: IPv4-mapped IPv6 turned into IPv4; `None` when `text` is not an address.
pub(crate) fn request_address(text: &str) -> Option<IpAddr> {
    match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }),
        v4 => Some(v4),
    }
}

/// Why an `ip` entry cannot be used, and how to write it.
pub(crate) struct EntryError {
    pub message: String,
    pub hint: &'static str,
}

/// The addresses and ranges of one `ip` condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct IpRanges {
    /// The entries as written, for explanations.
    written: Vec<String>,
    /// Inclusive IPv4 ranges, sorted, merged, none adjacent to the next.
    v4: Box<[(u32, u32)]>,
    /// Inclusive IPv6 ranges, sorted and merged likewise.
    v6: Box<[(u128, u128)]>,
}

/// One entry: an address or a CIDR range, as inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    V4(u32, u32),
    V6(u128, u128),
}

/// Reads one entry: `192.0.2.1`, `192.0.2.0/24`, `2001:db8::/32`, `::ffff:192.0.2.0/120`.
/// Bits set past the prefix are refused (`10.0.0.1/8`): they are usually a typo for a
/// narrower range.
pub(crate) fn parse_entry(text: &str) -> Result<Entry, EntryError> {
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return Err(EntryError {
            message: format!("{text:?} is not an IP address or CIDR range"),
            hint: "write an IPv4 or IPv6 address (\"192.0.2.1\", \"2001:db8::1\") or a CIDR range (\"192.0.2.0/24\", \"2001:db8::/32\"), without a port, zone or leading zeros",
        });
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = match prefix {
        None => max,
        Some(p) => match p.parse() {
            Ok(n) if n <= max && !p.starts_with('+') && (p == "0" || !p.starts_with('0')) => n,
            _ => {
                return Err(EntryError {
                    message: format!(
                        "{text:?}: the prefix length {p:?} is not a number from 0 to {max}"
                    ),
                    hint: "IPv4 prefixes go from /0 to /32, IPv6 prefixes from /0 to /128",
                })
            }
        },
    };
    let value = match address {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let span = mask_rest(max - prefix);
    if value & span != 0 {
        return Err(EntryError {
            message: format!("{text:?} has bits set past its /{prefix} prefix: it is not the first address of its range"),
            hint: "write the range by its first address (\"10.0.0.0/8\", not \"10.0.0.1/8\"), or give the single address without a prefix",
        });
    }
    let (start, end) = (value, value | span);
    Ok(match address {
        IpAddr::V4(_) => Entry::V4(start as u32, end as u32),
        IpAddr::V6(_) => Entry::V6(start, end),
    })
}

/// The lowest `bits` bits set.
fn mask_rest(bits: u32) -> u128 {
    match bits {
        0 => 0,
        128 => u128::MAX,
        b => (1u128 << b) - 1,
    }
}

impl IpRanges {
    /// The table of `entries`, with their texts as written.
    pub(crate) fn new(written: Vec<String>, entries: &[Entry]) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for &e in entries {
            match e {
                Entry::V4(s, e) => v4.push((u128::from(s), u128::from(e))),
                Entry::V6(s, e) => {
                    v6.push((s, e));
                    // The part in ::ffff:0:0/96 is IPv4 (requests' mapped addresses are).
                    let (lo, hi) = (s.max(MAPPED), e.min(MAPPED | 0xffff_ffff));
                    if lo <= hi {
                        v4.push((lo - MAPPED, hi - MAPPED));
                    }
                }
            }
        }
        IpRanges {
            written,
            v4: narrowed(&merged(v4)),
            v6: merged(v6),
        }
    }

    /// The entries as written.
    pub(crate) fn written(&self) -> &[String] {
        &self.written
    }

    /// Whether `address` (already unmapped, see [`request_address`]) is in a range.
    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(a) => within(&self.v4, u32::from(a)),
            IpAddr::V6(a) => within(&self.v6, u128::from(a)),
        }
    }
}

/// An `asn` condition's numbers: as written, and as a table of merged ranges (one binary
/// search per request; built by the same code as the IP tables, which keeps the worker small).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Numbers {
    written: Vec<u32>,
    table: Box<[(u32, u32)]>,
}

impl Numbers {
    /// `values` in the order written.
    pub(crate) fn new(values: Vec<u32>) -> Self {
        let ranges = values.iter().map(|&n| (u128::from(n), u128::from(n)));
        Numbers {
            table: narrowed(&merged(ranges.collect())),
            written: values,
        }
    }

    /// The numbers as written.
    pub(crate) fn written(&self) -> &[u32] {
        &self.written
    }

    /// Whether `n` is listed.
    pub(crate) fn has(&self, n: u32) -> bool {
        within(&self.table, n)
    }
}

/// Inclusive ranges sorted by start, overlapping and adjacent ones joined.
fn merged(mut ranges: Vec<(u128, u128)>) -> Box<[(u128, u128)]> {
    ranges.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match out.last_mut() {
            // Saturating: a range ending at the top of the space joins nothing after it.
            Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out.into_boxed_slice()
}

/// A merged table of 32-bit values as `u32`s.
fn narrowed(ranges: &[(u128, u128)]) -> Box<[(u32, u32)]> {
    ranges.iter().map(|&(s, e)| (s as u32, e as u32)).collect()
}

/// Whether sorted, disjoint `ranges` hold `x`: one binary search.
fn within<T: Copy + Ord>(ranges: &[(T, T)], x: T) -> bool {
    let after = ranges.partition_point(|r| r.0 <= x);
    after > 0 && ranges[after - 1].1 >= x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[&str]) -> IpRanges {
        let parsed: Vec<Entry> = entries
            .iter()
            .map(|e| parse_entry(e).unwrap_or_else(|x| panic!("{e}: {}", x.message)))
            .collect();
        IpRanges::new(entries.iter().map(|e| e.to_string()).collect(), &parsed)
    }

    fn has(t: &IpRanges, address: &str) -> bool {
        t.contains(request_address(address).expect(address))
    }

    #[test]
    fn addresses_and_ranges() {
        let t = table(&[
            "192.0.2.0/24",
            "198.51.100.7",
            "2001:db8::/32",
            "10.0.0.0/9",
            "10.128.0.0/9",
        ]);
        assert!(has(&t, "192.0.2.0"));
        assert!(has(&t, "192.0.2.255"));
        assert!(!has(&t, "192.0.3.0"));
        assert!(has(&t, "198.51.100.7"));
        assert!(!has(&t, "198.51.100.8"));
        assert!(has(&t, "2001:db8:ffff::1"));
        assert!(!has(&t, "2001:db9::"));
        assert!(
            has(&t, "::ffff:192.0.2.9"),
            "IPv4-mapped IPv6 counts as IPv4"
        );
        assert!(has(&t, "10.255.255.255"));
        assert_eq!(t.v4.len(), 3, "adjacent /9s merged: {:?}", t.v4);
    }

    #[test]
    fn whole_spaces_and_single_addresses() {
        let all4 = table(&["0.0.0.0/0"]);
        assert!(has(&all4, "0.0.0.0") && has(&all4, "255.255.255.255"));
        assert!(!has(&all4, "::1"));
        let all6 = table(&["::/0"]);
        assert!(has(&all6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") && has(&all6, "::"));
        assert!(
            has(&all6, "192.0.2.1"),
            "::/0 includes the IPv4-mapped block"
        );
        let one = table(&["2001:db8::1/128"]);
        assert!(has(&one, "2001:db8::1") && !has(&one, "2001:db8::2") && !has(&one, "2001:db8::"));
        let mapped = table(&["::ffff:192.0.2.0/120"]);
        assert!(has(&mapped, "192.0.2.200") && !has(&mapped, "192.0.3.1"));
    }

    #[test]
    fn malformed_entries() {
        for bad in [
            "",
            "10.0.0.1/8",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/08",
            "010.0.0.1",
            "10.0.0",
            "1.2.3.4:80",
            "fe80::1%eth0",
            "2001:db8::/32/1",
            " 10.0.0.1",
        ] {
            assert!(parse_entry(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn many_ranges_merge_and_search() {
        let entries: Vec<String> = (0..10_000u32)
            .map(|i| std::net::Ipv4Addr::from(0x0a00_0000 + i * 256).to_string() + "/25")
            .collect();
        let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
        let t = table(&refs);
        assert_eq!(t.v4.len(), 10_000);
        assert!(has(&t, "10.0.39.127"));
        assert!(!has(&t, "10.0.39.128"));
    }
}
