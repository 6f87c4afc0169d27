//! How a leg is set up.

use std::time::Duration;

use sip_packet::{Host, ParseLimits};

use crate::addr::TransportAddr;
use crate::tls::{TlsClientConfig, TlsServerConfig};

/// The setup of one [`Leg`](crate::Leg): where it listens and its limits.
///
/// ```
/// use std::time::Duration;
/// use sip_transport::LegConfig;
/// let config = LegConfig::new("tcp:127.0.0.1:0".parse().unwrap())
///     .idle_timeout(Duration::from_secs(30))
///     .max_connections(100);
/// assert_eq!(config.addr().to_string(), "tcp:127.0.0.1:0");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LegConfig {
    pub(crate) addr: TransportAddr,
    pub(crate) tls_server: Option<TlsServerConfig>,
    pub(crate) tls_client: Option<TlsClientConfig>,
    pub(crate) limits: ParseLimits,
    pub(crate) idle_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) send_queue: usize,
    pub(crate) sent_by: Option<(Host, u16)>,
}

impl LegConfig {
    /// A leg on `addr` (port 0 picks a free port) with the defaults: parse limits of
    /// [`ParseLimits::default`], connections closed after 60 s without traffic, connecting
    /// given up after 5 s, at most 1024 connections, 64 messages queued per connection.
    pub fn new(addr: TransportAddr) -> Self {
        Self {
            addr,
            tls_server: None,
            tls_client: None,
            limits: ParseLimits::default(),
            idle_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            max_connections: 1024,
            send_queue: 64,
            sent_by: None,
        }
    }

    /// The certificate a TLS leg shows to peers that connect to it. A TLS leg without one
    /// still connects out, but closes every inbound connection.
    #[must_use]
    pub fn tls_server(mut self, config: TlsServerConfig) -> Self {
        self.tls_server = Some(config);
        self
    }

    /// The CA roots a TLS leg verifies servers against; without it, the public roots of
    /// [`TlsClientConfig::system_roots`].
    #[must_use]
    pub fn tls_client(mut self, config: TlsClientConfig) -> Self {
        self.tls_client = Some(config);
        self
    }

    /// Limits on what a peer may send: one message over them is reported malformed (UDP)
    /// or closes the connection (TCP, TLS: the stream cannot be framed past it).
    #[must_use]
    pub fn limits(mut self, limits: ParseLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How long a connection may go without traffic either way before it is closed.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long opening a connection (TCP connect and TLS handshake) may take, outbound and
    /// inbound.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The most connections (inbound and outbound together) a TCP or TLS leg keeps open.
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// How many messages may wait to be written on one connection; a send beyond that fails
    /// with [`TransportError::QueueFull`](crate::TransportError::QueueFull). At least 1.
    #[must_use]
    pub fn send_queue(mut self, messages: usize) -> Self {
        self.send_queue = messages.max(1);
        self
    }

    /// The host and port to put in our Via's sent-by instead of the bound address: for a leg
    /// bound to a wildcard address, or behind a port forward.
    #[must_use]
    pub fn sent_by(mut self, host: Host, port: u16) -> Self {
        self.sent_by = Some((host, port));
        self
    }

    /// The address the leg is to listen on.
    pub fn addr(&self) -> TransportAddr {
        self.addr
    }
}
