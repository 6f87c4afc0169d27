//! Via handling without sockets: our Via on requests we send, `received`/`rport` on requests
//! we receive, and where a response goes (RFC 3261 §18.2.1, §18.2.2; RFC 3581 §4).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use sip_packet::{Host, Request, Via};

use crate::leg::ConnectionId;
use crate::protocol::Protocol;

/// Puts our Via on top of `request`: the leg's protocol and sent-by, `branch`, and a bare
/// `rport` asking the next hop to note our source port (RFC 3581 §3).
///
/// ```
/// use sip_packet::{Host, Method, Request};
/// use sip_transport::{add_via, Protocol};
/// let mut req = Request::new(Method::Options, "sip:b@127.0.0.1".parse().unwrap());
/// add_via(&mut req, (Protocol::Udp, Host::parse("127.0.0.1").unwrap(), 5060), "z9hG4bKabc");
/// assert_eq!(req.headers().get("Via").unwrap(), "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc;rport");
/// ```
pub fn add_via(request: &mut Request, leg: (Protocol, Host, u16), branch: &str) {
    let (protocol, host, port) = leg;
    let mut value = via_head((protocol, &host, port));
    value.reserve(branch.len() + VIA_TAIL.len());
    value.push_str(branch);
    value.push_str(VIA_TAIL);
    request.headers_mut().insert_at_top("Via", value);
}

/// What [`add_via`] writes after the branch: a bare `rport` (RFC 3581 §3).
pub const VIA_TAIL: &str = ";rport";

/// The start of the Via value [`add_via`] writes for a leg, up to and including
/// `;branch=`: the same for every request sent on that leg, so that a sender of many (a
/// proxy) writes it once and appends the branch and [`VIA_TAIL`] to a copy.
///
/// ```
/// use sip_packet::Host;
/// use sip_transport::{via_head, Protocol};
/// let head = via_head((Protocol::Tcp, &Host::parse("example.com").unwrap(), 5070));
/// assert_eq!(head, "SIP/2.0/TCP example.com:5070;branch=");
/// ```
pub fn via_head(leg: (Protocol, &Host, u16)) -> String {
    let (protocol, host, port) = leg;
    let transport = match protocol {
        Protocol::Udp => "UDP",
        Protocol::Tcp => "TCP",
        Protocol::Tls => "TLS",
    };
    let mut value = String::with_capacity(80);
    let _ = write!(value, "SIP/2.0/{transport} {host}:{port};branch=");
    value
}

/// Notes where a received request came from in its top Via (RFC 3261 §18.2.1, RFC 3581 §4):
/// `received=<source IP>` when the sent-by host is a name or another address, and, when the
/// sender asked with a bare `rport`, `rport=<source port>` together with `received` (even
/// when it equals sent-by).
///
/// A request whose top Via is missing or cannot be parsed is left as it is: the transaction
/// layer rejects it on its own check.
pub fn stamp_received(request: &mut Request, source: SocketAddr) {
    let Ok(mut via) = request.headers().keep_top_via() else {
        return;
    };
    if stamp_via(&mut via, source) {
        request.headers_mut().set_top_via(&via);
    }
}

/// [`stamp_received`] on one Via value; says whether it changed anything.
pub fn stamp_via(via: &mut Via, source: SocketAddr) -> bool {
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the peer wrote a.b.c.d.
    let ip = source.ip().to_canonical();
    let mut changed = false;
    if via.rport() == Some(None) {
        via.set_rport(Some(source.port()));
        changed = true;
    }
    if changed || via.host().ip() != Some(ip) {
        // Bare IPv6, as RFC 3261's grammar writes `received` (§25.1); brackets are for
        // host:port.
        via.params_mut().set("received", Some(&ip.to_string()));
        changed = true;
    }
    changed
}

/// Where to send a response, from the top Via of the request and how the request came in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseTarget {
    /// Over the connection the request came in on (RFC 3261 §18.2.2, reliable transports);
    /// if it has closed since, to `fallback`, which is never itself a `Connection`.
    Connection {
        /// The connection.
        connection: ConnectionId,
        /// Where to open a new connection to.
        fallback: Box<Self>,
    },
    /// To this address.
    Addr(SocketAddr),
    /// To a host name, to be resolved the RFC 3263 §5 way: with a port, A/AAAA records;
    /// without one, SRV records first.
    Resolve {
        /// The name.
        host: Host,
        /// The port, when the Via gave one.
        port: Option<u16>,
    },
}

/// The response target of RFC 3261 §18.2.2 with RFC 3581 §4, in this order:
/// 1. a reliable protocol with the request's connection: that connection, falling back to
///    what follows (`rport` aside, which RFC 3581 defines for unreliable transports);
/// 2. `maddr`: that host, with the sent-by port or the default port;
/// 3. unreliable, `received` and an `rport` value: `received:rport`
///    (a bare `rport` that was never stamped: the request's `source`);
/// 4. `received`: that address, with the sent-by port or the default port;
/// 5. sent-by: an IP address gives an address; a name is to be resolved.
///
/// Apply [`stamp_received`] to the request first: this function reads the Via as it is,
/// so that it also serves responses forwarded with a Via stamped long before.
///
/// ```
/// use sip_packet::Via;
/// use sip_transport::{response_target, Protocol, ResponseTarget};
/// let via = Via::parse("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx;received=192.0.2.4;rport=40000").unwrap();
/// let source = "192.0.2.4:40000".parse().unwrap();
/// assert_eq!(response_target(&via, source, Protocol::Udp, None), ResponseTarget::Addr(source));
/// ```
pub fn response_target(
    top_via: &Via,
    source: SocketAddr,
    protocol: Protocol,
    connection: Option<ConnectionId>,
) -> ResponseTarget {
    let reliable = protocol.is_reliable();
    let address = response_address(top_via, source, reliable);
    match connection {
        Some(connection) if reliable => ResponseTarget::Connection {
            connection,
            fallback: Box::new(address),
        },
        _ => address,
    }
}

fn response_address(via: &Via, source: SocketAddr, reliable: bool) -> ResponseTarget {
    let port = via.port_or_default();
    if let Some(maddr) = via.maddr().and_then(|m| Host::parse(m).ok()) {
        return host_target(maddr, port);
    }
    let received: Option<IpAddr> = via.received().and_then(|h| h.ip());
    if !reliable {
        match via.rport() {
            Some(Some(rport)) => {
                return match received {
                    Some(ip) => ResponseTarget::Addr(SocketAddr::new(ip, rport)),
                    None => host_target(via.host().clone(), rport),
                };
            }
            Some(None) => return ResponseTarget::Addr(source),
            None => {}
        }
    }
    match received.or_else(|| via.host().ip()) {
        Some(ip) => ResponseTarget::Addr(SocketAddr::new(ip, port)),
        // Without a port the resolver looks for SRV records (RFC 3263 §5).
        None => ResponseTarget::Resolve {
            host: via.host().clone(),
            port: via.port(),
        },
    }
}

/// An IP host gives an address; a name is left to the resolver.
fn host_target(host: Host, port: u16) -> ResponseTarget {
    match host.ip() {
        Some(ip) => ResponseTarget::Addr(SocketAddr::new(ip, port)),
        None => ResponseTarget::Resolve {
            host,
            port: Some(port),
        },
    }
}

#[cfg(test)]
mod tests;
