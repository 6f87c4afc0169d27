//! Transport addresses: `udp:HOST:PORT`, `tcp:HOST:PORT`, `tls:HOST:PORT`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use crate::protocol::Protocol;

/// A protocol and a socket address: where a leg listens, or where a peer is reached.
///
/// Written `udp:HOST:PORT`, `tcp:HOST:PORT` or `tls:HOST:PORT`, with an IPv6 address in
/// brackets. HOST must be an IP address: names are resolved elsewhere (the dispatcher does
/// RFC 3263). Without `:PORT` the protocol's default port is used.
///
/// ```
/// use sip_transport::{Protocol, TransportAddr};
/// let a: TransportAddr = "tls:[::1]:5061".parse().unwrap();
/// assert_eq!(a.protocol, Protocol::Tls);
/// assert_eq!(a.addr.port(), 5061);
/// assert_eq!(a.to_string(), "tls:[::1]:5061");
/// assert!("udp:example.com:5060".parse::<TransportAddr>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransportAddr {
    /// The protocol.
    pub protocol: Protocol,
    /// The IP address and port.
    pub addr: SocketAddr,
}

impl TransportAddr {
    /// A transport address from its parts.
    pub fn new(protocol: Protocol, addr: SocketAddr) -> Self {
        Self { protocol, addr }
    }
}

/// Why a string is not a transport address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportAddrError {
    /// No `PROTOCOL:` in front.
    #[error("{input:?} lacks the protocol: write udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT")]
    MissingProtocol {
        /// The whole input.
        input: String,
    },
    /// A protocol other than udp, tcp and tls.
    #[error("unknown protocol {protocol:?} in {input:?}: expected udp, tcp or tls")]
    UnknownProtocol {
        /// The protocol as written.
        protocol: String,
        /// The whole input.
        input: String,
    },
    /// The host is not an IP address (names are resolved elsewhere), or an IPv6 address
    /// lacks its brackets.
    #[error("host {host:?} in {input:?} is not an IP address (IPv6 goes in brackets: [::1])")]
    NotAnIpAddress {
        /// The host as written.
        host: String,
        /// The whole input.
        input: String,
    },
    /// The port is not a number from 0 to 65535.
    #[error("port {port:?} in {input:?} is not a number from 0 to 65535")]
    BadPort {
        /// The port as written.
        port: String,
        /// The whole input.
        input: String,
    },
}

impl FromStr for TransportAddr {
    type Err = TransportAddrError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let owned = || input.to_owned();
        let (proto, rest) = input
            .split_once(':')
            .ok_or_else(|| TransportAddrError::MissingProtocol { input: owned() })?;
        let protocol = match proto.to_ascii_lowercase().as_str() {
            "udp" => Protocol::Udp,
            "tcp" => Protocol::Tcp,
            "tls" => Protocol::Tls,
            _ => {
                return Err(TransportAddrError::UnknownProtocol {
                    protocol: proto.to_owned(),
                    input: owned(),
                })
            }
        };
        let not_ip = |host: &str| TransportAddrError::NotAnIpAddress {
            host: host.to_owned(),
            input: owned(),
        };
        let (ip, port): (IpAddr, Option<&str>) = if let Some(v6) = rest.strip_prefix('[') {
            let (inside, after) = v6.split_once(']').ok_or_else(|| not_ip(rest))?;
            let ip: Ipv6Addr = inside.parse().map_err(|_| not_ip(inside))?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| not_ip(rest))?),
            };
            (IpAddr::V6(ip), port)
        } else {
            // More than one colon is an IPv6 address without brackets: ambiguous with the port.
            let (host, port) = match rest.split_once(':') {
                Some((h, p)) if !p.contains(':') => (h, Some(p)),
                Some(_) => return Err(not_ip(rest)),
                None => (rest, None),
            };
            let ip = host
                .parse::<std::net::Ipv4Addr>()
                .map_err(|_| not_ip(host))?;
            (IpAddr::V4(ip), port)
        };
        let port = match port {
            None => protocol.default_port(),
            Some(p) => p.parse().map_err(|_| TransportAddrError::BadPort {
                port: p.to_owned(),
                input: owned(),
            })?,
        };
        Ok(Self::new(protocol, SocketAddr::new(ip, port)))
    }
}

impl fmt::Display for TransportAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SocketAddr's Display already brackets IPv6.
        write!(f, "{}:{}", self.protocol, self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<TransportAddr, TransportAddrError> {
        s.parse()
    }

    #[test]
    fn round_trips() {
        for s in [
            "udp:127.0.0.1:5060",
            "tcp:0.0.0.0:0",
            "tls:[::1]:5061",
            "tcp:[2001:db8::1]:65535",
        ] {
            assert_eq!(parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn protocol_is_case_insensitive_and_port_defaults() {
        let a = parse("TLS:10.0.0.1").unwrap();
        assert_eq!(a.protocol, Protocol::Tls);
        assert_eq!(a.addr, "10.0.0.1:5061".parse().unwrap());
        assert_eq!(parse("udp:[::1]").unwrap().addr.port(), 5060);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(matches!(
            parse("127.0.0.1"),
            Err(TransportAddrError::MissingProtocol { .. })
        ));
        assert!(matches!(
            parse("sctp:127.0.0.1:5060"),
            Err(TransportAddrError::UnknownProtocol { protocol, .. }) if protocol == "sctp"
        ));
        assert!(matches!(
            parse("udp:example.com:5060"),
            Err(TransportAddrError::NotAnIpAddress { host, .. }) if host == "example.com"
        ));
        assert!(matches!(
            parse("udp:::1:5060"),
            Err(TransportAddrError::NotAnIpAddress { .. })
        ));
        assert!(matches!(
            parse("udp:[::1:5060"),
            Err(TransportAddrError::NotAnIpAddress { .. })
        ));
        assert!(matches!(
            parse("udp:[::1]5060"),
            Err(TransportAddrError::NotAnIpAddress { .. })
        ));
        assert!(matches!(
            parse("udp:[zz]:5060"),
            Err(TransportAddrError::NotAnIpAddress { .. })
        ));
        assert!(matches!(
            parse("udp:1.2.3.4:70000"),
            Err(TransportAddrError::BadPort { port, .. }) if port == "70000"
        ));
        assert!(matches!(
            parse("udp:1.2.3.4:"),
            Err(TransportAddrError::BadPort { .. })
        ));
        let msg = parse("udp:example.com:5060").unwrap_err().to_string();
        assert!(
            msg.contains("example.com") && msg.contains("IP address"),
            "{msg}"
        );
    }
}
