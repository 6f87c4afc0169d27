//! The NAT helper's session table without IO: which relay sockets exist for which call,
//! transaction and party, which pairs of them relay to each other, and when they go.
//!
//! The model is Net::SIP::NATHelper::Base's. An SDP body in a request gets a group of
//! sockets on the `from` side of its transaction (Call-ID, the sender's [`PartyId`], CSeq);
//! an SDP body in a response gets a group on the `to` side, one per answering party (forks
//! answer with different tags). Activating a transaction for an answering party pairs the two
//! groups into a session: what arrives on one side's sockets leaves through the other's.
//! A new session between two parties replaces their older ones (a re-INVITE).
//!
//! Time comes in as an argument; what the relay must do comes out of
//! [`NatSessions::poll_event`]; [`NatSessions::poll_timeout`] says when to call
//! [`NatSessions::handle_timeout`] next.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::nat::allocate::{AllocateRequest, Allocation, BindRequest};
use crate::nat::config::NatConfig;
use crate::nat::error::NatError;
use crate::nat::event::{GroupId, NatEvent, RelayPair, SessionId, SocketRef};
use crate::nat::info::{Activation, CloseReason, NatStats, SessionInfo};
use crate::nat::key::{CloseRequest, PartyId, SessionKey, Side};

#[derive(Debug)]
struct GroupStream {
    target: Option<SocketAddr>,
    base: Option<u16>,
    sockets: u16,
}

#[derive(Debug)]
struct Group {
    call_id: String,
    transaction: (PartyId, u32),
    side: Side,
    party: PartyId,
    address: IpAddr,
    streams: Vec<GroupStream>,
    sockets: usize,
    created: Instant,
    /// Sessions (open or closing) that relay through it.
    users: usize,
    /// Whether a session ever used it: then it goes with its last session.
    used: bool,
    bytes: u64,
    last_traffic: Option<Instant>,
}

impl Group {
    fn media(&self) -> Vec<Option<SocketAddr>> {
        self.streams
            .iter()
            .map(|s| s.base.map(|p| SocketAddr::new(self.address, p)))
            .collect()
    }
}

#[derive(Debug, Default)]
struct Transaction {
    from_group: Option<GroupId>,
    to_groups: BTreeMap<PartyId, GroupId>,
    /// Open sessions by answering party.
    open: BTreeMap<PartyId, SessionId>,
    /// When a close left it without open sessions: its unused groups go a closed timeout
    /// later.
    closed_at: Option<Instant>,
}

impl Transaction {
    fn is_empty(&self) -> bool {
        self.from_group.is_none() && self.to_groups.is_empty() && self.open.is_empty()
    }
}

#[derive(Debug, Default)]
struct Call {
    transactions: BTreeMap<(PartyId, u32), Transaction>,
    sockets: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Closing { since: Instant },
}

#[derive(Debug)]
struct Session {
    key: SessionKey,
    from_group: GroupId,
    to_group: GroupId,
    created: Instant,
    state: State,
    reason: Option<CloseReason>,
}

/// The session table of a NAT helper (sans-IO).
///
/// ```
/// use std::time::{Duration, Instant};
/// use sip_proxy::nat::{
///     AllocateRequest, NatConfig, NatEvent, NatSessions, PartyId, SessionKey, Side, StreamRequest,
/// };
///
/// let mut table = NatSessions::new(NatConfig::new());
/// let t0 = Instant::now();
/// let (alice, bob) = (PartyId::new("alice"), PartyId::new("bob"));
/// let key = SessionKey::new("call-1", 1, alice, bob);
/// let ip = "127.0.0.1".parse().unwrap();
/// // The INVITE's SDP: alice's audio at 10.0.0.1:4000 (RTP and RTCP).
/// let offer = AllocateRequest::new(key.clone(), Side::From, ip,
///     vec![StreamRequest::relay(Some("10.0.0.1:4000".parse().unwrap()), 2)]);
/// // The binder is the IO: here it pretends ports 30000 and 30001 were bound.
/// let a = table.allocate(t0, &offer, |_| Ok(vec![Some(30000)])).unwrap();
/// assert_eq!(a.media, [Some("127.0.0.1:30000".parse().unwrap())]);
/// // The 200's SDP: bob's.
/// let answer = AllocateRequest::new(key.clone(), Side::To, ip,
///     vec![StreamRequest::relay(Some("10.0.0.2:5000".parse().unwrap()), 2)]);
/// table.allocate(t0, &answer, |_| Ok(vec![Some(30002)])).unwrap();
/// let activation = table.activate(t0, &key).unwrap();
/// assert!(!activation.existing);
/// assert!(matches!(table.poll_event(), Some(NatEvent::Start { pairs, .. }) if pairs.len() == 2));
/// // No packet for 30 s: gone.
/// assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(30)));
/// let expired = table.handle_timeout(t0 + Duration::from_secs(30));
/// assert_eq!(expired.len(), 1);
/// assert_eq!(table.stats().sockets, 0);
/// ```
#[derive(Debug)]
pub struct NatSessions {
    config: NatConfig,
    calls: HashMap<String, Call>,
    groups: HashMap<GroupId, Group>,
    sessions: HashMap<SessionId, Session>,
    sockets: usize,
    next_id: u64,
    events: VecDeque<NatEvent>,
}

impl NatSessions {
    /// An empty table.
    pub fn new(config: NatConfig) -> Self {
        Self {
            config,
            calls: HashMap::new(),
            groups: HashMap::new(),
            sessions: HashMap::new(),
            sockets: 0,
            next_id: 1,
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NatConfig {
        &self.config
    }

    /// How much the table holds.
    pub fn stats(&self) -> NatStats {
        let closing = self
            .sessions
            .values()
            .filter(|s| s.state != State::Open)
            .count();
        NatStats {
            calls: self.calls.len(),
            sessions: self.sessions.len() - closing,
            closing,
            groups: self.groups.len(),
            sockets: self.sockets,
        }
    }

    /// Every session, open or closing, as reported at `now`.
    pub fn sessions(&self, now: Instant) -> Vec<SessionInfo> {
        let mut ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| self.info(id, now))
            .collect()
    }

    /// Every group with sockets, for the relay to read their traffic from.
    pub fn groups(&self) -> Vec<GroupId> {
        self.groups.keys().copied().collect()
    }

    fn next(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Relay sockets for the streams of one SDP body (Net::SIP's `allocate_sockets`).
    ///
    /// The same request again (a retransmission) gets the same sockets. Otherwise `bind` is
    /// asked to bind them (the IO: the caller's) and returns the first port of each stream
    /// that needs sockets (`None` for the others); the group is recorded only if it succeeds.
    ///
    /// # Errors
    ///
    /// [`NatError::StaleCSeq`] for a transaction older than one the party already started,
    /// [`NatError::CallLimit`] and [`NatError::TotalLimit`] when the sockets would pass the
    /// limits, and whatever `bind` returns. Nothing is recorded then.
    pub fn allocate<B>(
        &mut self,
        now: Instant,
        request: &AllocateRequest,
        bind: B,
    ) -> Result<Allocation, NatError>
    where
        B: FnOnce(&BindRequest) -> Result<Vec<Option<u16>>, NatError>,
    {
        let key = &request.key;
        let transaction = (key.from.clone(), key.cseq);
        let mut call_sockets = 0;
        if let Some(call) = self.calls.get(&key.call_id) {
            call_sockets = call.sockets;
            if let Some(t) = call.transactions.get(&transaction) {
                let existing = match request.side {
                    Side::From => t.from_group,
                    Side::To => t.to_groups.get(&key.to).copied(),
                };
                if let Some(group) = existing.and_then(|g| self.groups.get(&g).map(|x| (g, x))) {
                    return Ok(Allocation {
                        group: Some(group.0),
                        fresh: false,
                        media: group.1.media(),
                    });
                }
            }
            // Net::SIP's check: a party's SDP for a transaction older than its newest is a
            // late retransmission; relaying it would undo the newer offer.
            let newer = call
                .transactions
                .keys()
                .filter(|(party, cseq)| *party == key.from && *cseq > key.cseq)
                .map(|(_, cseq)| *cseq)
                .max();
            if let Some(newer) = newer {
                return Err(NatError::StaleCSeq {
                    call_id: key.call_id.clone(),
                    cseq: key.cseq,
                    party: key.from.clone(),
                    newer,
                });
            }
        }
        let needed = request.sockets();
        if needed == 0 {
            return Ok(Allocation {
                group: None,
                fresh: false,
                media: vec![None; request.media.len()],
            });
        }
        if call_sockets + needed > self.config.max_sockets_per_call {
            return Err(NatError::CallLimit {
                call_id: key.call_id.clone(),
                needed,
                in_use: call_sockets,
                max: self.config.max_sockets_per_call,
            });
        }
        if self.sockets + needed > self.config.max_sockets {
            return Err(NatError::TotalLimit {
                needed,
                in_use: self.sockets,
                max: self.config.max_sockets,
            });
        }

        let id = GroupId(self.next());
        let wanted = BindRequest {
            group: id,
            address: request.address,
            sockets: request.media.iter().map(|m| m.sockets).collect(),
        };
        let bases = bind(&wanted)?;
        let fits = bases.len() == request.media.len()
            && bases
                .iter()
                .zip(&request.media)
                .all(|(b, m)| b.is_some() == m.is_relayed());
        if !fits {
            return Err(NatError::Bind {
                address: request.address,
                count: needed,
                ports: self.config.ports,
                reason: "the binder did not bind one run of ports per relayed stream".to_owned(),
            });
        }
        let streams = request
            .media
            .iter()
            .zip(&bases)
            .map(|(m, base)| GroupStream {
                target: m.target,
                base: *base,
                sockets: m.sockets,
            })
            .collect();
        let party = match request.side {
            Side::From => key.from.clone(),
            Side::To => key.to.clone(),
        };
        let group = Group {
            call_id: key.call_id.clone(),
            transaction: transaction.clone(),
            side: request.side,
            party,
            address: request.address,
            streams,
            sockets: needed,
            created: now,
            users: 0,
            used: false,
            bytes: 0,
            last_traffic: None,
        };
        let media = group.media();
        self.groups.insert(id, group);
        self.sockets += needed;
        let call = self.calls.entry(key.call_id.clone()).or_default();
        call.sockets += needed;
        let t = call.transactions.entry(transaction).or_default();
        match request.side {
            Side::From => t.from_group = Some(id),
            Side::To => {
                t.to_groups.insert(key.to.clone(), id);
            }
        }
        Ok(Allocation {
            group: Some(id),
            fresh: true,
            media,
        })
    }

    /// Pairs the transaction's `from` group with the answering party's `to` group and starts
    /// relaying (Net::SIP's `activate_session`); an [`NatEvent::Start`] follows. Older
    /// sessions between the same two parties are closed as replaced.
    ///
    /// # Errors
    ///
    /// [`NatError::Incomplete`] when one of the two groups does not exist.
    pub fn activate(&mut self, now: Instant, key: &SessionKey) -> Result<Activation, NatError> {
        let incomplete = || NatError::Incomplete {
            call_id: key.call_id.clone(),
            cseq: key.cseq,
            from: key.from.clone(),
            to: key.to.clone(),
        };
        let transaction = (key.from.clone(), key.cseq);
        let t = self
            .calls
            .get(&key.call_id)
            .and_then(|c| c.transactions.get(&transaction))
            .ok_or_else(incomplete)?;
        if let Some(id) = t.open.get(&key.to) {
            let session = self.info(*id, now).ok_or_else(incomplete)?;
            return Ok(Activation {
                session,
                existing: true,
                replaced: Vec::new(),
            });
        }
        let (Some(from_group), Some(to_group)) = (t.from_group, t.to_groups.get(&key.to).copied())
        else {
            return Err(incomplete());
        };

        // A session of this key that was closed moments ago opens again (an ACK after a
        // CANCEL that lost the race with the 200) instead of piling up another.
        let reopened = self
            .sessions
            .iter()
            .find(|(_, s)| s.key == *key && s.state != State::Open)
            .map(|(id, _)| *id);
        let id = match reopened {
            Some(id) => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.state = State::Open;
                    s.reason = None;
                }
                id
            }
            None => {
                let id = SessionId(self.next());
                self.sessions.insert(
                    id,
                    Session {
                        key: key.clone(),
                        from_group,
                        to_group,
                        created: now,
                        state: State::Open,
                        reason: None,
                    },
                );
                for g in [from_group, to_group] {
                    if let Some(group) = self.groups.get_mut(&g) {
                        group.users += 1;
                        group.used = true;
                    }
                }
                id
            }
        };
        if let Some(t) = self
            .calls
            .get_mut(&key.call_id)
            .and_then(|c| c.transactions.get_mut(&transaction))
        {
            t.open.insert(key.to.clone(), id);
        }

        let older: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(other, s)| {
                **other != id
                    && s.state == State::Open
                    && s.key.call_id == key.call_id
                    && ((s.key.from == key.from && s.key.to == key.to)
                        || (s.key.from == key.to && s.key.to == key.from))
            })
            .map(|(other, _)| *other)
            .collect();
        let replaced = older
            .into_iter()
            .filter_map(|old| self.close_session(now, old, CloseReason::Replaced))
            .collect();

        if reopened.is_none() {
            let pairs = self.pairs(from_group, to_group);
            self.events
                .push_back(NatEvent::Start { session: id, pairs });
        }
        let session = self.info(id, now).ok_or_else(incomplete)?;
        Ok(Activation {
            session,
            existing: false,
            replaced,
        })
    }

    /// The socket pairs between a `from` group and a `to` group, stream by stream (a stream
    /// that one side did not relay has none).
    fn pairs(&self, from_group: GroupId, to_group: GroupId) -> Vec<RelayPair> {
        let (Some(f), Some(t)) = (self.groups.get(&from_group), self.groups.get(&to_group)) else {
            return Vec::new();
        };
        let mut pairs = Vec::new();
        for (stream, (fs, ts)) in f.streams.iter().zip(&t.streams).enumerate() {
            for index in 0..fs.sockets.min(ts.sockets) {
                pairs.push(RelayPair {
                    facing_from: SocketRef {
                        group: to_group,
                        stream,
                        index,
                    },
                    facing_to: SocketRef {
                        group: from_group,
                        stream,
                        index,
                    },
                    from_media: fs.target.and_then(|a| offset(a, index)),
                    to_media: ts.target.and_then(|a| offset(a, index)),
                });
            }
        }
        pairs
    }

    /// Closes sessions (Net::SIP's `close_session`): with a CSeq the answering party's
    /// session of that transaction (CANCEL, an error response), without one every session
    /// between the two parties in either direction (BYE). Closed sessions still relay for
    /// the closed timeout. A transaction left without sessions has its unused sockets
    /// released after the closed timeout too.
    ///
    /// Returns the sessions closed (none when nothing matched: a retransmitted BYE).
    pub fn close(&mut self, now: Instant, request: &CloseRequest) -> Vec<SessionInfo> {
        let Some(call) = self.calls.get_mut(&request.call_id) else {
            return Vec::new();
        };
        let mut ids = Vec::new();
        match request.cseq {
            Some(cseq) => {
                if let Some(t) = call.transactions.get_mut(&(request.from.clone(), cseq)) {
                    ids.extend(t.open.remove(&request.to));
                    if t.open.is_empty() {
                        t.closed_at.get_or_insert(now);
                    }
                }
            }
            None => {
                for ((party, _), t) in call.transactions.iter_mut() {
                    let other = if *party == request.from {
                        &request.to
                    } else if *party == request.to {
                        &request.from
                    } else {
                        continue;
                    };
                    ids.extend(t.open.remove(other));
                    if t.open.is_empty() {
                        t.closed_at.get_or_insert(now);
                    }
                }
            }
        }
        ids.into_iter()
            .filter_map(|id| self.close_session(now, id, CloseReason::Closed))
            .collect()
    }

    /// Marks an open session closing; its report.
    fn close_session(
        &mut self,
        now: Instant,
        id: SessionId,
        reason: CloseReason,
    ) -> Option<SessionInfo> {
        let session = self.sessions.get_mut(&id)?;
        if session.state != State::Open {
            return None;
        }
        session.state = State::Closing { since: now };
        session.reason = Some(reason);
        let (call_id, transaction, to) = (
            session.key.call_id.clone(),
            (session.key.from.clone(), session.key.cseq),
            session.key.to.clone(),
        );
        if let Some(t) = self
            .calls
            .get_mut(&call_id)
            .and_then(|c| c.transactions.get_mut(&transaction))
        {
            if t.open.get(&to) == Some(&id) {
                t.open.remove(&to);
            }
        }
        self.info(id, now)
    }

    /// The traffic the relay counted on a group's sockets so far: bytes received in all and
    /// when the last packet came.
    pub fn handle_traffic(&mut self, group: GroupId, bytes: u64, last: Option<Instant>) {
        if let Some(g) = self.groups.get_mut(&group) {
            g.bytes = bytes;
            g.last_traffic = last.max(g.last_traffic);
        }
    }

    /// When [`NatSessions::handle_timeout`] has something to do next, as far as the table
    /// knows (traffic it has not been told about may push it later); `None` when empty.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let c = &self.config;
        let sessions = self.sessions.values().map(|s| match s.state {
            State::Open => self.last_activity(s) + c.active_timeout,
            State::Closing { since } => since + c.closed_timeout,
        });
        let groups = self.groups.values().filter(|g| g.users == 0).map(|g| {
            let closed = self
                .calls
                .get(&g.call_id)
                .and_then(|call| call.transactions.get(&g.transaction))
                .and_then(|t| t.closed_at)
                .map(|at| at + c.closed_timeout);
            let unused = if g.used {
                g.created
            } else {
                g.created + c.unused_timeout
            };
            closed.map_or(unused, |at| at.min(unused))
        });
        sessions.chain(groups).min()
    }

    /// Expires what is due at `now`: active sessions without packets for the active timeout,
    /// closed sessions after the closed timeout, groups nobody uses after the unused timeout
    /// (or the closed timeout, once their transaction was closed, or at once when their last
    /// session went). Returns the sessions that expired for lack of packets.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<SessionInfo> {
        let c = self.config.clone();
        let mut expired = Vec::new();
        let mut ended = Vec::new();
        for (id, s) in &self.sessions {
            match s.state {
                State::Open if self.last_activity(s) + c.active_timeout <= now => expired.push(*id),
                State::Closing { since } if since + c.closed_timeout <= now => ended.push(*id),
                _ => {}
            }
        }
        expired.sort();
        ended.sort();
        let mut reports = Vec::new();
        for id in expired {
            if let Some(info) = self.close_session(now, id, CloseReason::Expired) {
                reports.push(info);
            }
            ended.push(id);
        }
        for id in ended {
            let Some(s) = self.sessions.remove(&id) else {
                continue;
            };
            for g in [s.from_group, s.to_group] {
                if let Some(group) = self.groups.get_mut(&g) {
                    group.users = group.users.saturating_sub(1);
                }
            }
            self.events.push_back(NatEvent::Stop(id));
        }

        let mut release: Vec<GroupId> = self
            .groups
            .iter()
            .filter(|(_, g)| {
                if g.users > 0 {
                    return false;
                }
                let closed = self
                    .calls
                    .get(&g.call_id)
                    .and_then(|call| call.transactions.get(&g.transaction))
                    .and_then(|t| t.closed_at)
                    .is_some_and(|at| at + c.closed_timeout <= now);
                g.used || closed || g.created + c.unused_timeout <= now
            })
            .map(|(id, _)| *id)
            .collect();
        release.sort();
        for id in release {
            self.release(id);
        }
        reports
    }

    fn release(&mut self, id: GroupId) {
        let Some(g) = self.groups.remove(&id) else {
            return;
        };
        self.sockets = self.sockets.saturating_sub(g.sockets);
        if let Some(call) = self.calls.get_mut(&g.call_id) {
            call.sockets = call.sockets.saturating_sub(g.sockets);
            if let Some(t) = call.transactions.get_mut(&g.transaction) {
                match g.side {
                    Side::From if t.from_group == Some(id) => t.from_group = None,
                    Side::To if t.to_groups.get(&g.party) == Some(&id) => {
                        t.to_groups.remove(&g.party);
                    }
                    _ => {}
                }
                if t.is_empty() {
                    call.transactions.remove(&g.transaction);
                }
            }
            if call.transactions.is_empty() {
                self.calls.remove(&g.call_id);
            }
        }
        self.events.push_back(NatEvent::Release(id));
    }

    /// The next thing the relay must do.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<NatEvent> {
        self.events.pop_front()
    }

    fn last_activity(&self, s: &Session) -> Instant {
        let traffic = |g: GroupId| self.groups.get(&g).and_then(|g| g.last_traffic);
        [traffic(s.from_group), traffic(s.to_group)]
            .into_iter()
            .flatten()
            .fold(s.created, Instant::max)
    }

    /// The report of a session at `now`.
    pub fn info(&self, id: SessionId, now: Instant) -> Option<SessionInfo> {
        let s = self.sessions.get(&id)?;
        let bytes = |g: GroupId| self.groups.get(&g).map_or(0, |g| g.bytes);
        Some(SessionInfo {
            id: id.get(),
            call_id: s.key.call_id.clone(),
            cseq: s.key.cseq,
            from: s.key.from.clone(),
            to: s.key.to.clone(),
            // What the `from` party sends arrives on the `to` group's sockets (the ones in
            // the answer it got), and the other way round.
            bytes_from: bytes(s.to_group),
            bytes_to: bytes(s.from_group),
            age: now.saturating_duration_since(s.created),
            reason: s.reason,
        })
    }
}

/// `addr` with its port moved up by `by`; `None` past 65535.
fn offset(addr: SocketAddr, by: u16) -> Option<SocketAddr> {
    let port = addr.port().checked_add(by)?;
    Some(SocketAddr::new(addr.ip(), port))
}

#[cfg(test)]
mod tests;
