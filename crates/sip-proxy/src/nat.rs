//! The NAT helper (Net::SIP::NATHelper): an RTP relay for calls through the proxy between
//! parties that cannot reach each other.
//!
//! When [`ProxyConfig::nat`](crate::ProxyConfig::nat) is set, the proxy rewrites the SDP of
//! INVITE, UPDATE, PRACK and ACK requests and of their 1xx/2xx answers so that every stream
//! names a relay socket (allocated per call, per transaction and per stream, RTP and RTCP on
//! consecutive ports), activates the relay session on the answer (and on the ACK), and closes
//! it on BYE, CANCEL and error responses. The relay forwards RTP and RTCP both ways with
//! symmetric latching: it sends to where a party's packets come from once it has seen one,
//! else to the address in that party's SDP.
//!
//! The parts, from the inside out:
//! - [`NatSessions`] (`sessions`): the session table without IO: allocation decisions,
//!   per-call and total socket limits, activation, close, and expiry by an `Instant` passed in
//!   (unused 180 s after allocation, 30 s without packets once active, 1 s after close; see
//!   [`NatConfig`] in `config`). It says what the relay must do as [`NatEvent`]s (`event`: [`GroupId`],
//!   [`SessionId`], [`SocketRef`], [`RelayPair`]).
//! - [`Relay`] (`relay`, `ports`): the tokio side that owns the UDP sockets and forwards
//!   packets, one task per pair of relay sockets, with a fixed buffer each.
//! - [`NatHelper`] (`helper`): what the proxy calls, with two implementations:
//!   [`LocalNatHelper`] (`local`, the relay in the proxy's process, `netsip proxy --nat`) and
//!   [`RemoteNatHelper`] (`client`, talking to a `netsip nathelper` process), which a
//!   [`NatControlServer`] (`server`) answers. The control protocol (`protocol`,
//!   [`ControlRequest`], [`ControlReply`]) is line-delimited JSON over TCP, documented in
//!   `NATHELPER.md`.
//! - The proxy's side (`hook`): what a forwarded message needs ([`NatPending`],
//!   [`NatFollowUp`], [`NatScope`]) and the SDP rewrite (`sdp`), reached through
//!   [`Decision::Nat`](crate::Decision::Nat) and [`ProxyCore::handle_nat`](crate::ProxyCore::handle_nat).
//! - Names: [`PartyId`], [`SessionKey`], [`CloseRequest`], [`Side`] (`key`);
//!   [`AllocateRequest`], [`StreamRequest`], [`BindRequest`], [`Allocation`] (`allocate`); [`SessionInfo`], [`Activation`],
//!   [`NatStats`], [`CloseReason`] (`info`); [`NatError`] (`error`).

mod allocate;
mod client;
mod config;
mod error;
mod event;
mod helper;
mod hook;
mod info;
mod key;
mod local;
mod ports;
mod protocol;
mod relay;
mod sdp;
mod server;
mod sessions;

pub use allocate::{AllocateRequest, Allocation, BindRequest, StreamRequest};
pub use client::RemoteNatHelper;
pub use config::{NatConfig, PortRange, PortRangeError};
pub use error::NatError;
pub use event::{GroupId, NatEvent, RelayPair, SessionId, SocketRef};
pub use helper::{NatFuture, NatHelper};
pub use hook::{NatFollowUp, NatPending, NatScope};
pub use info::{Activation, CloseReason, NatStats, SessionInfo};
pub use key::{CloseRequest, PartyId, SessionKey, Side};
pub use local::LocalNatHelper;
pub use protocol::{
    parse_reply, parse_request, ControlError, ControlReply, ControlRequest, ErrorCode,
    CONTROL_VERSION, MAX_LINE,
};
pub use relay::Relay;
pub use server::NatControlServer;
pub use sessions::NatSessions;

#[cfg(test)]
mod tests;
