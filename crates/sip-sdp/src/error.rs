//! What can go wrong: reading a description, reading one attribute value, or misusing the API.

use std::fmt;

use thiserror::Error;

/// The part of a session description a line belongs to, used in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// The session section: from `v=` up to the first `m=` line.
    Session,
    /// The media section opened by the `m=` line with this 1-based number.
    Media(usize),
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Session => f.write_str("session section"),
            Self::Media(n) => write!(f, "media section {n}"),
        }
    }
}

/// Why a session description could not be parsed.
///
/// Every variant names the 1-based line where the problem was found; a line is counted at each
/// LF, whether or not a CR precedes it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input is longer than [`Limits::max_bytes`](crate::Limits::max_bytes).
    #[error("line 1: the description is {len} bytes long, more than the limit of {limit} bytes")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The input has more lines than [`Limits::max_lines`](crate::Limits::max_lines).
    #[error("line {line}: more than {limit} lines, the configured limit")]
    TooManyLines {
        /// The first line over the limit.
        line: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The input has more `m=` lines than [`Limits::max_media`](crate::Limits::max_media).
    #[error("line {line}: more than {limit} media descriptions (m= lines), the configured limit")]
    TooManyMedia {
        /// The first `m=` line over the limit.
        line: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The input holds no line at all (or only empty ones).
    #[error("line 1: the description is empty, but it must start with a v= line")]
    Empty,
    /// A line is not valid UTF-8.
    #[error("line {line}: not valid UTF-8 (SDP text is UTF-8 unless an a=charset attribute says otherwise)")]
    InvalidUtf8 {
        /// The line.
        line: usize,
    },
    /// A line holds a NUL or a CR that is not part of its line end.
    #[error("line {line}: contains a {character} character, which RFC 8866 forbids inside a line")]
    ForbiddenCharacter {
        /// The line.
        line: usize,
        /// `"NUL"` or `"CR"`.
        character: &'static str,
    },
    /// A line is not of the form `<lowercase letter>=<value>`.
    #[error("line {line}: {found:?} is not of the form <type letter a-z>=<value>")]
    MalformedLine {
        /// The line.
        line: usize,
        /// The start of the line (at most 40 characters).
        found: String,
    },
    /// The first line is not `v=`.
    #[error("line {line}: a description must start with a v= line, but this is a {letter}= line")]
    VersionNotFirst {
        /// The line.
        line: usize,
        /// The type letter found instead.
        letter: char,
    },
    /// The `v=` line names a version other than 0.
    #[error("line {line}: unsupported SDP version {found:?}; version 0 is the only one defined")]
    UnsupportedVersion {
        /// The line.
        line: usize,
        /// The value of the `v=` line (at most 40 characters).
        found: String,
    },
    /// A line that the session section must hold is missing.
    #[error("line {line}: the session section ends here without the {letter}= line it must have")]
    MissingLine {
        /// Where the session section ends: the first `m=` line, or one past the last line.
        line: usize,
        /// The missing type letter (`o` or `s`).
        letter: char,
    },
    /// A line that may appear once in its section appears again.
    #[error("line {line}: a second {letter}= line in the {section}, which may hold only one (the first is on line {first})")]
    DuplicateLine {
        /// The line of the second occurrence.
        line: usize,
        /// Its type letter.
        letter: char,
        /// The section holding both.
        section: Section,
        /// The line of the first occurrence.
        first: usize,
    },
    /// An `r=` line without a `t=` line before it.
    #[error("line {line}: an r= line repeats the t= line before it, but there is none")]
    RepeatWithoutTime {
        /// The line.
        line: usize,
    },
    /// A field of a known line is missing or does not follow the grammar.
    #[error("line {line}: bad {field} in {letter}= line ({found:?}): {reason}")]
    InvalidField {
        /// The line.
        line: usize,
        /// Its type letter.
        letter: char,
        /// The name of the field, as RFC 8866 names it (`port`, `sess-version`, ...).
        field: &'static str,
        /// The offending text (at most 40 characters; empty when the field is missing).
        found: String,
        /// What the grammar wants there.
        reason: &'static str,
    },
}

/// Why the value of an attribute (`a=rtpmap:...`, `a=rtcp:...`) could not be read as its type.
///
/// Attributes are kept as text when a description is parsed; they are only read as types when
/// asked for, so this error is not tied to a line. Parsing a whole description never returns it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AttributeError {
    /// A field of the attribute value is missing or invalid.
    #[error("bad {field} in a={attribute} value {found:?}: {reason}")]
    InvalidField {
        /// The attribute name (`rtpmap`, `fmtp`, `rtcp`).
        attribute: &'static str,
        /// The field (`payload type`, `clock rate`, ...).
        field: &'static str,
        /// The offending text (at most 40 characters).
        found: String,
        /// What the grammar wants there.
        reason: &'static str,
    },
}

/// The API was used in a way that cannot work; the description was left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UsageError {
    /// [`SessionDescription::replace_media_listen`](crate::SessionDescription::replace_media_listen)
    /// got a different number of addresses than there are media descriptions.
    #[error("replace_media_listen got {given} addresses for {media} media descriptions; it needs one for each")]
    MediaCountMismatch {
        /// Number of addresses given.
        given: usize,
        /// Number of media descriptions.
        media: usize,
    },
}

/// Cuts `text` to at most 40 characters for an error message, so that a huge line cannot make a
/// huge error.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", text.get(..end).unwrap_or(text)),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_char_boundaries() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(50);
        let cut = excerpt(&long);
        assert!(cut.ends_with("..."));
        assert_eq!(cut.chars().count(), 43);
    }

    #[test]
    fn messages_name_line_and_reason() {
        let e = ParseError::DuplicateLine {
            line: 7,
            letter: 'i',
            section: Section::Media(2),
            first: 5,
        };
        assert_eq!(
            e.to_string(),
            "line 7: a second i= line in the media section 2, which may hold only one (the first is on line 5)"
        );
        let e = ParseError::InvalidField {
            line: 4,
            letter: 'm',
            field: "port",
            found: "abc".into(),
            reason: "expected a number from 0 to 65535",
        };
        assert_eq!(
            e.to_string(),
            "line 4: bad port in m= line (\"abc\"): expected a number from 0 to 65535"
        );
    }
}
