//! Building the responses the edge generates.

use crate::{Forward, Response};

pub(crate) fn forward_response<'e>(
    _forward: &Forward<'e>,
    _status: u16,
    _origin_location: Option<&str>,
) -> Option<Response<'e>> {
    None
}
