//! The server side of Net::SIP between endpoints: a stateless proxy (RFC 3261 §16.11,
//! Net::SIP::StatelessProxy), digest authorization (Net::SIP::Authorize), and the Blocker and
//! Dropper that keep unwanted requests out.
//!
//! Each is a [`Receiver`](sip_dispatch::Receiver) for a
//! [`Dispatcher`](sip_dispatch::Dispatcher), meant to be put in a
//! [`ReceiveChain`](sip_dispatch::ReceiveChain): droppers and blockers first, then the
//! authorizer, then (for REGISTER) a registrar, then the proxy. The protocol decisions are
//! plain types without IO: [`ProxyCore`] takes a message and returns a [`Decision`];
//! [`DigestAuth`] takes a request and the time and says whether it passes.
//!
//! ```no_run
//! use std::sync::Arc;
//! use sip_dispatch::{Dispatcher, DispatcherConfig, ReceiveChain, Receiver};
//! use sip_proxy::{Authorize, AuthConfig, ProxyConfig, StatelessProxy, UserFile};
//! use sip_transport::LegConfig;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let dispatcher = Dispatcher::new(
//!     vec![LegConfig::new("udp:127.0.0.1:5060".parse()?)],
//!     DispatcherConfig::default().do_retransmits(false),
//! ).await?;
//! let users = UserFile::parse("alice:secret\n")?;
//! let auth = Authorize::new(dispatcher.clone(), AuthConfig::new("example.com", Arc::new(users)));
//! let proxy = StatelessProxy::new(dispatcher.clone(), ProxyConfig::new().record_route(true));
//! let chain: Vec<Arc<dyn Receiver>> = vec![Arc::new(auth), Arc::new(proxy)];
//! dispatcher.set_receiver(Arc::new(ReceiveChain::new(chain)));
//! # Ok(()) }
//! ```
//!
//! Map of the crate:
//! - [`StatelessProxy`] (`proxy`): the proxy in a dispatcher; [`ProxyCore`] (`core`): its
//!   decisions; [`Decision`], [`Pending`] (`decision`); [`ProxyConfig`], [`RewriteContact`]
//!   (`config`).
//! - [`ProxyBranch`] (`branch`): the derived Via branch and loop detection.
//! - [`ContactRewriter`], [`ContactOrigin`] (`contact`): Contact rewriting for NAT.
//! - [`Locate`] (`locate`): the location service (a registrar).
//! - [`LegInfo`], [`Legs`] (`legs`): the proxy's own addresses.
//! - [`Authorize`] (`authorize`), [`DigestAuth`], [`AuthConfig`], [`AuthOutcome`] (`digest`),
//!   [`NonceMint`], [`NonceState`] (`nonce`), [`UserStore`], [`UserSecret`], [`UserFile`],
//!   [`UserFileError`] (`users`).
//! - [`Blocker`], [`BlockOutcome`] (`blocker`); [`Dropper`], [`DropRule`] (`dropper`).
//! - [`nat`]: the NAT helper (Net::SIP::NATHelper), an RTP relay for calls through the
//!   proxy, in the proxy's process ([`LocalNatHelper`]) or in another one
//!   ([`RemoteNatHelper`], [`NatControlServer`]); switched on with [`ProxyConfig::nat`].

#![forbid(unsafe_code)]

mod authorize;
mod blocker;
mod branch;
mod config;
mod contact;
mod core;
mod decision;
mod digest;
mod dropper;
mod hmac;
mod legs;
mod locate;
pub mod nat;
mod nonce;
mod proxy;
mod reply;
mod users;

pub use authorize::Authorize;
pub use blocker::{BlockOutcome, Blocker};
pub use branch::{is_proxy_branch, ProxyBranch, BRANCH_PREFIX};
pub use config::{ProxyConfig, RewriteContact};
pub use contact::{ContactOrigin, ContactRewriter};
pub use core::ProxyCore;
pub use decision::{Decision, Pending};
pub use digest::{AuthConfig, AuthOutcome, DigestAuth};
pub use dropper::{DropRule, Dropper};
pub use legs::{LegInfo, Legs};
pub use locate::Locate;
pub use nat::{LocalNatHelper, NatConfig, NatControlServer, NatHelper, NatScope, RemoteNatHelper};
pub use nonce::{NonceMint, NonceState};
pub use proxy::StatelessProxy;
pub use users::{UserFile, UserFileError, UserSecret, UserStore};
