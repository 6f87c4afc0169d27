//! A SIP registrar (RFC 3261 §10.3) and redirect server: Net::SIP's Registrar and Redirect.
//!
//! The protocol logic is a plain type: [`Registrar::handle_register`] takes the time and a
//! REGISTER and returns the response, keeping bindings in a [`BindingStore`] (by default the
//! embedded [`MemoryStore`]). [`RegistrarReceiver`] and [`RedirectReceiver`] are the thin
//! parts that sit in a [`Dispatcher`](sip_dispatch::Dispatcher), alone or in a
//! [`ReceiveChain`](sip_dispatch::ReceiveChain) behind an authorizer.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sip_packet::{Message, Request};
//! use sip_registrar::{Lookup, Registrar, RegistrarConfig};
//!
//! fn register(contact: &str, cseq: u32) -> Request {
//!     let raw = format!("REGISTER sip:example.com SIP/2.0\r\n\
//!         Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK{cseq}\r\n\
//!         To: <sip:bob@example.com>\r\nFrom: <sip:bob@example.com>;tag=1\r\n\
//!         Call-ID: c1@192.0.2.4\r\nCSeq: {cseq} REGISTER\r\nContact: {contact}\r\n\
//!         Content-Length: 0\r\n\r\n");
//!     match Message::parse(raw.into()).unwrap() { Message::Request(r) => r, _ => unreachable!() }
//! }
//!
//! let registrar = Registrar::new(RegistrarConfig::new()).unwrap();
//! let t0 = Instant::now();
//! assert_eq!(registrar.handle_register(t0, &register("<sip:bob@192.0.2.4>;expires=10", 1)).unwrap().status(), 423);
//! assert_eq!(registrar.handle_register(t0, &register("<sip:bob@192.0.2.4>;expires=60", 2)).unwrap().status(), 200);
//! let bob = "sip:bob@example.com".parse().unwrap();
//! assert_eq!(registrar.query(t0, &bob).len(), 1);
//! // A minute later the binding is gone, and the sweep removes it.
//! let later = t0 + Duration::from_secs(60);
//! assert!(registrar.query(later, &bob).is_empty());
//! assert!(matches!(registrar.lookup(later, &bob), Lookup::Unavailable));
//! assert_eq!(registrar.handle_timeout(later), 1);
//! ```
//!
//! Map of the crate:
//! - [`Registrar`], [`Lookup`]: §10.3 (`registrar`); [`RegistrarConfig`] (`config`).
//! - [`Aor`]: the canonical address-of-record (`aor`).
//! - [`Binding`], [`AorRecord`]: what is stored (`binding`).
//! - [`BindingStore`] (`store`), [`MemoryStore`], [`StoreStats`] (`memory`).
//! - [`Redirect`], [`RedirectAction`], [`RedirectReceiver`]: 302/404/480 (`redirect`).
//! - [`RegistrarReceiver`]: the registrar in a dispatcher, with its sweep timer (`receiver`).

#![forbid(unsafe_code)]

mod aor;
mod binding;
mod config;
mod date;
mod memory;
mod receiver;
mod redirect;
mod registrar;
mod store;

pub use aor::{Aor, AorError};
pub use binding::{AorRecord, Binding};
pub use config::{ConfigError, RegistrarConfig};
pub use memory::{MemoryStore, StoreStats};
pub use receiver::RegistrarReceiver;
pub use redirect::{Redirect, RedirectAction, RedirectReceiver};
pub use registrar::{Lookup, Registrar};
pub use store::BindingStore;

#[cfg(test)]
mod testutil;
