//! What the session table tells the relay: which sockets, which pairs, start and stop.

use std::fmt;
use std::net::SocketAddr;

/// A group of relay sockets: those allocated for one SDP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub(crate) u64);

impl GroupId {
    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "g{}", self.0)
    }
}

/// A relay session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub(crate) u64);

impl SessionId {
    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// One socket of a group: socket `index` of stream `stream` (0 is RTP, 1 RTCP for an RTP
/// stream with one port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SocketRef {
    /// The group.
    pub group: GroupId,
    /// The stream (`m=` line) in the group.
    pub stream: usize,
    /// The socket in the stream.
    pub index: u16,
}

/// Two relay sockets that forward to each other: what the `from` party sends to
/// `facing_from` leaves through `facing_to` towards the `to` party, and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RelayPair {
    /// The socket the `from` party was given (in the answer's SDP).
    pub facing_from: SocketRef,
    /// The socket the `to` party was given (in the offer's SDP).
    pub facing_to: SocketRef,
    /// Where the `from` party receives, per its SDP (until a packet from it is seen).
    pub from_media: Option<SocketAddr>,
    /// Where the `to` party receives, per its SDP.
    pub to_media: Option<SocketAddr>,
}

/// What the relay must do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatEvent {
    /// Start relaying between these pairs of sockets.
    Start {
        /// The session.
        session: SessionId,
        /// The socket pairs.
        pairs: Vec<RelayPair>,
    },
    /// Stop relaying for this session.
    Stop(SessionId),
    /// Close the sockets of this group.
    Release(GroupId),
}
