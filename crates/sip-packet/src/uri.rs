//! URIs: `sip:` and `sips:` (RFC 3261 §19.1), `tel:` (RFC 3966), and any other absolute URI
//! kept as text. Comparison follows RFC 3261 §19.1.4.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytestring::ByteString;

use crate::error::ParseError;
use crate::params::Params;
use crate::text;

/// A host: a domain name or an IP address. IPv6 addresses print in brackets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Host {
    /// A domain name, as written.
    Domain(ByteString),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written `[...]` in URIs and Via).
    Ipv6(Ipv6Addr),
}

impl Host {
    /// Parses a host: `[v6]`, dotted IPv4 or a domain name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| ParseError::value(s, "IPv6 reference lacks its closing ]"))?;
            return inner
                .parse()
                .map(Self::Ipv6)
                .map_err(|_| ParseError::value(s, "not an IPv6 address"));
        }
        if s.is_empty() {
            return Err(ParseError::value(s, "empty host"));
        }
        // One pass over the host tells which of the forms below it can be. RFC 3261 allows
        // alphanumerics, '-' and '.' in a domain; '_' is seen in the wild and harmless.
        let (mut all, mut any) = (u8::MAX, 0);
        for b in s.bytes() {
            let c = text::class(b);
            all &= c;
            any |= c;
        }
        let digits_and_dots = all & text::DIGIT_DOT != 0;
        let colon = any & text::COLON != 0;
        let domain_chars = all & text::DOMAIN != 0;
        if digits_and_dots {
            if let Some(v4) = text::parse_ipv4(s) {
                return Ok(Self::Ipv4(v4));
            }
        }
        // A received= parameter may hold a bare IPv6 address (RFC 5118 §4.5).
        if colon {
            return s
                .parse()
                .map(Self::Ipv6)
                .map_err(|_| ParseError::value(s, "not a host"));
        }
        if domain_chars {
            Ok(Self::Domain(text::sub(owner, s)))
        } else {
            Err(ParseError::value(
                s,
                "host holds a character not allowed in a domain name",
            ))
        }
    }

    /// [`Host::parse_shared`] of a non-empty host made of domain characters only (letters,
    /// digits, `-`, `_`, `.`): the caller has checked them in its own pass.
    pub(crate) fn parse_domain_chars(owner: &ByteString, s: &str) -> Self {
        let b = s.as_bytes();
        // An IPv4 address starts and ends with a digit; a name that does too is rare enough
        // for the full check.
        if b[0].is_ascii_digit() && b[b.len() - 1].is_ascii_digit() {
            if let Some(v4) = text::parse_ipv4(s) {
                return Self::Ipv4(v4);
            }
        }
        Self::Domain(text::sub(owner, s))
    }

    /// The address, when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Domain(_) => None,
            Self::Ipv4(a) => Some(IpAddr::V4(*a)),
            Self::Ipv6(a) => Some(IpAddr::V6(*a)),
        }
    }

    /// The domain name, when the host is one.
    pub fn domain(&self) -> Option<&str> {
        match self {
            Self::Domain(d) => Some(d),
            _ => None,
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Self::Ipv4(a),
            IpAddr::V6(a) => Self::Ipv6(a),
        }
    }
}

/// Domain names compare case-insensitively; addresses by value.
impl PartialEq for Host {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Domain(a), Self::Domain(b)) => a.eq_ignore_ascii_case(b),
            (Self::Ipv4(a), Self::Ipv4(b)) => a == b,
            (Self::Ipv6(a), Self::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Host {}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Domain(d) => f.write_str(d),
            Self::Ipv4(a) => f.write_str(&text::Ipv4Text::new(*a)),
            Self::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// A `sip:` or `sips:` URI.
///
/// ```
/// use sip_packet::SipUri;
/// let u: SipUri = "sips:alice:secret@[2001:db8::1]:5061;transport=tcp?subject=hi".parse().unwrap();
/// assert!(u.is_secure());
/// assert_eq!(u.user(), Some("alice"));
/// assert_eq!(u.port(), Some(5061));
/// assert_eq!(u.params().get("transport"), Some(Some("tcp")));
/// assert_eq!(u.to_string(), "sips:alice:secret@[2001:db8::1]:5061;transport=tcp?subject=hi");
/// ```
#[derive(Debug, Clone)]
pub struct SipUri {
    secure: bool,
    user: Option<ByteString>,
    password: Option<ByteString>,
    host: Host,
    port: Option<u16>,
    params: Params,
    headers: Option<ByteString>,
}

impl SipUri {
    /// A `sip:` URI for `user@host` (no user when `None`).
    pub fn new(user: Option<&str>, host: Host) -> Self {
        Self {
            secure: false,
            user: user.map(ByteString::from),
            password: None,
            host,
            port: None,
            params: Params::new(),
            headers: None,
        }
    }

    /// Parses a `sip:` or `sips:` URI.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        match Self::parse_usual(owner, s) {
            Some(u) => Ok(u),
            None => Self::parse_general(owner, s),
        }
    }

    /// Any `sip:` or `sips:` URI, part by part, saying what is wrong with a bad one.
    fn parse_general(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        let (secure, rest) = if let Some(r) = strip_prefix_ci(s, "sips:") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(s, "sip:") {
            (false, r)
        } else {
            return Err(ParseError::uri(s, "not a sip: or sips: URI"));
        };
        if rest.bytes().any(|b| text::class(b) & text::URI_BAD != 0) {
            return Err(ParseError::uri(
                s,
                "holds whitespace, a control character, < > or \"",
            ));
        }
        // The user part may hold ';', '?' and '/' (RFC 3261 user-unreserved) but never '@',
        // and neither may what follows it: the last '@' ends the userinfo.
        let (userinfo, hostpart) = match text::rfind_byte(rest, b'@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(ui) => {
                let (u, p) = match text::find_byte(ui, b':') {
                    Some(i) => (&ui[..i], Some(&ui[i + 1..])),
                    None => (ui, None),
                };
                if u.is_empty() {
                    return Err(ParseError::uri(s, "empty user part before @"));
                }
                if !u.bytes().all(is_user_char) {
                    return Err(ParseError::uri(
                        s,
                        "user part holds a character that must be escaped",
                    ));
                }
                if let Some(p) = p {
                    if !p.bytes().all(is_user_char) {
                        return Err(ParseError::uri(
                            s,
                            "password holds a character that must be escaped",
                        ));
                    }
                }
                (Some(text::sub(owner, u)), p.map(|p| text::sub(owner, p)))
            }
            None => (None, None),
        };
        let (hostpart, headers) = match text::find_byte(hostpart, b'?') {
            Some(i) => (&hostpart[..i], Some(&hostpart[i + 1..])),
            None => (hostpart, None),
        };
        let (hostport, params) = match text::find_byte(hostpart, b';') {
            Some(i) => (&hostpart[..i], &hostpart[i + 1..]),
            None => (hostpart, ""),
        };
        let (host, port) = split_host_port(hostport).map_err(|why| ParseError::uri(s, why))?;
        let host =
            Host::parse_shared(owner, host).map_err(|_| ParseError::uri(s, "invalid host"))?;
        let params = Params::parse_shared(owner, params)
            .map_err(|_| ParseError::uri(s, "malformed URI parameter"))?;
        let headers = match headers {
            Some("") => return Err(ParseError::uri(s, "empty header part after ?")),
            Some(h) => Some(text::sub(owner, h)),
            None => None,
        };
        Ok(Self {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// The URIs of nearly every message (a lower-case scheme, no IPv6 reference) in one pass
    /// over the text instead of one per part. `None` for anything else, valid or not: the
    /// general parser then gives the same URI or says what is wrong.
    #[inline]
    fn parse_usual(owner: &ByteString, s: &str) -> Option<Self> {
        const NONE: usize = usize::MAX;
        let b = s.as_bytes();
        let (secure, rest) = if b.starts_with(b"sip:") {
            (false, &b[4..])
        } else if b.starts_with(b"sips:") {
            (true, &b[5..])
        } else {
            return None;
        };
        // The userinfo ends at the last '@'; host, port, parameters and headers are found
        // after it, so their positions start over at each '@'. `user_chars` is the classes
        // every byte before the last '@' shares, the first ':' (user:password) left out.
        let (mut at, mut first_colon, mut port_colon, mut semi, mut question) =
            (NONE, NONE, NONE, NONE, NONE);
        let (mut any, mut run, mut user_chars) = (0u8, u8::MAX, u8::MAX);
        // Whether a byte outside the domain characters sits in the host (after the last '@',
        // before the port, parameters and headers): then the general parser decides.
        let mut host_odd = false;
        for (i, &c) in rest.iter().enumerate() {
            let k = text::class(c);
            any |= k;
            if k & text::DOMAIN != 0 {
                continue;
            }
            match c {
                b'@' => {
                    (at, port_colon, semi, question) = (i, NONE, NONE, NONE);
                    host_odd = false;
                    user_chars = run;
                    run &= k;
                }
                b':' => {
                    if first_colon == NONE {
                        first_colon = i;
                    } else {
                        run &= k;
                    }
                    if port_colon == NONE && semi == NONE && question == NONE {
                        port_colon = i;
                    }
                }
                b';' if semi == NONE && question == NONE => semi = i,
                b'?' if question == NONE => question = i,
                b'[' | b']' => return None,
                _ => {
                    run &= k;
                    host_odd |= port_colon == NONE && semi == NONE && question == NONE;
                }
            }
        }
        if any & text::URI_BAD != 0 {
            return None;
        }
        // Every slice below ends at an ASCII byte, so all are char boundaries of `s`.
        let text = &s[s.len() - rest.len()..];
        let (user, password, host_start) = if at == NONE {
            (None, None, 0)
        } else {
            if user_chars & text::USER == 0 {
                return None;
            }
            let (user, password) = if first_colon < at {
                (&text[..first_colon], Some(&text[first_colon + 1..at]))
            } else {
                (&text[..at], None)
            };
            if user.is_empty() {
                return None;
            }
            (
                Some(text::sub(owner, user)),
                password.map(|p| text::sub(owner, p)),
                at + 1,
            )
        };
        let hostpart_end = if question == NONE {
            text.len()
        } else {
            question
        };
        let hostport_end = if semi == NONE { hostpart_end } else { semi };
        let (host, port) = if port_colon == NONE {
            (&text[host_start..hostport_end], None)
        } else {
            let port = text::parse_decimal(&text[port_colon + 1..hostport_end])
                .and_then(|n| u16::try_from(n).ok())?;
            (&text[host_start..port_colon], Some(port))
        };
        if host.is_empty() || host_odd {
            return None;
        }
        let host = Host::parse_domain_chars(owner, host);
        let params = if semi == NONE {
            Params::new()
        } else {
            Params::parse_shared(owner, &text[semi + 1..hostpart_end]).ok()?
        };
        let headers = match question {
            NONE => None,
            q if q + 1 == text.len() => return None,
            q => Some(text::sub(owner, &text[q + 1..])),
        };
        Some(Self {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// Whether this is a `sips:` URI.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The user part as written (with its %-escapes).
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The user part with %-escapes resolved.
    pub fn user_decoded(&self) -> Option<Cow<'_, str>> {
        self.user.as_deref().map(text::percent_decode_str)
    }

    /// The password, as written.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port, when one is written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The URI parameters (`transport`, `lr`, `maddr`, `user`, ...).
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The URI parameters, to change.
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// The header part after `?`, as written.
    pub fn headers(&self) -> Option<&str> {
        self.headers.as_deref()
    }

    /// The `transport` parameter, lower-cased for comparison by the caller.
    pub fn transport(&self) -> Option<&str> {
        self.params.get("transport").flatten()
    }

    /// Makes this a `sips:` URI or a `sip:` URI.
    pub fn set_secure(&mut self, secure: bool) {
        self.secure = secure;
    }

    /// Sets the user part (written as given: escape it first if it needs escapes).
    pub fn set_user(&mut self, user: Option<&str>) {
        self.user = user.map(ByteString::from);
    }

    /// Sets the password.
    pub fn set_password(&mut self, password: Option<&str>) {
        self.password = password.map(ByteString::from);
    }

    /// Sets the host.
    pub fn set_host(&mut self, host: Host) {
        self.host = host;
    }

    /// Sets or removes the port.
    pub fn set_port(&mut self, port: Option<u16>) {
        self.port = port;
    }

    /// Sets or removes the header part (without the `?`).
    pub fn set_headers(&mut self, headers: Option<&str>) {
        self.headers = headers.map(ByteString::from);
    }

    /// RFC 3261 §19.1.4 equivalence.
    ///
    /// Scheme, user and password compare case-sensitively after unescaping; hosts
    /// case-insensitively; a port written in one but not the other makes them different;
    /// `user`, `ttl`, `method`, `maddr` and `transport` parameters must match when either has
    /// them, other parameters only when both have them; header parts must match completely.
    pub fn equivalent(&self, other: &Self) -> bool {
        if self.secure != other.secure
            || self.host != other.host
            || self.port != other.port
            || !opt_eq_decoded(self.user.as_deref(), other.user.as_deref(), false)
            || !opt_eq_decoded(self.password.as_deref(), other.password.as_deref(), false)
        {
            return false;
        }
        for (name, value) in self.params.iter() {
            if self.params.get(name) != Some(value) {
                // A parameter written twice counts once, with the first value, as `get` reads
                // it: comparing the later copy too would make a URI differ from itself.
                continue;
            }
            match other.params.get(name) {
                Some(v) if !opt_eq_decoded(value, v, true) => return false,
                None if is_must_match_param(name) => return false,
                _ => {}
            }
        }
        for (name, _) in other.params.iter() {
            if is_must_match_param(name) && !self.params.contains(name) {
                return false;
            }
        }
        headers_equivalent(self.headers.as_deref(), other.headers.as_deref())
    }
}

fn is_must_match_param(name: &str) -> bool {
    ["user", "ttl", "method", "maddr", "transport"]
        .iter()
        .any(|p| p.eq_ignore_ascii_case(name))
}

fn headers_equivalent(a: Option<&str>, b: Option<&str>) -> bool {
    let collect = |h: Option<&str>| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = h
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, val) = p.split_once('=').unwrap_or((p, ""));
                (
                    text::percent_decode_str(n).to_ascii_lowercase(),
                    text::percent_decode(val).into_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    collect(a) == collect(b)
}

fn opt_eq_decoded(a: Option<&str>, b: Option<&str>, ignore_case: bool) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let (a, b) = (text::percent_decode(a), text::percent_decode(b));
            if ignore_case {
                a.eq_ignore_ascii_case(&b)
            } else {
                a == b
            }
        }
        _ => false,
    }
}

/// How many digits `n` prints as.
fn decimal_len(mut n: u32) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// Characters of `user` and `password` (RFC 3261 §25.1): unreserved, escaped and
/// user-unreserved, plus UTF-8 which real user agents send unescaped.
fn is_user_char(b: u8) -> bool {
    text::class(b) & text::USER != 0
}

/// Splits `host[:port]`, where host may be a bracketed IPv6 reference.
pub(crate) fn split_host_port(s: &str) -> Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']').ok_or("IPv6 reference lacks its closing ]")?;
        let rest = &s[end + 1..];
        match rest.strip_prefix(':') {
            Some(p) => (&s[..=end], Some(p)),
            None if rest.is_empty() => (&s[..=end], None),
            None => return Err("junk after IPv6 reference"),
        }
    } else {
        match text::find_byte(s, b':') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => Some(
            text::parse_decimal(p)
                .and_then(|n| u16::try_from(n).ok())
                .ok_or("port is not a number from 0 to 65535")?,
        ),
        None => None,
    };
    if host.is_empty() {
        return Err("empty host");
    }
    Ok((host, port))
}

/// A `tel:` URI (RFC 3966): a telephone number with parameters.
#[derive(Debug, Clone)]
pub struct TelUri {
    number: ByteString,
    params: Params,
}

impl TelUri {
    /// The number as written (`+1-201-555-0123`, or a local number).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The parameters (`phone-context`, `ext`, ...).
    pub fn params(&self) -> &Params {
        &self.params
    }

    fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        let rest =
            strip_prefix_ci(s, "tel:").ok_or_else(|| ParseError::uri(s, "not a tel: URI"))?;
        let (number, params) = match rest.find(';') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let valid = !number.is_empty()
            && number.bytes().all(|b| {
                b.is_ascii_hexdigit() || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#')
            });
        if !valid {
            return Err(ParseError::uri(s, "not a telephone number"));
        }
        let params = Params::parse_shared(owner, params)
            .map_err(|_| ParseError::uri(s, "malformed tel: parameter"))?;
        Ok(Self {
            number: text::sub(owner, number),
            params,
        })
    }

    /// RFC 3966 §4: numbers compare without visual separators; parameters must be equal.
    pub fn equivalent(&self, other: &Self) -> bool {
        let digits = |n: &str| -> String {
            n.chars()
                .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        digits(&self.number) == digits(&other.number) && self.params == other.params
    }
}

impl fmt::Display for TelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:{}{}", self.number, self.params)
    }
}

/// A URI: SIP, SIPS, tel, or any other absolute URI kept as text.
///
/// ```
/// use sip_packet::Uri;
/// let a: Uri = "sip:%61lice@EXAMPLE.com;transport=udp".parse().unwrap();
/// let b: Uri = "sip:alice@example.com;Transport=UDP".parse().unwrap();
/// assert!(a.equivalent(&b));
/// assert_eq!(a.scheme(), "sip");
/// let other: Uri = "http://example.com/x".parse().unwrap();
/// assert_eq!(other.scheme(), "http");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// `tel:`.
    Tel(TelUri),
    /// Any other absolute URI (RFC 3986), kept as written.
    Other(ByteString),
}

impl Uri {
    /// Parses any absolute URI.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    #[inline]
    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        match SipUri::parse_usual(owner, s) {
            Some(u) => Ok(Self::Sip(u)),
            None => Self::parse_unusual(owner, s),
        }
    }

    /// [`Uri::parse_shared`] of what [`SipUri::parse_usual`] leaves.
    fn parse_unusual(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        let colon = text::find_byte(s, b':').ok_or_else(|| ParseError::uri(s, "no scheme"))?;
        let scheme = &s[..colon];
        let scheme_ok = scheme
            .as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return Err(ParseError::uri(s, "scheme is not alphanumeric"));
        }
        if matches!(scheme, "sip" | "sips")
            || scheme.eq_ignore_ascii_case("sip")
            || scheme.eq_ignore_ascii_case("sips")
        {
            SipUri::parse_shared(owner, s).map(Self::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_shared(owner, s).map(Self::Tel)
        } else if s.len() == colon + 1
            || s.bytes()
                .any(|b| b <= b' ' || matches!(b, b'<' | b'>' | b'"' | 0x7f))
        {
            Err(ParseError::uri(
                s,
                "absolute URI is empty or holds whitespace, < > or \"",
            ))
        } else {
            Ok(Self::Other(text::sub(owner, s)))
        }
    }

    /// The scheme, lower-case for the known ones, else as written.
    pub fn scheme(&self) -> &str {
        match self {
            Self::Sip(u) if u.secure => "sips",
            Self::Sip(_) => "sip",
            Self::Tel(_) => "tel",
            Self::Other(s) => s.split(':').next().unwrap_or(""),
        }
    }

    /// Whether this URI, parsed from `text`, prints back as exactly `text`. Answered without
    /// printing for a SIP URI with a domain or IPv4 host (what nearly every Request-URI is):
    /// every part but the scheme, host and port is kept as written, so equal lengths and a
    /// lower-case scheme mean equal text. Anything else says no, which is always safe.
    pub(crate) fn prints_as(&self, text: &str) -> bool {
        let Self::Sip(u) = self else { return false };
        let scheme = if u.secure { "sips:" } else { "sip:" };
        if !text.as_bytes().starts_with(scheme.as_bytes()) {
            return false;
        }
        let host = match &u.host {
            Host::Domain(d) => d.len(),
            Host::Ipv4(a) => {
                a.octets()
                    .iter()
                    .map(|&o| decimal_len(o.into()))
                    .sum::<usize>()
                    + 3
            }
            Host::Ipv6(_) => return false,
        };
        let opt = |v: &Option<ByteString>| v.as_ref().map_or(0, |v| v.len() + 1);
        let len = scheme.len()
            + u.user.as_ref().map_or(0, |u| u.len() + 1)
            + opt(&u.password)
            + host
            + u.port.map_or(0, |p| decimal_len(p.into()) + 1)
            + if u.params.is_empty() {
                0
            } else {
                u.params.as_str().len() + 1
            }
            + opt(&u.headers);
        len == text.len()
    }

    /// The SIP URI, when this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Self::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The SIP URI to change, when this is one.
    pub fn as_sip_mut(&mut self) -> Option<&mut SipUri> {
        match self {
            Self::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The tel URI, when this is one.
    pub fn as_tel(&self) -> Option<&TelUri> {
        match self {
            Self::Tel(u) => Some(u),
            _ => None,
        }
    }

    /// The user part of a SIP URI, or the number of a tel URI.
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::Sip(u) => u.user(),
            Self::Tel(t) => Some(t.number()),
            Self::Other(_) => None,
        }
    }

    /// The host of a SIP URI.
    pub fn host(&self) -> Option<&Host> {
        self.as_sip().map(SipUri::host)
    }

    /// Equivalence as its scheme defines it (RFC 3261 §19.1.4, RFC 3966 §4); other schemes
    /// compare as text with the scheme case-insensitive.
    pub fn equivalent(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Sip(a), Self::Sip(b)) => a.equivalent(b),
            (Self::Tel(a), Self::Tel(b)) => a.equivalent(b),
            (Self::Other(a), Self::Other(b)) => {
                let (sa, ra) = a.split_once(':').unwrap_or((a, ""));
                let (sb, rb) = b.split_once(':').unwrap_or((b, ""));
                sa.eq_ignore_ascii_case(sb) && ra == rb
            }
            _ => false,
        }
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Self {
        Self::Sip(u)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Piece by piece with `write_str`: every Request-URI forwarded is printed.
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                f.write_str(":")?;
                f.write_str(p)?;
            }
            f.write_str("@")?;
        }
        fmt::Display::fmt(&self.host, f)?;
        if let Some(p) = self.port {
            f.write_str(":")?;
            f.write_str(&text::DecimalText::new(p.into()))?;
        }
        fmt::Display::fmt(&self.params, f)?;
        if let Some(h) = &self.headers {
            f.write_str("?")?;
            f.write_str(h)?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sip(u) => u.fmt(f),
            Self::Tel(u) => u.fmt(f),
            Self::Other(s) => f.write_str(s),
        }
    }
}

impl std::str::FromStr for Uri {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

impl std::str::FromStr for SipUri {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

/// Equality is RFC equivalence ([`SipUri::equivalent`]).
impl PartialEq for SipUri {
    fn eq(&self, other: &Self) -> bool {
        self.equivalent(other)
    }
}

/// Equality is RFC equivalence ([`Uri::equivalent`]).
impl PartialEq for Uri {
    fn eq(&self, other: &Self) -> bool {
        self.equivalent(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eqv(a: &str, b: &str) -> bool {
        Uri::parse(a).unwrap().equivalent(&Uri::parse(b).unwrap())
    }

    #[test]
    fn one_pass_host_agrees_with_host_parse() {
        for h in [
            "example.com",
            "a_b.example",
            "1.2.3.4",
            "1.2.3.4.5",
            "1.2.3",
            "01.2.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "1example.com",
            "example1",
            "1.2.3.4a",
            "-",
        ] {
            for u in [
                format!("sip:{h}"),
                format!("sip:bob@{h}:5060;lr"),
                format!("sips:{h}?x=y"),
            ] {
                let parsed = SipUri::parse(&u).map(|u| u.host().clone());
                assert_eq!(parsed.ok(), Host::parse(h).ok(), "{u}");
            }
            let via = crate::Via::parse(&format!("SIP/2.0/UDP {h}:5060;branch=z9hG4bK1"));
            assert_eq!(
                via.map(|v| v.host().clone()).ok(),
                Host::parse(h).ok(),
                "{h}"
            );
        }
    }

    // RFC 3261 §19.1.4: the URIs that are equivalent.
    #[test]
    fn rfc3261_equivalent_pairs() {
        assert!(eqv(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        assert!(eqv(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eqv(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;security=on"
        ));
        assert!(eqv(
            "sip:carol@chicago.com;newparam=5",
            "sip:carol@chicago.com;security=on"
        ));
        assert!(eqv(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eqv(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
    }

    // RFC 3261 §19.1.4: the URIs that are not.
    #[test]
    fn rfc3261_different_pairs() {
        assert!(!eqv(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eqv("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eqv(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        assert!(!eqv(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com:6000;transport=tcp"
        ));
        assert!(!eqv(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting"
        ));
        assert!(!eqv("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
        assert!(!eqv(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off"
        ));
    }

    // Found by fuzzing (parse_uri): a parameter written twice with two values made a URI
    // not equivalent to itself, so a request could not equal its own retransmission.
    #[test]
    fn repeated_parameter_is_equivalent_to_itself() {
        let s = "sip:u@h;maddr=239.0.0.1;maddr=239.255.255.1;x=1;x=2";
        assert!(eqv(s, s));
        assert!(eqv(s, "sip:u@h;maddr=239.0.0.1"));
        assert!(!eqv(s, "sip:u@h;maddr=239.255.255.1"));
        assert!(!eqv("sip:u@h;maddr=239.255.255.1", s));
    }

    /// Random texts over the characters that matter to a SIP URI: whenever the one-pass
    /// parser gives a URI, the general parser gives the same one.
    #[test]
    fn usual_parser_agrees_with_the_general_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(5060);
        let alphabet: Vec<char> = "sip:@;?=.-_a1B9%[]<> \t&,/é:@;?".chars().collect();
        let (mut usual, mut valid) = (0, 0);
        for i in 0..200_000 {
            let len = rng.gen_range(0..16);
            let tail: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            let s = format!("{}{tail}", ["sip:", "sips:", "SIP:", "sip:u@h"][i % 4]);
            let owner = ByteString::from(s.as_str());
            let general = SipUri::parse_general(&owner, &owner);
            valid += usize::from(general.is_ok());
            if let Some(u) = SipUri::parse_usual(&owner, &owner) {
                usual += 1;
                let g = general.unwrap_or_else(|e| panic!("{s:?}: usual parse, general error {e}"));
                assert_eq!(format!("{u:?}"), format!("{g:?}"), "{s:?}");
            }
        }
        assert!(
            usual > valid / 2,
            "the usual parser took {usual} of {valid} valid URIs"
        );
    }

    #[test]
    fn user_chars_are_rfc3261s() {
        for b in 0..=255u8 {
            let expected =
                b.is_ascii_alphanumeric() || b >= 0x80 || b"-_.!~*'()%&=+$,;?/".contains(&b);
            assert_eq!(is_user_char(b), expected, "{b}");
        }
    }

    #[test]
    fn ipv6_hosts_and_ports() {
        let u = SipUri::parse("sip:[2001:db8::9:255]").unwrap();
        assert_eq!(u.host(), &Host::Ipv6("2001:db8::9:255".parse().unwrap()));
        assert_eq!(u.port(), None);
        let u = SipUri::parse("sip:[2001:db8::9]:255").unwrap();
        assert_eq!(u.port(), Some(255));
        assert!(SipUri::parse("sip:user@2001:db8::10").is_err());
        assert!(SipUri::parse("sip:[2001:db8::10").is_err());
        assert!(SipUri::parse("sip:host:99999").is_err());
    }

    #[test]
    fn user_with_semicolons_and_escapes() {
        let u = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user(), Some("user;par=u%40example.net"));
        assert_eq!(u.user_decoded().unwrap(), "user;par=u@example.net");
        assert!(u.params().is_empty());
    }

    #[test]
    fn rejects_spaces_and_brackets() {
        assert!(Uri::parse("sip:user@example.com ").is_err());
        assert!(Uri::parse("<sip:user@example.com>").is_err());
        assert!(Uri::parse("sip:us er@example.com").is_err());
        assert!(Uri::parse("sip:").is_err());
        assert!(Uri::parse("nocolon").is_err());
    }

    #[test]
    fn tel_and_other_schemes() {
        let t = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(t.user(), Some("+1-201-555-0123"));
        assert!(t.equivalent(&Uri::parse("tel:+12015550123;phone-context=example.com").unwrap()));
        let o = Uri::parse("soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(o.scheme(), "soap.beep");
        assert_eq!(o.to_string(), "soap.beep://192.0.2.103:3002");
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "sip:alice@atlanta.com",
            "sips:bob:pw@[::1]:5061;transport=tls;lr",
            "sip:192.0.2.1:5060;maddr=239.255.255.1;ttl=15",
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        ] {
            assert_eq!(Uri::parse(s).unwrap().to_string(), s);
        }
    }
}
