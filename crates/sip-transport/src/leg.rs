//! The leg: one socket of one protocol on one address, the Net::SIP::Leg of this stack.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use sip_packet::{Host, Message, ParseError, ParseLimits};
use tokio::sync::{mpsc, watch};

use crate::addr::TransportAddr;
use crate::config::LegConfig;
use crate::error::TransportError;
use crate::protocol::Protocol;
use crate::tcp::Streams;
use crate::{tcp, udp};

static NEXT_LEG: AtomicU64 = AtomicU64::new(1);
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// Identifies one [`Leg`] for as long as the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(u64);

impl LegId {
    /// An id from a number, for tests and simulations that need legs without sockets. Legs
    /// number themselves from 1 upwards; keep made-up ids apart from those.
    pub fn from_raw(n: u64) -> Self {
        Self(n)
    }

    /// The number.
    pub fn as_raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Identifies one TCP or TLS connection, unique across all legs for as long as the process
/// runs: an id never comes back after its connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    pub(crate) fn next() -> Self {
        Self(NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed))
    }

    /// An id from a number, for tests and simulations without sockets. Legs number
    /// connections from 1 upwards; keep made-up ids apart from those.
    pub fn from_raw(n: u64) -> Self {
        Self(n)
    }

    /// The number.
    pub fn as_raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where [`Leg::send`] delivers a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The peer's address. UDP sends here; TCP and TLS use (or open) a connection to it.
    pub addr: SocketAddr,
    /// A connection to use while it is open (TCP, TLS): the one a request came in on, for
    /// its responses. When it has closed, the message goes to `addr`.
    pub connection: Option<ConnectionId>,
    /// The name the server's TLS certificate must hold; without it, the IP address of
    /// `addr` (RFC 5922 §7.2 wants the SIP domain: the dispatcher knows it).
    pub server_name: Option<String>,
}

impl Destination {
    /// To `addr`, over any open connection to it.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            connection: None,
            server_name: None,
        }
    }

    /// Over this connection while it is open.
    #[must_use]
    pub fn with_connection(mut self, connection: ConnectionId) -> Self {
        self.connection = Some(connection);
        self
    }

    /// Verifying the server's TLS certificate against this name.
    #[must_use]
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
}

/// What a leg received, with where it came from.
#[derive(Debug)]
pub struct Inbound {
    /// The leg it came in on: answer through it.
    pub leg: Leg,
    /// The peer's address (for a connection, its remote end).
    pub source: SocketAddr,
    /// The connection it came over (TCP, TLS): responses go back over it.
    pub connection: Option<ConnectionId>,
    /// The message, or why it is not one.
    pub item: InboundItem,
}

/// A message, or bytes that did not parse as one.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // the message is the common case; boxing it costs an allocation each
pub enum InboundItem {
    /// A message.
    Message(Message),
    /// A datagram, or a message framed out of a stream, that did not parse. What to answer
    /// (400, or silence for a response) is the dispatcher's decision (RFC 3261 §16.3).
    Malformed {
        /// Why it did not parse.
        error: ParseError,
        /// The bytes as received.
        raw: Bytes,
    },
}

/// One socket of one protocol on one local address: a UDP socket, or a TCP/TLS listener with
/// the connections it accepted and opened.
///
/// Cheap to clone: clones share the socket. The tasks that read stop when the leg is
/// [closed](Self::close), when every clone is dropped, or when the receiver of
/// [`Inbound`] messages is dropped.
#[derive(Clone)]
pub struct Leg {
    pub(crate) inner: Arc<LegInner>,
}

pub(crate) struct LegInner {
    id: LegId,
    addr: TransportAddr,
    sent_by: (Host, u16),
    shutdown: watch::Sender<bool>,
    pub(crate) ctx: Ctx,
    kind: Kind,
}

pub(crate) enum Kind {
    Udp(Arc<tokio::net::UdpSocket>),
    Stream(Streams),
}

/// What every task of a leg holds: a weak handle (so that tasks do not keep the leg alive),
/// where to deliver, and the signal to stop.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) leg: Weak<LegInner>,
    pub(crate) addr: TransportAddr,
    pub(crate) inbound: mpsc::Sender<Inbound>,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) limits: ParseLimits,
}

impl Ctx {
    /// Hands a received item to the dispatcher; false when the leg or the receiver is gone
    /// and the task should end. Waiting here is the back-pressure on one socket or
    /// connection only: every connection reads in its own task.
    pub(crate) async fn deliver(
        &self,
        source: SocketAddr,
        connection: Option<ConnectionId>,
        item: InboundItem,
    ) -> bool {
        let Some(inner) = self.leg.upgrade() else {
            return false;
        };
        let inbound = Inbound {
            leg: Leg { inner },
            source,
            connection,
            item,
        };
        // Room in the channel, the usual case: no wait to set up.
        let inbound = match self.inbound.try_send(inbound) {
            Ok(()) => return true,
            Err(mpsc::error::TrySendError::Closed(_)) => return false,
            Err(mpsc::error::TrySendError::Full(back)) => back,
        };
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            sent = self.inbound.send(inbound) => sent.is_ok(),
            () = closed(&mut shutdown) => false,
        }
    }

    /// Parses a datagram or a framed message.
    pub(crate) fn parse(&self, raw: Bytes) -> InboundItem {
        match Message::parse_with(raw.clone(), &self.limits) {
            Ok(message) => InboundItem::Message(message),
            Err(error) => InboundItem::Malformed { error, raw },
        }
    }
}

impl LegInner {
    fn new(
        config: &LegConfig,
        local: SocketAddr,
        inbound: mpsc::Sender<Inbound>,
        kind: Kind,
    ) -> Arc<Self> {
        let addr = TransportAddr::new(config.addr.protocol, local);
        let sent_by = config
            .sent_by
            .clone()
            .unwrap_or_else(|| (Host::from(local.ip()), local.port()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        Arc::new_cyclic(|weak| Self {
            id: LegId(NEXT_LEG.fetch_add(1, Ordering::Relaxed)),
            addr,
            sent_by,
            shutdown,
            ctx: Ctx {
                leg: weak.clone(),
                addr,
                inbound,
                shutdown: shutdown_rx,
                limits: config.limits.clone(),
            },
            kind,
        })
    }
}

/// Resolves when the leg is closed or dropped.
pub(crate) async fn closed(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender (the leg) is gone: closed as well.
    let _ = shutdown.wait_for(|closed| *closed).await;
}

impl Leg {
    /// Binds the socket of `config` and starts the tasks that read from it (UDP) or accept
    /// connections on it (TCP, TLS). Everything received goes to `inbound`.
    ///
    /// Port 0 picks a free port: [`local_addr`](Self::local_addr) tells which.
    pub async fn bind(
        config: LegConfig,
        inbound: mpsc::Sender<Inbound>,
    ) -> Result<Self, TransportError> {
        let want = config.addr;
        let bind_error = |source| TransportError::Bind { addr: want, source };
        let inner = match want.protocol {
            Protocol::Udp => {
                let socket = Arc::new(udp::bind(want.addr).await.map_err(bind_error)?);
                let local = socket.local_addr().map_err(bind_error)?;
                let inner = LegInner::new(&config, local, inbound, Kind::Udp(socket.clone()));
                tokio::spawn(udp::read_loop(socket, inner.ctx.clone()));
                inner
            }
            Protocol::Tcp | Protocol::Tls => {
                let streams = Streams::new(&config)?;
                let listener = tcp::bind(want.addr).await.map_err(bind_error)?;
                let local = listener.local_addr().map_err(bind_error)?;
                let shared = streams.shared();
                let inner = LegInner::new(&config, local, inbound, Kind::Stream(streams));
                tokio::spawn(tcp::accept_loop(listener, inner.ctx.clone(), shared));
                inner
            }
        };
        tracing::debug!("{}: bound as leg {}", inner.addr, inner.id);
        Ok(Self { inner })
    }

    /// The leg's id.
    pub fn id(&self) -> LegId {
        self.inner.id
    }

    /// The address the socket is bound to (with the port picked when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr.addr
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.inner.addr.protocol
    }

    /// Protocol and bound address, e.g. `udp:127.0.0.1:5060`.
    pub fn transport_addr(&self) -> TransportAddr {
        self.inner.addr
    }

    /// Whether this leg can send to `dst` over `protocol`: the same protocol and the same IP
    /// family (Net::SIP's `can_deliver_to`).
    pub fn can_deliver_to(&self, protocol: Protocol, dst: SocketAddr) -> bool {
        protocol == self.protocol() && dst.is_ipv4() == self.local_addr().is_ipv4()
    }

    /// The host and port for the sent-by of our Via ([`add_via`](crate::add_via)): the
    /// bound address unless [`LegConfig::sent_by`] said otherwise.
    pub fn sent_by(&self) -> (Host, u16) {
        self.inner.sent_by.clone()
    }

    /// Sends one message (or a keep-alive) to `dst`.
    ///
    /// UDP sends a datagram. TCP and TLS queue the bytes on `dst.connection` while it is
    /// open, else on an open connection to `dst.addr`, else on a new connection (for TLS,
    /// after a handshake that verifies the server's certificate). `Ok` means queued: a
    /// connection that fails later closes, and the transaction layer's timeout notices.
    pub async fn send(&self, data: Bytes, dst: &Destination) -> Result<(), TransportError> {
        let leg = self.inner.addr;
        if self.is_closed() {
            return Err(TransportError::LegClosed { leg });
        }
        if dst.addr.is_ipv4() != self.local_addr().is_ipv4() {
            return Err(TransportError::ProtocolMismatch {
                leg,
                peer: dst.addr,
            });
        }
        match &self.inner.kind {
            Kind::Udp(socket) => udp::send(socket, leg, &data, dst.addr).await,
            Kind::Stream(streams) => streams.send(&self.inner.ctx, data, dst).await,
        }
    }

    /// Closes the leg: the socket stops reading and every connection closes. Sends fail
    /// from now on with [`TransportError::LegClosed`].
    pub fn close(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// How many TCP or TLS connections are open (0 for UDP).
    pub fn connection_count(&self) -> usize {
        match &self.inner.kind {
            Kind::Udp(_) => 0,
            Kind::Stream(streams) => streams.connection_count(),
        }
    }
}

impl PartialEq for Leg {
    fn eq(&self, other: &Self) -> bool {
        self.inner.id == other.inner.id
    }
}

impl Eq for Leg {}

impl std::hash::Hash for Leg {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.id.hash(state);
    }
}

impl fmt::Debug for Leg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leg")
            .field("id", &self.inner.id)
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}
