//! Where a server element's own answer to a request goes.

use std::net::SocketAddr;

use sip_dispatch::resolve::Target;
use sip_packet::Via;
use sip_transport::{response_target, Protocol, ResponseTarget};

/// Back over the request's connection (reliable transports: its remote end is `from`), else
/// where the request's top Via says (received, rport; RFC 3261 §18.2.2, RFC 3581 §4); to
/// `from` when the Via does not parse (`None`).
pub(crate) fn reply_target(top_via: Option<&Via>, protocol: Protocol, from: SocketAddr) -> Target {
    if protocol.is_reliable() {
        return Target::new(protocol, from, None);
    }
    let addr = match top_via {
        Some(via) => match response_target(via, from, protocol, None) {
            ResponseTarget::Addr(a) => a,
            _ => from,
        },
        None => from,
    };
    Target::new(protocol, addr, None)
}
