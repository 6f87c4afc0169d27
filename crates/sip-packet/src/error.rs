//! Errors: what is wrong with a message, and where.

use std::fmt;

/// Why a message, a header value or a URI could not be parsed.
///
/// Every variant says what is wrong; [`ParseError`] adds where (line and header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input holds no message at all (empty, or only line breaks).
    #[error("empty message")]
    Empty,
    /// The first line is neither a request line nor a status line.
    #[error("malformed start line: {0}")]
    StartLine(&'static str),
    /// The protocol version is not `SIP/2.0` (a request gets 505).
    #[error("unsupported SIP version {0:?}, only SIP/2.0 is spoken")]
    Version(String),
    /// The status code is not a number from 100 to 699.
    #[error("status code {0:?} is not a number from 100 to 699")]
    StatusCode(String),
    /// The method is not a token.
    #[error("method {0:?} is not a token")]
    Method(String),
    /// A header line without a colon.
    #[error("header line has no colon")]
    MissingColon,
    /// A header name that is empty or holds a character outside `token`.
    #[error("header name {0:?} holds a character that is not allowed in a token")]
    HeaderName(String),
    /// A header section that is not UTF-8 text.
    #[error("header section is not UTF-8 text")]
    NotUtf8,
    /// A header line starts with whitespace but there is no header to continue.
    #[error("continuation line without a header before it")]
    OrphanContinuation,
    /// The header section does not end with an empty line.
    #[error("header section is not terminated by an empty line")]
    Unterminated,
    /// A header that every message needs is missing.
    #[error("mandatory header {0} is missing")]
    MissingHeader(&'static str),
    /// A header that may appear once appears again.
    #[error("header {0} appears more than once")]
    DuplicateHeader(&'static str),
    /// The CSeq method is not the request method.
    #[error("CSeq method {cseq:?} does not match the request method {method:?}")]
    CSeqMethodMismatch {
        /// The method in the CSeq header.
        cseq: String,
        /// The method in the request line.
        method: String,
    },
    /// Content-Length is not a non-negative number.
    #[error("Content-Length {0:?} is not a non-negative number")]
    ContentLength(String),
    /// Content-Length says there is more body than the datagram holds.
    #[error("Content-Length {declared} is larger than the {available} bytes of body present")]
    BodyTruncated {
        /// The Content-Length value.
        declared: usize,
        /// What the datagram holds after the header section.
        available: usize,
    },
    /// The header section is larger than the configured limit.
    #[error("header section larger than the limit of {0} bytes")]
    HeadTooLarge(usize),
    /// The body is larger than the configured limit.
    #[error("body larger than the limit of {0} bytes")]
    BodyTooLarge(usize),
    /// More header lines than the configured limit.
    #[error("more than {0} header lines")]
    TooManyHeaders(usize),
    /// A number that is not a number, or out of its range.
    #[error("{what} {value:?} is not a number in the allowed range")]
    Number {
        /// What the number is (e.g. "CSeq sequence number").
        what: &'static str,
        /// The text that was found.
        value: String,
    },
    /// A URI that does not follow RFC 3261 §19.1 / RFC 3966 / RFC 3986.
    #[error("invalid URI {uri:?}: {why}")]
    Uri {
        /// The URI text.
        uri: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A header value that does not follow its grammar.
    #[error("invalid value {value:?}: {why}")]
    Value {
        /// The value text.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// A message, header value or URI that could not be parsed: what, on which line, in which header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    line: Option<u32>,
    header: Option<String>,
}

impl ParseError {
    /// An error of this kind, not yet placed on a line or in a header.
    pub fn new(kind: ParseErrorKind) -> Self {
        Self {
            kind,
            line: None,
            header: None,
        }
    }

    pub(crate) fn value(value: &str, why: &'static str) -> Self {
        Self::new(ParseErrorKind::Value {
            value: clip(value),
            why,
        })
    }

    pub(crate) fn uri(uri: &str, why: &'static str) -> Self {
        Self::new(ParseErrorKind::Uri {
            uri: clip(uri),
            why,
        })
    }

    pub(crate) fn number(what: &'static str, value: &str) -> Self {
        Self::new(ParseErrorKind::Number {
            what,
            value: clip(value),
        })
    }

    /// Places the error on a line (1-based) of the message.
    #[must_use]
    pub fn at_line(mut self, line: u32) -> Self {
        self.line.get_or_insert(line);
        self
    }

    /// Places the error in a header.
    #[must_use]
    pub fn in_header(mut self, header: &str) -> Self {
        if self.header.is_none() {
            self.header = Some(clip(header));
        }
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// The line of the message (1-based), where known.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// The header the error is in, where it is in one.
    pub fn header(&self) -> Option<&str> {
        self.header.as_deref()
    }

    /// The status a server answers a request with when this error is found (RFC 3261 §8.2,
    /// RFC 4475): 505 for a wrong version, 513 for a message over the size limits, else 400.
    /// A response that fails to parse is dropped, never answered.
    pub fn response_status(&self) -> u16 {
        match self.kind {
            ParseErrorKind::Version(_) => 505,
            ParseErrorKind::HeadTooLarge(_)
            | ParseErrorKind::BodyTooLarge(_)
            | ParseErrorKind::TooManyHeaders(_) => 513,
            _ => 400,
        }
    }

    /// A short reason phrase for the response of [`response_status`](Self::response_status):
    /// the error text, on one line, without characters that are not allowed in a reason phrase.
    pub fn reason_phrase(&self) -> String {
        let text = self.to_string();
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(200)
            .collect()
    }
}

impl From<ParseErrorKind> for ParseError {
    fn from(kind: ParseErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.header) {
            (Some(line), Some(h)) => write!(f, "line {line}, header {h}: {}", self.kind),
            (Some(line), None) => write!(f, "line {line}: {}", self.kind),
            (None, Some(h)) => write!(f, "header {h}: {}", self.kind),
            (None, None) => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for ParseError {}

/// Keeps error texts short: a value from the network can be kilobytes long.
fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_says_what_and_where() {
        let e = ParseError::new(ParseErrorKind::MissingColon)
            .at_line(4)
            .in_header("Foo");
        assert_eq!(
            e.to_string(),
            "line 4, header Foo: header line has no colon"
        );
        assert_eq!(e.response_status(), 400);
    }

    #[test]
    fn version_error_maps_to_505() {
        let e = ParseError::new(ParseErrorKind::Version("SIP/7.0".into()));
        assert_eq!(e.response_status(), 505);
    }

    #[test]
    fn long_values_are_clipped_on_char_boundaries() {
        let long = "é".repeat(100);
        let e = ParseError::value(&long, "bad");
        assert!(e.to_string().len() < 200);
    }
}
