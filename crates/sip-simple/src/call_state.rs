//! Where a call is ([`CallState`]), why it ended ([`EndReason`]) and what its listeners hear
//! ([`CallEvent`]).

use std::fmt;

/// Where a call is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallState {
    /// Our INVITE is out, no provisional answer with a tag yet (outgoing), or the INVITE was
    /// just received (incoming).
    Calling,
    /// The peer rings (we got a 18x), or we ring (we sent a 180).
    Ringing,
    /// Media flows before the answer (a 183 with SDP).
    EarlyMedia,
    /// The call is answered.
    Established,
    /// The call is over.
    Ended(EndReason),
}

impl CallState {
    /// Whether the call is over.
    pub fn is_ended(&self) -> bool {
        matches!(self, Self::Ended(_))
    }

    /// Whether the call is answered and not over.
    pub fn is_established(&self) -> bool {
        matches!(self, Self::Established)
    }
}

impl fmt::Display for CallState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Calling => f.write_str("calling"),
            Self::Ringing => f.write_str("ringing"),
            Self::EarlyMedia => f.write_str("in early media"),
            Self::Established => f.write_str("established"),
            Self::Ended(why) => write!(f, "ended ({why})"),
        }
    }
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// We hung up (BYE), or cancelled before the answer.
    LocalHangup,
    /// The peer hung up (BYE).
    RemoteHangup,
    /// The peer cancelled its INVITE before we answered.
    RemoteCancel,
    /// Nobody answered our INVITE within the ring timeout; it was cancelled.
    NoAnswer,
    /// The INVITE was answered with an error (ours or the peer's).
    Rejected {
        /// The status.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// No RTP came from the peer for the configured time; we hung up.
    RtpTimeout,
    /// A request got no answer or the signalling failed otherwise.
    Failed(String),
    /// The user agent was shut down.
    Shutdown,
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LocalHangup => f.write_str("hung up here"),
            Self::RemoteHangup => f.write_str("hung up by the peer"),
            Self::RemoteCancel => f.write_str("cancelled by the peer"),
            Self::NoAnswer => f.write_str("no answer"),
            Self::Rejected { status, reason } => write!(f, "rejected with {status} {reason}"),
            Self::RtpTimeout => f.write_str("no RTP from the peer"),
            Self::Failed(why) => write!(f, "failed: {why}"),
            Self::Shutdown => f.write_str("user agent shut down"),
        }
    }
}

/// What a call's listeners hear ([`Call::events`](crate::Call::events)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// The peer rings (18x), or we ring an incoming call (180 sent).
    Ringing,
    /// Media flows before the answer.
    EarlyMedia,
    /// The call is answered (outgoing: the 2xx came; incoming: the ACK came).
    Established,
    /// The peer sent a DTMF digit (RFC 4733 event or in-band tone).
    Dtmf(char),
    /// Every audio file of the call's media has been sent.
    MediaDone,
    /// The peer put the call on hold (`true`) or took it off hold (`false`).
    RemoteHold(bool),
    /// The call is over.
    Ended(EndReason),
}
