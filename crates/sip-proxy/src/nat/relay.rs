//! The relay: owns the UDP sockets of the session table's groups and forwards packets between
//! the socket pairs of active sessions, one tokio task per pair.
//!
//! Symmetric latching: each end sends to where its party's packets come from once it has
//! seen one (the party may be behind a NAT that rewrote its address), else to the address
//! in the party's SDP. It latches on the first packet only, so that a stranger who learns
//! the relay port cannot take the stream over later.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::nat::event::{GroupId, NatEvent, RelayPair, SessionId, SocketRef};
use crate::nat::ports::BoundStream;

/// The largest UDP payload: the buffer of each relay task, so that no datagram is cut.
const MAX_DATAGRAM: usize = 65_536;

/// How many datagrams one end forwards per wake-up before the other end gets its turn.
const BURST: usize = 32;

/// What arrived on a group's sockets.
#[derive(Debug, Default)]
struct Traffic {
    bytes: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl Traffic {
    fn record(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        let now = tokio::time::Instant::now().into_std();
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(now);
    }

    fn read(&self) -> (u64, Option<Instant>) {
        (
            self.bytes.load(Ordering::Relaxed),
            *self.last.lock().unwrap_or_else(PoisonError::into_inner),
        )
    }
}

/// A group's sockets, ready for the reactor.
#[derive(Debug)]
pub(crate) struct PreparedGroup(Vec<Vec<Arc<UdpSocket>>>);

#[derive(Debug)]
struct RelayGroup {
    streams: Vec<Vec<Arc<UdpSocket>>>,
    traffic: Arc<Traffic>,
}

/// The sockets and forwarding tasks of a NAT helper, driven by the [`NatEvent`]s of a
/// [`NatSessions`](crate::nat::NatSessions) table. Dropping it stops every task.
#[derive(Debug)]
pub struct Relay {
    runtime: Handle,
    groups: HashMap<GroupId, RelayGroup>,
    sessions: HashMap<SessionId, Vec<JoinHandle<()>>>,
}

impl Relay {
    /// A relay without sockets whose tasks run on `runtime`.
    pub fn new(runtime: Handle) -> Self {
        Self {
            runtime,
            groups: HashMap::new(),
            sessions: HashMap::new(),
        }
    }

    /// Takes over the sockets bound for a group: registers them with the relay's runtime,
    /// so that the group can be added without failing.
    pub(crate) fn prepare(&self, bound: Vec<Option<BoundStream>>) -> io::Result<PreparedGroup> {
        let _runtime = self.runtime.enter();
        let mut streams = Vec::with_capacity(bound.len());
        for stream in bound {
            let mut sockets = Vec::new();
            for s in stream.map(|b| b.sockets).unwrap_or_default() {
                sockets.push(Arc::new(UdpSocket::from_std(s)?));
            }
            streams.push(sockets);
        }
        Ok(PreparedGroup(streams))
    }

    /// Adds the sockets of `group`.
    pub(crate) fn add_group(&mut self, group: GroupId, prepared: PreparedGroup) {
        self.groups.insert(
            group,
            RelayGroup {
                streams: prepared.0,
                traffic: Arc::default(),
            },
        );
    }

    /// Does what the table says: start or stop a session's tasks, close a group's sockets.
    pub fn apply(&mut self, event: NatEvent) {
        match event {
            NatEvent::Start { session, pairs } => {
                let tasks = pairs
                    .iter()
                    .filter_map(|p| match (self.end(p.facing_from, p.from_media), self.end(p.facing_to, p.to_media)) {
                        (Some(a), Some(b)) => Some(self.runtime.spawn(relay_pair(a, b))),
                        _ => {
                            tracing::warn!(%session, pair = ?p, "relay pair without its sockets");
                            None
                        }
                    })
                    .collect();
                if let Some(old) = self.sessions.insert(session, tasks) {
                    old.iter().for_each(JoinHandle::abort);
                }
            }
            NatEvent::Stop(session) => {
                if let Some(tasks) = self.sessions.remove(&session) {
                    tasks.iter().for_each(JoinHandle::abort);
                }
            }
            NatEvent::Release(group) => {
                self.groups.remove(&group);
            }
        }
    }

    fn end(&self, socket: SocketRef, media: Option<SocketAddr>) -> Option<End> {
        let group = self.groups.get(&socket.group)?;
        let s = group
            .streams
            .get(socket.stream)?
            .get(usize::from(socket.index))?;
        Some(End {
            socket: s.clone(),
            traffic: group.traffic.clone(),
            media,
            latched: None,
        })
    }

    /// Bytes received on a group's sockets so far and when the last packet came.
    pub fn traffic(&self, group: GroupId) -> Option<(u64, Option<Instant>)> {
        self.groups.get(&group).map(|g| g.traffic.read())
    }

    /// Where a relay socket is bound.
    pub fn local_addr(&self, socket: SocketRef) -> Option<SocketAddr> {
        let group = self.groups.get(&socket.group)?;
        let s = group
            .streams
            .get(socket.stream)?
            .get(usize::from(socket.index))?;
        s.local_addr().ok()
    }

    /// How many sockets it holds.
    pub fn sockets(&self) -> usize {
        self.groups
            .values()
            .flat_map(|g| &g.streams)
            .map(Vec::len)
            .sum()
    }

    /// How many sessions it relays for.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        for tasks in self.sessions.values() {
            tasks.iter().for_each(JoinHandle::abort);
        }
    }
}

/// One end of a relay pair: the socket a party sends to, and where that party receives.
struct End {
    socket: Arc<UdpSocket>,
    traffic: Arc<Traffic>,
    /// Where the party receives per its SDP.
    media: Option<SocketAddr>,
    /// Where its first packet came from.
    latched: Option<SocketAddr>,
}

impl End {
    fn destination(&self) -> Option<SocketAddr> {
        self.latched.or(self.media)
    }
}

/// Forwards between two ends until aborted: what the party of `a` sends leaves through `b`
/// towards `b`'s party, and the other way round.
async fn relay_pair(mut a: End, mut b: End) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let (sa, sb) = (a.socket.clone(), b.socket.clone());
    loop {
        tokio::select! {
            ready = sa.readable() => {
                if ready.is_err() {
                    return;
                }
                pump(&mut a, &b, &mut buf);
            }
            ready = sb.readable() => {
                if ready.is_err() {
                    return;
                }
                pump(&mut b, &a, &mut buf);
            }
        }
    }
}

/// Forwards what is waiting on `from`'s socket (up to a burst) out of `to`'s socket.
fn pump(from: &mut End, to: &End, buf: &mut [u8]) {
    for _ in 0..BURST {
        match from.socket.try_recv_from(buf) {
            Ok((n, source)) => {
                if from.latched.is_none() {
                    tracing::debug!(%source, relay = ?from.socket.local_addr().ok(), "latched");
                    from.latched = Some(source);
                }
                from.traffic.record(n);
                let Some(dest) = to.destination() else {
                    // The other party's address is unknown until it sends: drop.
                    continue;
                };
                let Some(data) = buf.get(..n) else {
                    continue;
                };
                if let Err(e) = to.socket.try_send_to(data, dest) {
                    // A full send buffer drops the packet, as the network would.
                    tracing::trace!(%dest, error = %e, "relay send failed");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                // An ICMP error reported on the socket, or similar: it is consumed by the
                // failed call, so go on with the next wake-up.
                tracing::debug!(error = %e, "relay receive failed");
                return;
            }
        }
    }
}

impl RelayPair {
    /// The sockets of this pair, for tests and reports: where the `from` party sends, and
    /// where the `to` party sends.
    pub fn local_addrs(&self, relay: &Relay) -> Option<(SocketAddr, SocketAddr)> {
        Some((
            relay.local_addr(self.facing_from)?,
            relay.local_addr(self.facing_to)?,
        ))
    }
}

#[cfg(test)]
mod tests;
