//! What the proxy asks for when an SDP body passes: relay sockets for each stream
//! (Net::SIP's `allocate_sockets`).

use std::net::{IpAddr, SocketAddr};

use crate::nat::event::GroupId;
use crate::nat::key::{SessionKey, Side};

/// One media stream (`m=` line) of an SDP body, as the relay sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct StreamRequest {
    /// Where the party whose SDP this is receives the stream's first port (RTP); socket `i`
    /// of the stream relays to this port plus `i` (RTCP on the next one, RFC 3550 §11).
    /// `None` when the SDP names no IP address (a host name): the relay then sends only
    /// after it has seen a packet from the party.
    pub target: Option<SocketAddr>,
    /// How many consecutive relay sockets the stream needs: the `m=` line's port count,
    /// doubled for RTP (RTP and RTCP). 0 for a stream that is not relayed (port 0: disabled;
    /// address 0.0.0.0: on hold): its line is left as it is.
    pub sockets: u16,
}

impl StreamRequest {
    /// A stream to relay through `sockets` consecutive sockets to `target` and up.
    pub fn relay(target: Option<SocketAddr>, sockets: u16) -> Self {
        Self { target, sockets }
    }

    /// A stream that is left alone.
    pub fn untouched() -> Self {
        Self {
            target: None,
            sockets: 0,
        }
    }

    /// Whether the stream gets relay sockets.
    pub fn is_relayed(&self) -> bool {
        self.sockets > 0
    }
}

/// Relay sockets for the streams of one SDP body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AllocateRequest {
    /// The transaction (and, for [`Side::To`], the answering party).
    pub key: SessionKey,
    /// Whose media the SDP describes.
    pub side: Side,
    /// The address to bind the relay sockets on: the proxy's address on the leg the SDP
    /// leaves on, where the party that gets the SDP can reach it.
    pub address: IpAddr,
    /// The streams, in the order of the `m=` lines.
    pub media: Vec<StreamRequest>,
}

impl AllocateRequest {
    /// A request from its parts.
    pub fn new(key: SessionKey, side: Side, address: IpAddr, media: Vec<StreamRequest>) -> Self {
        Self {
            key,
            side,
            address,
            media,
        }
    }

    /// How many sockets the request needs in all.
    pub fn sockets(&self) -> usize {
        self.media.iter().map(|m| usize::from(m.sockets)).sum()
    }
}

/// Sockets the table wants bound for a new group: `sockets[i]` consecutive UDP ports on
/// `address` for stream `i` (none when 0), the first of them even for RTP's sake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BindRequest {
    /// The group they will form.
    pub group: GroupId,
    /// Where to bind.
    pub address: IpAddr,
    /// How many consecutive ports per stream.
    pub sockets: Vec<u16>,
}

/// The answer to an allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Allocation {
    /// The group that holds the sockets; `None` when no stream needed any.
    pub group: Option<GroupId>,
    /// Whether the group was bound for this request (else it existed: a retransmission).
    pub fresh: bool,
    /// Per stream, the first relay address (`None` for a stream left alone).
    pub media: Vec<Option<SocketAddr>>,
}
