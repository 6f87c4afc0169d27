//! `a=rtcp`: where RTCP goes when it is not the RTP port plus one (RFC 3605).

use std::fmt;
use std::str::FromStr;

use crate::connection::Connection;
use crate::error::{excerpt, AttributeError};
use crate::grammar::{parse_u16, Fields};

/// The value of `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]`.
///
/// ```
/// let rtcp: sip_sdp::Rtcp = "53020 IN IP4 126.16.64.4".parse().unwrap();
/// assert_eq!(rtcp.port, 53020);
/// assert_eq!(rtcp.connection.unwrap().host(), "126.16.64.4");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when it differs from the media's.
    pub connection: Option<Connection>,
}

impl Rtcp {
    /// The name of the attribute, `rtcp`.
    pub const NAME: &'static str = "rtcp";

    /// RTCP on `port` of the media's address.
    pub fn new(port: u16) -> Self {
        Self {
            port,
            connection: None,
        }
    }

    /// RTCP on `port` of another address.
    pub fn with_connection(port: u16, connection: Connection) -> Self {
        Self {
            port,
            connection: Some(connection),
        }
    }
}

fn invalid(field: &'static str, found: &str, reason: &'static str) -> AttributeError {
    AttributeError::InvalidField {
        attribute: Rtcp::NAME,
        field,
        found: excerpt(found),
        reason,
    }
}

impl FromStr for Rtcp {
    type Err = AttributeError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut fields = Fields::new(value);
        let port = fields
            .next_token()
            .ok_or_else(|| invalid("port", value, "expected a port number"))?;
        let port = parse_u16(port)
            .ok_or_else(|| invalid("port", port, "expected a number from 0 to 65535"))?;
        if fields.rest().is_empty() {
            return Ok(Self::new(port));
        }
        let connection = Connection::parse_fields(&mut fields)
            .and_then(|c| fields.finish("connection-address").map(|()| c))
            .map_err(|e| invalid(e.field, &e.found, e.reason))?;
        Ok(Self::with_connection(port, connection))
    }
}

impl fmt::Display for Rtcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        if let Some(connection) = &self.connection {
            write!(f, " {connection}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_only() {
        let r: Rtcp = "53020".parse().unwrap();
        assert_eq!(r, Rtcp::new(53020));
        assert_eq!(r.to_string(), "53020");
    }

    #[test]
    fn with_ipv6_address() {
        let r: Rtcp = "53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD"
            .parse()
            .unwrap();
        assert_eq!(
            r.to_string(),
            "53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD"
        );
    }

    #[test]
    fn errors() {
        assert!("".parse::<Rtcp>().is_err());
        assert!("70000".parse::<Rtcp>().is_err());
        assert!("5000 IN".parse::<Rtcp>().is_err());
        assert!("5000 IN IP4 1.2.3.4 x".parse::<Rtcp>().is_err());
    }
}
