//! What can go wrong when binding a leg or sending on it.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::addr::TransportAddr;
use crate::leg::ConnectionId;

/// An error of a leg: each variant names the leg or the peer it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The socket could not be bound (address in use, not a local address, …).
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: TransportAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// A TCP connection could not be opened.
    #[error("{leg}: cannot connect to {peer}: {source}")]
    Connect {
        /// The leg that tried.
        leg: TransportAddr,
        /// The peer.
        peer: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// Opening a connection (TCP and, for TLS, the handshake) took longer than the connect
    /// timeout of [`LegConfig`](crate::LegConfig).
    #[error("{leg}: connecting to {peer} timed out after {after:?}")]
    ConnectTimeout {
        /// The leg that tried.
        leg: TransportAddr,
        /// The peer.
        peer: SocketAddr,
        /// The timeout.
        after: Duration,
    },
    /// TLS certificates, keys or CA roots could not be loaded or do not fit together.
    #[error("TLS configuration: {reason}")]
    TlsConfig {
        /// What is wrong, with the file it came from when there was one.
        reason: String,
    },
    /// The TLS handshake failed: e.g. the peer's certificate is not signed by a trusted CA
    /// or is not for the name asked for.
    #[error("{leg}: TLS handshake with {peer} failed: {source}")]
    TlsHandshake {
        /// The leg that tried.
        leg: TransportAddr,
        /// The peer.
        peer: SocketAddr,
        /// The TLS error (its source is the `rustls::Error`).
        source: io::Error,
    },
    /// The name to verify the peer's certificate against is neither a DNS name nor an IP
    /// address.
    #[error("{name:?} is not a valid TLS server name (a DNS name or an IP address)")]
    BadServerName {
        /// The name as given.
        name: String,
    },
    /// The connection closed while sending on it, or a datagram could not be sent.
    #[error("{leg}: sending to {peer} failed: {source}")]
    Send {
        /// The leg that sent.
        leg: TransportAddr,
        /// The peer.
        peer: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The connection to the peer closed before the message could be queued on it.
    #[error("{leg}: connection {connection} to {peer} is closed")]
    ConnectionClosed {
        /// The leg.
        leg: TransportAddr,
        /// The peer.
        peer: SocketAddr,
        /// The connection.
        connection: ConnectionId,
    },
    /// The connection's outgoing queue is full: the peer reads slower than we write.
    #[error(
        "{leg}: outgoing queue of connection {connection} to {peer} is full ({capacity} messages)"
    )]
    QueueFull {
        /// The leg.
        leg: TransportAddr,
        /// The peer.
        peer: SocketAddr,
        /// The connection.
        connection: ConnectionId,
        /// The size of the queue.
        capacity: usize,
    },
    /// The leg already has as many connections as it may have.
    #[error("{leg}: cannot connect to {peer}: connection limit of {limit} reached")]
    ConnectionLimit {
        /// The leg.
        leg: TransportAddr,
        /// The peer.
        peer: SocketAddr,
        /// The limit from [`LegConfig::max_connections`](crate::LegConfig::max_connections).
        limit: usize,
    },
    /// The leg cannot reach the destination: another IP family than the leg's address.
    #[error("{leg} cannot deliver to {peer}: different IP family")]
    ProtocolMismatch {
        /// The leg.
        leg: TransportAddr,
        /// The destination.
        peer: SocketAddr,
    },
    /// The leg was closed with [`Leg::close`](crate::Leg::close).
    #[error("{leg} is closed")]
    LegClosed {
        /// The leg.
        leg: TransportAddr,
    },
}
