//! WWW-Authenticate, Proxy-Authenticate, Authorization and Proxy-Authorization values
//! (RFC 3261 §20.7, §20.27, §20.28, §20.44; RFC 7616): a scheme followed by comma-separated
//! `name=value` parameters.

use std::borrow::Cow;
use std::fmt;

use bytestring::ByteString;

use crate::error::ParseError;
use crate::text;

/// A challenge or credentials: `Digest realm="x", nonce="y", ...`.
///
/// ```
/// use sip_packet::AuthValue;
/// let c = AuthValue::parse(r#"Digest realm="atlanta.example.com", qop="auth,auth-int", nonce="84a4cc6f", stale=FALSE"#).unwrap();
/// assert!(c.is_digest());
/// assert_eq!(c.get("realm").unwrap(), "atlanta.example.com");
/// assert_eq!(c.get("QOP").unwrap(), "auth,auth-int");
/// assert_eq!(c.get("stale").unwrap(), "FALSE");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthValue {
    scheme: ByteString,
    params: Vec<(ByteString, ByteString)>,
}

impl AuthValue {
    /// A value of this scheme with no parameters.
    pub fn new(scheme: &str) -> Self {
        Self {
            scheme: ByteString::from(scheme),
            params: Vec::new(),
        }
    }

    /// Parses `scheme param=value, param="quoted value", ...`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        let s = text::trim(s);
        let (scheme, rest) = match s.find(|c: char| c.is_ascii_whitespace()) {
            Some(i) => (&s[..i], text::trim(&s[i..])),
            None => (s, ""),
        };
        if !text::is_token(scheme) {
            return Err(ParseError::value(s, "authentication scheme is not a token"));
        }
        let mut params = Vec::new();
        if !rest.is_empty() {
            for p in text::split_outside_quotes(rest, b',') {
                if p.is_empty() {
                    // RFC 7235 allows empty list elements: `a=1, , b=2`.
                    continue;
                }
                let (name, value) = p
                    .split_once('=')
                    .ok_or_else(|| ParseError::value(p, "authentication parameter without ="))?;
                let (name, value) = (text::trim(name), text::trim(value));
                if !text::is_token(name) {
                    return Err(ParseError::value(
                        p,
                        "authentication parameter name is not a token",
                    ));
                }
                let ok = if value.starts_with('"') {
                    text::quoted_len(value) == Some(value.len())
                } else {
                    !value.is_empty()
                        && value
                            .bytes()
                            .all(|b| text::is_token_char(b) || b == b'/' || b == b'=')
                };
                if !ok {
                    return Err(ParseError::value(
                        p,
                        "authentication parameter value is malformed",
                    ));
                }
                params.push((text::sub(owner, name), text::sub(owner, value)));
            }
        }
        Ok(Self {
            scheme: text::sub(owner, scheme),
            params,
        })
    }

    /// The scheme (`Digest`, ...), as written.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether the scheme is `Digest` (in any case).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("digest")
    }

    /// The value of a parameter, quotes removed and escapes resolved.
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        let (_, v) = self
            .params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        if v.starts_with('"') {
            text::unquote(v)
        } else {
            Some(Cow::Borrowed(v))
        }
    }

    /// Every parameter as written (quoted values keep their quotes).
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (&**n, &**v))
    }

    /// Adds a parameter written as a quoted string.
    pub fn push_quoted(&mut self, name: &str, value: &str) {
        self.params
            .push((ByteString::from(name), ByteString::from(text::quote(value))));
    }

    /// Adds a parameter written as a token.
    pub fn push_token(&mut self, name: &str, value: &str) {
        self.params
            .push((ByteString::from(name), ByteString::from(value)));
    }
}

impl fmt::Display for AuthValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        for (i, (n, v)) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for AuthValue {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_authorization_and_prints_back() {
        let s = r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let a = AuthValue::parse(s).unwrap();
        assert_eq!(a.get("username").unwrap(), "bob");
        assert_eq!(a.get("nc").unwrap(), "00000001");
        assert_eq!(a.get("uri").unwrap(), "sip:bob@biloxi.com");
        assert_eq!(a.to_string(), s);
    }

    #[test]
    fn unknown_scheme_is_kept() {
        let a = AuthValue::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert!(!a.is_digest());
        assert_eq!(a.get("opaque-data").unwrap(), "here");
    }

    #[test]
    fn malformed() {
        assert!(AuthValue::parse(r#"Digest realm="x"#).is_err());
        assert!(AuthValue::parse("Digest realm").is_err());
        assert!(AuthValue::parse("Dig(est realm=x").is_err());
    }
}
