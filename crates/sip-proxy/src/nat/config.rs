//! How long relay sessions live, how many sockets they may take, and which ports they use.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The limits and timeouts of a NAT helper. The timeouts are Net::SIP's defaults.
///
/// ```
/// use std::time::Duration;
/// use sip_proxy::nat::{NatConfig, PortRange};
/// let config = NatConfig::new()
///     .active_timeout(Duration::from_secs(60))
///     .max_sockets(200)
///     .ports("40000-40999".parse::<PortRange>().unwrap());
/// assert_eq!(config.unused_timeout, Duration::from_secs(180));
/// assert_eq!(config.ports.len(), 1000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NatConfig {
    /// How long sockets that no session uses stay allocated (an offer nobody answered):
    /// 180 s.
    pub unused_timeout: Duration,
    /// How long an active session lives without a packet in either direction: 30 s.
    pub active_timeout: Duration,
    /// How long a closed session still relays (packets in flight) before its sockets are
    /// closed: 1 s.
    pub closed_timeout: Duration,
    /// The most relay sockets at a time: 1000. Each relayed RTP stream takes four (RTP and
    /// RTCP on each side); the default stays well under the usual limit of 1024 open files
    /// together with the proxy's own.
    pub max_sockets: usize,
    /// The most relay sockets one call (Call-ID) may hold: 32, so that one call cannot take
    /// them all. A re-INVITE allocates new sockets while the old ones still count.
    pub max_sockets_per_call: usize,
    /// The UDP ports relay sockets are bound on: 30000 to 39999.
    pub ports: PortRange,
}

impl Default for NatConfig {
    fn default() -> Self {
        Self {
            unused_timeout: Duration::from_secs(180),
            active_timeout: Duration::from_secs(30),
            closed_timeout: Duration::from_secs(1),
            max_sockets: 1000,
            max_sockets_per_call: 32,
            ports: PortRange::DEFAULT,
        }
    }
}

impl NatConfig {
    /// Net::SIP's timeouts, 1000 sockets (32 per call) on ports 30000 to 39999.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long unused sockets stay allocated.
    #[must_use]
    pub fn unused_timeout(mut self, t: Duration) -> Self {
        self.unused_timeout = t;
        self
    }

    /// How long an active session lives without packets.
    #[must_use]
    pub fn active_timeout(mut self, t: Duration) -> Self {
        self.active_timeout = t;
        self
    }

    /// How long a closed session still relays.
    #[must_use]
    pub fn closed_timeout(mut self, t: Duration) -> Self {
        self.closed_timeout = t;
        self
    }

    /// The most relay sockets in total.
    #[must_use]
    pub fn max_sockets(mut self, n: usize) -> Self {
        self.max_sockets = n;
        self
    }

    /// The most relay sockets per call.
    #[must_use]
    pub fn max_sockets_per_call(mut self, n: usize) -> Self {
        self.max_sockets_per_call = n;
        self
    }

    /// The ports to bind relay sockets on.
    #[must_use]
    pub fn ports(mut self, ports: PortRange) -> Self {
        self.ports = ports;
        self
    }
}

/// An inclusive range of UDP ports, written `MIN-MAX` (Net::SIP's `rtp=MIN-MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    first: u16,
    last: u16,
}

/// Why a port range does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortRangeError {
    /// Not `MIN-MAX` with two port numbers.
    #[error("port range {0:?} is not MIN-MAX with ports 1 to 65535")]
    Syntax(String),
    /// MIN above MAX.
    #[error("port range {0:?} is empty: MIN is above MAX")]
    Empty(String),
}

impl PortRange {
    /// 30000 to 39999.
    pub const DEFAULT: Self = Self {
        first: 30000,
        last: 39999,
    };

    /// `first` to `last`, inclusive; `None` when `first` is 0 or above `last`.
    pub fn new(first: u16, last: u16) -> Option<Self> {
        (first > 0 && first <= last).then_some(Self { first, last })
    }

    /// The first port.
    pub fn first(&self) -> u16 {
        self.first
    }

    /// The last port.
    pub fn last(&self) -> u16 {
        self.last
    }

    /// How many ports there are.
    pub fn len(&self) -> usize {
        usize::from(self.last - self.first) + 1
    }

    /// Never: a range has at least one port.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = PortRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || PortRangeError::Syntax(s.to_owned());
        let (a, b) = s.split_once('-').ok_or_else(syntax)?;
        let first: u16 = a.trim().parse().map_err(|_| syntax())?;
        let last: u16 = b.trim().parse().map_err(|_| syntax())?;
        if first == 0 {
            return Err(syntax());
        }
        Self::new(first, last).ok_or_else(|| PortRangeError::Empty(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_parse_and_refuse() {
        let r: PortRange = "2000-2999".parse().unwrap();
        assert_eq!((r.first(), r.last(), r.len()), (2000, 2999, 1000));
        assert_eq!(r.to_string(), "2000-2999");
        assert_eq!("7-7".parse::<PortRange>().unwrap().len(), 1);
        for bad in ["", "2000", "a-b", "0-10", "1-70000", "-5", "5-"] {
            assert_eq!(
                bad.parse::<PortRange>(),
                Err(PortRangeError::Syntax(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            "10-5".parse::<PortRange>(),
            Err(PortRangeError::Empty("10-5".to_owned()))
        );
        assert_eq!(PortRange::new(0, 1), None);
    }
}
