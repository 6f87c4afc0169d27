//! What can go wrong in the NAT helper.

use std::net::{IpAddr, SocketAddr};

use crate::nat::config::PortRange;
use crate::nat::key::PartyId;
use crate::nat::protocol::ErrorCode;

/// A NAT helper request that could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NatError {
    /// The call would hold more sockets than [`NatConfig::max_sockets_per_call`](crate::nat::NatConfig::max_sockets_per_call).
    #[error("call {call_id}: {needed} more relay sockets would pass the limit of {max} per call ({in_use} in use)")]
    CallLimit {
        /// The Call-ID.
        call_id: String,
        /// How many the request needs.
        needed: usize,
        /// How many the call holds.
        in_use: usize,
        /// The limit.
        max: usize,
    },
    /// The helper would hold more sockets than [`NatConfig::max_sockets`](crate::nat::NatConfig::max_sockets).
    #[error(
        "{needed} more relay sockets would pass the limit of {max} in total ({in_use} in use)"
    )]
    TotalLimit {
        /// How many the request needs.
        needed: usize,
        /// How many are held.
        in_use: usize,
        /// The limit.
        max: usize,
    },
    /// No run of free ports could be bound.
    #[error("cannot bind {count} consecutive UDP ports on {address} in {ports}: {reason}")]
    Bind {
        /// The address.
        address: IpAddr,
        /// How many consecutive ports were wanted.
        count: usize,
        /// The range searched.
        ports: PortRange,
        /// The last failure.
        reason: String,
    },
    /// An SDP for an older transaction of a party than one it already started (a late
    /// retransmission): no sockets for it.
    #[error("call {call_id}: CSeq {cseq} from {party} is older than its CSeq {newer}")]
    StaleCSeq {
        /// The Call-ID.
        call_id: String,
        /// The request's CSeq number.
        cseq: u32,
        /// The party.
        party: PartyId,
        /// The newer CSeq number seen.
        newer: u32,
    },
    /// An activation before both parties' sockets were allocated.
    #[error("call {call_id} CSeq {cseq}: no relay sockets for both {from} and {to}")]
    Incomplete {
        /// The Call-ID.
        call_id: String,
        /// The CSeq number.
        cseq: u32,
        /// The offering party.
        from: PartyId,
        /// The answering party.
        to: PartyId,
    },
    /// [`LocalNatHelper::start`](crate::nat::LocalNatHelper::start) outside a tokio runtime.
    #[error("the NAT helper needs a tokio runtime to run its relay in")]
    NoRuntime,
    /// The control connection to a `netsip nathelper` failed.
    #[error("nathelper control connection to {addr}: {reason}")]
    Control {
        /// The nathelper's control address.
        addr: SocketAddr,
        /// What failed.
        reason: String,
    },
    /// The `netsip nathelper` answered with an error.
    #[error("nathelper refused ({code}): {message}")]
    Remote {
        /// The protocol's error code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
}

impl NatError {
    /// The control protocol's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::CallLimit { .. } | Self::TotalLimit { .. } => ErrorCode::Limit,
            Self::Bind { .. } => ErrorCode::Bind,
            Self::StaleCSeq { .. } => ErrorCode::Stale,
            Self::Incomplete { .. } => ErrorCode::Incomplete,
            Self::NoRuntime | Self::Control { .. } => ErrorCode::Failed,
            Self::Remote { code, .. } => *code,
        }
    }
}
