//! What the proxy asks of a NAT helper, wherever its relay runs (Net::SIP::NATHelper::Local
//! and ::Client share this interface).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use crate::nat::allocate::AllocateRequest;
use crate::nat::error::NatError;
use crate::nat::info::{Activation, NatStats, SessionInfo};
use crate::nat::key::{CloseRequest, SessionKey};

/// The future a [`NatHelper`] method returns.
pub type NatFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, NatError>> + Send + 'a>>;

/// A NAT helper as the proxy drives it: [`LocalNatHelper`](crate::nat::LocalNatHelper) in
/// the proxy's process, [`RemoteNatHelper`](crate::nat::RemoteNatHelper) in another.
pub trait NatHelper: Send + Sync + std::fmt::Debug {
    /// Relay sockets for the streams of one SDP body; per stream the first relay address
    /// to write into the SDP (`None` for a stream left alone). The same request again gets
    /// the same sockets.
    fn allocate(&self, request: AllocateRequest) -> NatFuture<'_, Vec<Option<SocketAddr>>>;

    /// Starts relaying between the offer's and the answer's sockets of a transaction.
    fn activate(&self, key: SessionKey) -> NatFuture<'_, Activation>;

    /// Closes sessions (a BYE, a CANCEL, an error response); the sessions closed.
    fn close(&self, request: CloseRequest) -> NatFuture<'_, Vec<SessionInfo>>;

    /// Expires what is due now (the helper also does this by itself); the sessions that
    /// expired for lack of packets.
    fn expire(&self) -> NatFuture<'_, Vec<SessionInfo>>;

    /// How much the helper holds.
    fn stats(&self) -> NatFuture<'_, NatStats>;
}
