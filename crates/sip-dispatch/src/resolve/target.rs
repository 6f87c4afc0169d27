//! One place to send a request to.

use std::fmt;
use std::net::SocketAddr;

use sip_transport::Protocol;

/// One place to send a request to: a transport, an address and, for TLS, the name the peer's
/// certificate must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// The transport to use.
    pub protocol: Protocol,
    /// Where to send.
    pub addr: SocketAddr,
    /// The domain the target was found for, without a trailing dot: the URI's host (or the
    /// proxy's, or the `maddr`), not the SRV target's name, because RFC 5922 §4.1 has a TLS
    /// client check the certificate against the SIP domain it meant to reach. `None` when that
    /// host was an IP address.
    pub server_name: Option<String>,
}

impl Target {
    /// A target.
    pub fn new(protocol: Protocol, addr: SocketAddr, server_name: Option<String>) -> Self {
        Self {
            protocol,
            addr,
            server_name,
        }
    }
}

/// `udp:127.0.0.1:5060`, `tls:[::1]:5061 (example.com)`: the transport-address form the
/// `netsip` command reads, with the server name after it when there is one.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.protocol, self.addr)?;
        if let Some(name) = &self.server_name {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}
