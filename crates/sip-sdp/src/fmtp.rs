//! `a=fmtp`: codec-specific parameters of one format (RFC 8866 §6.15).

use std::fmt;
use std::str::FromStr;

use crate::error::{excerpt, AttributeError};
use crate::grammar::{is_space, Fields};

/// The value of `a=fmtp:<format> <parameters>`.
///
/// ```
/// let fmtp: sip_sdp::Fmtp = "98 profile-level-id=42800C; packetization-mode=0".parse().unwrap();
/// assert_eq!(fmtp.format, "98");
/// assert_eq!(fmtp.parameter("packetization-mode"), Some("0"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Fmtp {
    /// The format (payload type) the parameters apply to.
    pub format: String,
    /// The parameters, as written (`0-15`, `annexb=no`, `mode=30;...`).
    pub params: String,
}

impl Fmtp {
    /// The name of the attribute, `fmtp`.
    pub const NAME: &'static str = "fmtp";

    /// Parameters `params` for format `format`.
    pub fn new(format: impl Into<String>, params: impl Into<String>) -> Self {
        Self {
            format: format.into(),
            params: params.into(),
        }
    }

    /// The `;`-separated parameters as `(name, value)` pairs; a parameter without `=` (such as
    /// the event list `0-15` of telephone-event) has no value.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, Option<&str>)> + '_ {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim())),
                None => (p, None),
            })
    }

    /// The value of parameter `name` (compared without regard to case).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value)
    }
}

impl FromStr for Fmtp {
    type Err = AttributeError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut fields = Fields::new(value);
        let format = fields
            .next_token()
            .ok_or_else(|| AttributeError::InvalidField {
                attribute: Self::NAME,
                field: "format",
                found: excerpt(value),
                reason: "expected a format (payload type) followed by parameters",
            })?;
        Ok(Self::new(format, fields.rest().trim_end_matches(is_space)))
    }
}

impl fmt::Display for Fmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format)?;
        if !self.params.is_empty() {
            write!(f, " {}", self.params)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telephone_event_list() {
        let f: Fmtp = "101 0-16".parse().unwrap();
        assert_eq!(f.parameters().collect::<Vec<_>>(), vec![("0-16", None)]);
        assert_eq!(f.to_string(), "101 0-16");
    }

    #[test]
    fn named_parameters() {
        let f: Fmtp = "18 annexb=no".parse().unwrap();
        assert_eq!(f.parameter("AnnexB"), Some("no"));
        assert_eq!(f.parameter("x"), None);
    }

    #[test]
    fn empty() {
        assert!("".parse::<Fmtp>().is_err());
        let f: Fmtp = "97".parse().unwrap();
        assert_eq!(f.params, "");
        assert_eq!(f.to_string(), "97");
    }
}
