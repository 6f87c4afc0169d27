//! Reading a session description: splitting it into lines and giving each line to its type.
//!
//! The parser never panics and never indexes into input; what it allocates is proportional to
//! the input, which [`Limits`] bounds.

use std::str;

use crate::attribute::Attribute;
use crate::bandwidth::Bandwidth;
use crate::connection::{AddressType, Connection};
use crate::error::{excerpt, ParseError, Section};
use crate::grammar::{is_space, FieldError};
use crate::limits::Limits;
use crate::line::RawLine;
use crate::media::MediaDescription;
use crate::origin::Origin;
use crate::session::SessionDescription;
use crate::time::{Repeat, TimeZoneAdjustment, Timing};

/// Lines that may appear once in the session section, with the line they first appeared on.
#[derive(Default)]
struct SessionSeen {
    version: Option<usize>,
    origin: Option<usize>,
    name: Option<usize>,
    information: Option<usize>,
    uri: Option<usize>,
    connection: Option<usize>,
    zones: Option<usize>,
    key: Option<usize>,
}

/// Lines that may appear once in a media section.
#[derive(Default)]
struct MediaSeen {
    information: Option<usize>,
    key: Option<usize>,
}

/// Records that a once-only line appeared, or reports it as a duplicate.
fn once(
    seen: &mut Option<usize>,
    line: usize,
    letter: char,
    section: Section,
) -> Result<(), ParseError> {
    match *seen {
        Some(first) => Err(ParseError::DuplicateLine {
            line,
            letter,
            section,
            first,
        }),
        None => {
            *seen = Some(line);
            Ok(())
        }
    }
}

fn field_error(line: usize, letter: char) -> impl FnOnce(FieldError) -> ParseError {
    move |e| ParseError::InvalidField {
        line,
        letter,
        field: e.field,
        found: e.found,
        reason: e.reason,
    }
}

/// The state of a parse in progress.
struct Parser<'l> {
    limits: &'l Limits,
    origin: Option<Origin>,
    session_name: Option<String>,
    /// The description being filled; its origin and name are placeholders until `finish`.
    sdp: SessionDescription,
    seen: SessionSeen,
    media_seen: MediaSeen,
    /// The line of the first `m=`, where the session section ends.
    session_end: Option<usize>,
}

impl<'l> Parser<'l> {
    fn new(limits: &'l Limits) -> Self {
        let placeholder = Origin {
            username: String::new(),
            session_id: String::new(),
            session_version: 0,
            net_type: String::new(),
            addr_type: AddressType::Ip4,
            address: String::new(),
        };
        let mut sdp = SessionDescription::new(placeholder, "");
        sdp.timings.clear();
        Self {
            limits,
            origin: None,
            session_name: None,
            sdp,
            seen: SessionSeen::default(),
            media_seen: MediaSeen::default(),
            session_end: None,
        }
    }

    fn line(&mut self, line: usize, letter: char, value: &str) -> Result<(), ParseError> {
        if self.seen.version.is_none() {
            if letter != 'v' {
                return Err(ParseError::VersionNotFirst { line, letter });
            }
            // RFC 8866 §5.1: version 0 is the only one.
            if value.trim_end_matches(is_space) != "0" {
                return Err(ParseError::UnsupportedVersion {
                    line,
                    found: excerpt(value),
                });
            }
            self.seen.version = Some(line);
            return Ok(());
        }
        if letter == 'm' {
            return self.media_line(line, value);
        }
        if self.sdp.media.is_empty() {
            self.session_line(line, letter, value)
        } else {
            self.media_section_line(line, letter, value)
        }
    }

    fn media_line(&mut self, line: usize, value: &str) -> Result<(), ParseError> {
        if self.sdp.media.len() >= self.limits.max_media {
            return Err(ParseError::TooManyMedia {
                line,
                limit: self.limits.max_media,
            });
        }
        let media = MediaDescription::parse_value(value).map_err(field_error(line, 'm'))?;
        self.session_end.get_or_insert(line);
        self.sdp.media.push(media);
        self.media_seen = MediaSeen::default();
        Ok(())
    }

    fn session_line(&mut self, line: usize, letter: char, value: &str) -> Result<(), ParseError> {
        let section = Section::Session;
        let seen = &mut self.seen;
        let sdp = &mut self.sdp;
        match letter {
            'v' => once(&mut seen.version, line, letter, section)?,
            'o' => {
                once(&mut seen.origin, line, letter, section)?;
                self.origin = Some(Origin::parse_value(value).map_err(field_error(line, letter))?);
            }
            's' => {
                once(&mut seen.name, line, letter, section)?;
                self.session_name = Some(value.to_owned());
            }
            'i' => {
                once(&mut seen.information, line, letter, section)?;
                sdp.information = Some(value.to_owned());
            }
            'u' => {
                once(&mut seen.uri, line, letter, section)?;
                sdp.uri = Some(value.to_owned());
            }
            'e' => sdp.emails.push(value.to_owned()),
            'p' => sdp.phones.push(value.to_owned()),
            'c' => {
                once(&mut seen.connection, line, letter, section)?;
                sdp.connection =
                    Some(Connection::parse_value(value).map_err(field_error(line, letter))?);
            }
            'b' => sdp
                .bandwidths
                .push(Bandwidth::parse_value(value).map_err(field_error(line, letter))?),
            't' => sdp
                .timings
                .push(Timing::parse_value(value).map_err(field_error(line, letter))?),
            'r' => {
                let repeat = Repeat::parse_value(value).map_err(field_error(line, letter))?;
                sdp.timings
                    .last_mut()
                    .ok_or(ParseError::RepeatWithoutTime { line })?
                    .repeats
                    .push(repeat);
            }
            'z' => {
                once(&mut seen.zones, line, letter, section)?;
                sdp.time_zones =
                    TimeZoneAdjustment::parse_list(value).map_err(field_error(line, letter))?;
            }
            'k' => {
                once(&mut seen.key, line, letter, section)?;
                sdp.key = Some(value.to_owned());
            }
            'a' => sdp.attributes.push(Attribute::parse_value(value)),
            _ => sdp
                .other_lines
                .push(RawLine::after(letter, value, sdp.attributes.len())),
        }
        Ok(())
    }

    fn media_section_line(
        &mut self,
        line: usize,
        letter: char,
        value: &str,
    ) -> Result<(), ParseError> {
        let section = Section::Media(self.sdp.media.len());
        let seen = &mut self.media_seen;
        let Some(media) = self.sdp.media.last_mut() else {
            return Ok(());
        };
        match letter {
            'i' => {
                once(&mut seen.information, line, letter, section)?;
                media.information = Some(value.to_owned());
            }
            'c' => media
                .connections
                .push(Connection::parse_value(value).map_err(field_error(line, letter))?),
            'b' => media
                .bandwidths
                .push(Bandwidth::parse_value(value).map_err(field_error(line, letter))?),
            'k' => {
                once(&mut seen.key, line, letter, section)?;
                media.key = Some(value.to_owned());
            }
            'a' => media.attributes.push(Attribute::parse_value(value)),
            // A session-level or unknown letter inside a media section: kept where it was.
            _ => media
                .other_lines
                .push(RawLine::after(letter, value, media.attributes.len())),
        }
        Ok(())
    }

    fn finish(self, end: usize) -> Result<SessionDescription, ParseError> {
        if self.seen.version.is_none() {
            return Err(ParseError::Empty);
        }
        let end = self.session_end.unwrap_or(end);
        let origin = self.origin.ok_or(ParseError::MissingLine {
            line: end,
            letter: 'o',
        })?;
        let session_name = self.session_name.ok_or(ParseError::MissingLine {
            line: end,
            letter: 's',
        })?;
        Ok(SessionDescription {
            origin,
            session_name,
            ..self.sdp
        })
    }
}

/// Splits a line into its type letter and value.
fn split_line(line: usize, text: &str) -> Result<(char, &str), ParseError> {
    let bytes = text.as_bytes();
    match (bytes.first(), bytes.get(1), text.get(2..)) {
        (Some(&letter @ b'a'..=b'z'), Some(b'='), Some(value)) => Ok((char::from(letter), value)),
        _ => Err(ParseError::MalformedLine {
            line,
            found: excerpt(text),
        }),
    }
}

/// Parses `input` within `limits`.
pub(crate) fn parse(input: &[u8], limits: &Limits) -> Result<SessionDescription, ParseError> {
    if input.len() > limits.max_bytes {
        return Err(ParseError::TooLong {
            len: input.len(),
            limit: limits.max_bytes,
        });
    }
    let mut parser = Parser::new(limits);
    let mut last = 0;
    for (index, raw) in input.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        // A CRLF line end loses its CR here; a bare LF is accepted too (RFC 8866 §5).
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            // Empty lines (a trailing one after the last line end, most often) carry nothing.
            continue;
        }
        if line > limits.max_lines {
            return Err(ParseError::TooManyLines {
                line,
                limit: limits.max_lines,
            });
        }
        if raw.contains(&0) {
            return Err(ParseError::ForbiddenCharacter {
                line,
                character: "NUL",
            });
        }
        if raw.contains(&b'\r') {
            return Err(ParseError::ForbiddenCharacter {
                line,
                character: "CR",
            });
        }
        let text = str::from_utf8(raw).map_err(|_| ParseError::InvalidUtf8 { line })?;
        let (letter, value) = split_line(line, text)?;
        parser.line(line, letter, value)?;
        last = line;
    }
    parser.finish(last + 1)
}

#[cfg(test)]
mod tests;
