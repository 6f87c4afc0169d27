//! The `b=` line: proposed bandwidth (RFC 8866 §5.8).

use std::fmt;

use crate::grammar::{parse_u64, FieldError};

/// A bandwidth line, `b=<bwtype>:<bandwidth>`, such as `b=AS:64` (kilobits per second).
///
/// ```
/// let b = sip_sdp::Bandwidth::new("AS", 64);
/// assert_eq!(b.to_string(), "AS:64");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Bandwidth {
    /// The bandwidth type: `CT`, `AS`, `TIAS` (RFC 3890), or an `X-` experiment.
    pub kind: String,
    /// The value; its unit depends on the type (kbit/s for `CT` and `AS`, bit/s for `TIAS`).
    pub value: u64,
}

impl Bandwidth {
    /// A bandwidth line of type `kind`.
    pub fn new(kind: impl Into<String>, value: u64) -> Self {
        Self {
            kind: kind.into(),
            value,
        }
    }

    pub(crate) fn parse_value(value: &str) -> Result<Self, FieldError> {
        let (kind, amount) = value.split_once(':').ok_or_else(|| {
            FieldError::new("bwtype", value, "expected <type>:<value>, such as AS:64")
        })?;
        if kind.is_empty() || kind.contains(crate::grammar::is_space) {
            return Err(FieldError::new(
                "bwtype",
                kind,
                "expected a token such as AS or TIAS",
            ));
        }
        let amount = parse_u64(amount.trim_end_matches(crate::grammar::is_space))
            .ok_or_else(|| FieldError::new("bandwidth", amount, "expected a decimal number"))?;
        Ok(Self::new(kind, amount))
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_prints() {
        let b = Bandwidth::parse_value("TIAS:329000").unwrap();
        assert_eq!((b.kind.as_str(), b.value), ("TIAS", 329_000));
        assert_eq!(b.to_string(), "TIAS:329000");
    }

    #[test]
    fn errors() {
        assert_eq!(Bandwidth::parse_value("AS").unwrap_err().field, "bwtype");
        assert_eq!(Bandwidth::parse_value(":5").unwrap_err().field, "bwtype");
        assert_eq!(
            Bandwidth::parse_value("AS:x").unwrap_err().field,
            "bandwidth"
        );
        assert_eq!(
            Bandwidth::parse_value("AS:-1").unwrap_err().field,
            "bandwidth"
        );
    }
}
