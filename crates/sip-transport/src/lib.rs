//! SIP (RFC 3261) transport legs on tokio: UDP, TCP and TLS sockets, the framing of
//! messages on streams, and the Via rules of RFC 3261 §18 and RFC 3581.
//!
//! A [`Leg`] is one socket of one protocol on one address (Net::SIP::Leg). It reads on its
//! own tasks and hands every message (or the bytes that did not parse) to an mpsc channel
//! as [`Inbound`]; [`Leg::send`] puts bytes on the wire, over UDP or over a TCP/TLS
//! connection that it reuses, or opens when there is none. What to send and when to
//! retransmit is the dispatcher's business (`sip-dispatch`); the Via handling it needs is in
//! pure functions: [`add_via`], [`stamp_received`], [`response_target`].
//!
//! ```
//! use bytes::Bytes;
//! use sip_transport::{Destination, InboundItem, Leg, LegConfig};
//! use tokio::sync::mpsc;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let (to_a, _from_a) = mpsc::channel(16);
//! let (to_b, mut from_b) = mpsc::channel(16);
//! let a = Leg::bind(LegConfig::new("udp:127.0.0.1:0".parse().unwrap()), to_a).await.unwrap();
//! let b = Leg::bind(LegConfig::new("udp:127.0.0.1:0".parse().unwrap()), to_b).await.unwrap();
//!
//! let options = format!(
//!     "OPTIONS sip:b@{b} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch=z9hG4bK1\r\n\
//!      From: <sip:a@{a}>;tag=1\r\nTo: <sip:b@{b}>\r\nCall-ID: 1@{a}\r\nCSeq: 1 OPTIONS\r\n\
//!      Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
//!     a = a.local_addr(),
//!     b = b.local_addr(),
//! );
//! a.send(Bytes::from(options), &Destination::new(b.local_addr())).await.unwrap();
//!
//! let inbound = from_b.recv().await.unwrap();
//! assert_eq!(inbound.source, a.local_addr());
//! assert_eq!(inbound.leg, b);
//! assert!(matches!(inbound.item, InboundItem::Message(m) if m.is_request()));
//! # });
//! ```
//!
//! Map of the crate:
//! - [`Leg`], [`LegId`], [`ConnectionId`], [`Destination`], [`Inbound`]: the sockets (`leg`,
//!   with `udp` and `tcp`, which serves TCP and TLS).
//! - [`LegConfig`], [`TlsServerConfig`], [`TlsClientConfig`]: setup (`config`, `tls`).
//! - [`Protocol`], [`TransportAddr`]: `udp:HOST:PORT` and friends.
//! - [`add_via`] ([`via_head`], [`VIA_TAIL`]), [`stamp_received`], [`response_target`]: Via rules
//!   without IO (`via`).
//! - [`TransportError`]: what went wrong, and where.

#![forbid(unsafe_code)]

mod addr;
mod config;
mod error;
mod leg;
mod protocol;
mod tcp;
mod tls;
mod udp;
mod via;

pub use addr::{TransportAddr, TransportAddrError};
pub use config::LegConfig;
pub use error::TransportError;
pub use leg::{ConnectionId, Destination, Inbound, InboundItem, Leg, LegId};
pub use protocol::Protocol;
pub use tls::{TlsClientConfig, TlsServerConfig};
pub use via::{
    add_via, response_target, stamp_received, stamp_via, via_head, ResponseTarget, VIA_TAIL,
};
