//! The `c=` line: where media is sent (RFC 8866 §5.7).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::grammar::{parse_u32, parse_u8, FieldError, Fields};

/// The address type of a `c=` or `o=` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressType {
    /// `IP4`.
    Ip4,
    /// `IP6`.
    Ip6,
    /// Any other token, kept as written.
    Other(String),
}

impl AddressType {
    /// The address type for `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self::Ip4,
            IpAddr::V6(_) => Self::Ip6,
        }
    }

    /// The token as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ip4 => "IP4",
            Self::Ip6 => "IP6",
            Self::Other(s) => s,
        }
    }

    pub(crate) fn from_token(token: &str) -> Self {
        match token {
            "IP4" => Self::Ip4,
            "IP6" => Self::Ip6,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for AddressType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connection line, `c=<nettype> <addrtype> <connection-address>`.
///
/// The address is kept as written: an IP literal or a host name, for multicast followed by
/// `/ttl` (IPv4 only) and `/number of addresses`. [`Connection::ip`] reads it as an IP address.
///
/// ```
/// use sip_sdp::Connection;
/// let c: Connection = Connection::from("2001:db8::1".parse::<std::net::IpAddr>().unwrap());
/// assert_eq!(c.to_string(), "IN IP6 2001:db8::1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Connection {
    /// The network type, `IN` for the Internet.
    pub net_type: String,
    /// The address type.
    pub addr_type: AddressType,
    /// The connection address as written, including any `/ttl` and `/count`.
    pub address: String,
}

impl Connection {
    /// A connection line with any network type, address type and address text.
    pub fn new(
        net_type: impl Into<String>,
        addr_type: AddressType,
        address: impl Into<String>,
    ) -> Self {
        Self {
            net_type: net_type.into(),
            addr_type,
            address: address.into(),
        }
    }

    /// The address without a multicast `/ttl` or `/count` suffix.
    pub fn host(&self) -> &str {
        self.address
            .split_once('/')
            .map_or(self.address.as_str(), |(host, _)| host)
    }

    /// The address as an IP address, if it is one (not a host name). An IPv6 address in
    /// brackets, as SIPp writes it, is read too.
    pub fn ip(&self) -> Option<IpAddr> {
        parse_ip(self.host())
    }

    /// The multicast time to live: the first `/` suffix of an IPv4 address.
    pub fn ttl(&self) -> Option<u8> {
        if self.addr_type != AddressType::Ip4 {
            return None;
        }
        let mut parts = self.address.split('/');
        parts.next();
        parts.next().and_then(parse_u8)
    }

    /// The number of multicast addresses: the last `/` suffix (second for IPv4, first for IPv6).
    pub fn address_count(&self) -> Option<u32> {
        let mut parts = self.address.split('/').skip(1);
        match self.addr_type {
            AddressType::Ip4 => parts.nth(1).and_then(parse_u32),
            AddressType::Ip6 => parts.next().and_then(parse_u32),
            AddressType::Other(_) => None,
        }
    }

    /// Whether the address is `0.0.0.0` (or `::`): the RFC 2543 way to put a call on hold,
    /// which RFC 3264 §8.4 still asks answerers to understand.
    pub fn is_unspecified(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }

    /// Reads the value of a `c=` line (or the address part of `a=rtcp`).
    pub(crate) fn parse_fields(fields: &mut Fields<'_>) -> Result<Self, FieldError> {
        let net_type = fields.token(
            "nettype",
            "expected IN followed by IP4 or IP6 and an address",
        )?;
        let addr_type = fields.token("addrtype", "expected IP4 or IP6 and an address")?;
        let address = fields.token(
            "connection-address",
            "expected an address after the address type",
        )?;
        Ok(Self {
            net_type: net_type.to_owned(),
            addr_type: AddressType::from_token(addr_type),
            address: address.to_owned(),
        })
    }

    pub(crate) fn parse_value(value: &str) -> Result<Self, FieldError> {
        let mut fields = Fields::new(value);
        let connection = Self::parse_fields(&mut fields)?;
        fields.finish("connection-address")?;
        Ok(connection)
    }
}

/// Reads an IP address, also an IPv6 one in brackets (`[::1]`), which RFC 8866 does not allow
/// but real peers write.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse().ok()
}

impl From<IpAddr> for Connection {
    fn from(ip: IpAddr) -> Self {
        Self {
            net_type: "IN".to_owned(),
            addr_type: AddressType::of(ip),
            address: ip.to_string(),
        }
    }
}

impl From<Ipv4Addr> for Connection {
    fn from(ip: Ipv4Addr) -> Self {
        IpAddr::V4(ip).into()
    }
}

impl From<Ipv6Addr> for Connection {
    fn from(ip: Ipv6Addr) -> Self {
        IpAddr::V6(ip).into()
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.net_type, self.addr_type, self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_unicast() {
        let c = Connection::parse_value("IN IP4 192.0.2.1").unwrap();
        assert_eq!(c.addr_type, AddressType::Ip4);
        assert_eq!(c.ip(), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(c.ttl(), None);
        assert_eq!(c.to_string(), "IN IP4 192.0.2.1");
    }

    #[test]
    fn ipv6_and_host_names() {
        let c = Connection::parse_value("IN IP6 2001:db8::1").unwrap();
        assert_eq!(c.ip(), Some("2001:db8::1".parse().unwrap()));
        let c = Connection::parse_value("IN IP4 host.atlanta.example.com").unwrap();
        assert_eq!(c.ip(), None);
        assert_eq!(c.host(), "host.atlanta.example.com");
        let c = Connection::parse_value("IN IP6 [::1]").unwrap();
        assert_eq!(c.ip(), Some("::1".parse().unwrap()));
    }

    #[test]
    fn multicast_suffixes() {
        let c = Connection::parse_value("IN IP4 224.2.1.1/127/3").unwrap();
        assert_eq!(c.host(), "224.2.1.1");
        assert_eq!(c.ttl(), Some(127));
        assert_eq!(c.address_count(), Some(3));
        let c = Connection::parse_value("IN IP6 FF15::101/3").unwrap();
        assert_eq!(c.ttl(), None);
        assert_eq!(c.address_count(), Some(3));
        assert_eq!(c.ip(), Some("ff15::101".parse().unwrap()));
    }

    #[test]
    fn hold_address() {
        assert!(Connection::parse_value("IN IP4 0.0.0.0")
            .unwrap()
            .is_unspecified());
        assert!(Connection::parse_value("IN IP6 ::")
            .unwrap()
            .is_unspecified());
        assert!(!Connection::parse_value("IN IP4 10.0.0.1")
            .unwrap()
            .is_unspecified());
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            Connection::parse_value("IN IP4").unwrap_err().field,
            "connection-address"
        );
        assert_eq!(Connection::parse_value("").unwrap_err().field, "nettype");
        let e = Connection::parse_value("IN IP4 1.2.3.4 extra").unwrap_err();
        assert_eq!(e.found, "extra");
    }

    #[test]
    fn other_types_are_kept() {
        let c = Connection::parse_value("ATM NSAP 47.0005.80.ffe100").unwrap();
        assert_eq!(c.addr_type, AddressType::Other("NSAP".into()));
        assert_eq!(c.to_string(), "ATM NSAP 47.0005.80.ffe100");
    }
}
