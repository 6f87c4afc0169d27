//! The dispatcher's task: owns the legs, the clock and the resolver, and feeds the
//! [`TransactionLayer`] what arrives and what the user delivers. Thin on purpose: every
//! protocol decision is the layer's.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_packet::{salvage_response, ByteString, Message, Method, Request, Response};
use sip_transport::{
    add_via, response_target, stamp_received, Destination, Inbound, InboundItem, Leg, LegId,
    ResponseTarget,
};
use tokio::sync::mpsc;

use crate::dispatcher::{
    DeliverOptions, DeliveryError, DeliveryEvent, DeliveryId, DispatcherConfig,
};
use crate::layer::{
    FailReason, LayerError, LayerEvent, Origin, ResponseOutcome, TransactionLayer, TxId,
};
use crate::receiver::Receiver;
use crate::resolve::{resolve_uri, DnsResolver, ResolveError, RouteConfig, Target};

/// What the handles ask of the task.
#[allow(clippy::large_enum_variant)] // one per message: boxing would cost an allocation each
pub(crate) enum Command {
    Deliver(DeliveryId, Message, DeliverOptions),
    Resolved(DeliveryId, Result<Vec<Target>, ResolveError>),
    SendFailed(Origin),
    Cancel(DeliveryId),
    CancelCall(String),
    CancelInvite(DeliveryId, DeliveryId, DeliverOptions),
    SetReceiver(Arc<dyn Receiver>),
    Shutdown,
}

/// Where a transaction's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    leg: usize,
    dest: Destination,
}

struct Delivery {
    request: Request,
    targets: VecDeque<Target>,
    last_target: Option<Target>,
    options: DeliverOptions,
    tx: Option<TxId>,
}

/// The Call-ID of a delivery's request, as text (empty when it has none). Read when needed
/// (a cancel by call, a log line) rather than copied into every delivery.
fn call_id_of(request: &Request) -> String {
    request
        .headers()
        .call_id()
        .map(|c| c.to_string())
        .unwrap_or_default()
}

pub(crate) struct Driver {
    layer: TransactionLayer<Route>,
    legs: Vec<Leg>,
    receiver: Option<Arc<dyn Receiver>>,
    deliveries: HashMap<DeliveryId, Delivery>,
    by_tx: HashMap<TxId, DeliveryId>,
    rng: StdRng,
    do_retransmits: bool,
    commands: mpsc::UnboundedSender<Command>,
    resolver: Arc<dyn DnsResolver>,
    route: RouteConfig,
    stream_queues: HashMap<(LegId, SocketAddr), mpsc::UnboundedSender<StreamSend>>,
    /// Where requests without a server transaction came in over a connection, by their top
    /// Via, so that a response sent later without one (a stateless proxy's answer or
    /// forward) goes back over that connection (RFC 3261 §18.2.2).
    stream_origins: HashMap<ByteString, StreamOrigin>,
}

/// A connection a request came in on: its leg, the connection, the peer, and until when it
/// is remembered.
#[derive(Debug, Clone, Copy)]
struct StreamOrigin {
    leg: usize,
    connection: sip_transport::ConnectionId,
    until: Instant,
}

/// How long a request's connection is remembered for its responses: Timer F / B (64*T1).
const STREAM_ORIGIN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(32);

/// The most connections remembered; past it, the oldest are forgotten first as they expire,
/// and a request that finds no room is answered by Via alone.
const STREAM_ORIGINS_MAX: usize = 65_536;

/// The most commands and inbound messages handled after a select before the sends are
/// flushed and the clock looked at again.
const MAX_BATCH: usize = 64;

/// One send on a stream leg: where, what, for which transaction.
type StreamSend = (Destination, bytes::Bytes, Origin);

/// How long a stream sender waits for more before it ends.
const STREAM_SENDER_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// Sends what is queued for one peer of a stream leg, in order.
async fn stream_sender(
    leg: Leg,
    mut queue: mpsc::UnboundedReceiver<StreamSend>,
    commands: mpsc::UnboundedSender<Command>,
) {
    loop {
        let next = match tokio::time::timeout(STREAM_SENDER_IDLE, queue.recv()).await {
            Ok(Some(item)) => item,
            Ok(None) => return,
            Err(_) => {
                // Idle: refuse new work (the driver then starts a new sender), and send
                // what slipped in before the refusal.
                queue.close();
                match queue.try_recv() {
                    Ok(item) => item,
                    Err(_) => return,
                }
            }
        };
        let (dest, bytes, origin) = next;
        if let Err(e) = leg.send(bytes, &dest).await {
            tracing::info!(%e, to = %dest.addr, "send failed");
            let _ = commands.send(Command::SendFailed(origin));
        }
    }
}

/// The leg to send to `target` on: `wanted` (that leg only) when given, else the first that
/// can.
fn leg_for(legs: &[Leg], wanted: Option<LegId>, target: &Target) -> Option<usize> {
    match wanted {
        Some(wanted) => legs
            .iter()
            .position(|l| l.id() == wanted && l.can_deliver_to(target.protocol, target.addr)),
        None => legs
            .iter()
            .position(|l| l.can_deliver_to(target.protocol, target.addr)),
    }
}

/// Where a target is reached: its address, and the name its TLS certificate must hold.
fn destination(target: &Target) -> Destination {
    let dest = Destination::new(target.addr);
    match &target.server_name {
        Some(name) => dest.with_server_name(name.clone()),
        None => dest,
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Driver {
    pub(crate) fn new(
        config: DispatcherConfig,
        legs: Vec<Leg>,
        rng: StdRng,
        commands: mpsc::UnboundedSender<Command>,
        resolver: Arc<dyn DnsResolver>,
    ) -> Self {
        Self {
            layer: TransactionLayer::new(config.timers),
            legs,
            receiver: None,
            deliveries: HashMap::new(),
            by_tx: HashMap::new(),
            rng,
            do_retransmits: config.do_retransmits,
            commands,
            resolver,
            route: config.route,
            stream_queues: HashMap::new(),
            stream_origins: HashMap::new(),
        }
    }

    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut inbound: mpsc::Receiver<Inbound>,
    ) {
        'run: loop {
            let deadline = self
                .layer
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(Command::Shutdown) | None => break,
                    Some(cmd) => self.handle_command(cmd),
                },
                msg = inbound.recv() => match msg {
                    Some(msg) => self.handle_inbound(msg),
                    None => break,
                },
                () = sleep => self.layer.handle_timeout(now()),
            }
            // What the receiver asked for while handling that (a proxy's forward) and what
            // else arrived meanwhile, handled now: sent in this turn rather than after
            // another trip through the select. Bounded, so that timers still get their turn.
            for _ in 0..MAX_BATCH {
                match commands.try_recv() {
                    Ok(Command::Shutdown) => break 'run,
                    Ok(cmd) => self.handle_command(cmd),
                    Err(_) => match inbound.try_recv() {
                        Ok(msg) => self.handle_inbound(msg),
                        Err(_) => break,
                    },
                }
            }
            self.flush().await;
        }
        for l in &self.legs {
            l.close();
        }
        for (_, mut d) in self.deliveries.drain() {
            if let Some(cb) = d.options.callback.as_mut() {
                cb(DeliveryEvent::Failed(DeliveryError::Shutdown));
            }
        }
    }

    fn leg_index(&self, id: LegId) -> Option<usize> {
        self.legs.iter().position(|l| l.id() == id)
    }

    fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::Deliver(id, Message::Request(request), options) => {
                self.deliver_request(id, request, options)
            }
            Command::Deliver(_, Message::Response(response), options) => {
                self.deliver_response(response, options)
            }
            Command::Resolved(id, result) => match result {
                Ok(targets) => {
                    if let Some(d) = self.deliveries.get_mut(&id) {
                        d.targets = targets.into();
                        self.try_next_target(id);
                    }
                }
                Err(e) => self.fail(id, DeliveryError::NoRoute(e)),
            },
            Command::SendFailed(origin) => match origin {
                Origin::Client(tx) => self.layer.handle_client_transport_error(now(), tx),
                Origin::Server(key) => self.layer.handle_server_transport_error(now(), &key),
                Origin::Stateless => {}
            },
            Command::Cancel(id) => self.cancel(id),
            Command::CancelCall(call_id) => {
                let ids: Vec<_> = self
                    .deliveries
                    .iter()
                    .filter(|(_, d)| call_id_of(&d.request) == call_id)
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    self.cancel(id);
                }
            }
            Command::CancelInvite(invite, id, options) => self.cancel_invite(invite, id, options),
            Command::SetReceiver(r) => self.receiver = Some(r),
            Command::Shutdown => {}
        }
    }

    fn cancel(&mut self, id: DeliveryId) {
        if let Some(d) = self.deliveries.remove(&id) {
            if let Some(tx) = d.tx {
                self.by_tx.remove(&tx);
                self.layer.cancel_client(tx);
            }
        }
    }

    fn cancel_invite(&mut self, invite: DeliveryId, id: DeliveryId, mut options: DeliverOptions) {
        let found = self
            .deliveries
            .get(&invite)
            .and_then(|d| d.tx)
            .and_then(|tx| {
                let req = self.layer.client_request(tx)?;
                let route = self.layer.client_route(tx)?.clone();
                Some((req.create_cancel(), route))
            });
        match found {
            Some((Ok(cancel), route)) => {
                let reliable = self.legs[route.leg].protocol().is_reliable();
                match self
                    .layer
                    .send_request(now(), cancel.clone(), route, reliable)
                {
                    Ok(tx) => {
                        self.by_tx.insert(tx, id);
                        self.deliveries.insert(
                            id,
                            Delivery {
                                request: cancel,
                                targets: VecDeque::new(),
                                last_target: None,
                                options,
                                tx: Some(tx),
                            },
                        );
                    }
                    Err(e) => {
                        if let Some(cb) = options.callback.as_mut() {
                            cb(DeliveryEvent::Failed(DeliveryError::Unsendable(
                                e.to_string(),
                            )));
                        }
                    }
                }
            }
            Some((Err(e), _)) => {
                if let Some(cb) = options.callback.as_mut() {
                    cb(DeliveryEvent::Failed(DeliveryError::Unsendable(
                        e.to_string(),
                    )));
                }
            }
            None => {
                if let Some(cb) = options.callback.as_mut() {
                    cb(DeliveryEvent::Failed(DeliveryError::Unsendable(
                        "no INVITE transaction of that delivery is running".into(),
                    )));
                }
            }
        }
    }

    fn deliver_request(&mut self, id: DeliveryId, request: Request, options: DeliverOptions) {
        // Sent once to the one destination given (a stateless proxy's forward, an ACK): no
        // delivery to keep, when a leg can take it (else the delivery fails as usual).
        if let Some(target) = &options.dst {
            let stateful = options.do_retransmits.unwrap_or(self.do_retransmits);
            if !stateful || request.method() == &Method::Ack {
                if let Some(leg) = leg_for(&self.legs, options.leg, target) {
                    let add = options.add_via.unwrap_or(true);
                    self.send_once(request, leg, target, add);
                    return;
                }
            }
        }
        // The destination given, else the URI to resolve: the first Route (loose or strict
        // routing alike), else the Request-URI (RFC 3261 §8.1.2).
        let next_hop = match options.dst.clone() {
            Some(t) => Ok(t),
            None => Err(match request.headers().routes().next() {
                Some(Ok(route)) => route.uri().clone(),
                _ => request.uri().clone(),
            }),
        };
        self.deliveries.insert(
            id,
            Delivery {
                request,
                targets: VecDeque::new(),
                last_target: None,
                options,
                tx: None,
            },
        );
        match next_hop {
            Ok(t) => {
                if let Some(d) = self.deliveries.get_mut(&id) {
                    d.targets.push_back(t);
                }
                self.try_next_target(id);
            }
            Err(uri) => {
                let resolver = self.resolver.clone();
                let route = self.route.clone();
                let supported: Vec<_> = self.legs.iter().map(Leg::protocol).collect();
                let commands = self.commands.clone();
                let mut rng =
                    StdRng::from_rng(&mut self.rng).unwrap_or_else(|_| StdRng::seed_from_u64(0));
                tokio::spawn(async move {
                    let result = resolve_uri(&uri, &route, &*resolver, &supported, &mut rng).await;
                    let _ = commands.send(Command::Resolved(id, result));
                });
            }
        }
    }

    /// Sends the delivery's request to its next target; fails the delivery when none is left.
    fn try_next_target(&mut self, id: DeliveryId) {
        loop {
            let Some(d) = self.deliveries.get_mut(&id) else {
                return;
            };
            let Some(target) = d.targets.pop_front() else {
                let err = match (&d.last_target, d.tx) {
                    (Some(t), _) => DeliveryError::Timeout(t.to_string()),
                    (None, _) => DeliveryError::NoLeg(d.request.uri().to_string()),
                };
                self.fail(id, err);
                return;
            };
            d.last_target = Some(target.clone());
            let Some(leg) = leg_for(&self.legs, d.options.leg, &target) else {
                tracing::debug!(%target, "no leg can deliver there; next target");
                continue;
            };
            let stateful = d.options.do_retransmits.unwrap_or(self.do_retransmits);
            let once = d.request.method() == &Method::Ack || !stateful;
            let add = d.options.add_via.unwrap_or(true);
            // Sent once and forgotten (a stateless proxy's forward, an ACK): the delivery ends
            // here, so its request is taken rather than copied.
            let mut request = match once {
                true => match self.deliveries.remove(&id) {
                    Some(d) => d.request,
                    None => return,
                },
                false => d.request.clone(),
            };
            if once {
                self.send_once(request, leg, &target, add);
                return;
            }
            if add {
                self.add_via(&mut request, leg);
            }
            let route = Route {
                leg,
                dest: destination(&target),
            };
            let reliable = self.legs[leg].protocol().is_reliable();
            match self.layer.send_request(now(), request, route, reliable) {
                Ok(tx) => {
                    if let Some(d) = self.deliveries.get_mut(&id) {
                        d.tx = Some(tx);
                    }
                    self.by_tx.insert(tx, id);
                }
                Err(e) => self.fail(id, DeliveryError::Unsendable(e.to_string())),
            }
            return;
        }
    }

    /// Puts our Via, with a fresh branch, on a request about to leave on `leg`.
    fn add_via(&mut self, request: &mut Request, leg: usize) {
        let branch = sip_packet::random::branch(&mut self.rng);
        let l = &self.legs[leg];
        let (host, port) = l.sent_by();
        add_via(request, (l.protocol(), host, port), &branch);
    }

    /// Sends a request once, without a transaction (a stateless proxy's forward, an ACK).
    fn send_once(&mut self, mut request: Request, leg: usize, target: &Target, add_via: bool) {
        if add_via {
            self.add_via(&mut request, leg);
        }
        let route = Route {
            leg,
            dest: destination(target),
        };
        self.layer.send_stateless(route, request.to_bytes());
    }

    fn fail(&mut self, id: DeliveryId, err: DeliveryError) {
        if let Some(mut d) = self.deliveries.remove(&id) {
            if let Some(tx) = d.tx {
                self.by_tx.remove(&tx);
            }
            match d.options.callback.as_mut() {
                Some(cb) => cb(DeliveryEvent::Failed(err)),
                None => {
                    tracing::info!(%err, call_id = call_id_of(&d.request), "delivery failed")
                }
            }
        }
    }

    fn deliver_response(&mut self, response: Response, options: DeliverOptions) {
        let status = response.status();
        match self.layer.send_response_or_return(now(), response) {
            ResponseOutcome::Taken(Ok(())) => {}
            ResponseOutcome::NoTransaction(response) => {
                self.send_response_statelessly(response, &options)
            }
            ResponseOutcome::Taken(Err(e)) => tracing::warn!(%e, status, "response not sent"),
        }
    }

    /// A response without a transaction (a proxy's forward, a 2xx retransmission after the
    /// transaction ended): to the destination given, else where the top Via says.
    fn send_response_statelessly(&mut self, response: Response, options: &DeliverOptions) {
        let (leg, dest) = if let Some(t) = &options.dst {
            let leg = options.leg.and_then(|l| self.leg_index(l)).or_else(|| {
                self.legs
                    .iter()
                    .position(|l| l.can_deliver_to(t.protocol, t.addr))
            });
            (leg, Destination::new(t.addr))
        } else {
            let Ok(via) = response.headers().top_via() else {
                tracing::warn!("response without a usable Via dropped");
                return;
            };
            let Some(protocol) = sip_transport::Protocol::from_via_transport(via.transport())
            else {
                tracing::warn!(transport = %via.transport(), "response over an unsupported transport dropped");
                return;
            };
            let source = SocketAddr::new(
                via.host()
                    .ip()
                    .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
                via.port_or_default(),
            );
            let addr = match response_target(&via, source, protocol, None) {
                ResponseTarget::Addr(a) => a,
                other => {
                    tracing::warn!(?other, "response target needs DNS; dropped");
                    return;
                }
            };
            // Over a connection the request came in on, while it is known (§18.2.2).
            if let Some(origin) = protocol
                .is_reliable()
                .then(|| self.stream_origin(&response))
                .flatten()
            {
                let dest = Destination::new(addr).with_connection(origin.connection);
                self.layer.send_stateless(
                    Route {
                        leg: origin.leg,
                        dest,
                    },
                    response.to_bytes(),
                );
                return;
            }
            let leg = options.leg.and_then(|l| self.leg_index(l)).or_else(|| {
                self.legs
                    .iter()
                    .position(|l| l.can_deliver_to(protocol, addr))
            });
            (leg, Destination::new(addr))
        };
        match leg {
            Some(leg) => self
                .layer
                .send_stateless(Route { leg, dest }, response.to_bytes()),
            None => tracing::warn!(addr = %dest.addr, "no leg for the response; dropped"),
        }
    }

    fn handle_inbound(&mut self, inbound: Inbound) {
        let Some(leg) = self.leg_index(inbound.leg.id()) else {
            return;
        };
        let protocol = inbound.leg.protocol();
        let reliable = protocol.is_reliable();
        match inbound.item {
            InboundItem::Malformed { error, raw } => {
                // RFC 3261 §8.2 / RFC 4475: a broken request gets 400 (505 for a version)
                // when there is enough to answer; anything else is dropped.
                match salvage_response(&raw, error.response_status(), &error.reason_phrase()) {
                    Some(resp) => {
                        tracing::info!(%error, from = %inbound.source, "malformed request answered {}", resp.status());
                        let mut dest = Destination::new(inbound.source);
                        if let Some(c) = inbound.connection {
                            dest = dest.with_connection(c);
                        }
                        self.layer
                            .send_stateless(Route { leg, dest }, resp.to_bytes());
                    }
                    None => {
                        tracing::info!(%error, from = %inbound.source, "malformed message dropped")
                    }
                }
            }
            InboundItem::Message(Message::Response(response)) => {
                if let Err(error) = self.validate(response.headers()) {
                    tracing::info!(%error, from = %inbound.source, "malformed response dropped");
                    return;
                }
                if self.layer.client_count() == 0 {
                    // No client transaction to match (a stateless proxy's usual case): the
                    // receiver's at once, without a key built to find none.
                    self.give_to_receiver(Message::Response(response), leg, inbound.source);
                    return;
                }
                let route = Route {
                    leg,
                    dest: Destination::new(inbound.source),
                };
                self.layer.handle_response(now(), response, route);
            }
            InboundItem::Message(Message::Request(mut request)) => {
                stamp_received(&mut request, inbound.source);
                if let Err(error) = self.validate(request.headers()) {
                    if request.method() != &Method::Ack {
                        let status = error.response_status();
                        let mut resp =
                            Response::from_request(&request, status, Some(&error.reason_phrase()));
                        let _ = resp.set_to_tag(&sip_packet::random::tag(&mut self.rng));
                        tracing::info!(%error, from = %inbound.source, "malformed request answered {status}");
                        let dest = self.response_destination(
                            &request,
                            inbound.source,
                            protocol,
                            inbound.connection,
                        );
                        self.layer
                            .send_stateless(Route { leg, dest }, resp.to_bytes());
                    } else {
                        tracing::info!(%error, from = %inbound.source, "malformed ACK dropped");
                    }
                    return;
                }
                if !self.do_retransmits {
                    // Stateless (a stateless proxy): no server transaction absorbs
                    // retransmissions; each goes to the receiver, to be forwarded again.
                    if let Some(connection) = inbound.connection {
                        self.remember_stream_origin(&request, leg, connection);
                    }
                    self.give_to_receiver(Message::Request(request), leg, inbound.source);
                    return;
                }
                let dest = self.response_destination(
                    &request,
                    inbound.source,
                    protocol,
                    inbound.connection,
                );
                // Built only when the layer is full, the one case that sends it: a 503 costs
                // as much to build as the answer the request is about to get.
                let full = self.layer.server_count() >= self.layer.max_server_transactions();
                let overload_answer = (full && request.method() != &Method::Ack).then(|| {
                    let mut busy = Response::from_request(&request, 503, None);
                    busy.headers_mut().add("Retry-After", "5");
                    busy
                });
                let route = Route { leg, dest };
                match self
                    .layer
                    .handle_request(now(), request, route.clone(), reliable)
                {
                    Ok(()) => {}
                    Err(LayerError::Overloaded(n)) => {
                        // RFC 3261 §21.5.4: 503 with Retry-After, sent without a transaction.
                        tracing::warn!(transactions = n, from = %inbound.source, "overloaded; 503");
                        if let Some(busy) = overload_answer {
                            self.layer.send_stateless(route, busy.to_bytes());
                        }
                    }
                    Err(e) => tracing::info!(%e, from = %inbound.source, "request dropped"),
                }
            }
        }
    }

    /// The syntax check of what arrives: every header when transactions run (a user agent
    /// behind them may read any), only what a stateless proxy relies on otherwise
    /// (RFC 3261 §16.3 item 1: the rest is forwarded as it is).
    fn validate(&self, headers: &sip_packet::Headers) -> Result<(), sip_packet::ParseError> {
        match self.do_retransmits {
            true => headers.validate(),
            false => headers.validate_essential(),
        }
    }

    /// Remembers the connection a request without a server transaction came in on, by its
    /// top Via (as stamped with `received`), for [`Driver::stream_origin`].
    fn remember_stream_origin(
        &mut self,
        request: &Request,
        leg: usize,
        connection: sip_transport::ConnectionId,
    ) {
        let Some(via) = request.headers().get("Via") else {
            return;
        };
        let now = now();
        if self.stream_origins.len() >= STREAM_ORIGINS_MAX {
            self.stream_origins.retain(|_, o| o.until > now);
            if self.stream_origins.len() >= STREAM_ORIGINS_MAX {
                tracing::debug!("too many connections remembered; a response will follow the Via");
                return;
            }
        }
        let key = request.headers().share(via);
        self.stream_origins.insert(
            key,
            StreamOrigin {
                leg,
                connection,
                until: now + STREAM_ORIGIN_LIFETIME,
            },
        );
    }

    /// The connection the request of `response` came in on, when remembered and not expired.
    fn stream_origin(&self, response: &Response) -> Option<StreamOrigin> {
        if self.stream_origins.is_empty() {
            return None;
        }
        let via = response.headers().get("Via")?;
        let origin = self.stream_origins.get(via)?;
        (origin.until > now() && self.legs.get(origin.leg)?.protocol().is_reliable())
            .then_some(*origin)
    }

    fn response_destination(
        &self,
        request: &Request,
        source: SocketAddr,
        protocol: sip_transport::Protocol,
        connection: Option<sip_transport::ConnectionId>,
    ) -> Destination {
        let Ok(via) = request.headers().top_via() else {
            return Destination::new(source);
        };
        match response_target(&via, source, protocol, connection) {
            ResponseTarget::Connection {
                connection,
                fallback,
            } => {
                let addr = match *fallback {
                    ResponseTarget::Addr(a) => a,
                    _ => source,
                };
                Destination::new(addr).with_connection(connection)
            }
            ResponseTarget::Addr(a) => Destination::new(a),
            // A sent-by name with no received: answer where it came from (RFC 3581 spirit)
            // rather than wait on DNS.
            _ => Destination::new(source),
        }
    }

    /// [`Driver::deliver_to_receiver`] for a message the driver keeps no more.
    fn give_to_receiver(&mut self, msg: Message, leg: usize, from: SocketAddr) -> bool {
        match &self.receiver {
            Some(r) => r.receive_owned(msg, &self.legs[leg], from).is_none(),
            None => false,
        }
    }

    fn deliver_to_receiver(&mut self, msg: &Message, leg: usize, from: SocketAddr) -> bool {
        match &self.receiver {
            Some(r) => r.receive(msg, &self.legs[leg], from),
            None => false,
        }
    }

    async fn flush(&mut self) {
        while let Some(ev) = self.layer.poll_event() {
            self.handle_event(ev);
        }
        while let Some(t) = self.layer.poll_transmit() {
            let leg = self.legs[t.route.leg].clone();
            if leg.protocol().is_reliable() {
                // A connection may have to be opened: never make the loop wait for it, but
                // keep the order of what goes to one peer (an ACK before the BYE after it).
                self.send_in_order(leg, t.route.dest, t.bytes, t.origin);
            } else if let Err(e) = leg.send(t.bytes, &t.route.dest).await {
                tracing::info!(%e, to = %t.route.dest.addr, "send failed");
                match t.origin {
                    Origin::Client(tx) => self.layer.handle_client_transport_error(now(), tx),
                    Origin::Server(key) => self.layer.handle_server_transport_error(now(), &key),
                    Origin::Stateless => {}
                }
            }
            // Failures above may have queued events (next target, callbacks).
            while let Some(ev) = self.layer.poll_event() {
                self.handle_event(ev);
            }
        }
    }

    /// Queues a send on a stream leg behind the earlier ones to the same peer. One task per
    /// (leg, peer) sends them in turn; it ends after a while without work and is made anew.
    fn send_in_order(&mut self, leg: Leg, dest: Destination, bytes: bytes::Bytes, origin: Origin) {
        let key = (leg.id(), dest.addr);
        let mut item = (dest, bytes, origin);
        for _ in 0..2 {
            let queue = self.stream_queues.entry(key).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(stream_sender(leg.clone(), rx, self.commands.clone()));
                tx
            });
            match queue.send(item) {
                Ok(()) => return,
                Err(mpsc::error::SendError(back)) => {
                    // The task ended for idleness: start another.
                    self.stream_queues.remove(&key);
                    item = back;
                }
            }
        }
    }

    fn handle_event(&mut self, ev: LayerEvent<Route>) {
        match ev {
            LayerEvent::Request {
                request,
                route,
                server,
            } => {
                let from = route.dest.addr;
                let method = request.method().clone();
                if method == Method::Invite && server.is_some() {
                    // RFC 3261 §17.2.1: a 100 at once, so that the client stops retransmitting
                    // whatever the user takes to answer.
                    let trying = Response::from_request(&request, 100, None);
                    if let Err(e) = self.layer.send_response(now(), trying) {
                        tracing::debug!(%e, "100 Trying not sent");
                    }
                }
                let request = Message::Request(request);
                let handled = self.deliver_to_receiver(&request, route.leg, from);
                if let (false, Some(_), Message::Request(request)) = (handled, &server, &request) {
                    // Nobody here does this method: say so rather than let the client time out.
                    let mut resp = Response::from_request(request, 501, None);
                    let _ = resp.set_to_tag(&sip_packet::random::tag(&mut self.rng));
                    tracing::debug!(%method, %from, "request not handled; 501");
                    if let Err(e) = self.layer.send_response(now(), resp) {
                        tracing::debug!(%e, "501 not sent");
                    }
                }
            }
            LayerEvent::Response { id: tx, response } => {
                let Some(&id) = self.by_tx.get(&tx) else {
                    return;
                };
                let route = self.layer.client_route(tx).cloned();
                // RFC 3263 §4.3: a 503 means try the next target.
                let more_targets = self
                    .deliveries
                    .get(&id)
                    .is_some_and(|d| !d.targets.is_empty());
                if response.status() == 503 && more_targets {
                    self.by_tx.remove(&tx);
                    self.try_next_target(id);
                    return;
                }
                let Some(d) = self.deliveries.get_mut(&id) else {
                    return;
                };
                match d.options.callback.as_mut() {
                    Some(cb) => cb(DeliveryEvent::Response(response)),
                    None => {
                        if let Some(route) = route {
                            self.deliver_to_receiver(
                                &Message::Response(response),
                                route.leg,
                                route.dest.addr,
                            );
                        }
                    }
                }
            }
            LayerEvent::StrayResponse { response, route } => {
                self.give_to_receiver(Message::Response(response), route.leg, route.dest.addr);
            }
            LayerEvent::ClientFailed { id: tx, reason } => {
                let Some(id) = self.by_tx.remove(&tx) else {
                    return;
                };
                let has_more = self
                    .deliveries
                    .get(&id)
                    .is_some_and(|d| !d.targets.is_empty());
                if has_more {
                    self.try_next_target(id);
                } else {
                    let target = self
                        .deliveries
                        .get(&id)
                        .and_then(|d| d.last_target.as_ref())
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    let err = match reason {
                        FailReason::Timeout => DeliveryError::Timeout(target),
                        _ => DeliveryError::Transport(target),
                    };
                    self.fail(id, err);
                }
            }
            LayerEvent::ClientTerminated { id: tx } => {
                if let Some(id) = self.by_tx.remove(&tx) {
                    self.deliveries.remove(&id);
                }
            }
            LayerEvent::Ack { request, route } => {
                self.give_to_receiver(Message::Request(request), route.leg, route.dest.addr);
            }
            LayerEvent::ServerFailed { key, reason } => {
                tracing::info!(?key, ?reason, "server transaction failed");
            }
        }
    }
}
