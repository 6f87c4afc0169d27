//! The `o=` line: who made the description, and which version of it this is (RFC 8866 §5.2).

use std::fmt;
use std::net::IpAddr;

use crate::connection::AddressType;
use crate::grammar::{parse_u64, FieldError, Fields};

/// The origin line, `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`.
///
/// RFC 3264 §8 keeps it the same for the whole session except the version, which goes up by one
/// each time the description changes; see
/// [`SessionDescription::revise_from`](crate::SessionDescription::revise_from).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Origin {
    /// The user's login on the originating host, or `-`.
    pub username: String,
    /// The session id: digits, kept as written since it is only ever compared.
    pub session_id: String,
    /// The version of this session description.
    pub session_version: u64,
    /// The network type, `IN`.
    pub net_type: String,
    /// The address type.
    pub addr_type: AddressType,
    /// The address (or host name) of the machine the session was made on.
    pub address: String,
}

impl Origin {
    /// An origin on the Internet (`IN`) for `address`.
    ///
    /// ```
    /// let o = sip_sdp::Origin::new("-", 42, 1, "192.0.2.1".parse().unwrap());
    /// assert_eq!(o.to_string(), "- 42 1 IN IP4 192.0.2.1");
    /// ```
    pub fn new(
        username: impl Into<String>,
        session_id: u64,
        session_version: u64,
        address: IpAddr,
    ) -> Self {
        Self {
            username: username.into(),
            session_id: session_id.to_string(),
            session_version,
            net_type: "IN".to_owned(),
            addr_type: AddressType::of(address),
            address: address.to_string(),
        }
    }

    /// The address as an IP address, if it is one (also in brackets, as SIPp writes IPv6).
    pub fn ip(&self) -> Option<IpAddr> {
        crate::connection::parse_ip(&self.address)
    }

    /// Reads the value of an `o=` line.
    ///
    /// A username with spaces in it breaks the grammar but some peers send one; the last five
    /// fields are taken as the fixed ones and whatever comes before as the username.
    pub(crate) fn parse_value(value: &str) -> Result<Self, FieldError> {
        let mut fields = Fields::new(value);
        let mut tokens: Vec<&str> = Vec::with_capacity(6);
        while let Some(token) = fields.next_token() {
            tokens.push(token);
        }
        let Some(split) = tokens.len().checked_sub(5).filter(|&n| n >= 1) else {
            let missing = [
                "username",
                "sess-id",
                "sess-version",
                "nettype",
                "addrtype",
                "unicast-address",
            ];
            let field = missing
                .get(tokens.len())
                .copied()
                .unwrap_or("unicast-address");
            return Err(FieldError::new(
                field,
                "",
                "an o= line has six fields: username sess-id sess-version nettype addrtype address",
            ));
        };
        let (user, fixed) = tokens.split_at(split);
        let [session_id, version, net_type, addr_type, address] = fixed else {
            return Err(FieldError::new("username", value, "expected six fields"));
        };
        let session_version = parse_u64(version).ok_or_else(|| {
            FieldError::new(
                "sess-version",
                version,
                "expected a decimal number below 2^64",
            )
        })?;
        Ok(Self {
            username: user.join(" "),
            session_id: (*session_id).to_owned(),
            session_version,
            net_type: (*net_type).to_owned(),
            addr_type: AddressType::from_token(addr_type),
            address: (*address).to_owned(),
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_fields() {
        let o = Origin::parse_value("jdoe 3724394400 3724394405 IN IP4 198.51.100.1").unwrap();
        assert_eq!(o.username, "jdoe");
        assert_eq!(o.session_id, "3724394400");
        assert_eq!(o.session_version, 3_724_394_405);
        assert_eq!(o.addr_type, AddressType::Ip4);
        assert_eq!(o.ip(), Some("198.51.100.1".parse().unwrap()));
        assert_eq!(
            o.to_string(),
            "jdoe 3724394400 3724394405 IN IP4 198.51.100.1"
        );
    }

    #[test]
    fn username_with_spaces_is_kept() {
        let o = Origin::parse_value("Cisco Systems 1 2 IN IP4 10.0.0.1").unwrap();
        assert_eq!(o.username, "Cisco Systems");
        assert_eq!(o.session_version, 2);
    }

    #[test]
    fn errors() {
        assert_eq!(Origin::parse_value("").unwrap_err().field, "username");
        assert_eq!(
            Origin::parse_value("- 1 2 IN IP4").unwrap_err().field,
            "unicast-address"
        );
        let e = Origin::parse_value("- 1 x IN IP4 1.2.3.4").unwrap_err();
        assert_eq!((e.field, e.found.as_str()), ("sess-version", "x"));
    }
}
