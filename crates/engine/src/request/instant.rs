//! RFC 3339 instants (`2026-12-24T09:00:00Z`, `2026-12-24T10:00:00+01:00`) as seconds since
//! the Unix epoch, parsed and written by hand.
//!
//! Hand-written rather than a date crate: the format is small and fixed, the worker's upload
//! has a size budget, and a strict reader of exactly RFC 3339 section 5.6 is easier to check
//! than a lenient one. Windows are whole seconds: a fraction of a second other than zero is
//! refused (`.000` is accepted), and so is the leap second `:60` (the request clock, Unix
//! time, has none).

/// Why a text is not an RFC 3339 instant, and how to write one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantError {
    /// What is wrong.
    pub message: String,
    /// How to write it instead.
    pub hint: &'static str,
}

const HINT: &str = "write an RFC 3339 instant with a date, a time and an offset, such as \
     \"2026-12-24T09:00:00Z\" or \"2026-12-24T10:00:00+01:00\"";

/// Parses an RFC 3339 date-time with an offset (`Z` or `±hh:mm`) into seconds since
/// 1970-01-01T00:00:00Z. Years 0000 to 9999, whole seconds only.
pub fn parse_instant(text: &str) -> Result<i64, InstantError> {
    let bad = |what: &str, hint: &'static str| InstantError {
        message: format!("{text:?} is not an RFC 3339 instant: {what}"),
        hint,
    };
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, options: &[u8]| b.get(at).is_some_and(|c| options.contains(c));
    let shape = || bad("expected YYYY-MM-DDTHH:MM:SS and an offset", HINT);
    let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2)) else {
        return Err(shape());
    };
    let (Some(hour), Some(minute), Some(second)) = (digits(11, 2), digits(14, 2), digits(17, 2))
    else {
        return Err(shape());
    };
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return Err(shape());
    }
    let mut at = 19;
    if sep(at, b".") {
        let start = at + 1;
        at = start;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return Err(shape());
        }
        if b[start..at].iter().any(|&d| d != b'0') {
            return Err(bad(
                "windows are whole seconds",
                "drop the fraction of a second (\".000\" is accepted)",
            ));
        }
    }
    let offset = match b.get(at) {
        Some(b'Z' | b'z') if b.len() == at + 1 => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == at + 6 && sep(at + 3, b":") => {
            let (Some(h), Some(m)) = (digits(at + 1, 2), digits(at + 4, 2)) else {
                return Err(shape());
            };
            if h > 23 || m > 59 {
                return Err(bad("the offset is out of range", HINT));
            }
            let minutes = h * 60 + m;
            if sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        None => {
            return Err(bad(
                "it has no offset",
                "add `Z` for UTC or the offset such as `+01:00`: an instant without one means \
                 a different moment in every time zone",
            ))
        }
        _ => return Err(shape()),
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad("no such date", HINT));
    }
    if hour > 23 || minute > 59 {
        return Err(bad("no such time of day", HINT));
    }
    if second > 59 {
        return Err(bad(
            "leap seconds are not counted",
            "use :59 or the next minute's :00 (the request clock is Unix time, which has no leap seconds)",
        ));
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60)
}

/// Writes `seconds` since the Unix epoch as an RFC 3339 instant in UTC
/// (`2026-12-24T09:00:00Z`).
pub fn format_instant(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

/// A duration in seconds as people read it: `45s`, `3m 20s`, `2h 5m`, `12d 3h`.
pub fn format_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m {}s", s / 60, s % 60),
        3_600..86_400 => format!("{}h {}m", s / 3_600, s / 60 % 60),
        _ => format!("{}d {}h", s / 86_400, s / 3_600 % 24),
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_instant("2000-03-01T00:00:00Z"), Ok(951_868_800));
        assert_eq!(parse_instant("2026-12-24T09:00:00Z"), Ok(1_798_102_800));
        assert_eq!(
            parse_instant("2026-12-24T10:00:00+01:00"),
            parse_instant("2026-12-24T09:00:00Z")
        );
        assert_eq!(
            parse_instant("2026-12-23t23:30:00.000-09:30"),
            parse_instant("2026-12-24T09:00:00z")
        );
        assert_eq!(parse_instant("1969-12-31T23:59:59Z"), Ok(-1));
        assert_eq!(parse_instant("2024-02-29T12:00:00Z"), Ok(1_709_208_000));
    }

    #[test]
    fn not_instants() {
        for text in [
            "",
            "2026-12-24",
            "2026-12-24T09:00:00",
            "2026-12-24 09:00:00Z",
            "2026-12-24T09:00Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-12-24T24:00:00Z",
            "2026-12-24T09:00:60Z",
            "2026-12-24T09:00:00.5Z",
            "2026-12-24T09:00:00.Z",
            "2026-12-24T09:00:00+1:00",
            "2026-12-24T09:00:00+24:00",
            "2026-12-24T09:00:00Z ",
            "+2026-12-24T09:00:00Z",
            "2026-1２-24T09:00:00Z",
        ] {
            let e = parse_instant(text).expect_err(text);
            assert!(e.message.contains("RFC 3339"), "{text}: {e:?}");
        }
    }

    #[test]
    fn written_back() {
        for s in [0, -1, 951_868_800, 1_798_102_800, 253_402_300_799] {
            assert_eq!(parse_instant(&format_instant(s)), Ok(s), "{s}");
        }
        assert_eq!(format_instant(1_798_102_800), "2026-12-24T09:00:00Z");
        assert_eq!(format_duration(3_725), "1h 2m");
        assert_eq!(format_duration(59), "59s");
        assert_eq!(format_duration(90_000), "1d 1h");
    }
}
