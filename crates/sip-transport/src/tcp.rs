//! Stream connections, shared by TCP and TLS: the listener, the table of open connections,
//! and sending over them (RFC 3261 §18.1.1, §18.2.2: reuse a connection to the same peer,
//! answer over the connection a request came in on).

mod connection;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::addr::TransportAddr;
use crate::config::LegConfig;
use crate::error::TransportError;
use crate::leg::{closed, ConnectionId, Ctx, Destination};
use crate::protocol::Protocol;
use crate::tls;

pub(crate) async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; should it ever, the table is still sound.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The open connections of one leg.
#[derive(Default)]
struct Table {
    connections: HashMap<ConnectionId, Open>,
    /// The newest connection to each peer address, for reuse.
    by_peer: HashMap<SocketAddr, ConnectionId>,
    /// Connections counted against the limit: open ones and ones still connecting or in
    /// their TLS handshake.
    slots: usize,
}

struct Open {
    peer: SocketAddr,
    queue: mpsc::Sender<Bytes>,
}

/// What the acceptor and the connection tasks share with the leg.
pub(crate) struct Shared {
    table: Mutex<Table>,
    max_connections: usize,
    idle_timeout: Duration,
    connect_timeout: Duration,
    send_queue: usize,
    acceptor: Option<TlsAcceptor>,
}

/// One slot of the connection limit, held from accept or connect until the connection's
/// reader ends; dropping it frees the slot and forgets the connection.
pub(crate) struct Slot {
    shared: Arc<Shared>,
    id: Option<ConnectionId>,
}

impl Shared {
    fn reserve(self: &Arc<Self>) -> Option<Slot> {
        let mut table = lock(&self.table);
        if table.slots >= self.max_connections {
            return None;
        }
        table.slots += 1;
        Some(Slot {
            shared: self.clone(),
            id: None,
        })
    }

    fn find(&self, id: ConnectionId) -> Option<(SocketAddr, mpsc::Sender<Bytes>)> {
        let table = lock(&self.table);
        table
            .connections
            .get(&id)
            .map(|o| (o.peer, o.queue.clone()))
    }

    fn find_peer(&self, peer: SocketAddr) -> Option<(ConnectionId, mpsc::Sender<Bytes>)> {
        let table = lock(&self.table);
        let id = *table.by_peer.get(&peer)?;
        table.connections.get(&id).map(|o| (id, o.queue.clone()))
    }
}

impl Slot {
    fn register(&mut self, id: ConnectionId, peer: SocketAddr, queue: mpsc::Sender<Bytes>) {
        let mut table = lock(&self.shared.table);
        table.connections.insert(id, Open { peer, queue });
        table.by_peer.insert(peer, id);
        self.id = Some(id);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = lock(&self.shared.table);
        table.slots = table.slots.saturating_sub(1);
        if let Some(id) = self.id {
            if let Some(open) = table.connections.remove(&id) {
                if table.by_peer.get(&open.peer) == Some(&id) {
                    table.by_peer.remove(&open.peer);
                }
            }
        }
    }
}

/// The stream side of a leg.
pub(crate) struct Streams {
    shared: Arc<Shared>,
    /// For TLS legs: how to open client connections.
    connector: Option<TlsConnector>,
    /// One lock per peer being connected to, so that concurrent sends to a new peer open
    /// one connection, not several.
    connecting: Mutex<HashMap<SocketAddr, Arc<tokio::sync::Mutex<()>>>>,
}

impl Streams {
    pub(crate) fn new(config: &LegConfig) -> Result<Self, TransportError> {
        let tls = config.addr.protocol == Protocol::Tls;
        let connector = if tls {
            let client = match &config.tls_client {
                Some(c) => c.clone(),
                None => crate::TlsClientConfig::system_roots()?,
            };
            Some(client.connector())
        } else {
            None
        };
        let acceptor = if tls {
            config
                .tls_server
                .as_ref()
                .map(tls::TlsServerConfig::acceptor)
        } else {
            None
        };
        Ok(Self {
            shared: Arc::new(Shared {
                table: Mutex::new(Table::default()),
                max_connections: config.max_connections,
                idle_timeout: config.idle_timeout,
                connect_timeout: config.connect_timeout,
                send_queue: config.send_queue,
                acceptor,
            }),
            connector,
            connecting: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    pub(crate) fn connection_count(&self) -> usize {
        lock(&self.shared.table).connections.len()
    }

    /// Queues `data` on the destination's connection, an open one to its address, or a new
    /// one.
    pub(crate) async fn send(
        &self,
        ctx: &Ctx,
        data: Bytes,
        dst: &Destination,
    ) -> Result<(), TransportError> {
        let leg = ctx.addr;
        let data = match dst
            .connection
            .and_then(|id| self.shared.find(id).map(|(p, q)| (id, p, q)))
        {
            Some((id, peer, queue)) => match self.queue(leg, id, peer, &queue, data)? {
                None => return Ok(()),
                Some(data) => data,
            },
            None => data,
        };
        let data = match self.shared.find_peer(dst.addr) {
            Some((id, queue)) => match self.queue(leg, id, dst.addr, &queue, data)? {
                None => return Ok(()),
                Some(data) => data,
            },
            None => data,
        };

        let _connecting = ConnectGuard::lock(&self.connecting, dst.addr).await;
        // Someone else may have connected while we waited for the lock.
        if let Some((id, queue)) = self.shared.find_peer(dst.addr) {
            if self
                .queue(leg, id, dst.addr, &queue, data.clone())?
                .is_none()
            {
                return Ok(());
            }
        }
        let (id, queue) = self.connect(ctx, dst).await?;
        match self.queue(leg, id, dst.addr, &queue, data)? {
            None => Ok(()),
            Some(_) => Err(TransportError::ConnectionClosed {
                leg,
                peer: dst.addr,
                connection: id,
            }),
        }
    }

    /// Puts `data` on a connection's queue; gives it back when the connection has closed.
    fn queue(
        &self,
        leg: TransportAddr,
        id: ConnectionId,
        peer: SocketAddr,
        queue: &mpsc::Sender<Bytes>,
        data: Bytes,
    ) -> Result<Option<Bytes>, TransportError> {
        match queue.try_send(data) {
            Ok(()) => Ok(None),
            Err(TrySendError::Full(_)) => Err(TransportError::QueueFull {
                leg,
                peer,
                connection: id,
                capacity: self.shared.send_queue,
            }),
            Err(TrySendError::Closed(data)) => Ok(Some(data)),
        }
    }

    /// Opens a connection (and for TLS, does the handshake) within the connect timeout.
    async fn connect(
        &self,
        ctx: &Ctx,
        dst: &Destination,
    ) -> Result<(ConnectionId, mpsc::Sender<Bytes>), TransportError> {
        let leg = ctx.addr;
        let peer = dst.addr;
        let slot = self
            .shared
            .reserve()
            .ok_or(TransportError::ConnectionLimit {
                leg,
                peer,
                limit: self.shared.max_connections,
            })?;
        // A bad name fails before any packet is sent.
        let name = match &self.connector {
            Some(_) => Some(tls::server_name(dst.server_name.as_deref(), peer)?),
            None => None,
        };
        let open = async {
            let tcp = open_tcp(leg.addr, peer)
                .await
                .map_err(|source| TransportError::Connect { leg, peer, source })?;
            tracing::debug!("{leg}: connected to {peer}");
            match (&self.connector, name) {
                (Some(connector), Some(name)) => {
                    let stream = tls::connect(connector, name, tcp)
                        .await
                        .map_err(|source| TransportError::TlsHandshake { leg, peer, source })?;
                    Ok(connection::start(ctx, &self.shared, stream, peer, slot))
                }
                _ => Ok(connection::start(ctx, &self.shared, tcp, peer, slot)),
            }
        };
        // One timeout for TCP and TLS together.
        let after = self.shared.connect_timeout;
        tokio::time::timeout(after, open)
            .await
            .map_err(|_| TransportError::ConnectTimeout { leg, peer, after })?
    }
}

/// Connects from the leg's own address (so the peer sees the address our Via names), or
/// from any address when the leg is bound to a wildcard.
async fn open_tcp(local: SocketAddr, peer: SocketAddr) -> io::Result<TcpStream> {
    let socket = if peer.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if !local.ip().is_unspecified() {
        socket.bind(SocketAddr::new(local.ip(), 0))?;
    }
    let stream = socket.connect(peer).await?;
    // SIP messages are written whole; waiting to coalesce them only adds latency.
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Holds the per-peer connect lock and removes it from the table when done, also when the
/// send is cancelled.
struct ConnectGuard<'a> {
    table: &'a Mutex<HashMap<SocketAddr, Arc<tokio::sync::Mutex<()>>>>,
    peer: SocketAddr,
    mutex: Arc<tokio::sync::Mutex<()>>,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl<'a> ConnectGuard<'a> {
    async fn lock(
        table: &'a Mutex<HashMap<SocketAddr, Arc<tokio::sync::Mutex<()>>>>,
        peer: SocketAddr,
    ) -> Self {
        let mutex = lock(table).entry(peer).or_default().clone();
        let held = mutex.clone().lock_owned().await;
        Self {
            table,
            peer,
            mutex,
            _held: held,
        }
    }
}

impl Drop for ConnectGuard<'_> {
    fn drop(&mut self) {
        let mut table = lock(self.table);
        // Only the entry we locked; a waiter holding a clone still re-checks for the
        // connection before connecting itself.
        if table
            .get(&self.peer)
            .is_some_and(|m| Arc::ptr_eq(m, &self.mutex))
        {
            table.remove(&self.peer);
        }
    }
}

/// Accepts connections until the leg closes; each one reads and writes in its own tasks.
pub(crate) async fn accept_loop(listener: TcpListener, ctx: Ctx, shared: Arc<Shared>) {
    let leg = ctx.addr;
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            () = closed(&mut shutdown) => break,
            () = ctx.inbound.closed() => break,
            r = listener.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // E.g. out of file descriptors: wait a little instead of spinning.
                tracing::warn!("{leg}: accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = shared.reserve() else {
            tracing::warn!(
                "{leg}: connection limit of {} reached; closing the new connection from {peer}",
                shared.max_connections
            );
            continue;
        };
        let _ = tcp.set_nodelay(true);
        match (leg.protocol, &shared.acceptor) {
            (Protocol::Tls, None) => {
                tracing::warn!(
                    "{leg}: no server certificate configured; closing the connection from {peer}"
                );
            }
            (Protocol::Tls, Some(acceptor)) => {
                tokio::spawn(handshake(
                    ctx.clone(),
                    shared.clone(),
                    acceptor.clone(),
                    tcp,
                    peer,
                    slot,
                ));
            }
            (_, _) => {
                connection::start(&ctx, &shared, tcp, peer, slot);
            }
        }
    }
    tracing::debug!("{leg}: stopped accepting");
}

/// The server side of a TLS handshake, in its own task so that a slow client delays nobody.
async fn handshake(
    ctx: Ctx,
    shared: Arc<Shared>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    slot: Slot,
) {
    let leg = ctx.addr;
    let mut shutdown = ctx.shutdown.clone();
    let after = shared.connect_timeout;
    let result = tokio::select! {
        () = closed(&mut shutdown) => return,
        r = tokio::time::timeout(after, tls::accept(&acceptor, tcp)) => r,
    };
    match result {
        Ok(Ok(stream)) => {
            connection::start(&ctx, &shared, stream, peer, slot);
        }
        Ok(Err(e)) => tracing::info!("{leg}: TLS handshake with {peer} failed: {e}"),
        Err(_) => tracing::info!("{leg}: TLS handshake with {peer} timed out after {after:?}"),
    }
}
