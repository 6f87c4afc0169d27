//! The CSeq header (RFC 3261 §20.16).

use std::fmt;

use bytestring::ByteString;

use crate::error::ParseError;
use crate::method::Method;
use crate::text;

/// A command sequence: number and method.
///
/// ```
/// use sip_packet::{CSeq, Method};
/// let c = CSeq::parse("314159 INVITE").unwrap();
/// assert_eq!(c.seq(), 314159);
/// assert_eq!(c.method(), &Method::Invite);
/// assert!(CSeq::parse("36893488147419103232 REGISTER").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    seq: u32,
    method: Method,
}

impl CSeq {
    /// The largest sequence number: RFC 3261 §8.1.1.5 asks for less than 2**31.
    pub const MAX: u32 = (1 << 31) - 1;

    /// A CSeq of this number and method.
    pub fn new(seq: u32, method: Method) -> Self {
        Self { seq, method }
    }

    /// Parses `number method`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        if let Some(c) = Self::parse_usual(s) {
            return Ok(c);
        }
        let s = text::trim(s);
        // Bytes, not chars: whitespace is ASCII, and no byte of a longer UTF-8 character is.
        let split = s
            .bytes()
            .position(text::is_ws)
            .ok_or_else(|| ParseError::value(s, "CSeq lacks a method"))?;
        let num = &s[..split];
        let method = text::trim(&s[split..]);
        let seq = text::parse_decimal(num)
            .filter(|n| *n <= u64::from(Self::MAX))
            .ok_or_else(|| ParseError::number("CSeq sequence number", num))?;
        let method = Method::parse_shared(owner, method)?;
        Ok(Self {
            seq: seq as u32,
            method,
        })
    }

    /// `digits SP METHOD` with a method of RFC 3261 and its extensions, as nearly every
    /// message writes it; `None` sends anything else to the general parser.
    fn parse_usual(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        // Ten digits fit a u64; a longer number goes the general way.
        let digits = b.iter().take(10).take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || b.get(digits) != Some(&b' ') {
            return None;
        }
        let seq = b[..digits]
            .iter()
            .fold(0u64, |n, c| n * 10 + u64::from(c - b'0'));
        if seq > u64::from(Self::MAX) {
            return None;
        }
        // The byte at `digits` is an ASCII space, so `digits + 1` is a char boundary.
        let method = Method::known(&s[digits + 1..])?;
        Some(Self {
            seq: seq as u32,
            method,
        })
    }

    /// The sequence number.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

impl std::str::FromStr for CSeq {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_and_padded() {
        let c = CSeq::parse("0009  \t INVITE").unwrap();
        assert_eq!(c.seq(), 9);
        assert_eq!(c.to_string(), "9 INVITE");
    }

    #[test]
    fn usual_form_agrees_with_the_general_parser() {
        for s in [
            "1 INVITE",
            "0000000001 ACK",
            "2147483647 BYE",
            "2147483648 INVITE",
            "9999999999 INVITE",
            "12345678901 INVITE",
            "1 invite",
            "1 INVITE ",
            "1  INVITE",
            "1 INVITEX",
            " 1 INVITE",
        ] {
            let owner = ByteString::from(s);
            let general = {
                let t = text::trim(&owner);
                t.bytes().position(text::is_ws).and_then(|i| {
                    let seq =
                        text::parse_decimal(&t[..i]).filter(|n| *n <= u64::from(CSeq::MAX))?;
                    let m = Method::parse_shared(&owner, text::trim(&t[i..])).ok()?;
                    Some(CSeq::new(seq as u32, m))
                })
            };
            if let Some(c) = CSeq::parse_usual(s) {
                assert_eq!(Some(c), general, "{s:?}");
            }
            assert_eq!(CSeq::parse(s).ok(), general, "{s:?}");
        }
    }

    #[test]
    fn rejects() {
        assert!(CSeq::parse("INVITE").is_err());
        assert!(CSeq::parse("x INVITE").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
        assert!(CSeq::parse("2147483648 INVITE").is_err());
        assert!(CSeq::parse("2147483647 INVITE").is_ok());
        assert!(CSeq::parse("1 IN VITE").is_err());
    }
}
