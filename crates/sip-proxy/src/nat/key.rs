//! Whose a relay session is: the call, the transaction and the two parties (Net::SIP's
//! `NAT_BASIC`: Call-ID, CSeq, idfrom, idto).

use std::fmt;
use std::net::SocketAddr;

use sip_packet::NameAddr;

/// One party of a call as the NAT helper tells them apart: its tag (or, before it has one,
/// its address) and the proxy leg that faces it.
///
/// The leg is part of the name because one call may pass the proxy twice on different legs
/// (a spiral), and each pass is relayed on its own.
///
/// ```
/// use sip_packet::NameAddr;
/// use sip_proxy::nat::PartyId;
/// let from = NameAddr::parse("<sip:alice@example.com>;tag=a1").unwrap();
/// let leg = "127.0.0.1:5060".parse().unwrap();
/// assert_eq!(PartyId::of(&from, leg).as_str(), "tag=a1;leg=127.0.0.1:5060");
/// let to = NameAddr::parse("Bob <sip:bob@example.com>").unwrap();
/// assert_eq!(PartyId::of(&to, leg).as_str(), "uri=sip:bob@example.com;leg=127.0.0.1:5060");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(String);

impl PartyId {
    /// A party named by any text (the control protocol carries it as a string).
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The party of a From or To header value seen through the leg bound at `leg`.
    pub fn of(address: &NameAddr, leg: SocketAddr) -> Self {
        match address.tag() {
            Some(tag) => Self(format!("tag={tag};leg={leg}")),
            None => Self(format!("uri={};leg={leg}", address.uri())),
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose media a group of relay sockets carries.
///
/// A request's SDP describes the media of its `from` party and goes to the `to` party: its
/// sockets are allocated on the `From` side. A response's SDP describes the `to` party's
/// media: `To` side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The sockets relay to the media of the request's sender (allocated for a request).
    From,
    /// The sockets relay to the media of the request's recipient (allocated for a response).
    To,
}

impl Side {
    /// `from` or `to`, as the control protocol writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::To => "to",
        }
    }
}

/// One relay session: a transaction (Call-ID and CSeq number of the request that carried the
/// offer, from the party that sent it) and the party that answered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SessionKey {
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq number of the offering transaction.
    pub cseq: u32,
    /// The party that sent the request.
    pub from: PartyId,
    /// The party the request went to (for a session: with its tag, from the answer).
    pub to: PartyId,
}

impl SessionKey {
    /// A key from its parts.
    pub fn new(call_id: impl Into<String>, cseq: u32, from: PartyId, to: PartyId) -> Self {
        Self {
            call_id: call_id.into(),
            cseq,
            from,
            to,
        }
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "call {} CSeq {} {} -> {}",
            self.call_id, self.cseq, self.from, self.to
        )
    }
}

/// What to close: one transaction's session (CANCEL, an error response), or with no CSeq
/// every session between the two parties in either direction (BYE).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CloseRequest {
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq number of the transaction; `None` for the whole call between the parties.
    pub cseq: Option<u32>,
    /// The party that sent the closing message's request.
    pub from: PartyId,
    /// The other party.
    pub to: PartyId,
}

impl CloseRequest {
    /// A close request from its parts.
    pub fn new(call_id: impl Into<String>, cseq: Option<u32>, from: PartyId, to: PartyId) -> Self {
        Self {
            call_id: call_id.into(),
            cseq,
            from,
            to,
        }
    }
}
