//! The transaction layer: every client and server transaction of a dispatcher, matched and
//! timed together. Sans-IO like the transactions it holds; the route type `R` is the driver's
//! note of where a transaction's messages go (leg and destination).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use sip_packet::{Method, ParseError, Request, Response};

use crate::transaction::{
    ClientEvent, ClientKey, ClientTransaction, ServerEvent, ServerKey, ServerTransaction,
    TimerConfig, TransactionError,
};

/// A client transaction of the layer: what a delivery is known by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(u64);

/// Bytes to send along a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<R> {
    /// Where to.
    pub route: R,
    /// What.
    pub bytes: Bytes,
    /// The transaction that sends it, to tell it when the transport fails.
    pub origin: Origin,
}

/// Which transaction a [`Transmit`] comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A client transaction.
    Client(TxId),
    /// A server transaction.
    Server(ServerKey),
    /// No transaction: [`TransactionLayer::send_stateless`].
    Stateless,
}

/// Why a transaction failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailReason {
    /// No final response (Timer B or F), or no ACK (Timer H).
    Timeout,
    /// The transport could not send.
    Transport,
}

/// What the layer tells the dispatcher's user.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LayerEvent<R> {
    /// A new request (not a retransmission). `server` names its server transaction; it is
    /// `None` for an ACK, which has none (the ACK of a 2xx belongs to the dialog).
    Request {
        /// The request.
        request: Request,
        /// Where it came from; responses go back along it.
        route: R,
        /// Its server transaction.
        server: Option<ServerKey>,
    },
    /// A response for a client transaction.
    Response {
        /// The transaction.
        id: TxId,
        /// The response.
        response: Response,
    },
    /// A response that matches no client transaction: a stateless proxy forwards it; a UA sees
    /// 2xx retransmissions for dialogs here.
    StrayResponse {
        /// The response.
        response: Response,
        /// Where it came from.
        route: R,
    },
    /// A client transaction failed.
    ClientFailed {
        /// The transaction.
        id: TxId,
        /// Why.
        reason: FailReason,
    },
    /// A client transaction is over; its id is free.
    ClientTerminated {
        /// The transaction.
        id: TxId,
    },
    /// The ACK for a 2xx that went through a server transaction (RFC 6026).
    Ack {
        /// The ACK.
        request: Request,
        /// Where it came from.
        route: R,
    },
    /// A server transaction failed (no ACK for a non-2xx final, or a transport error).
    ServerFailed {
        /// The transaction.
        key: ServerKey,
        /// Why.
        reason: FailReason,
    },
}

/// What [`TransactionLayer::send_response_or_return`] did with a response.
#[derive(Debug)]
#[must_use]
pub enum ResponseOutcome {
    /// A server transaction matched it: it sends it, or refused it (the error says why).
    Taken(Result<(), LayerError>),
    /// No server transaction matches it: the response comes back, to be sent statelessly.
    NoTransaction(Response),
}

/// Misuse of the layer, or a message it cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// The message lacks what matching needs (top Via, CSeq, ...).
    #[error("cannot match the message to a transaction: {0}")]
    Unmatchable(#[from] ParseError),
    /// ACK is never a transaction of its own; send it statelessly.
    #[error("an ACK has no client transaction; send it statelessly")]
    AckHasNoTransaction,
    /// A client transaction with the same branch and method runs already.
    #[error("a client transaction with branch {0:?} and the same method exists")]
    DuplicateBranch(String),
    /// A response for which no server transaction exists.
    #[error("no server transaction for this response")]
    NoTransaction,
    /// A new request while the most server transactions allowed run already.
    #[error("{0} server transactions run already")]
    Overloaded(usize),
    /// The server transaction refused the response.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Client(u64),
    Server(u64),
}

#[derive(Debug)]
struct ClientEntry<R> {
    tx: ClientTransaction,
    key: ClientKey,
    route: R,
}

#[derive(Debug)]
struct ServerEntry<R> {
    tx: ServerTransaction,
    key: ServerKey,
    route: R,
}

/// Every transaction of a dispatcher.
///
/// ```
/// use std::time::Instant;
/// use sip_dispatch::layer::{TransactionLayer, LayerEvent};
/// use sip_dispatch::transaction::TimerConfig;
/// # let raw = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\
/// # From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
/// # let sip_packet::Message::Request(options) = sip_packet::Message::parse(raw.into()).unwrap() else { unreachable!() };
/// let mut layer: TransactionLayer<&str> = TransactionLayer::new(TimerConfig::default());
/// let now = Instant::now();
/// let id = layer.send_request(now, options.clone(), "to-bob", false).unwrap();
/// assert_eq!(layer.poll_transmit().unwrap().route, "to-bob");
/// let ok = sip_packet::Response::from_request(&options, 200, None);
/// layer.handle_response(now, ok, "from-bob");
/// assert!(matches!(layer.poll_event(), Some(LayerEvent::Response { id: i, .. }) if i == id));
/// ```
#[derive(Debug)]
pub struct TransactionLayer<R> {
    config: TimerConfig,
    next_id: u64,
    clients: HashMap<u64, ClientEntry<R>>,
    client_index: HashMap<ClientKey, u64>,
    servers: HashMap<u64, ServerEntry<R>>,
    server_index: HashMap<ServerKey, u64>,
    deadlines: BinaryHeap<Reverse<(Instant, Slot)>>,
    transmits: VecDeque<Transmit<R>>,
    events: VecDeque<LayerEvent<R>>,
    max_server_transactions: usize,
}

impl<R: Clone> TransactionLayer<R> {
    /// The default of [`with_max_server_transactions`](Self::with_max_server_transactions).
    pub const DEFAULT_MAX_SERVER_TRANSACTIONS: usize = 100_000;

    /// The most server transactions at once: what a flood of distinct requests can make the
    /// layer hold (each lives up to 64·T1). Past it, new requests are refused with
    /// [`LayerError::Overloaded`].
    #[must_use]
    pub fn with_max_server_transactions(mut self, max: usize) -> Self {
        self.max_server_transactions = max;
        self
    }

    /// An empty layer with these timers.
    pub fn new(config: TimerConfig) -> Self {
        Self {
            config,
            next_id: 0,
            clients: HashMap::new(),
            client_index: HashMap::new(),
            servers: HashMap::new(),
            server_index: HashMap::new(),
            deadlines: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            max_server_transactions: Self::DEFAULT_MAX_SERVER_TRANSACTIONS,
        }
    }

    /// The timers in use.
    pub fn config(&self) -> &TimerConfig {
        &self.config
    }

    /// How many client transactions run.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// How many server transactions run.
    pub fn server_count(&self) -> usize {
        self.servers.len()
    }

    /// The most server transactions at once (see
    /// [`with_max_server_transactions`](Self::with_max_server_transactions)): at
    /// [`server_count`](Self::server_count) equal to it, a new request is refused.
    pub fn max_server_transactions(&self) -> usize {
        self.max_server_transactions
    }

    /// Starts a client transaction for `request`, whose top Via already carries our branch.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        route: R,
        reliable: bool,
    ) -> Result<TxId, LayerError> {
        if request.method() == &Method::Ack {
            return Err(LayerError::AckHasNoTransaction);
        }
        let key = ClientKey::from_headers(request.headers())?;
        if self.client_index.contains_key(&key) {
            return Err(LayerError::DuplicateBranch(key.branch().to_owned()));
        }
        let id = self.next();
        let tx = ClientTransaction::new(now, request, reliable, self.config);
        self.client_index.insert(key.clone(), id);
        self.clients.insert(id, ClientEntry { tx, key, route });
        self.drain_client(id);
        Ok(TxId(id))
    }

    /// Sends a message outside any transaction (an ACK for a 2xx, a proxy's stateless
    /// forward, a response with no transaction).
    pub fn send_stateless(&mut self, route: R, bytes: Bytes) {
        self.transmits.push_back(Transmit {
            route,
            bytes,
            origin: Origin::Stateless,
        });
    }

    /// A response arrived from `route`.
    pub fn handle_response(&mut self, now: Instant, response: Response, route: R) {
        let id = ClientKey::from_headers(response.headers())
            .ok()
            .and_then(|k| self.client_index.get(&k).copied());
        match id.and_then(|id| self.clients.get_mut(&id).map(|e| (id, e))) {
            Some((id, entry)) => {
                entry.tx.handle_response(now, response);
                self.drain_client(id);
            }
            None => self
                .events
                .push_back(LayerEvent::StrayResponse { response, route }),
        }
    }

    /// A request arrived from `route`: a retransmission is absorbed by its transaction, a new
    /// one starts a server transaction and goes to the user.
    pub fn handle_request(
        &mut self,
        now: Instant,
        request: Request,
        route: R,
        reliable: bool,
    ) -> Result<(), LayerError> {
        let key = ServerKey::from_headers(request.headers())?;
        let is_ack = request.method() == &Method::Ack;
        if let Some(&id) = self.server_index.get(&key) {
            if let Some(entry) = self.servers.get_mut(&id) {
                entry.tx.handle_request(now, request);
                self.drain_server(id);
                return Ok(());
            }
        }
        if is_ack {
            self.events.push_back(LayerEvent::Request {
                request,
                route,
                server: None,
            });
            return Ok(());
        }
        if self.servers.len() >= self.max_server_transactions {
            return Err(LayerError::Overloaded(self.max_server_transactions));
        }
        let id = self.next();
        let tx = ServerTransaction::new(now, request.clone(), reliable, self.config);
        self.server_index.insert(key.clone(), id);
        self.servers.insert(
            id,
            ServerEntry {
                tx,
                key: key.clone(),
                route: route.clone(),
            },
        );
        self.events.push_back(LayerEvent::Request {
            request,
            route,
            server: Some(key),
        });
        Ok(())
    }

    /// The user's response to a request; it goes out through the request's server
    /// transaction, along the route the request came by.
    pub fn send_response(&mut self, now: Instant, response: Response) -> Result<(), LayerError> {
        match self.send_response_or_return(now, response) {
            ResponseOutcome::Taken(result) => result,
            ResponseOutcome::NoTransaction(_) => Err(LayerError::NoTransaction),
        }
    }

    /// [`send_response`](Self::send_response) for a caller that sends a response without a
    /// transaction itself (a proxy's forward): the response comes back instead of
    /// [`LayerError::NoTransaction`], so the caller need not copy every response in case.
    pub fn send_response_or_return(&mut self, now: Instant, response: Response) -> ResponseOutcome {
        // No transaction at all (a stateless server): nothing to look up.
        if self.server_index.is_empty() {
            return ResponseOutcome::NoTransaction(response);
        }
        let key = match ServerKey::from_headers(response.headers()) {
            Ok(key) => key,
            Err(e) => return ResponseOutcome::Taken(Err(e.into())),
        };
        let Some(&id) = self.server_index.get(&key) else {
            return ResponseOutcome::NoTransaction(response);
        };
        let Some(entry) = self.servers.get_mut(&id) else {
            return ResponseOutcome::NoTransaction(response);
        };
        let result = entry.tx.send_response(now, response);
        self.drain_server(id);
        ResponseOutcome::Taken(result.map_err(LayerError::from))
    }

    /// The route of a server transaction: where its responses go.
    pub fn server_route(&self, key: &ServerKey) -> Option<&R> {
        let id = self.server_index.get(key)?;
        self.servers.get(id).map(|e| &e.route)
    }

    /// Whether the INVITE a CANCEL with this key cancels is still unanswered (§9.2): then the
    /// user answers the INVITE with 487.
    pub fn is_invite_pending(&self, cancel: &ServerKey) -> bool {
        let Some(id) = self.server_index.get(&cancel.invite_for_cancel()) else {
            return false;
        };
        self.servers.get(id).is_some_and(|e| {
            matches!(&e.tx, ServerTransaction::Invite(t) if t.state() == crate::transaction::ServerInviteState::Proceeding)
        })
    }

    /// The INVITE of a server transaction still waiting for its final response.
    pub fn pending_invite(&self, cancel: &ServerKey) -> Option<&Request> {
        if !self.is_invite_pending(cancel) {
            return None;
        }
        let id = self.server_index.get(&cancel.invite_for_cancel())?;
        self.servers.get(id).map(|e| e.tx.request())
    }

    /// The request of a running client transaction.
    pub fn client_request(&self, id: TxId) -> Option<&Request> {
        self.clients.get(&id.0).map(|e| e.tx.request())
    }

    /// The route of a running client transaction.
    pub fn client_route(&self, id: TxId) -> Option<&R> {
        self.clients.get(&id.0).map(|e| &e.route)
    }

    /// Stops a client transaction at once: no more retransmissions, no events
    /// (Net::SIP's cancel_delivery).
    pub fn cancel_client(&mut self, id: TxId) -> bool {
        match self.clients.remove(&id.0) {
            Some(e) => {
                self.client_index.remove(&e.key);
                true
            }
            None => false,
        }
    }

    /// The transport failed to send for a client transaction.
    pub fn handle_client_transport_error(&mut self, now: Instant, id: TxId) {
        if let Some(e) = self.clients.get_mut(&id.0) {
            e.tx.handle_transport_error(now);
            self.drain_client(id.0);
        }
    }

    /// The transport failed to send for a server transaction.
    pub fn handle_server_transport_error(&mut self, now: Instant, key: &ServerKey) {
        if let Some(&id) = self.server_index.get(key) {
            if let Some(e) = self.servers.get_mut(&id) {
                e.tx.handle_transport_error(now);
                self.drain_server(id);
            }
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, slot))) = self.deadlines.pop() else {
                break;
            };
            match slot {
                Slot::Client(id) => {
                    let due = self
                        .clients
                        .get(&id)
                        .and_then(|e| e.tx.poll_timeout())
                        .is_some_and(|d| d <= now);
                    if due {
                        if let Some(e) = self.clients.get_mut(&id) {
                            e.tx.handle_timeout(now);
                        }
                        self.drain_client(id);
                    }
                }
                Slot::Server(id) => {
                    let due = self
                        .servers
                        .get(&id)
                        .and_then(|e| e.tx.poll_timeout())
                        .is_some_and(|d| d <= now);
                    if due {
                        if let Some(e) = self.servers.get_mut(&id) {
                            e.tx.handle_timeout(now);
                        }
                        self.drain_server(id);
                    }
                }
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    #[must_use]
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Entries of transactions that are gone or were rescheduled are dropped lazily.
        while let Some(Reverse((at, slot))) = self.deadlines.peek() {
            let live = match slot {
                Slot::Client(id) => self.clients.get(id).and_then(|e| e.tx.poll_timeout()),
                Slot::Server(id) => self.servers.get(id).and_then(|e| e.tx.poll_timeout()),
            };
            match live {
                Some(d) if d <= *at => return Some(*at),
                _ => {
                    self.deadlines.pop();
                }
            }
        }
        None
    }

    /// The next message to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<R>> {
        self.transmits.pop_front()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<LayerEvent<R>> {
        self.events.pop_front()
    }

    fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn drain_client(&mut self, id: u64) {
        let Some(e) = self.clients.get_mut(&id) else {
            return;
        };
        while let Some(bytes) = e.tx.poll_transmit() {
            self.transmits.push_back(Transmit {
                route: e.route.clone(),
                bytes,
                origin: Origin::Client(TxId(id)),
            });
        }
        let mut terminated = false;
        while let Some(ev) = e.tx.poll_event() {
            let tx = TxId(id);
            self.events.push_back(match ev {
                ClientEvent::Response(response) => LayerEvent::Response { id: tx, response },
                ClientEvent::Timeout => LayerEvent::ClientFailed {
                    id: tx,
                    reason: FailReason::Timeout,
                },
                ClientEvent::TransportError => LayerEvent::ClientFailed {
                    id: tx,
                    reason: FailReason::Transport,
                },
                ClientEvent::Terminated => {
                    terminated = true;
                    LayerEvent::ClientTerminated { id: tx }
                }
            });
        }
        if terminated {
            if let Some(e) = self.clients.remove(&id) {
                self.client_index.remove(&e.key);
            }
        } else if let Some(at) = e.tx.poll_timeout() {
            self.deadlines.push(Reverse((at, Slot::Client(id))));
        }
    }

    fn drain_server(&mut self, id: u64) {
        let Some(e) = self.servers.get_mut(&id) else {
            return;
        };
        while let Some(bytes) = e.tx.poll_transmit() {
            self.transmits.push_back(Transmit {
                route: e.route.clone(),
                bytes,
                origin: Origin::Server(e.key.clone()),
            });
        }
        let mut terminated = false;
        while let Some(ev) = e.tx.poll_event() {
            match ev {
                ServerEvent::Ack(request) => self.events.push_back(LayerEvent::Ack {
                    request,
                    route: e.route.clone(),
                }),
                ServerEvent::Timeout => self.events.push_back(LayerEvent::ServerFailed {
                    key: e.key.clone(),
                    reason: FailReason::Timeout,
                }),
                ServerEvent::TransportError => self.events.push_back(LayerEvent::ServerFailed {
                    key: e.key.clone(),
                    reason: FailReason::Transport,
                }),
                ServerEvent::Terminated => terminated = true,
            }
        }
        if terminated {
            if let Some(e) = self.servers.remove(&id) {
                self.server_index.remove(&e.key);
            }
        } else if let Some(at) = e.tx.poll_timeout() {
            self.deadlines.push(Reverse((at, Slot::Server(id))));
        }
    }
}

#[cfg(test)]
mod tests;
