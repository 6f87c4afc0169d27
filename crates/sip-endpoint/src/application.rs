//! The layer above the endpoint (Net::SIP's `set_application` and context callbacks): who is
//! told about incoming requests, and what a context's callback hears.

use std::net::SocketAddr;

use sip_packet::{Request, Response};
use sip_transport::Leg;

use crate::context::Context;
use crate::endpoint::Endpoint;
use crate::error::RequestError;

/// The application: told about every request that reaches a context.
///
/// Called on the endpoint's task; it must not block (answer at once through
/// [`Endpoint::new_response`], or hand the work to a task of its own and answer from there).
///
/// - INVITE: ring, answer 180 with `new_response`, later 200 (with an SDP answer) or an error.
/// - ACK: the peer established the call.
/// - CANCEL, BYE: the call is closed; the endpoint has answered already (200 to BYE; 200 to
///   CANCEL and 487 to the INVITE).
/// - anything else: answer with `new_response`.
///
/// Returns whether the application answers the request. When it does not, the endpoint
/// answers: OPTIONS with 200 and Allow/Accept, INVITE with 480, anything else with 501. The
/// value is ignored for ACK, BYE and CANCEL.
///
/// Closures `Fn(&Endpoint, &Context, &Request, &Leg, SocketAddr) -> bool` are applications.
pub trait Application: Send + Sync {
    /// `request` arrived on `leg` from `from`, for the call of `ctx`.
    fn receive(
        &self,
        endpoint: &Endpoint,
        ctx: &Context,
        request: &Request,
        leg: &Leg,
        from: SocketAddr,
    ) -> bool;
}

impl<F> Application for F
where
    F: Fn(&Endpoint, &Context, &Request, &Leg, SocketAddr) -> bool + Send + Sync,
{
    fn receive(
        &self,
        endpoint: &Endpoint,
        ctx: &Context,
        request: &Request,
        leg: &Leg,
        from: SocketAddr,
    ) -> bool {
        self(endpoint, ctx, request, leg, from)
    }
}

/// What a context's callback hears about the requests sent from it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CallEvent {
    /// A response to a request of the context, provisional or final, after what the endpoint
    /// does on its own: answered challenges, followed redirects and 2xx retransmissions are
    /// not reported. A challenge the endpoint could not answer (no or refused credentials)
    /// is reported as the final response it is.
    Response(Response),
    /// A request got no final response, or a call ended without one of the peer's requests
    /// (our 2xx never acknowledged).
    Failed(RequestError),
    /// A forked INVITE got a 2xx from a second callee (another To tag). The endpoint
    /// acknowledged it and ended that dialog with a BYE (RFC 3261 §13.2.2.4); the call
    /// stays with the first answer.
    ForkReleased(Response),
}

/// A context's callback; closures `Fn(&Endpoint, &Context, &CallEvent)` are callbacks. Called
/// on the endpoint's task: it must not block.
pub trait ContextCallback: Send + Sync {
    /// `event` happened on `ctx`.
    fn event(&self, endpoint: &Endpoint, ctx: &Context, event: &CallEvent);
}

impl<F> ContextCallback for F
where
    F: Fn(&Endpoint, &Context, &CallEvent) + Send + Sync,
{
    fn event(&self, endpoint: &Endpoint, ctx: &Context, event: &CallEvent) {
        self(endpoint, ctx, event)
    }
}
