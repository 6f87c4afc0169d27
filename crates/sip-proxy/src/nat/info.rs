//! What the NAT helper reports about its sessions (Net::SIP's `info_as_hash`).

use std::fmt;
use std::time::Duration;

use crate::nat::key::PartyId;

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// A BYE, CANCEL or error response closed it.
    Closed,
    /// A later offer/answer between the same parties took its place (a re-INVITE).
    Replaced,
    /// No packet for [`NatConfig::active_timeout`](crate::nat::NatConfig::active_timeout).
    Expired,
}

impl CloseReason {
    /// `closed`, `replaced` or `expired`, as the control protocol writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Replaced => "replaced",
            Self::Expired => "expired",
        }
    }

    /// The reason named by [`CloseReason::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "closed" => Some(Self::Closed),
            "replaced" => Some(Self::Replaced),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One relay session as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session's number, unique in its helper.
    pub id: u64,
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq number of the offering transaction.
    pub cseq: u32,
    /// The offering party.
    pub from: PartyId,
    /// The answering party.
    pub to: PartyId,
    /// Bytes relayed from the `from` party (received on the sockets it sends to).
    pub bytes_from: u64,
    /// Bytes relayed from the `to` party.
    pub bytes_to: u64,
    /// How long the session had existed when reported.
    pub age: Duration,
    /// Why it ended; `None` while it runs.
    pub reason: Option<CloseReason>,
}

/// The answer to an activation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Activation {
    /// The session.
    pub session: SessionInfo,
    /// Whether it was active before (a retransmitted answer, or the ACK after the 200).
    pub existing: bool,
    /// The earlier sessions between the same two parties that it replaced.
    pub replaced: Vec<SessionInfo>,
}

/// How much a NAT helper holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NatStats {
    /// Calls with relay sockets.
    pub calls: usize,
    /// Sessions relaying.
    pub sessions: usize,
    /// Sessions closed but still relaying for the closed timeout.
    pub closing: usize,
    /// Socket groups (one per SDP body that got sockets).
    pub groups: usize,
    /// Relay sockets bound.
    pub sockets: usize,
}
