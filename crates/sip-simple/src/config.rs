//! What a [`Simple`](crate::Simple) user agent is made of (Net::SIP::Simple's `new` arguments):
//! who we are, where we listen, where requests go, how we authenticate, which RTP ports we
//! use and how long calls wait.

use std::fmt;
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use sip_dispatch::resolve::DnsResolver;
use sip_transport::{LegConfig, TransportAddr};

/// How a [`Simple`](crate::Simple) is set up. Built with chained calls:
///
/// ```
/// use std::time::Duration;
/// use sip_simple::SimpleConfig;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = SimpleConfig::new("sip:alice@127.0.0.1")
///     .listen("udp:127.0.0.1:0".parse()?)
///     .credentials("alice", "secret")
///     .rtp_ports(30000..=30999)
///     .rtp_timeout(Duration::from_secs(10))
///     .ring_timeout(Some(Duration::from_secs(30)));
/// assert_eq!(config.from_address(), "sip:alice@127.0.0.1");
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SimpleConfig {
    pub(crate) from: String,
    pub(crate) legs: Vec<LegConfig>,
    pub(crate) registrar: Option<String>,
    pub(crate) outgoing_proxy: Option<String>,
    pub(crate) domain2proxy: Vec<(String, String)>,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) rtp_ports: Option<RangeInclusive<u16>>,
    pub(crate) media_address: Option<IpAddr>,
    pub(crate) rtp_timeout: Option<Duration>,
    pub(crate) ring_timeout: Option<Duration>,
    pub(crate) register_expires: u32,
    pub(crate) jitter_depth: usize,
    pub(crate) user_agent: Option<String>,
    pub(crate) seed: Option<u64>,
    pub(crate) resolver: Option<Arc<dyn DnsResolver>>,
}

impl fmt::Debug for SimpleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleConfig")
            .field("from", &self.from)
            .field("legs", &self.legs.len())
            .field("registrar", &self.registrar)
            .field("outgoing_proxy", &self.outgoing_proxy)
            .field("domain2proxy", &self.domain2proxy)
            .field("credentials", &self.credentials.as_ref().map(|(u, _)| u))
            .field("rtp_ports", &self.rtp_ports)
            .field("media_address", &self.media_address)
            .field("rtp_timeout", &self.rtp_timeout)
            .field("ring_timeout", &self.ring_timeout)
            .field("register_expires", &self.register_expires)
            .field("jitter_depth", &self.jitter_depth)
            .finish_non_exhaustive()
    }
}

impl SimpleConfig {
    /// A user agent for `from` (`sip:alice@example.com`, or `alice@example.com`), with no leg
    /// yet (add one with [`listen`](Self::listen)), RTP ports from the OS, hang-up after 10 s
    /// without RTP, no ring timeout, registrations asked for 3600 s.
    pub fn new(from: impl Into<String>) -> Self {
        Self {
            from: from.into(),
            legs: Vec::new(),
            registrar: None,
            outgoing_proxy: None,
            domain2proxy: Vec::new(),
            credentials: None,
            rtp_ports: None,
            media_address: None,
            rtp_timeout: Some(Duration::from_secs(10)),
            ring_timeout: None,
            register_expires: 3600,
            jitter_depth: 3,
            user_agent: None,
            seed: None,
            resolver: None,
        }
    }

    /// Our address (From of our requests) as given.
    pub fn from_address(&self) -> &str {
        &self.from
    }

    /// Listens for SIP on `addr` (`udp:127.0.0.1:5070`; port 0 picks a free port). Repeatable:
    /// each address is a leg, the first one gives our Contact and the media address.
    #[must_use]
    pub fn listen(mut self, addr: TransportAddr) -> Self {
        self.legs.push(LegConfig::new(addr));
        self
    }

    /// Adds a leg with its whole configuration (TLS certificates, limits).
    #[must_use]
    pub fn leg(mut self, leg: LegConfig) -> Self {
        self.legs.push(leg);
        self
    }

    /// The registrar [`Simple::register`](crate::Simple::register) registers at:
    /// `host:port` or a SIP URI.
    #[must_use]
    pub fn registrar(mut self, registrar: impl Into<String>) -> Self {
        self.registrar = Some(registrar.into());
        self
    }

    /// Sends every request that [`domain2proxy`](Self::domain2proxy) does not route through
    /// this proxy (`host:port` or a SIP URI).
    #[must_use]
    pub fn outgoing_proxy(mut self, proxy: impl Into<String>) -> Self {
        self.outgoing_proxy = Some(proxy.into());
        self
    }

    /// Sends requests for `domain` (`example.com`, `*.example.com` or `*`) to `proxy`
    /// (`host:port` or a SIP URI).
    #[must_use]
    pub fn domain2proxy(mut self, domain: impl Into<String>, proxy: impl Into<String>) -> Self {
        self.domain2proxy.push((domain.into(), proxy.into()));
        self
    }

    /// Answers digest challenges (401, 407) with this user and password.
    #[must_use]
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Takes each call's RTP/RTCP port pairs from this range (an even RTP port and the next
    /// one for RTCP). Without a range the OS picks the ports.
    #[must_use]
    pub fn rtp_ports(mut self, ports: RangeInclusive<u16>) -> Self {
        self.rtp_ports = Some(ports);
        self
    }

    /// The address media sockets bind to and our SDP announces; the first leg's address
    /// when not given (which must then not be a wildcard address like `0.0.0.0`).
    #[must_use]
    pub fn media_address(mut self, ip: IpAddr) -> Self {
        self.media_address = Some(ip);
        self
    }

    /// Hangs up a call after this long without RTP from the peer on a stream flowing both
    /// ways (not during hold). Default 10 s, as Net::SIP.
    #[must_use]
    pub fn rtp_timeout(mut self, timeout: Duration) -> Self {
        self.rtp_timeout = Some(timeout);
        self
    }

    /// Never hangs up for lack of RTP.
    #[must_use]
    pub fn no_rtp_timeout(mut self) -> Self {
        self.rtp_timeout = None;
        self
    }

    /// How long an outgoing call rings before it is cancelled (CANCEL, the call ends with
    /// [`EndReason::NoAnswer`](crate::EndReason::NoAnswer)); `None` waits for the peer's final
    /// answer. A call's [`CallOptions::ring_timeout`](crate::CallOptions::ring_timeout) wins.
    #[must_use]
    pub fn ring_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.ring_timeout = timeout;
        self
    }

    /// The registration time asked for, in seconds (default 3600).
    #[must_use]
    pub fn register_expires(mut self, seconds: u32) -> Self {
        self.register_expires = seconds;
        self
    }

    /// How many 20 ms packets the receive jitter buffer holds back before playout (default 3,
    /// clamped to 1..=50).
    #[must_use]
    pub fn jitter_depth(mut self, packets: usize) -> Self {
        self.jitter_depth = packets.clamp(1, 50);
        self
    }

    /// Sends this User-Agent header.
    #[must_use]
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Seeds tags, Call-IDs, branches and SSRCs: the same run gives the same values.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Resolves host names with this resolver instead of the system's.
    #[must_use]
    pub fn resolver(mut self, resolver: Arc<dyn DnsResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }
}
