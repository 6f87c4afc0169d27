//! A SIP user agent (Net::SIP::Endpoint and Endpoint::Context): calls made and answered,
//! their dialogs, REGISTER with refresh, and digest authentication, on a
//! [`Dispatcher`](sip_dispatch::Dispatcher).
//!
//! The protocol rules live in plain types that own no IO and read no clock: [`Dialog`]
//! (RFC 3261 §12, requests inside a dialog with loose and strict routing, [`request_target`]),
//! [`AuthSession`] (answering 401/407 without looping), [`redirect_target`] (3xx),
//! [`Retransmit2xx`] (§13.3.1.4) and [`granted_expires`]/[`refresh_at`] (§10.2.4).
//! [`Endpoint`] ties them to the dispatcher and tokio's clock; the application is told about
//! incoming requests through [`Application`] and about its own requests through
//! [`ContextCallback`].
//!
//! ```no_run
//! use sip_dispatch::{Dispatcher, DispatcherConfig};
//! use sip_endpoint::{CallEvent, CallParams, Endpoint, EndpointConfig, RequestOptions};
//! use sip_transport::LegConfig;
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let dispatcher = Dispatcher::new(
//!     vec![LegConfig::new("udp:127.0.0.1:5060".parse()?)],
//!     DispatcherConfig::default(),
//! ).await?;
//! let endpoint = Endpoint::new(dispatcher, EndpointConfig::default());
//! // Answer every incoming INVITE at once.
//! endpoint.set_application(|ep: &Endpoint, ctx: &sip_endpoint::Context, req: &sip_packet::Request, _: &sip_transport::Leg, _| {
//!     if req.method() == &sip_packet::Method::Invite {
//!         let _ = ep.new_response(ctx, 200, req);
//!     }
//!     true
//! });
//! // Call someone; hang up once the call is up.
//! let ctx = endpoint.call(
//!     CallParams::parse("<sip:alice@127.0.0.1>", "<sip:bob@127.0.0.1:5070>")?,
//!     RequestOptions::new().callback(|ep: &Endpoint, ctx: &sip_endpoint::Context, ev: &CallEvent| {
//!         if let CallEvent::Response(r) = ev {
//!             if r.is_success() && ctx.is_established() {
//!                 let _ = ep.new_request(sip_packet::Method::Bye, ctx, RequestOptions::new());
//!             }
//!         }
//!     }),
//! )?;
//! # let _ = ctx; Ok(()) }
//! ```
//!
//! Map of the crate:
//! - [`Endpoint`]: `endpoint` (API), `driver` (its task and timers), `uac` (our requests),
//!   `uas` (the peer's), `register` (REGISTER client).
//! - [`Context`], [`CallParams`], [`RequestOptions`]: a call.
//! - [`Dialog`], [`DialogState`], [`Role`]; [`request_target`]: `dialog`, `route_set`.
//! - [`Application`], [`ContextCallback`], [`CallEvent`]: who hears what.
//! - [`Credentials`], [`AuthSession`], [`AuthError`]: `auth`.
//! - [`RegisterParams`], [`Registration`]: `registration`.
//! - [`Redirect`], [`Retransmit2xx`], [`ResponseSpec`], [`EndpointConfig`], errors.

#![forbid(unsafe_code)]

mod application;
mod auth;
mod config;
mod context;
mod dialog;
mod driver;
mod endpoint;
mod error;
mod redirect;
mod register;
mod registration;
mod response;
mod retransmit;
mod route_set;
mod uac;
mod uas;

pub use application::{Application, CallEvent, ContextCallback};
pub use auth::{AuthError, AuthSession, Credentials};
pub use config::EndpointConfig;
pub use context::{CallParams, Context, RequestOptions};
pub use dialog::{Dialog, DialogState, Role};
pub use endpoint::Endpoint;
pub use error::{DialogError, EndpointError, RequestError};
pub use redirect::{redirect_target, Redirect};
pub use registration::{granted_expires, refresh_at, RegisterParams, Registration};
pub use response::ResponseSpec;
pub use retransmit::{Retransmit2xx, RetransmitAction};
pub use route_set::request_target;
