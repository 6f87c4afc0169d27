//! Small nom parsers shared by the line and attribute types: space-separated tokens and numbers.
//!
//! RFC 8866 separates fields by exactly one SP; peers in the wild put two, or a tab, or a trailing
//! space. Reading is lenient about that (any run of SP/HTAB separates), printing writes one SP.

use nom::bytes::complete::take_till1;
use nom::character::complete::{i64 as dec_i64, space0, u16 as dec_u16, u32 as dec_u32};
use nom::character::complete::{u64 as dec_u64, u8 as dec_u8};
use nom::combinator::all_consuming;
use nom::sequence::preceded;
use nom::IResult;

use crate::error::excerpt;

/// A field of a line or attribute value that is missing or does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: &'static str,
    pub(crate) found: String,
    pub(crate) reason: &'static str,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, found: &str, reason: &'static str) -> Self {
        Self {
            field,
            found: excerpt(found),
            reason,
        }
    }
}

/// Whether `c` separates fields.
pub(crate) fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The space-separated fields of a line value, read one after the other.
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(value: &'a str) -> Self {
        Self { rest: value }
    }

    /// The next token, or `None` at the end.
    pub(crate) fn next_token(&mut self) -> Option<&'a str> {
        let parsed: IResult<&'a str, &'a str> = preceded(space0, take_till1(is_space))(self.rest);
        match parsed {
            Ok((rest, token)) => {
                self.rest = rest;
                Some(token)
            }
            Err(_) => None,
        }
    }

    /// The next token; `field` names it in the error when it is missing.
    pub(crate) fn token(
        &mut self,
        field: &'static str,
        reason: &'static str,
    ) -> Result<&'a str, FieldError> {
        self.next_token()
            .ok_or_else(|| FieldError::new(field, "", reason))
    }

    /// What is left, without the spaces before it.
    pub(crate) fn rest(&self) -> &'a str {
        self.rest.trim_start_matches(is_space)
    }

    /// Succeeds if only spaces are left; `after` names the last field read.
    pub(crate) fn finish(&self, after: &'static str) -> Result<(), FieldError> {
        let rest = self.rest();
        if rest.is_empty() {
            Ok(())
        } else {
            Err(FieldError::new(after, rest, "unexpected text after it"))
        }
    }
}

macro_rules! decimal {
    ($name:ident, $ty:ty, $parser:ident) => {
        /// The whole of `text` read as a decimal number, or `None` (also on overflow).
        pub(crate) fn $name(text: &str) -> Option<$ty> {
            let parsed: IResult<&str, $ty> = all_consuming($parser)(text);
            parsed.ok().map(|(_, n)| n)
        }
    };
}

decimal!(parse_u8, u8, dec_u8);
decimal!(parse_u16, u16, dec_u16);
decimal!(parse_u32, u32, dec_u32);
decimal!(parse_u64, u64, dec_u64);
decimal!(parse_i64, i64, dec_i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_runs_of_space_and_tab() {
        let mut f = Fields::new("  a \tbb  c ");
        assert_eq!(f.next_token(), Some("a"));
        assert_eq!(f.next_token(), Some("bb"));
        assert_eq!(f.rest(), "c ");
        assert_eq!(f.next_token(), Some("c"));
        assert_eq!(f.next_token(), None);
        assert!(f.finish("c").is_ok());
    }

    #[test]
    fn finish_reports_leftovers() {
        let mut f = Fields::new("a b");
        f.next_token();
        let e = f.finish("a").unwrap_err();
        assert_eq!(e.found, "b");
    }

    #[test]
    fn numbers_are_whole_and_bounded() {
        assert_eq!(parse_u16("65535"), Some(65535));
        assert_eq!(parse_u16("65536"), None);
        assert_eq!(parse_u16("12a"), None);
        assert_eq!(parse_u16(""), None);
        assert_eq!(parse_u16("-1"), None);
        assert_eq!(parse_u8("127"), Some(127));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_i64("-3600"), Some(-3600));
        assert_eq!(parse_u32("8000"), Some(8000));
    }
}
