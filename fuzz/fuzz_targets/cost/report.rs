//! The worst cost seen so far, printed every `REPORT_EVERY`, at exit and with a finding, and
//! the bound it is held to.

use super::DEFAULT_BOUND_US;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Worst {
    pub extra: Duration,
    pub hostile: Duration,
    pub control: Duration,
    pub rules: usize,
    pub shape: String,
    pub sizes: String,
}

pub struct State {
    pub worst: Option<Worst>,
    pub inputs: u64,
    pub started: Instant,
    pub last_report: Instant,
}

/// A static, not a thread-local: the report at exit runs after thread-locals are gone.
pub static STATE: Mutex<Option<State>> = Mutex::new(None);

fn describe(w: &Worst, inputs: u64, secs: u64) -> String {
    format!(
        "cost: worst extra {} us (hostile {} us, control {} us) after {inputs} inputs in {secs} s\n  bundle: {} rules: {}\n  request: {}",
        w.extra.as_micros(),
        w.hostile.as_micros(),
        w.control.as_micros(),
        w.rules,
        w.shape.trim_end(),
        w.sizes
    )
}

pub fn report() {
    let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(state) = state.as_ref() {
        match &state.worst {
            Some(w) => eprintln!(
                "{}",
                describe(w, state.inputs, state.started.elapsed().as_secs())
            ),
            None => eprintln!("cost: no input measured yet"),
        }
    }
}

extern "C" fn report_at_exit() {
    report();
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
}

/// The bound, read once; the first call also arranges the report at exit.
pub fn bound() -> Duration {
    static BOUND: OnceLock<Duration> = OnceLock::new();
    *BOUND.get_or_init(|| {
        let us = std::env::var("COST_BOUND_US")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_BOUND_US);
        eprintln!("cost: bound {us} us of extra time per request (COST_BOUND_US to change)");
        // SAFETY: registers a plain function that only prints; libFuzzer calls exit() when
        // -max_total_time or -runs is reached, which runs it.
        unsafe { atexit(report_at_exit) };
        Duration::from_micros(us)
    })
}
