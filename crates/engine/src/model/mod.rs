//! The compiled rule model: a [`rule::Rule`] with its `from` pattern ([`pattern`], [`shaped`],
//! [`constraint`], [`path_regex`], names by [`placeholder`]), its `to` target ([`target`]), its
//! conditions ([`condition`]) and A/B split ([`split`]), and the bundle's [`settings`]. Built by
//! `compile`, read by the index, evaluation, answers and analysis; it reads only the request
//! vocabulary below it.

pub(crate) mod condition;
pub(crate) mod constraint;
pub(crate) mod path_regex;
pub(crate) mod pattern;
pub(crate) mod placeholder;
pub(crate) mod rule;
pub(crate) mod settings;
pub(crate) mod shaped;
pub(crate) mod split;
pub(crate) mod target;
