//! The dispatcher's public face (Net::SIP::Dispatcher): start it, deliver through it, tell it
//! who receives. The work happens on its task, in [`crate::driver`].

use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_packet::{Message, Request, Response, Uri};
use sip_transport::{Leg, LegConfig, LegId, TransportError};
use tokio::sync::{mpsc, oneshot};

use crate::driver::{Command, Driver};
use crate::receiver::Receiver;
use crate::resolve::{
    resolve_uri, DnsResolver, HickoryResolver, ResolveError, RouteConfig, Target,
};
use crate::transaction::TimerConfig;

/// How a dispatcher behaves.
#[derive(Clone)]
#[non_exhaustive]
pub struct DispatcherConfig {
    /// T1, T2, T4.
    pub timers: TimerConfig,
    /// domain2proxy and outgoing_proxy.
    pub route: RouteConfig,
    /// Whether requests are retransmitted and matched to responses (RFC 3261 §17); off for a
    /// stateless proxy. A delivery may say otherwise.
    pub do_retransmits: bool,
    /// The seed of the random source of branches and SRV choices; `None` seeds from the OS.
    pub seed: Option<u64>,
    /// The DNS resolver (Net::SIP's `dnsresolv`); `None` uses the system's.
    pub resolver: Option<Arc<dyn DnsResolver>>,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            timers: TimerConfig::default(),
            route: RouteConfig::default(),
            do_retransmits: true,
            seed: None,
            resolver: None,
        }
    }
}

impl DispatcherConfig {
    /// These timers.
    #[must_use]
    pub fn timers(mut self, timers: TimerConfig) -> Self {
        self.timers = timers;
        self
    }

    /// This routing (domain2proxy, outgoing_proxy).
    #[must_use]
    pub fn route(mut self, route: RouteConfig) -> Self {
        self.route = route;
        self
    }

    /// Retransmissions on or off by default.
    #[must_use]
    pub fn do_retransmits(mut self, on: bool) -> Self {
        self.do_retransmits = on;
        self
    }

    /// A fixed seed: the same branches and SRV choices on every run.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// This resolver instead of the system's.
    #[must_use]
    pub fn resolver(mut self, resolver: Arc<dyn DnsResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }
}

impl std::fmt::Debug for DispatcherConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DispatcherConfig")
            .field("timers", &self.timers)
            .field("route", &self.route)
            .field("do_retransmits", &self.do_retransmits)
            .field("seed", &self.seed)
            .field("resolver", &self.resolver.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// Why a delivery failed for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// No final response from any target in time (Timer B or F on the last one).
    #[error("no response from {0} (transaction timeout)")]
    Timeout(String),
    /// The transport failed on the last target.
    #[error("transport failed sending to {0}")]
    Transport(String),
    /// The destination could not be resolved.
    #[error("cannot route the request: {0}")]
    NoRoute(#[from] ResolveError),
    /// No leg can reach any target.
    #[error("no leg can deliver to {0}")]
    NoLeg(String),
    /// The message could not be sent as it is.
    #[error("cannot send the message: {0}")]
    Unsendable(String),
    /// The dispatcher stopped.
    #[error("the dispatcher is shut down")]
    Shutdown,
}

/// What a delivery's callback hears.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DeliveryEvent {
    /// A response to the request (provisional ones included).
    Response(Response),
    /// The delivery failed for good.
    Failed(DeliveryError),
}

/// A delivery's callback; called on the dispatcher's task, it must not block.
pub type DeliveryCallback = Box<dyn FnMut(DeliveryEvent) + Send>;

/// Hints for [`Dispatcher::deliver`], as Net::SIP's.
#[derive(Default)]
#[non_exhaustive]
pub struct DeliverOptions {
    /// The leg to send on.
    pub leg: Option<LegId>,
    /// Where to send, instead of resolving the URI (or, for responses, the Via).
    pub dst: Option<Target>,
    /// Retransmissions and response matching for this delivery (default: the dispatcher's).
    pub do_retransmits: Option<bool>,
    /// Whether to put our Via on top of a request (default yes; off for a CANCEL or ACK that
    /// carries the Via of its INVITE already).
    pub add_via: Option<bool>,
    /// Called with the responses and the final failure. Without one, responses go to the
    /// receiver, as in Net::SIP.
    pub callback: Option<DeliveryCallback>,
}

impl DeliverOptions {
    /// No hints.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends on this leg.
    #[must_use]
    pub fn leg(mut self, leg: LegId) -> Self {
        self.leg = Some(leg);
        self
    }

    /// Sends to this target.
    #[must_use]
    pub fn dst(mut self, dst: Target) -> Self {
        self.dst = Some(dst);
        self
    }

    /// Retransmits or not.
    #[must_use]
    pub fn do_retransmits(mut self, on: bool) -> Self {
        self.do_retransmits = Some(on);
        self
    }

    /// Adds our Via or not.
    #[must_use]
    pub fn add_via(mut self, on: bool) -> Self {
        self.add_via = Some(on);
        self
    }

    /// Calls `f` with responses and failure.
    #[must_use]
    pub fn callback(mut self, f: impl FnMut(DeliveryEvent) + Send + 'static) -> Self {
        self.callback = Some(Box::new(f));
        self
    }
}

impl std::fmt::Debug for DeliverOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliverOptions")
            .field("leg", &self.leg)
            .field("dst", &self.dst)
            .field("do_retransmits", &self.do_retransmits)
            .field("add_via", &self.add_via)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

/// What [`Dispatcher::deliver`] returns: the delivery's name for cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryId(pub(crate) u64);

/// Why a dispatcher could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// A leg could not be bound.
    #[error("cannot start a leg: {0}")]
    Leg(#[from] TransportError),
    /// The system resolver could not be set up.
    #[error("cannot set up DNS: {0}")]
    Resolver(#[from] ResolveError),
}

/// Moves messages between legs and the user: retransmits, matches responses, resolves
/// destinations, answers what cannot be parsed.
///
/// Cheap to clone; every clone talks to the same task. Requires a tokio runtime.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
}

struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    legs: Vec<Leg>,
    resolver: Arc<dyn DnsResolver>,
    route: RouteConfig,
    next_id: Mutex<u64>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field(
                "legs",
                &self
                    .shared
                    .legs
                    .iter()
                    .map(Leg::transport_addr)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Dispatcher {
    /// Binds the legs and starts the dispatcher's task.
    pub async fn new(
        legs: Vec<LegConfig>,
        config: DispatcherConfig,
    ) -> Result<Self, DispatchError> {
        let (inbound_tx, inbound_rx) = mpsc::channel(1024);
        let mut bound = Vec::with_capacity(legs.len());
        for l in legs {
            bound.push(Leg::bind(l, inbound_tx.clone()).await?);
        }
        drop(inbound_tx);
        let resolver: Arc<dyn DnsResolver> = match &config.resolver {
            Some(r) => r.clone(),
            None => Arc::new(HickoryResolver::from_system()?),
        };
        let (commands, command_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            commands: commands.clone(),
            legs: bound.clone(),
            resolver: resolver.clone(),
            route: config.route.clone(),
            next_id: Mutex::new(0),
        });
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let driver = Driver::new(config, bound, rng, commands, resolver);
        tokio::spawn(driver.run(command_rx, inbound_rx));
        Ok(Self { shared })
    }

    /// The legs, in the order they were given.
    pub fn legs(&self) -> &[Leg] {
        &self.shared.legs
    }

    /// Sets who gets incoming requests (and responses without a callback).
    pub fn set_receiver(&self, receiver: Arc<dyn Receiver>) {
        let _ = self.shared.commands.send(Command::SetReceiver(receiver));
    }

    fn next_id(&self) -> DeliveryId {
        let mut n = self
            .shared
            .next_id
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *n += 1;
        DeliveryId(*n)
    }

    /// Sends a request (with retransmissions, to the targets of its URI or first Route in
    /// turn until one answers) or a response (through its server transaction, else to where
    /// its Via says). Returns at once; the outcome reaches the callback of `options`.
    pub fn deliver(&self, message: impl Into<Message>, options: DeliverOptions) -> DeliveryId {
        let id = self.next_id();
        let message = message.into();
        if let Err(mpsc::error::SendError(Command::Deliver(_, _, mut options))) = self
            .shared
            .commands
            .send(Command::Deliver(id, message, options))
        {
            if let Some(cb) = options.callback.as_mut() {
                cb(DeliveryEvent::Failed(DeliveryError::Shutdown));
            }
        }
        id
    }

    /// Sends a request and waits for its final response (provisional ones are skipped).
    pub async fn request(
        &self,
        request: Request,
        options: DeliverOptions,
    ) -> Result<Response, DeliveryError> {
        let (tx, rx) = oneshot::channel();
        let mut tx = Some(tx);
        let options = options.callback(move |ev| {
            let done = match ev {
                DeliveryEvent::Response(r) if r.status() < 200 => None,
                DeliveryEvent::Response(r) => Some(Ok(r)),
                DeliveryEvent::Failed(e) => Some(Err(e)),
            };
            // Only a final outcome uses up the sender: provisional responses (the 100 Trying
            // every INVITE gets) must not.
            if let Some(result) = done {
                let Some(tx) = tx.take() else { return };
                let _ = tx.send(result);
            }
        });
        self.deliver(request, options);
        rx.await.unwrap_or(Err(DeliveryError::Shutdown))
    }

    /// Sends a CANCEL for the INVITE of delivery `invite` (RFC 3261 §9.1): same branch, same
    /// destination. Returns the CANCEL's own delivery.
    pub fn cancel_invite(&self, invite: DeliveryId, options: DeliverOptions) -> DeliveryId {
        let id = self.next_id();
        let _ = self
            .shared
            .commands
            .send(Command::CancelInvite(invite, id, options));
        id
    }

    /// Stops retransmitting a delivery; its callback hears nothing more.
    pub fn cancel_delivery(&self, id: DeliveryId) {
        let _ = self.shared.commands.send(Command::Cancel(id));
    }

    /// Stops every delivery of a call.
    pub fn cancel_call(&self, call_id: &str) {
        let _ = self
            .shared
            .commands
            .send(Command::CancelCall(call_id.to_owned()));
    }

    /// Where a request for `uri` would go, in the order the targets would be tried.
    pub async fn resolve_uri(&self, uri: &Uri) -> Result<Vec<Target>, ResolveError> {
        let supported: Vec<_> = self.shared.legs.iter().map(Leg::protocol).collect();
        let mut rng = StdRng::from_entropy();
        resolve_uri(
            uri,
            &self.shared.route,
            &*self.shared.resolver,
            &supported,
            &mut rng,
        )
        .await
    }

    /// Stops the dispatcher's task and closes the legs.
    pub fn shutdown(&self) {
        let _ = self.shared.commands.send(Command::Shutdown);
        for l in &self.shared.legs {
            l.close();
        }
    }
}
