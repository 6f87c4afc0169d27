//! What the proxy's protocol logic decides for one message.

use std::net::SocketAddr;

use sip_dispatch::resolve::Target;
use sip_packet::{Message, Uri};

use crate::branch::ProxyBranch;
use crate::nat::NatPending;

/// What to do with a message ([`ProxyCore`](crate::ProxyCore)'s answer).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Decision {
    /// Send `message` (the forwarded request or response, ready for the wire: our Via,
    /// Max-Forwards, Route, Record-Route, Contact done) on leg `leg` to `target`, without a
    /// transaction and without another Via.
    Forward {
        /// The message.
        message: Message,
        /// The index of the outgoing leg.
        leg: usize,
        /// Where to.
        target: Target,
    },
    /// Answer the request: send `response` on leg `leg` to `target`.
    Respond {
        /// The response.
        response: sip_packet::Response,
        /// The index of the leg the request came in on.
        leg: usize,
        /// Where the request's sender gets its responses.
        target: Target,
    },
    /// Resolve [`Pending::uri`] (RFC 3263), then hand the targets to
    /// [`ProxyCore::handle_resolved`](crate::ProxyCore::handle_resolved).
    Resolve(Box<Pending>),
    /// Ask the NAT helper ([`ProxyConfig::nat`](crate::ProxyConfig::nat)) for the relay
    /// sockets of [`NatPending::allocation`], then hand its answer to
    /// [`ProxyCore::handle_nat`](crate::ProxyCore::handle_nat).
    Nat(Box<NatPending>),
    /// Drop the message; the reason is for the log.
    Drop(&'static str),
}

/// A message waiting for its next hop's address.
#[derive(Debug, Clone)]
pub struct Pending {
    pub(crate) message: Message,
    pub(crate) uri: Uri,
    pub(crate) in_leg: usize,
    pub(crate) from: SocketAddr,
    pub(crate) branch: Option<ProxyBranch>,
    pub(crate) reply_to: Option<Target>,
}

impl Pending {
    /// The URI to resolve.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }
}
