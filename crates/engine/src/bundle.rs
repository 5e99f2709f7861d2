//! The compile entry under its former names, for `engine.rs` until it imports `crate::compile`.
pub(crate) use crate::compile::{compile as compile_text, compile_value, Bundle};
