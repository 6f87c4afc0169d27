//! Who gets what arrives: the Receiver trait and ReceiveChain (Net::SIP::ReceiveChain).

use std::net::SocketAddr;
use std::sync::Arc;

use sip_packet::{Message, Method};
use sip_transport::Leg;

/// Something that handles incoming messages: an endpoint, a registrar, a proxy, a chain.
///
/// `receive` is called on the dispatcher's task and must not block: answer through the
/// dispatcher (which only queues) or hand work to a task of your own.
pub trait Receiver: Send + Sync {
    /// Handles `packet`, which arrived on `leg` from `from`; returns whether it was handled
    /// (a chain then stops asking its other members).
    fn receive(&self, packet: &Message, leg: &Leg, from: SocketAddr) -> bool;

    /// The same for a packet nobody else will read: a receiver that keeps or changes what it
    /// handles (a proxy forwarding it) takes it without a copy. Gives the packet back when
    /// it was not handled (`None`: handled). By default, [`Receiver::receive`] on a
    /// reference.
    fn receive_owned(&self, packet: Message, leg: &Leg, from: SocketAddr) -> Option<Message> {
        (!self.receive(&packet, leg, from)).then_some(packet)
    }
}

impl<F> Receiver for F
where
    F: Fn(&Message, &Leg, SocketAddr) -> bool + Send + Sync,
{
    fn receive(&self, packet: &Message, leg: &Leg, from: SocketAddr) -> bool {
        self(packet, leg, from)
    }
}

type Filter = Arc<dyn Fn(&Message, &Leg, SocketAddr) -> bool + Send + Sync>;

/// Receivers asked in turn until one handles the message, behind an optional filter: e.g. an
/// authorizer in front of a registrar for REGISTER only, and that chain in front of a proxy.
///
/// ```
/// use std::sync::Arc;
/// use sip_dispatch::{ReceiveChain, Receiver};
/// use sip_packet::Method;
/// let auth: Arc<dyn Receiver> = Arc::new(|_: &sip_packet::Message, _: &sip_transport::Leg, _| false);
/// let registrar: Arc<dyn Receiver> = Arc::new(|_: &sip_packet::Message, _: &sip_transport::Leg, _| true);
/// let chain = ReceiveChain::new(vec![auth, registrar]).with_methods(&[Method::Register]);
/// # let _ = chain;
/// ```
#[derive(Clone, Default)]
pub struct ReceiveChain {
    members: Vec<Arc<dyn Receiver>>,
    filter: Option<Filter>,
}

impl ReceiveChain {
    /// A chain of these receivers, asked in this order.
    pub fn new(members: Vec<Arc<dyn Receiver>>) -> Self {
        Self {
            members,
            filter: None,
        }
    }

    /// Only messages for which `filter` says true go to the chain; others are not handled.
    #[must_use]
    pub fn with_filter(
        mut self,
        filter: impl Fn(&Message, &Leg, SocketAddr) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// Only requests of these methods (and responses to them, by CSeq) go to the chain.
    #[must_use]
    pub fn with_methods(self, methods: &[Method]) -> Self {
        let methods = methods.to_vec();
        self.with_filter(move |m, _, _| {
            let method = match m {
                Message::Request(r) => Some(r.method().clone()),
                Message::Response(r) => r.headers().cseq().ok().map(|c| c.method().clone()),
            };
            method.is_some_and(|m| methods.contains(&m))
        })
    }

    /// Adds a receiver at the end of the chain.
    pub fn push(&mut self, member: Arc<dyn Receiver>) {
        self.members.push(member);
    }
}

impl Receiver for ReceiveChain {
    fn receive(&self, packet: &Message, leg: &Leg, from: SocketAddr) -> bool {
        if let Some(f) = &self.filter {
            if !f(packet, leg, from) {
                return false;
            }
        }
        self.members.iter().any(|m| m.receive(packet, leg, from))
    }

    fn receive_owned(&self, packet: Message, leg: &Leg, from: SocketAddr) -> Option<Message> {
        if let Some(f) = &self.filter {
            if !f(&packet, leg, from) {
                return Some(packet);
            }
        }
        let mut packet = packet;
        for m in &self.members {
            packet = m.receive_owned(packet, leg, from)?;
        }
        Some(packet)
    }
}

impl std::fmt::Debug for ReceiveChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiveChain")
            .field("members", &self.members.len())
            .field("filtered", &self.filter.is_some())
            .finish()
    }
}
