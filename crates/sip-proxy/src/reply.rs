//! Where a server element's own answer to a request goes.

use std::net::SocketAddr;

use sip_dispatch::resolve::Target;
use sip_packet::Request;
use sip_transport::{response_target, Protocol, ResponseTarget};

/// Back over the request's connection (reliable transports: its remote end is `from`), else
/// where its top Via says (received, rport; RFC 3261 §18.2.2, RFC 3581 §4).
pub(crate) fn reply_target(request: &Request, protocol: Protocol, from: SocketAddr) -> Target {
    if protocol.is_reliable() {
        return Target::new(protocol, from, None);
    }
    let addr = match request.headers().top_via() {
        Ok(via) => match response_target(&via, from, protocol, None) {
            ResponseTarget::Addr(a) => a,
            _ => from,
        },
        Err(_) => from,
    };
    Target::new(protocol, addr, None)
}
