//! Invalid bundles built to make rejecting them expensive: what a worker may read from KV, where
//! an isolate has 128 MB. Rejecting one must take memory and work bounded by
//! [`MAX_ERRORS`] and the text's own size, never growing with the number of bad rules: the
//! errors kept, the bytes allocated while compiling, and the number of allocations are counted
//! by a counting allocator (per thread, so tests running side by side do not mix their counts).

// A counting global allocator needs `unsafe impl GlobalAlloc`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use edge_redirects::limits::{MAX_ERRORS, MAX_ERROR_TEXT_BYTES, MAX_RULES};
use edge_redirects::{CompileErrors, Engine, ErrorKind};

struct Counting;

thread_local! {
    static IN_USE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to `System` unchanged; only thread-local counters (const
// initialised, no destructor, so no allocation) are updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = IN_USE.try_with(|n| {
            let now = n.get() + layout.size() as isize;
            n.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
        let _ = CALLS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract for `alloc` holds for `System` too.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = IN_USE.try_with(|n| n.set(n.get() - layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What compiling one rejected bundle cost.
struct Cost {
    errors: CompileErrors,
    /// Bytes the returned errors hold.
    held: usize,
    /// Most bytes held at once while compiling, over what was held before.
    peak: usize,
    /// Allocations made while compiling.
    calls: usize,
    ms: f64,
}

fn reject(text: &str) -> Cost {
    let base = IN_USE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let calls = CALLS.with(Cell::get);
    let start = Instant::now();
    let result = Engine::compile(text);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let held = (IN_USE.with(Cell::get) - base) as usize;
    let peak = (PEAK.with(Cell::get) - base) as usize;
    let calls = CALLS.with(Cell::get) - calls;
    let errors = match result {
        Ok(_) => panic!("the hostile bundle compiled"),
        Err(errors) => errors,
    };
    Cost {
        errors,
        held,
        peak,
        calls,
        ms,
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Prints the figures and checks what every rejection must keep to: at most [`MAX_ERRORS`]
/// errors plus the count of the rest, each short, a short report, and at most `peak_per_byte`
/// bytes allocated at once per byte of text.
fn check(what: &str, text: &str, cost: &Cost, total: usize, peak_per_byte: f64) {
    let report = cost.errors.to_string();
    println!(
        "{what}: {:.1} MiB of text, {} errors ({} kept); {:.1} ms; errors hold {:.2} MiB, \
         peak {:.2} MiB ({:.2}x the text), {} allocations, report {} bytes",
        mib(text.len()),
        cost.errors.total(),
        cost.errors.errors().len(),
        cost.ms,
        mib(cost.held),
        mib(cost.peak),
        cost.peak as f64 / text.len() as f64,
        cost.calls,
        report.len(),
    );
    assert_eq!(cost.errors.total(), total, "every error is counted");
    assert_eq!(
        cost.errors.errors().len(),
        total.min(MAX_ERRORS),
        "the first errors are kept, no more"
    );
    assert_eq!(
        cost.errors.omitted(),
        total - total.min(MAX_ERRORS),
        "the rest are counted"
    );
    for e in cost.errors.errors() {
        assert!(
            e.pointer.len() <= MAX_ERROR_TEXT_BYTES,
            "{}",
            e.pointer.len()
        );
        assert!(
            e.message.len() <= MAX_ERROR_TEXT_BYTES,
            "{}",
            e.message.len()
        );
    }
    if cost.errors.omitted() > 0 {
        assert!(
            report.contains(&format!("and {} more errors", cost.errors.omitted())),
            "the report says how many errors it leaves out"
        );
    }
    assert!(
        cost.held <= 4 << 20,
        "{what}: the errors hold {:.1} MiB",
        mib(cost.held)
    );
    assert!(
        report.len() <= MAX_ERRORS * (2 * MAX_ERROR_TEXT_BYTES + 1024),
        "{what}: a report of {} bytes",
        report.len()
    );
    assert!(
        (cost.peak as f64) <= peak_per_byte * text.len() as f64 + (8 << 20) as f64,
        "{what}: {:.1} MiB allocated at once for {:.1} MiB of text",
        mib(cost.peak),
        mib(text.len())
    );
}

/// `{"version": 1, "rules": [<items>]}` with `n` items made by `item`.
fn bundle(n: usize, item: impl Fn(usize) -> String) -> String {
    let mut text = String::from(r#"{"version":1,"rules":["#);
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&item(i));
    }
    text.push_str("]}");
    text
}

#[test]
fn a_million_rules_that_are_numbers() {
    // 2 MB: each element is a type error. Measured in workerd before the cap: 679 MB.
    let n = MAX_RULES;
    let text = bundle(n, |_| "1".into());
    let cost = reject(&text);
    check("[1,1,...]", &text, &cost, n, 0.5);
    assert!(cost
        .errors
        .errors()
        .iter()
        .all(|e| e.kind == ErrorKind::Type));
    assert_eq!(
        cost.errors.errors()[MAX_ERRORS - 1].rule_index,
        Some(MAX_ERRORS - 1)
    );
}

#[test]
fn a_typo_in_every_rule() {
    // `form` for `from`: an unknown key (with a suggestion) and a missing `from` per rule.
    // 600,000 such rules, 17 MB, took 1.48 GB and 5.3 s in workerd before the cap; 300,000
    // longer ones (21 MB) here.
    let n = 300_000;
    let text = bundle(n, |i| {
        format!(r#"{{"id":"rule-{i}","form":"/legacy/item-{i}.html","to":"/items/{i}"}}"#)
    });
    let cost = reject(&text);
    // The ids are still all remembered (a duplicate after the first hundred errors is still
    // counted), as they are for a valid bundle: about 40 bytes a rule.
    check("a typo in every rule", &text, &cost, 2 * n, 1.0);
    let first = &cost.errors.errors()[0];
    assert_eq!(first.pointer, "/rules/0/form");
    assert_eq!(first.hint, "did you mean `from`?");
}

#[test]
fn unknown_keys_of_a_megabyte() {
    // 8 keys of 1 MB each in one rule: the "did you mean" edit distance ran over every
    // character of each against every rule key (3.5 s in workerd), allocating a row per
    // character; and each error held the key twice (its pointer and its message).
    let key = "k".repeat(1 << 20);
    let keys: String = (0..8).map(|i| format!(r#","{key}{i}":1"#)).collect();
    let text = format!(r#"{{"version":1,"rules":[{{"id":"a","from":"/a","to":"/b"{keys}}}]}}"#);
    let cost = reject(&text);
    check("8 unknown keys of 1 MiB", &text, &cost, 8, 3.0);
    assert!(
        cost.calls < 10_000,
        "{} allocations to reject 8 keys",
        cost.calls
    );
    for e in cost.errors.errors() {
        assert_eq!(e.kind, ErrorKind::UnknownKey);
        assert!(
            e.pointer.starts_with("/rules/0/kkkk"),
            "{}",
            &e.pointer[..20]
        );
        assert!(e.message.ends_with('…'));
        assert!(
            e.hint.starts_with("allowed keys here: id, from"),
            "{}",
            e.hint
        );
    }
}

#[test]
fn many_unknown_keys_in_one_object() {
    // 500,000 short unknown keys in one rule: one error each, counted beyond the cap.
    let n = 500_000;
    let keys: String = (0..n).map(|i| format!(r#","x{i}":1"#)).collect();
    let text = format!(r#"{{"version":1,"rules":[{{"id":"a","from":"/a","to":"/b"{keys}}}]}}"#);
    let cost = reject(&text);
    // The rule's tree exists while it is checked (its keys borrowed from the text).
    check("500,000 unknown keys", &text, &cost, n, 12.0);
}

#[test]
fn more_rules_than_the_limit_as_text() {
    // The rule count limit was found by building the whole tree (about 20 bytes per byte of
    // `[1,1,...]`); now the extra rules are counted as they are read.
    let n = MAX_RULES + 1;
    let text = bundle(n, |_| "1".into());
    let cost = reject(&text);
    check("MAX_RULES + 1 numbers", &text, &cost, 1, 0.5);
    let e = &cost.errors.errors()[0];
    assert_eq!((e.kind, e.pointer.as_str()), (ErrorKind::Limit, "/rules"));
    assert!(e.message.starts_with(&format!("{n} rules")), "{e}");
}

#[test]
fn a_syntax_error_after_a_million_rules() {
    // The closing `]}` missing: the error is found by the one-pass read, and not again by
    // building the tree of everything before it.
    let mut text = bundle(MAX_RULES - 1, |_| "1".into());
    text.truncate(text.len() - 2);
    let cost = reject(&text);
    check("a syntax error at the end", &text, &cost, 1, 0.5);
    let e = &cost.errors.errors()[0];
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!((e.line, e.column), (Some(1), Some(text.len())));
}
