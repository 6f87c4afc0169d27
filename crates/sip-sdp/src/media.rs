//! A media description: the `m=` line and the lines after it up to the next `m=`
//! (RFC 8866 §5.14).

use std::fmt;

use nom::character::complete::{char, u16 as dec_u16};
use nom::combinator::{all_consuming, opt};
use nom::sequence::{pair, preceded};
use nom::IResult;

use crate::attribute::Attribute;
use crate::bandwidth::Bandwidth;
use crate::codec::Codec;
use crate::connection::Connection;
use crate::direction::Direction;
use crate::fmtp::Fmtp;
use crate::grammar::{parse_u32, parse_u8, FieldError, Fields};
use crate::line::RawLine;
use crate::rtcp::Rtcp;
use crate::rtpmap::RtpMap;

/// The media type of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `text`.
    Text,
    /// `application`.
    Application,
    /// `message` (MSRP).
    Message,
    /// `image` (T.38 fax).
    Image,
    /// Any other token, kept as written.
    Other(String),
}

impl MediaKind {
    /// The token as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Text => "text",
            Self::Application => "application",
            Self::Message => "message",
            Self::Image => "image",
            Self::Other(s) => s,
        }
    }

    /// The kind a token names; media types are case-sensitive, so `Audio` is [`MediaKind::Other`].
    pub fn from_token(token: &str) -> Self {
        match token {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "text" => Self::Text,
            "application" => Self::Application,
            "message" => Self::Message,
            "image" => Self::Image,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One media description: `m=<media> <port>[/<count>] <proto> <fmt> ...` with its `i=`, `c=`,
/// `b=`, `k=` and `a=` lines.
///
/// Printing it (`Display`) writes the whole section, each line ended by CRLF.
///
/// ```
/// use sip_sdp::{Codec, MediaDescription, MediaKind};
/// let audio = MediaDescription::new(MediaKind::Audio, 49170, "RTP/AVP")
///     .with_codec(&Codec::pcmu())
///     .with_codec(&Codec::telephone_event());
/// assert_eq!(
///     audio.to_string(),
///     "m=audio 49170 RTP/AVP 0 101\r\n\
///      a=rtpmap:0 PCMU/8000\r\n\
///      a=rtpmap:101 telephone-event/8000\r\n\
///      a=fmtp:101 0-15\r\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MediaDescription {
    /// The media type.
    pub kind: MediaKind,
    /// The transport port; 0 means the stream is disabled or declined (RFC 3264 §6).
    pub port: u16,
    /// The number of ports (`/2` in `49170/2`), when written.
    pub port_count: Option<u16>,
    /// The transport protocol, such as `RTP/AVP` or `udptl`.
    pub proto: String,
    /// The formats: RTP payload type numbers for RTP protocols, other tokens otherwise.
    pub formats: Vec<String>,
    /// The `i=` line.
    pub information: Option<String>,
    /// The `c=` lines; more than one only for layered multicast.
    pub connections: Vec<Connection>,
    /// The `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// The `k=` line (obsolete, kept as written).
    pub key: Option<String>,
    /// The `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// Lines of unknown or misplaced type, in order; see [`RawLine`].
    pub other_lines: Vec<RawLine>,
}

impl MediaDescription {
    /// An `m=` line with no formats and no other lines yet.
    pub fn new(kind: MediaKind, port: u16, proto: impl Into<String>) -> Self {
        Self {
            kind,
            port,
            port_count: None,
            proto: proto.into(),
            formats: Vec::new(),
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
            other_lines: Vec::new(),
        }
    }

    /// Adds a format to the `m=` line.
    #[must_use]
    pub fn with_format(mut self, format: impl Into<String>) -> Self {
        self.formats.push(format.into());
        self
    }

    /// Adds an RTP codec: its payload type on the `m=` line, an `a=rtpmap` and, if it has
    /// parameters, an `a=fmtp`.
    ///
    /// The payload type is the codec's own ([`Codec::payload_type`]) unless that is already
    /// used here; then the first free dynamic number from 96 on.
    #[must_use]
    pub fn with_codec(mut self, codec: &Codec) -> Self {
        let used: Vec<u8> = self.payload_types().collect();
        let pt = codec
            .payload_type
            .filter(|pt| !used.contains(pt))
            .or_else(|| (96..=127).find(|pt| !used.contains(pt)));
        let Some(pt) = pt else {
            // All 32 dynamic numbers are taken: nothing sensible to add.
            return self;
        };
        self.formats.push(pt.to_string());
        self.attributes
            .push(Attribute::new(RtpMap::NAME, codec.rtpmap(pt).to_string()));
        if let Some(params) = &codec.fmtp {
            self.attributes.push(Attribute::new(
                Fmtp::NAME,
                Fmtp::new(pt.to_string(), params.clone()).to_string(),
            ));
        }
        self
    }

    /// Adds an attribute.
    #[must_use]
    pub fn with_attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a media-level `c=` line.
    #[must_use]
    pub fn with_connection(mut self, connection: impl Into<Connection>) -> Self {
        self.connections.push(connection.into());
        self
    }

    /// Sets the direction attribute (see [`MediaDescription::set_direction`]).
    #[must_use]
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.set_direction(direction);
        self
    }

    /// Adds `a=ptime`, the packet duration in milliseconds.
    #[must_use]
    pub fn with_ptime(self, ms: u32) -> Self {
        self.with_attribute(Attribute::new("ptime", ms.to_string()))
    }

    /// The first media-level `c=` line.
    pub fn connection(&self) -> Option<&Connection> {
        self.connections.first()
    }

    /// Whether the port is 0: the stream is disabled (in an offer) or declined (in an answer).
    pub fn is_disabled(&self) -> bool {
        self.port == 0
    }

    /// Whether the protocol carries RTP (`RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...), so that
    /// formats are payload type numbers.
    pub fn is_rtp(&self) -> bool {
        self.proto
            .split('/')
            .any(|part| part.eq_ignore_ascii_case("RTP"))
    }

    /// How many ports the stream uses, as Net::SIP counts them: the port count (1 when absent),
    /// doubled for RTP because each RTP port has its RTCP port after it.
    pub fn port_range(&self) -> u32 {
        let count = u32::from(self.port_count.unwrap_or(1));
        if self.is_rtp() {
            count * 2
        } else {
            count
        }
    }

    /// The formats that are RTP payload type numbers.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| parse_u8(f))
            .filter(|&pt| pt <= 127)
    }

    /// The first attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The value of the first attribute named `name` that has one.
    pub fn attribute_value(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == name)
            .find_map(|a| a.value.as_deref())
    }

    /// All attributes named `name`, in order.
    pub fn attributes_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Attribute> + 'a {
        self.attributes.iter().filter(move |a| a.name == name)
    }

    /// The `a=rtpmap` attributes that can be read; others are skipped.
    pub fn rtpmaps(&self) -> impl Iterator<Item = RtpMap> + '_ {
        self.attributes_named(RtpMap::NAME)
            .filter_map(|a| a.value.as_deref()?.parse().ok())
    }

    /// The codec behind payload type `pt`: its `a=rtpmap`, or else the static assignment of
    /// RFC 3551.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        self.rtpmaps()
            .find(|m| m.payload_type == pt)
            .or_else(|| RtpMap::for_static_payload_type(pt))
    }

    /// The codec of each RTP format, in the order of the `m=` line, leaving out the formats that
    /// name no known codec.
    pub fn codecs(&self) -> Vec<RtpMap> {
        let maps: Vec<RtpMap> = self.rtpmaps().collect();
        self.payload_types()
            .filter_map(|pt| {
                maps.iter()
                    .find(|m| m.payload_type == pt)
                    .cloned()
                    .or_else(|| RtpMap::for_static_payload_type(pt))
            })
            .collect()
    }

    /// The `a=fmtp` parameters of `format`.
    pub fn fmtp(&self, format: &str) -> Option<Fmtp> {
        self.attributes_named(Fmtp::NAME)
            .filter_map(|a| a.value.as_deref()?.parse::<Fmtp>().ok())
            .find(|f| f.format == format)
    }

    /// The packet duration of `a=ptime`, in milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute_value("ptime")
            .and_then(|v| parse_u32(v.trim()))
    }

    /// The media-level direction attribute, if there is one (see
    /// [`SessionDescription::media_direction`](crate::SessionDescription::media_direction) for
    /// the direction that applies).
    pub fn direction(&self) -> Option<Direction> {
        self.attributes
            .iter()
            .filter(|a| a.value.is_none())
            .find_map(|a| Direction::from_name(&a.name))
    }

    /// Replaces any direction attributes by `direction`, written after the other attributes.
    pub fn set_direction(&mut self, direction: Direction) {
        self.remove_attributes(|a| a.value.is_none() && Direction::from_name(&a.name).is_some());
        self.attributes
            .push(Attribute::property(direction.as_str()));
    }

    /// The `a=rtcp` attribute (RFC 3605), if present and readable.
    pub fn rtcp(&self) -> Option<Rtcp> {
        self.attribute_value(Rtcp::NAME)?.parse().ok()
    }

    /// Replaces the `a=rtcp` attribute (in place, keeping its position), or removes it with `None`.
    pub fn set_rtcp(&mut self, rtcp: Option<Rtcp>) {
        let position = self.attributes.iter().position(|a| a.name == Rtcp::NAME);
        self.remove_attributes(|a| a.name == Rtcp::NAME);
        if let Some(rtcp) = rtcp {
            let attribute = Attribute::new(Rtcp::NAME, rtcp.to_string());
            let at = position.map_or(self.attributes.len(), |p| p.min(self.attributes.len()));
            self.insert_attribute(at, attribute);
        }
    }

    /// Removes the attributes matching `remove`, keeping the lines of
    /// [`MediaDescription::other_lines`] where they stood among the others.
    pub fn remove_attributes(&mut self, mut remove: impl FnMut(&Attribute) -> bool) {
        for index in (0..self.attributes.len()).rev() {
            if self.attributes.get(index).is_some_and(&mut remove) {
                self.attributes.remove(index);
                for line in &mut self.other_lines {
                    if line.after_attributes > index {
                        line.after_attributes -= 1;
                    }
                }
            }
        }
    }

    /// Inserts an attribute at `index` (at most the number of attributes), keeping the lines of
    /// [`MediaDescription::other_lines`] where they stood among the others (a line just before
    /// the attribute now at `index + 1` stays before the inserted one).
    pub fn insert_attribute(&mut self, index: usize, attribute: Attribute) {
        let index = index.min(self.attributes.len());
        self.attributes.insert(index, attribute);
        for line in &mut self.other_lines {
            if line.after_attributes > index {
                line.after_attributes = line.after_attributes.saturating_add(1);
            }
        }
    }

    /// Reads the value of an `m=` line.
    pub(crate) fn parse_value(value: &str) -> Result<Self, FieldError> {
        let mut fields = Fields::new(value);
        let kind = fields.token("media", "expected <media> <port> <proto> <fmt>...")?;
        let port = fields.token("port", "expected a port after the media type")?;
        let (port, port_count) = parse_port(port).map_err(|()| {
            FieldError::new(
                "port",
                port,
                "expected a port 0-65535, optionally /<number of ports>",
            )
        })?;
        let proto = fields.token(
            "proto",
            "expected a transport protocol such as RTP/AVP after the port",
        )?;
        let mut media = Self::new(MediaKind::from_token(kind), port, proto);
        media.port_count = port_count;
        while let Some(format) = fields.next_token() {
            media.formats.push(format.to_owned());
        }
        Ok(media)
    }

    /// Writes the `m=` line value.
    fn fmt_media_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.proto)?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        Ok(())
    }
}

/// `<port>[/<number of ports>]`
fn parse_port(text: &str) -> Result<(u16, Option<u16>), ()> {
    let parsed: IResult<&str, (u16, Option<u16>)> =
        all_consuming(pair(dec_u16, opt(preceded(char('/'), dec_u16))))(text);
    parsed.map(|(_, port)| port).map_err(|_| ())
}

impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 8866 §5 order: m= i= c= b= k= a=
        f.write_str("m=")?;
        self.fmt_media_line(f)?;
        f.write_str("\r\n")?;
        if let Some(information) = &self.information {
            write!(f, "i={information}\r\n")?;
        }
        for connection in &self.connections {
            write!(f, "c={connection}\r\n")?;
        }
        for bandwidth in &self.bandwidths {
            write!(f, "b={bandwidth}\r\n")?;
        }
        if let Some(key) = &self.key {
            write!(f, "k={key}\r\n")?;
        }
        crate::line::write_attributes(f, &self.attributes, &self.other_lines)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
