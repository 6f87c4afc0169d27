//! What can go wrong: misuse of the API ([`EndpointError`]), a request that did not get
//! through ([`RequestError`]) and a peer's message that cannot make or continue a dialog
//! ([`DialogError`]).

use sip_dispatch::DeliveryError;
use sip_packet::{BuildError, ParseError};

/// Misuse of the endpoint's API: the caller asked for something the endpoint cannot do in the
/// state it is in. Nothing here is the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The context was closed, or was made by another endpoint.
    #[error("the context of call {0:?} is not managed by this endpoint")]
    UnknownContext(String),
    /// A request inside a dialog was asked for, but the context has none (yet, or any more).
    #[error("{method} needs a dialog, and the context of call {call_id:?} has none")]
    NoDialog {
        /// The method asked for.
        method: String,
        /// The call.
        call_id: String,
    },
    /// ACK and CANCEL are sent by the endpoint itself, never through `new_request`.
    #[error("{0} is sent by the endpoint itself; use cancel_invite for CANCEL")]
    MethodNotAllowed(String),
    /// A response was given for a request the context is not answering (already answered
    /// finally, or from another call).
    #[error("no request with CSeq {cseq} {method} is waiting for a response in call {call_id:?}")]
    NotAwaitingResponse {
        /// The request's CSeq number.
        cseq: u32,
        /// The request's method.
        method: String,
        /// The call.
        call_id: String,
    },
    /// The response given cannot be sent: 1xx is not allowed for that request, or the status
    /// is out of range.
    #[error("a {status} response cannot be sent for {method}")]
    BadResponse {
        /// The status.
        status: u16,
        /// The request's method.
        method: String,
    },
    /// A message given to the endpoint (a request to answer, a URI) lacks what is needed.
    #[error("the message given is malformed: {0}")]
    Malformed(#[from] ParseError),
    /// A message could not be built from another.
    #[error("cannot build the message: {0}")]
    Build(#[from] BuildError),
    /// The endpoint has no leg, so it has no address to put in a Contact.
    #[error("the dispatcher has no leg: no Contact can be made")]
    NoLeg,
    /// The endpoint was shut down, or its task is gone.
    #[error("the endpoint is shut down")]
    Shutdown,
}

/// Why a request sent from a context got no final response (what the context's callback
/// hears in [`CallEvent::Failed`](crate::CallEvent::Failed)). A final response, even an error
/// one, is reported as a response instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The dispatcher gave up: timeout, transport failure, no route.
    #[error("delivery failed: {0}")]
    Delivery(#[from] DeliveryError),
    /// The request could not be built again (after a challenge or a redirect).
    #[error("cannot build the request: {0}")]
    Build(#[from] BuildError),
    /// The peer's response cannot start or continue the dialog.
    #[error("the peer's response is unusable: {0}")]
    Dialog(#[from] DialogError),
    /// Our 2xx to an INVITE was never acknowledged (RFC 3261 §13.3.1.4); the endpoint sent a
    /// BYE and closed the call.
    #[error("no ACK for the 2xx to INVITE (CSeq {0}) within 64*T1; the call was closed")]
    NoAck(u32),
}

/// A peer's message that cannot create or continue a dialog (peer misbehaviour).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog needs is missing or does not parse.
    #[error("malformed message: {0}")]
    Malformed(#[from] ParseError),
    /// A tag that the dialog needs is absent (the To tag of a dialog-creating response).
    #[error("the {0} header has no tag")]
    MissingTag(&'static str),
    /// A request's CSeq is not above the last one of the dialog (RFC 3261 §12.2.2).
    #[error("CSeq {got} is not above the last CSeq {last} of the dialog")]
    CSeqOutOfOrder {
        /// The CSeq of the request.
        got: u32,
        /// The highest CSeq seen before.
        last: u32,
    },
}
