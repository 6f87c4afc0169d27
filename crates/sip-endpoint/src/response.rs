//! What the application answers with: a status, a status with a reason, or a whole response.

use sip_packet::Response;

/// An answer for [`Endpoint::new_response`](crate::Endpoint::new_response): a status (the
/// response is built from the request, RFC 3261 §8.2.6), a status and reason phrase, or a
/// response of the application's own (with a body, say).
///
/// ```
/// use sip_endpoint::ResponseSpec;
/// let ringing: ResponseSpec = 180.into();
/// let busy: ResponseSpec = (486, "Busy Here").into();
/// # let _ = (ringing, busy);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ResponseSpec {
    /// A status, with an optional reason phrase (the RFC's when `None`).
    Status(u16, Option<String>),
    /// A complete response.
    Response(Response),
}

impl From<u16> for ResponseSpec {
    fn from(status: u16) -> Self {
        Self::Status(status, None)
    }
}

impl From<(u16, &str)> for ResponseSpec {
    fn from((status, reason): (u16, &str)) -> Self {
        Self::Status(status, Some(reason.to_owned()))
    }
}

impl From<Response> for ResponseSpec {
    fn from(r: Response) -> Self {
        Self::Response(r)
    }
}
