//! Which way media flows: `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`
//! (RFC 8866 §6.7, RFC 3264 §6.1).

use std::fmt;

/// The direction of a media stream, seen from the side that wrote the description.
///
/// A media-level attribute overrides a session-level one; with neither, the direction is
/// [`Direction::SendRecv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `sendrecv`: send and receive (the default).
    #[default]
    SendRecv,
    /// `sendonly`: send only; also how a call is put on hold.
    SendOnly,
    /// `recvonly`: receive only.
    RecvOnly,
    /// `inactive`: neither send nor receive.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction an attribute name stands for, if it is one of the four.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Self::SendRecv),
            "sendonly" => Some(Self::SendOnly),
            "recvonly" => Some(Self::RecvOnly),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }

    /// The direction from these two flags.
    pub fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// Whether the writer sends media.
    pub fn is_sending(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether the writer receives media.
    pub fn is_receiving(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The same flow seen from the other side: what an answer says to an offer
    /// (RFC 3264 §6.1: sendonly is answered recvonly, recvonly sendonly, inactive inactive).
    #[must_use]
    pub fn reverse(self) -> Self {
        Self::from_flags(self.is_receiving(), self.is_sending())
    }

    /// Only what both directions allow.
    #[must_use]
    pub fn intersect(self, other: Self) -> Self {
        Self::from_flags(
            self.is_sending() && other.is_sending(),
            self.is_receiving() && other.is_receiving(),
        )
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_mirrors_rfc3264() {
        assert_eq!(Direction::SendOnly.reverse(), Direction::RecvOnly);
        assert_eq!(Direction::RecvOnly.reverse(), Direction::SendOnly);
        assert_eq!(Direction::SendRecv.reverse(), Direction::SendRecv);
        assert_eq!(Direction::Inactive.reverse(), Direction::Inactive);
    }

    #[test]
    fn intersect_and_names() {
        assert_eq!(
            Direction::SendRecv.intersect(Direction::SendOnly),
            Direction::SendOnly
        );
        assert_eq!(
            Direction::SendOnly.intersect(Direction::RecvOnly),
            Direction::Inactive
        );
        for d in [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ] {
            assert_eq!(Direction::from_name(d.as_str()), Some(d));
        }
        assert_eq!(Direction::from_name("SENDONLY"), None);
    }
}
