//! SIP transactions, retransmission, routing and the dispatcher (Net::SIP::Dispatcher).
//!
//! The protocol logic is sans-IO: the four transaction state machines of RFC 3261 §17
//! ([`transaction`]) and the [`TransactionLayer`] that matches messages to them take the
//! time and what arrives, and hand back what to send, what to tell the user and when to wake
//! them. [`Dispatcher`] is the thin tokio driver around them: it owns the
//! [legs](sip_transport::Leg), the clock and the [resolver](resolve), and passes what arrives
//! to a [`Receiver`] such as a [`ReceiveChain`].
//!
//! ```no_run
//! use sip_dispatch::{DeliverOptions, Dispatcher, DispatcherConfig};
//! use sip_transport::LegConfig;
//! # async fn example(options: sip_packet::Request) -> Result<(), Box<dyn std::error::Error>> {
//! let dispatcher = Dispatcher::new(
//!     vec![LegConfig::new("udp:127.0.0.1:5060".parse()?)],
//!     DispatcherConfig::default(),
//! ).await?;
//! dispatcher.set_receiver(std::sync::Arc::new(|msg: &sip_packet::Message, _leg: &sip_transport::Leg, from| {
//!     println!("{from} sent {:?}", msg.headers().cseq());
//!     false
//! }));
//! let response = dispatcher.request(options, DeliverOptions::new()).await?;
//! println!("{}", response.status());
//! # Ok(()) }
//! ```
//!
//! Map of the crate:
//! - [`transaction`]: ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite; timers.
//! - [`layer`]: [`TransactionLayer`], matching and timing every transaction.
//! - [`resolve`]: RFC 3263 target selection, domain2proxy, outgoing_proxy, resolvers.
//! - `receiver`: [`Receiver`], [`ReceiveChain`].
//! - `dispatcher`: [`Dispatcher`], [`DeliverOptions`], [`DeliveryEvent`]; `driver`: its task.

#![forbid(unsafe_code)]

mod dispatcher;
mod driver;
pub mod layer;
mod receiver;
pub mod resolve;
pub mod transaction;

pub use dispatcher::{
    DeliverOptions, DeliveryCallback, DeliveryError, DeliveryEvent, DeliveryId, DispatchError,
    Dispatcher, DispatcherConfig,
};
pub use layer::TransactionLayer;
pub use receiver::{ReceiveChain, Receiver};
