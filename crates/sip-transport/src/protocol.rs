//! The transport protocols a leg speaks.

use std::fmt;

use sip_packet::Transport;

/// The transport protocol of a [`Leg`](crate::Leg).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Datagrams: one message per datagram, retransmissions by the transaction layer.
    Udp,
    /// A byte stream framed by Content-Length (RFC 3261 §18.3).
    Tcp,
    /// TLS over TCP, framed like TCP.
    Tls,
}

impl Protocol {
    /// Whether the protocol is reliable: then the transaction layer does not retransmit
    /// (RFC 3261 §17.1.1.2, §17.1.2.2).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Self::Udp)
    }

    /// The name of the protocol in a Via header (`UDP`, `TCP`, `TLS`).
    pub fn to_via_transport(self) -> Transport {
        match self {
            Self::Udp => Transport::Udp,
            Self::Tcp => Transport::Tcp,
            Self::Tls => Transport::Tls,
        }
    }

    /// The protocol a Via transport names, when it is one a leg can speak.
    pub fn from_via_transport(transport: &Transport) -> Option<Self> {
        match transport {
            Transport::Udp => Some(Self::Udp),
            Transport::Tcp => Some(Self::Tcp),
            Transport::Tls => Some(Self::Tls),
            _ => None,
        }
    }

    /// The port used when none is given: 5061 for TLS, else 5060 (RFC 3261 §19.1.2).
    pub fn default_port(self) -> u16 {
        match self {
            Self::Udp | Self::Tcp => 5060,
            Self::Tls => 5061,
        }
    }

    /// The lower-case name, as in a transport address (`udp:...`) and the `transport` URI
    /// parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ports_and_reliability() {
        assert_eq!(Protocol::Udp.to_string(), "udp");
        assert_eq!(Protocol::Tls.to_string(), "tls");
        assert_eq!(Protocol::Tcp.default_port(), 5060);
        assert_eq!(Protocol::Tls.default_port(), 5061);
        assert!(!Protocol::Udp.is_reliable());
        assert!(Protocol::Tcp.is_reliable() && Protocol::Tls.is_reliable());
        for p in [Protocol::Udp, Protocol::Tcp, Protocol::Tls] {
            assert_eq!(Protocol::from_via_transport(&p.to_via_transport()), Some(p));
            assert_eq!(p.to_via_transport().default_port(), p.default_port());
        }
        assert_eq!(Protocol::from_via_transport(&Transport::Sctp), None);
    }
}
