//! Header changes the engine asks for, applied to platform `Headers`: on the origin's answer
//! ([`edge_redirects::Passthrough::header_changes`]) and on the request sent to the origin
//! ([`edge_redirects::Decision::origin_request_changes`]).

use wasm_bindgen::JsValue;
use worker::{console_error, web_sys};

use crate::describe;
use edge_redirects::{Decision, HeaderChange};

/// The request to send to the origin when the engine changes its headers for `decision` (an
/// A/B split's assignment, see [`Decision::origin_request_changes`]; `headers` are the
/// request's); `None`: send it as it is. Should the copy fail, the original goes (logged): the
/// visitor is still answered. Kept out of line, so the request handler's state machine stays
/// small.
#[inline(never)]
pub(crate) fn with_request_changes(
    req: &web_sys::Request,
    decision: &Decision<'_>,
    headers: &[(&str, &str)],
) -> Option<web_sys::Request> {
    let changes = decision.origin_request_changes(headers);
    if changes.is_empty() {
        return None;
    }
    let copy = || -> Result<web_sys::Request, JsValue> {
        let headers = web_sys::Headers::new_with_headers(&req.headers())?;
        apply(&headers, &changes)?;
        let init = web_sys::RequestInit::new();
        init.set_headers(&headers);
        web_sys::Request::new_with_request_and_init(req, &init)
    };
    copy()
        .inspect_err(|e| console_error!("changing the request's headers failed ({})", describe(e)))
        .ok()
}

/// Applies header `changes` in order.
pub(crate) fn apply(
    headers: &web_sys::Headers,
    changes: &[HeaderChange<'_>],
) -> Result<(), JsValue> {
    for change in changes {
        match change {
            HeaderChange::Set(name, value) => headers.set(name, value)?,
            HeaderChange::Append(name, value) => headers.append(name, value)?,
            HeaderChange::Remove(name) => headers.delete(name)?,
        }
    }
    Ok(())
}
