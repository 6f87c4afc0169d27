//! Request methods.

use std::fmt;

use bytestring::ByteString;

use crate::error::{ParseError, ParseErrorKind};
use crate::text;

macro_rules! methods {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal; )*) => {
        /// A request method. Methods are case-sensitive (RFC 3261 §7.1); any `token` that is
        /// not one of the known methods is kept as [`Method::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Method {
            $( $(#[$doc])* $variant, )*
            /// An extension method, as written.
            Other(ByteString),
        }

        impl Method {
            /// The method as it is written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $name, )*
                    Self::Other(s) => s,
                }
            }

            pub(crate) fn known(s: &str) -> Option<Self> {
                match s {
                    $( $name => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

methods! {
    /// `INVITE` (RFC 3261)
    Invite => "INVITE";
    /// `ACK` (RFC 3261)
    Ack => "ACK";
    /// `BYE` (RFC 3261)
    Bye => "BYE";
    /// `CANCEL` (RFC 3261)
    Cancel => "CANCEL";
    /// `REGISTER` (RFC 3261)
    Register => "REGISTER";
    /// `OPTIONS` (RFC 3261)
    Options => "OPTIONS";
    /// `INFO` (RFC 6086)
    Info => "INFO";
    /// `PRACK` (RFC 3262)
    Prack => "PRACK";
    /// `SUBSCRIBE` (RFC 6665)
    Subscribe => "SUBSCRIBE";
    /// `NOTIFY` (RFC 6665)
    Notify => "NOTIFY";
    /// `UPDATE` (RFC 3311)
    Update => "UPDATE";
    /// `MESSAGE` (RFC 3428)
    Message => "MESSAGE";
    /// `REFER` (RFC 3515)
    Refer => "REFER";
    /// `PUBLISH` (RFC 3903)
    Publish => "PUBLISH";
}

impl Method {
    /// Parses a method token.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if let Some(m) = Self::known(s) {
            return Ok(m);
        }
        if text::is_token(s) {
            Ok(Self::Other(ByteString::from(s)))
        } else {
            Err(ParseErrorKind::Method(s.to_owned()).into())
        }
    }

    /// Like [`parse`](Self::parse) but shares `owner`'s buffer; `s` is a slice of `owner`.
    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        if let Some(m) = Self::known(s) {
            return Ok(m);
        }
        if text::is_token(s) {
            Ok(Self::Other(text::sub(owner, s)))
        } else {
            Err(ParseErrorKind::Method(s.to_owned()).into())
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Method {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

impl PartialEq<str> for Method {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Method {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_extension_and_invalid() {
        assert_eq!(Method::parse("INVITE").unwrap(), Method::Invite);
        assert_eq!(Method::parse("invite").unwrap().as_str(), "invite");
        assert_ne!(Method::parse("invite").unwrap(), Method::Invite);
        let odd = "!interesting-Method0123456789_*+`.%indeed'~";
        assert_eq!(Method::parse(odd).unwrap().as_str(), odd);
        assert!(Method::parse("IN VITE").is_err());
        assert!(Method::parse("").is_err());
    }
}
