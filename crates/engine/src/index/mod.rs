//! The rules of a part found for a request without trying each: the request prepared once as
//! the index compares it ([`prepared`]), the index over a part's rules ([`lookup`]) with its
//! shaped segments ([`shapes`]) and its time windows ([`timed`]), and what a lookup returns
//! ([`candidates`]).

pub(crate) mod candidates;
pub(crate) mod lookup;
pub(crate) mod prepared;
mod shapes;
pub(crate) mod timed;
