//! What the proxy knows of its own legs: enough to recognise itself in a Route, a Via or a
//! Request-URI, and to write its own Via and Record-Route, without holding a socket.

use std::net::SocketAddr;

use sip_packet::{Host, SipUri, Uri, Via};
use sip_transport::{Leg, Protocol};

/// One of the proxy's legs as the protocol logic sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegInfo {
    /// The protocol.
    pub protocol: Protocol,
    /// The bound address.
    pub local_addr: SocketAddr,
    /// The host and port written into our Via and Record-Route.
    pub sent_by: (Host, u16),
}

impl LegInfo {
    /// A leg from its parts.
    pub fn new(protocol: Protocol, local_addr: SocketAddr, sent_by: (Host, u16)) -> Self {
        Self {
            protocol,
            local_addr,
            sent_by,
        }
    }

    /// The description of a bound leg.
    pub fn of(leg: &Leg) -> Self {
        Self::new(leg.protocol(), leg.local_addr(), leg.sent_by())
    }

    /// Whether `host:port` names this leg: its sent-by or its bound address (a wildcard
    /// bind address names nothing).
    pub fn is_addressed_by(&self, host: &Host, port: u16) -> bool {
        let (sb_host, sb_port) = &self.sent_by;
        if *sb_host == *host && *sb_port == port {
            return true;
        }
        let ip = self.local_addr.ip();
        !ip.is_unspecified()
            && host.ip().map(|i| i.to_canonical()) == Some(ip.to_canonical())
            && port == self.local_addr.port()
    }

    /// The URI of this leg for a Record-Route (RFC 3261 §16.6 step 4): `sip:HOST:PORT;lr`,
    /// with `transport=tcp` or `transport=tls` for stream legs so that the route leads back
    /// over the same protocol.
    pub fn route_uri(&self) -> Uri {
        let mut uri = SipUri::new(None, self.sent_by.0.clone());
        uri.set_port(Some(self.sent_by.1));
        if self.protocol != Protocol::Udp {
            uri.params_mut()
                .set("transport", Some(self.protocol.as_str()));
        }
        uri.params_mut().set("lr", None);
        Uri::from(uri)
    }
}

/// The proxy's legs, in the dispatcher's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Legs(Vec<LegInfo>);

impl Legs {
    /// These legs; the index of each is its place in `legs`.
    pub fn new(legs: Vec<LegInfo>) -> Self {
        Self(legs)
    }

    /// The legs of bound sockets.
    pub fn of(legs: &[Leg]) -> Self {
        Self(legs.iter().map(LegInfo::of).collect())
    }

    /// Leg number `i`.
    pub fn get(&self, i: usize) -> Option<&LegInfo> {
        self.0.get(i)
    }

    /// How many legs there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every leg with its index.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &LegInfo)> {
        self.0.iter().enumerate()
    }

    /// The first leg that can send over `protocol` to `addr` (same protocol, same IP
    /// family), preferring `prefer` when it can.
    pub fn for_target(
        &self,
        protocol: Protocol,
        addr: SocketAddr,
        prefer: Option<usize>,
    ) -> Option<usize> {
        let fits = |l: &LegInfo| l.protocol == protocol && l.local_addr.is_ipv4() == addr.is_ipv4();
        if let Some(p) = prefer {
            if self.0.get(p).is_some_and(fits) {
                return Some(p);
            }
        }
        self.0.iter().position(fits)
    }

    /// Whether a SIP URI names one of our legs: its host and port (the scheme's default port
    /// when none is written) are a leg's sent-by or bound address.
    pub fn is_us(&self, uri: &Uri) -> bool {
        let Some(sip) = uri.as_sip() else {
            return false;
        };
        let default = if sip.is_secure()
            || sip
                .transport()
                .is_some_and(|t| t.eq_ignore_ascii_case("tls"))
        {
            5061
        } else {
            5060
        };
        let port = sip.port().unwrap_or(default);
        self.0.iter().any(|l| l.is_addressed_by(sip.host(), port))
    }

    /// Whether a Via's sent-by is one of our legs.
    pub fn is_our_via(&self, via: &Via) -> bool {
        let port = via.port_or_default();
        self.0.iter().any(|l| l.is_addressed_by(via.host(), port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legs() -> Legs {
        Legs::new(vec![
            LegInfo::new(
                Protocol::Udp,
                "127.0.0.1:5060".parse().unwrap(),
                (Host::parse("127.0.0.1").unwrap(), 5060),
            ),
            LegInfo::new(
                Protocol::Tcp,
                "0.0.0.0:5070".parse().unwrap(),
                (Host::parse("proxy.example.com").unwrap(), 5070),
            ),
        ])
    }

    #[test]
    fn recognises_itself() {
        let l = legs();
        let us = |s: &str| l.is_us(&s.parse().unwrap());
        assert!(us("sip:127.0.0.1;lr"));
        assert!(us("sip:127.0.0.1:5060"));
        assert!(us("sip:PROXY.example.com:5070;transport=tcp"));
        assert!(!us("sip:127.0.0.1:5070"));
        assert!(!us("sip:0.0.0.0:5070"));
        assert!(!us("sip:127.0.0.2"));
        assert!(!us("sips:127.0.0.1"));
        assert!(!us("tel:+123"));
        let via = Via::parse("SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bKx").unwrap();
        assert!(l.is_our_via(&via));
        let via = Via::parse("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx").unwrap();
        assert!(l.is_our_via(&via));
    }

    #[test]
    fn route_uris_and_leg_choice() {
        let l = legs();
        assert_eq!(
            l.get(0).unwrap().route_uri().to_string(),
            "sip:127.0.0.1:5060;lr"
        );
        assert_eq!(
            l.get(1).unwrap().route_uri().to_string(),
            "sip:proxy.example.com:5070;transport=tcp;lr"
        );
        let a = "127.0.0.1:9".parse().unwrap();
        assert_eq!(l.for_target(Protocol::Tcp, a, Some(0)), Some(1));
        assert_eq!(l.for_target(Protocol::Udp, a, None), Some(0));
        assert_eq!(l.for_target(Protocol::Tls, a, None), None);
        assert_eq!(
            l.for_target(Protocol::Udp, "[::1]:9".parse().unwrap(), None),
            None
        );
    }
}
