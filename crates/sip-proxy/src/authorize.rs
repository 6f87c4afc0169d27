//! The authorizer in a dispatcher (Net::SIP::Authorize): a [`Receiver`] put in front of a
//! registrar or a proxy in a [`ReceiveChain`](sip_dispatch::ReceiveChain).

use std::net::SocketAddr;
use std::sync::Arc;

use sip_dispatch::{DeliverOptions, Dispatcher, Receiver};
use sip_packet::Message;
use sip_transport::Leg;

use crate::digest::{AuthConfig, AuthOutcome, DigestAuth};
use crate::reply::reply_target;

/// Challenges requests without valid credentials (401/407) and lets the others go on down
/// the chain: `receive` returns false for what passes (responses, authorized requests,
/// ACK and CANCEL) and true for what it answered or absorbed.
#[derive(Clone, Debug)]
pub struct Authorize {
    auth: Arc<DigestAuth>,
    dispatcher: Dispatcher,
}

impl Authorize {
    /// An authorizer answering through `dispatcher`.
    pub fn new(dispatcher: Dispatcher, config: AuthConfig) -> Self {
        let epoch = tokio::time::Instant::now().into_std();
        Self {
            auth: Arc::new(DigestAuth::new(config, epoch)),
            dispatcher,
        }
    }

    /// The protocol logic.
    pub fn digest(&self) -> &DigestAuth {
        &self.auth
    }
}

impl Receiver for Authorize {
    fn receive(&self, packet: &Message, leg: &Leg, from: SocketAddr) -> bool {
        let Message::Request(request) = packet else {
            return false;
        };
        let now = tokio::time::Instant::now().into_std();
        match self.auth.check(now, request) {
            AuthOutcome::Authorized { .. } | AuthOutcome::Exempt => false,
            AuthOutcome::Absorb => true,
            AuthOutcome::Challenge(response) => {
                tracing::info!(%from, method = %request.method(), status = response.status(), "challenge");
                let target = reply_target(
                    request.headers().top_via().ok().as_ref(),
                    leg.protocol(),
                    from,
                );
                self.dispatcher
                    .deliver(response, DeliverOptions::new().dst(target).leg(leg.id()));
                true
            }
        }
    }
}
