//! The JSON tree under its former path, for `engine.rs` until it imports `crate::compile::json`.
pub(crate) use crate::compile::json::Value;
