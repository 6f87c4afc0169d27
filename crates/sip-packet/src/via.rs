//! The Via header (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).

use std::fmt;

use bytestring::ByteString;

use crate::error::ParseError;
use crate::params::Params;
use crate::text;
use crate::uri::{split_host_port, Host};

/// The magic cookie that starts every RFC 3261 branch (§8.1.1.7).
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// A transport protocol as named in Via and in the `transport` URI parameter.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Transport {
    /// UDP
    Udp,
    /// TCP
    Tcp,
    /// TLS over TCP
    Tls,
    /// SCTP (RFC 4168)
    Sctp,
    /// TLS over SCTP
    TlsSctp,
    /// WebSocket (RFC 7118)
    Ws,
    /// Secure WebSocket (RFC 7118)
    Wss,
    /// Any other transport, as written.
    Other(ByteString),
}

impl Transport {
    /// Parses a transport name, ignoring case.
    pub fn parse(s: &str) -> Self {
        Self::known(s).unwrap_or_else(|| Self::Other(ByteString::from(s)))
    }

    fn known(s: &str) -> Option<Self> {
        Some(match s.len() {
            2 if s.eq_ignore_ascii_case("ws") => Self::Ws,
            3 if s.eq_ignore_ascii_case("udp") => Self::Udp,
            3 if s.eq_ignore_ascii_case("tcp") => Self::Tcp,
            3 if s.eq_ignore_ascii_case("tls") => Self::Tls,
            3 if s.eq_ignore_ascii_case("wss") => Self::Wss,
            4 if s.eq_ignore_ascii_case("sctp") => Self::Sctp,
            8 if s.eq_ignore_ascii_case("tls-sctp") => Self::TlsSctp,
            _ => return None,
        })
    }

    /// The name as written in a Via: upper case for the known transports.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
            Self::Sctp => "SCTP",
            Self::TlsSctp => "TLS-SCTP",
            Self::Ws => "WS",
            Self::Wss => "WSS",
            Self::Other(s) => s,
        }
    }

    /// Whether the transport is reliable (no retransmissions, RFC 3261 §17).
    pub fn is_reliable(&self) -> bool {
        !matches!(self, Self::Udp)
    }

    /// The default port: 5061 for TLS-based transports, else 5060 (RFC 3261 §19.1.2).
    pub fn default_port(&self) -> u16 {
        match self {
            Self::Tls | Self::TlsSctp | Self::Wss => 5061,
            _ => 5060,
        }
    }
}

impl PartialEq for Transport {
    fn eq(&self, other: &Self) -> bool {
        self.as_str().eq_ignore_ascii_case(other.as_str())
    }
}

impl Eq for Transport {}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Via value: `SIP/2.0/UDP host:port;branch=...;received=...;rport=...`.
///
/// ```
/// use sip_packet::{Via, Transport};
/// let v = Via::parse("SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport").unwrap();
/// assert_eq!(v.transport(), &Transport::Udp);
/// assert_eq!(v.port(), Some(5060));
/// assert_eq!(v.branch(), Some("z9hG4bK776asdhds"));
/// assert_eq!(v.rport(), Some(None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    protocol: ByteString,
    version: ByteString,
    transport: Transport,
    host: Host,
    port: Option<u16>,
    params: Params,
}

impl Via {
    /// A `SIP/2.0` Via for `transport` and sent-by `host:port`, without parameters.
    pub fn new(transport: Transport, host: Host, port: Option<u16>) -> Self {
        Self {
            protocol: ByteString::from_static("SIP"),
            version: ByteString::from_static("2.0"),
            transport,
            host,
            port,
            params: Params::new(),
        }
    }

    /// Parses one Via value.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        let s = text::trim(s);
        let (head, params) = match text::find_byte(s, b';') {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        match Self::parse_usual(owner, head, params) {
            Some(via) => via,
            None => Self::parse_general(owner, s, head, params),
        }
    }

    /// Any Via value `s`, split into `head` and `params` at its first `;`, part by part,
    /// saying what is wrong with a bad one.
    fn parse_general(
        owner: &ByteString,
        s: &str,
        head: &str,
        params: &str,
    ) -> Result<Self, ParseError> {
        let mut parts = head.splitn(3, '/');
        let (Some(protocol), Some(version), Some(rest)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseError::value(s, "Via lacks protocol/version/transport"));
        };
        let protocol = text::trim(protocol);
        let version = text::trim(version);
        // Bytes, not chars: whitespace is ASCII, and no byte of a longer UTF-8 character is.
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let split = rest
            .bytes()
            .position(|b| b.is_ascii_whitespace())
            .ok_or_else(|| ParseError::value(s, "Via lacks sent-by"))?;
        let transport = &rest[..split];
        let sent_by = text::trim(&rest[split..]);
        if !text::is_token(protocol) || !text::is_token(version) || !text::is_token(transport) {
            return Err(ParseError::value(
                s,
                "Via protocol, version or transport is not a token",
            ));
        }
        if sent_by.bytes().any(text::is_ws) {
            return Err(ParseError::value(s, "whitespace inside Via sent-by"));
        }
        let (host, port) = split_host_port(sent_by).map_err(|why| ParseError::value(s, why))?;
        let host = Host::parse_shared(owner, host)?;
        let params = Params::parse_shared(owner, params)?;
        Ok(Self {
            protocol: shared_or_static(owner, protocol, "SIP"),
            version: shared_or_static(owner, version, "2.0"),
            transport: Transport::known(transport)
                .unwrap_or_else(|| Transport::Other(text::sub(owner, transport))),
            host,
            port,
            params,
        })
    }

    /// The Via of nearly every message, `SIP/2.0/UDP host:port` before the parameters, in
    /// one pass; `None` sends anything else (spaces around `/`, another protocol, an error)
    /// to the general parser, whose result it gives whenever it gives one.
    fn parse_usual(
        owner: &ByteString,
        head: &str,
        params: &str,
    ) -> Option<Result<Self, ParseError>> {
        let rest = head.strip_prefix("SIP/2.0/")?;
        let space = rest.bytes().position(|b| !text::is_token_char(b))?;
        // Checked before slicing: a byte that ends the token may start a UTF-8 character.
        if space == 0 || rest.as_bytes()[space] != b' ' {
            return None;
        }
        let (transport, sent_by) = (&rest[..space], &rest[space + 1..]);
        let (host, port) = match sent_by_usual(owner, sent_by) {
            Some(hp) => hp,
            None => {
                if sent_by.bytes().any(|b| b.is_ascii_whitespace()) {
                    return None;
                }
                let (host, port) = split_host_port(sent_by).ok()?;
                (Host::parse_shared(owner, host).ok()?, port)
            }
        };
        let params = Params::parse_shared(owner, params).ok()?;
        Some(Ok(Self {
            protocol: ByteString::from_static("SIP"),
            version: ByteString::from_static("2.0"),
            transport: Transport::known(transport)
                .unwrap_or_else(|| Transport::Other(text::sub(owner, transport))),
            host,
            port,
            params,
        }))
    }

    /// The protocol name and version, `SIP/2.0` in every message this crate accepts.
    pub fn protocol(&self) -> (&str, &str) {
        (&self.protocol, &self.version)
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The sent-by host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The sent-by port, when written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The parameters, to change.
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").flatten()
    }

    /// The `branch` as a shared string (no copy), for keeping as a transaction key.
    pub fn branch_shared(&self) -> Option<ByteString> {
        self.params.get_shared("branch")
    }

    /// Whether the branch starts with the RFC 3261 magic cookie; if not, transactions are
    /// matched the RFC 2543 way (§17.1.3, §17.2.3).
    pub fn has_rfc3261_branch(&self) -> bool {
        // A cookie with nothing after it identifies nothing (RFC 4475 §3.2.1).
        self.branch()
            .is_some_and(|b| b.len() > BRANCH_COOKIE.len() && b.starts_with(BRANCH_COOKIE))
    }

    /// Sets the `branch` parameter.
    pub fn set_branch(&mut self, branch: &str) {
        self.params.set("branch", Some(branch));
    }

    /// Sets the `branch` parameter (builder style).
    #[must_use]
    pub fn with_branch(mut self, branch: &str) -> Self {
        self.set_branch(branch);
        self
    }

    /// The `received` parameter: the source address a server saw (RFC 3261 §18.2.1), with or
    /// without brackets around IPv6 (RFC 5118 §4.5).
    pub fn received(&self) -> Option<Host> {
        // A slice of the parameters, not a copy: a server reads it for every response.
        let v = self.params.get_shared("received")?;
        Host::parse_shared(&v, &v).ok()
    }

    /// Sets the `received` parameter.
    pub fn set_received(&mut self, host: &Host) {
        self.params.set("received", Some(&host.to_string()));
    }

    /// `rport` (RFC 3581): `None` when absent, `Some(None)` when asked for (bare),
    /// `Some(Some(port))` when filled in by a server.
    pub fn rport(&self) -> Option<Option<u16>> {
        match self.params.get("rport")? {
            None => Some(None),
            Some(v) => Some(text::parse_decimal(v).and_then(|n| u16::try_from(n).ok())),
        }
    }

    /// Asks for rport (a bare `rport`), or fills it in with the source port.
    pub fn set_rport(&mut self, port: Option<u16>) {
        self.params
            .set("rport", port.map(|p| p.to_string()).as_deref());
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&str> {
        self.params.get("maddr").flatten()
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        let v = self.params.get("ttl").flatten()?;
        text::parse_decimal(v).and_then(|n| u8::try_from(n).ok())
    }

    /// The port responses go to when no rport or maddr says otherwise: the sent-by port or
    /// the transport's default (RFC 3261 §18.2.2).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or_else(|| self.transport.default_port())
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol, self.version, self.transport, self.host
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

impl std::str::FromStr for Via {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

/// `part` as a [`ByteString`]: the static `usual` when it is exactly that (nearly every Via,
/// so no reference count is touched), else a slice of `owner`, so printing keeps what was written.
fn shared_or_static(owner: &ByteString, part: &str, usual: &'static str) -> ByteString {
    if part == usual {
        ByteString::from_static(usual)
    } else {
        text::sub(owner, part)
    }
}

/// The sent-by of nearly every Via, `host` or `host:port` with the host made of domain
/// characters, in one pass; `None` for anything else, which the caller parses part by part.
fn sent_by_usual(owner: &ByteString, sent_by: &str) -> Option<(Host, Option<u16>)> {
    let b = sent_by.as_bytes();
    let mut host_end = b.len();
    for (i, &c) in b.iter().enumerate() {
        if text::class(c) & text::DOMAIN == 0 {
            if c != b':' {
                return None;
            }
            host_end = i;
            break;
        }
    }
    if host_end == 0 {
        return None;
    }
    let port = if host_end == b.len() {
        None
    } else {
        let p = text::parse_decimal(&sent_by[host_end + 1..])?;
        Some(u16::try_from(p).ok()?)
    };
    Some((Host::parse_domain_chars(owner, &sent_by[..host_end]), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tortuous_whitespace() {
        let v =
            Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ;  branch  =   z9hG4bK9ikj8")
                .unwrap();
        assert_eq!(v.transport(), &Transport::Tcp);
        assert_eq!(v.host().to_string(), "spindle.example.com");
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/TCP spindle.example.com;branch  =   z9hG4bK9ikj8"
        );
    }

    #[test]
    fn ipv6_sent_by_and_received() {
        let v = Via::parse(
            "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111;received=2001:db8::9:255",
        )
        .unwrap();
        assert_eq!(v.port(), Some(6050));
        assert_eq!(
            v.received(),
            Some(Host::Ipv6("2001:db8::9:255".parse().unwrap()))
        );
        let v =
            Via::parse("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3;received=[2001:db8::9:255]")
                .unwrap();
        assert_eq!(
            v.received(),
            Some(Host::Ipv6("2001:db8::9:255".parse().unwrap()))
        );
    }

    #[test]
    fn rport_flag_and_value() {
        let mut v = Via::new(Transport::Udp, Host::parse("10.0.0.1").unwrap(), Some(5060))
            .with_branch("z9hG4bKx");
        assert_eq!(v.rport(), None);
        v.set_rport(None);
        assert_eq!(v.rport(), Some(None));
        v.set_rport(Some(41000));
        assert_eq!(v.rport(), Some(Some(41000)));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx;rport=41000"
        );
    }

    /// Random texts over the characters that matter to a Via: whenever the one-pass parser
    /// gives an answer, the general parser gives the same one.
    #[test]
    fn usual_parser_agrees_with_the_general_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(5062);
        let alphabet: Vec<char> = "UDP / :;=h1.[]\t\x0cé".chars().collect();
        let mut usual = 0;
        for i in 0..100_000 {
            let len = rng.gen_range(0..14);
            let tail: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            let s = format!("SIP/2.0/{}{tail}", ["", "UDP ", "TCP h", "UDP h:5"][i % 4]);
            let owner = ByteString::from(s.as_str());
            let (head, params) = match text::find_byte(&owner, b';') {
                Some(i) => (&owner[..i], &owner[i + 1..]),
                None => (&owner[..], ""),
            };
            if let Some(u) = Via::parse_usual(&owner, head, params) {
                usual += 1;
                let g = Via::parse_general(&owner, &owner, head, params);
                assert_eq!(format!("{u:?}"), format!("{g:?}"), "{s:?}");
            }
        }
        assert!(usual > 1000, "the usual parser answered {usual} times");
    }

    #[test]
    fn malformed() {
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;,;,,").is_err());
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/2.0 host").is_err());
        assert!(Via::parse("SIP/2.0/UDP host:port").is_err());
    }

    #[test]
    fn unknown_transport_is_kept() {
        let v = Via::parse("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en").unwrap();
        assert_eq!(v.transport().as_str(), "UNKNOWN");
        assert!(v.has_rfc3261_branch());
    }
}
