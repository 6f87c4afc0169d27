//! Lines kept as written because the parser has no type for them where they stand.

use std::fmt;

use crate::attribute::Attribute;

/// A line kept verbatim: one whose type letter SDP does not define, or a session-level line
/// (`o=`, `t=`, ...) found inside a media section.
///
/// RFC 8866 §5 lets a parser ignore or reject such lines; keeping them lets a proxy pass a
/// description on without losing anything. They are printed in their section in their original
/// order, and where they stood among its `a=` lines (a line found before the first attribute is
/// printed just before it, after the `c=`, `b=` and `k=` lines).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RawLine {
    /// The type letter, `a` to `z`.
    pub letter: char,
    /// Everything after `=`.
    pub value: String,
    /// How many of the section's attributes come before this line; a number past the last
    /// attribute (as [`RawLine::new`] sets) means after all of them.
    pub after_attributes: usize,
}

impl RawLine {
    /// A line `letter=value`, to be printed after all the attributes of its section.
    pub fn new(letter: char, value: impl Into<String>) -> Self {
        Self::after(letter, value, usize::MAX)
    }

    /// A line `letter=value` printed after the first `attributes` attributes of its section.
    pub fn after(letter: char, value: impl Into<String>, attributes: usize) -> Self {
        Self {
            letter,
            value: value.into(),
            after_attributes: attributes,
        }
    }
}

/// Writes the `a=` lines of a section with its raw lines among them, each ended by CRLF.
pub(crate) fn write_attributes(
    f: &mut fmt::Formatter<'_>,
    attributes: &[Attribute],
    lines: &[RawLine],
) -> fmt::Result {
    let mut lines = lines.iter().peekable();
    for (index, attribute) in attributes.iter().enumerate() {
        while let Some(line) = lines.next_if(|l| l.after_attributes <= index) {
            write!(f, "{line}\r\n")?;
        }
        write!(f, "a={attribute}\r\n")?;
    }
    for line in lines {
        write!(f, "{line}\r\n")?;
    }
    Ok(())
}

impl fmt::Display for RawLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.letter, self.value)
    }
}
