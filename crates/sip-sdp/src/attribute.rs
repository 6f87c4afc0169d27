//! The `a=` line: a property or a value attribute (RFC 8866 §5.13).

use std::fmt;

/// An attribute line, `a=<name>` (a property) or `a=<name>:<value>`.
///
/// Attributes are kept as text, in order, whatever their name; typed views such as
/// [`RtpMap`](crate::RtpMap) or [`Direction`](crate::Direction) read them on request.
///
/// ```
/// use sip_sdp::Attribute;
/// assert_eq!(Attribute::new("ptime", "20").to_string(), "ptime:20");
/// assert_eq!(Attribute::property("sendonly").to_string(), "sendonly");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Attribute {
    /// The name, everything before the first `:`.
    pub name: String,
    /// The value, everything after the first `:`, kept byte for byte; `None` for a property.
    pub value: Option<String>,
}

impl Attribute {
    /// A value attribute, `a=name:value`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
        }
    }

    /// A property attribute (a flag without a value), `a=name`.
    pub fn property(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: None,
        }
    }

    /// Reads the value of an `a=` line; every text is a valid attribute.
    pub(crate) fn parse_value(text: &str) -> Self {
        match text.split_once(':') {
            Some((name, value)) => Self::new(name, value),
            None => Self::property(text),
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(value) = &self.value {
            write!(f, ":{value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_colon() {
        let a = Attribute::parse_value("fingerprint:sha-256 AB:CD");
        assert_eq!(a.name, "fingerprint");
        assert_eq!(a.value.as_deref(), Some("sha-256 AB:CD"));
        assert_eq!(a.to_string(), "fingerprint:sha-256 AB:CD");
    }

    #[test]
    fn properties_and_empty_values() {
        assert_eq!(
            Attribute::parse_value("recvonly"),
            Attribute::property("recvonly")
        );
        let a = Attribute::parse_value("x-empty:");
        assert_eq!(a.value.as_deref(), Some(""));
        assert_eq!(a.to_string(), "x-empty:");
        assert_eq!(Attribute::parse_value("").to_string(), "");
    }
}
