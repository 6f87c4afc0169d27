//! The address-of-record: the key of the binding table (RFC 3261 §10.3 step 5).

use std::fmt;
use std::sync::Arc;

use sip_packet::{Host, SipUri, Uri};

/// An address-of-record in canonical form: `sip:user@host[:port]` or `sips:...`.
///
/// RFC 3261 §10.3 step 5: every URI parameter is dropped (the `user` parameter too) and
/// escaped characters are unescaped; the host is lower-cased because host names compare
/// case-insensitively (§19.1.4). The scheme stays, as it does in Net::SIP's `proto:user@domain`:
/// `sips:` bindings are a different address. An explicit port stays too: by §19.1.4 a URI with
/// a port is not the URI without it.
///
/// Cheap to clone (one shared string).
///
/// ```
/// use sip_registrar::Aor;
/// let a = Aor::from_uri(&"sip:%61lice@Atlanta.EXAMPLE.com;user=phone".parse().unwrap()).unwrap();
/// assert_eq!(a.as_str(), "sip:alice@atlanta.example.com");
/// assert_eq!(a, "sip:alice@atlanta.example.com".parse().unwrap());
/// assert_eq!(a.host(), "atlanta.example.com");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aor {
    text: Arc<str>,
    /// Where the host starts in `text` (after `@`, or after the scheme's `:`).
    host_at: usize,
    /// Where the host ends (the port's `:`, or the end).
    host_end: usize,
}

impl Aor {
    /// The canonical address-of-record of a SIP or SIPS URI; `None` for other schemes.
    pub fn from_uri(uri: &Uri) -> Option<Self> {
        uri.as_sip().map(Self::from_sip_uri)
    }

    /// The canonical address-of-record of a SIP or SIPS URI.
    pub fn from_sip_uri(uri: &SipUri) -> Self {
        let mut text = String::with_capacity(48);
        text.push_str(if uri.is_secure() { "sips:" } else { "sip:" });
        if let Some(user) = uri.user_decoded() {
            text.push_str(&user);
            text.push('@');
        }
        let host_at = text.len();
        match uri.host() {
            Host::Domain(d) => text.extend(d.chars().map(|c| c.to_ascii_lowercase())),
            other => text.push_str(&other.to_string()),
        }
        let host_end = text.len();
        if let Some(port) = uri.port() {
            text.push(':');
            text.push_str(&port.to_string());
        }
        Self {
            text: text.into(),
            host_at,
            host_end,
        }
    }

    /// Parses and canonicalizes a SIP or SIPS URI written as text (Net::SIP's
    /// `proto:user@domain`).
    pub fn parse(s: &str) -> Result<Self, AorError> {
        let uri = Uri::parse(s).map_err(|e| AorError::Malformed(e.to_string()))?;
        Self::from_uri(&uri).ok_or_else(|| AorError::NotSip(uri.scheme().to_owned()))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host, lower-cased (IPv6 in brackets), without the port.
    pub fn host(&self) -> &str {
        &self.text[self.host_at..self.host_end]
    }

    /// Whether this is a `sips:` address.
    pub fn is_secure(&self) -> bool {
        self.text.starts_with("sips:")
    }
}

/// Why text is not an address-of-record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AorError {
    /// The text is not a URI.
    #[error("not a URI: {0}")]
    Malformed(String),
    /// The URI is not `sip:` or `sips:`.
    #[error("a {0}: URI is not a SIP address-of-record")]
    NotSip(String),
}

impl std::str::FromStr for Aor {
    type Err = AorError;
    fn from_str(s: &str) -> Result<Self, AorError> {
        Self::parse(s)
    }
}

impl fmt::Display for Aor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Aor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aor({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aor(s: &str) -> Aor {
        s.parse().unwrap()
    }

    #[test]
    fn canonical_form_drops_parameters_and_headers_and_unescapes() {
        assert_eq!(
            aor("sip:bob%40x@Biloxi.Example.COM;transport=tcp;user=ip?subject=x").as_str(),
            "sip:bob@x@biloxi.example.com"
        );
        assert_eq!(
            aor("sips:bob@biloxi.example.com").as_str(),
            "sips:bob@biloxi.example.com"
        );
        assert!(aor("sips:bob@biloxi.example.com").is_secure());
        assert_ne!(
            aor("sips:bob@biloxi.example.com"),
            aor("sip:bob@biloxi.example.com")
        );
    }

    #[test]
    fn user_case_matters_host_case_does_not() {
        assert_ne!(aor("sip:Bob@example.com"), aor("sip:bob@example.com"));
        assert_eq!(aor("sip:bob@EXAMPLE.com"), aor("sip:bob@example.com"));
        assert_eq!(aor("SIP:bob@example.com"), aor("sip:bob@example.com"));
    }

    #[test]
    fn port_stays_and_host_is_found() {
        let a = aor("sip:bob@[2001:DB8::1]:5070");
        assert_eq!(a.as_str(), "sip:bob@[2001:db8::1]:5070");
        assert_eq!(a.host(), "[2001:db8::1]");
        assert_ne!(a, aor("sip:bob@[2001:db8::1]"));
        assert_eq!(aor("sip:example.com").host(), "example.com");
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(
            matches!(Aor::parse("tel:+1-201-555-0123"), Err(AorError::NotSip(s)) if s == "tel")
        );
        assert!(matches!(Aor::parse("no uri"), Err(AorError::Malformed(_))));
    }
}
