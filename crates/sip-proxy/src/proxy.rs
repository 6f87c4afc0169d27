//! The stateless proxy in a dispatcher (Net::SIP::StatelessProxy): a [`Receiver`] that asks
//! [`ProxyCore`] what to do and does it.

use std::net::SocketAddr;
use std::sync::Arc;

use rand::RngCore;
use sip_dispatch::{DeliverOptions, Dispatcher, Receiver};
use sip_packet::Message;
use sip_transport::{Leg, LegId};

use crate::config::ProxyConfig;
use crate::core::ProxyCore;
use crate::decision::Decision;
use crate::legs::Legs;

/// A stateless proxy driving a [`Dispatcher`]. Give the dispatcher
/// `DispatcherConfig::default().do_retransmits(false)`, so that no server transaction
/// absorbs retransmissions: each one must be forwarded again.
///
/// Every request and response it receives is handled (`receive` returns true): put it last
/// in a [`ReceiveChain`](sip_dispatch::ReceiveChain), behind an authorizer or a registrar.
#[derive(Clone)]
pub struct StatelessProxy {
    core: Arc<ProxyCore>,
    dispatcher: Dispatcher,
    leg_ids: Arc<[LegId]>,
}

impl std::fmt::Debug for StatelessProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatelessProxy")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl StatelessProxy {
    /// A proxy on the dispatcher's legs, with a random key for rewritten contacts.
    pub fn new(dispatcher: Dispatcher, config: ProxyConfig) -> Self {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Self::with_secret(dispatcher, config, secret)
    }

    /// The same with a given key (tests; or several processes sharing rewritten contacts).
    pub fn with_secret(dispatcher: Dispatcher, config: ProxyConfig, secret: [u8; 32]) -> Self {
        let legs = dispatcher.legs();
        let core = ProxyCore::new(Legs::of(legs), config, secret);
        Self {
            core: Arc::new(core),
            leg_ids: legs.iter().map(Leg::id).collect(),
            dispatcher,
        }
    }

    /// The protocol logic.
    pub fn core(&self) -> &ProxyCore {
        &self.core
    }

    fn leg_index(&self, leg: &Leg) -> Option<usize> {
        self.leg_ids.iter().position(|id| *id == leg.id())
    }

    fn execute(&self, decision: Decision) {
        match decision {
            Decision::Forward {
                message,
                leg,
                target,
            } => {
                tracing::debug!(%target, what = %summary(&message), "forward");
                let mut options = DeliverOptions::new().dst(target);
                if let Some(id) = self.leg_ids.get(leg) {
                    options = options.leg(*id);
                }
                if message.is_request() {
                    options = options.add_via(false).do_retransmits(false);
                }
                self.dispatcher.deliver(message, options);
            }
            Decision::Respond {
                response,
                leg,
                target,
            } => {
                tracing::info!(%target, status = response.status(), "proxy answers");
                let mut options = DeliverOptions::new().dst(target);
                if let Some(id) = self.leg_ids.get(leg) {
                    options = options.leg(*id);
                }
                self.dispatcher.deliver(response, options);
            }
            Decision::Resolve(pending) => {
                let this = self.clone();
                tokio::spawn(async move {
                    let targets = this
                        .dispatcher
                        .resolve_uri(pending.uri())
                        .await
                        .map_err(|e| e.to_string());
                    if let Err(e) = &targets {
                        tracing::info!(uri = %pending.uri(), error = %e, "next hop not resolved");
                    }
                    let decision = this.core.handle_resolved(pending, targets);
                    this.execute(decision);
                });
            }
            Decision::Nat(pending) => {
                let Some(helper) = self.core.config().nat.clone() else {
                    tracing::warn!("NAT work without a NAT helper: dropped");
                    return;
                };
                let this = self.clone();
                tokio::spawn(async move {
                    let relay = match pending.allocation() {
                        Some(request) => Some(helper.allocate(request.clone()).await),
                        None => None,
                    };
                    let (follow_up, decision) = this.core.handle_nat(pending, relay);
                    // Activate before forwarding: the relay is ready when the answer lands.
                    if let Some(f) = follow_up {
                        f.run(&*helper).await;
                    }
                    this.execute(decision);
                });
            }
            Decision::Drop(reason) => tracing::debug!(reason, "dropped"),
        }
    }
}

fn summary(m: &Message) -> String {
    match m {
        Message::Request(r) => format!("{} {}", r.method(), r.uri()),
        Message::Response(r) => format!("{} {}", r.status(), r.reason()),
    }
}

impl StatelessProxy {
    fn handle(&self, packet: Message, index: usize, from: SocketAddr) {
        let decision = match packet {
            Message::Request(r) => {
                let now = tokio::time::Instant::now().into_std();
                self.core.handle_request(now, r, index, from)
            }
            Message::Response(r) => self.core.handle_response(r, index, from),
        };
        self.execute(decision);
    }
}

impl Receiver for StatelessProxy {
    fn receive(&self, packet: &Message, leg: &Leg, from: SocketAddr) -> bool {
        let Some(index) = self.leg_index(leg) else {
            return false;
        };
        self.handle(packet.clone(), index, from);
        true
    }

    /// Forwards the message itself, not a copy: the dispatcher has no more use for it.
    fn receive_owned(&self, packet: Message, leg: &Leg, from: SocketAddr) -> Option<Message> {
        let Some(index) = self.leg_index(leg) else {
            return Some(packet);
        };
        self.handle(packet, index, from);
        None
    }
}
