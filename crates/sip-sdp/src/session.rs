//! A whole session description: the session section and its media descriptions.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::attribute::Attribute;
use crate::bandwidth::Bandwidth;
use crate::connection::Connection;
use crate::direction::Direction;
use crate::error::ParseError;
use crate::limits::Limits;
use crate::line::RawLine;
use crate::media::MediaDescription;
use crate::origin::Origin;
use crate::time::{TimeZoneAdjustment, Timing, ZoneList};

/// A session description (RFC 8866): what a SIP body of type `application/sdp` holds.
///
/// Parsing is lenient where peers are sloppy (LF line ends, lines out of order, extra spaces,
/// unknown lines) and strict where the meaning would be unclear (a bad port, a second `c=` in
/// the session section); see [`ParseError`]. Printing (`Display`) writes the lines in the order
/// of RFC 8866 §5, each ended by CRLF, so that parsing the printed text gives back an equal value.
///
/// ```
/// use sip_sdp::SessionDescription;
/// let sdp: SessionDescription = "v=0\n\
///     o=- 1 1 IN IP4 192.0.2.1\n\
///     s=-\n\
///     c=IN IP4 192.0.2.1\n\
///     t=0 0\n\
///     m=audio 49170 RTP/AVP 0\n"
///     .parse()
///     .unwrap();
/// assert_eq!(sdp.media[0].port, 49170);
/// assert!(sdp.to_string().ends_with("m=audio 49170 RTP/AVP 0\r\n"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SessionDescription {
    /// The `o=` line.
    pub origin: Origin,
    /// The `s=` line (`-` or a single space when there is nothing to say).
    pub session_name: String,
    /// The `i=` line.
    pub information: Option<String>,
    /// The `u=` line.
    pub uri: Option<String>,
    /// The `e=` lines.
    pub emails: Vec<String>,
    /// The `p=` lines.
    pub phones: Vec<String>,
    /// The session-level `c=` line, which applies to every media description without its own.
    pub connection: Option<Connection>,
    /// The session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// The `t=` lines, each with its `r=` lines.
    pub timings: Vec<Timing>,
    /// The adjustments of the `z=` line (none when there is no `z=` line).
    pub time_zones: Vec<TimeZoneAdjustment>,
    /// The session-level `k=` line (obsolete, kept as written).
    pub key: Option<String>,
    /// The session-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// Session-level lines of unknown type, in order; see [`RawLine`].
    pub other_lines: Vec<RawLine>,
    /// The media descriptions, in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// The MIME type of a SIP body holding a session description.
    pub const CONTENT_TYPE: &'static str = "application/sdp";

    /// A description with no media, valid for all time (`t=0 0`).
    pub fn new(origin: Origin, session_name: impl Into<String>) -> Self {
        Self {
            origin,
            session_name: session_name.into(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            timings: vec![Timing::new(0, 0)],
            time_zones: Vec::new(),
            key: None,
            attributes: Vec::new(),
            other_lines: Vec::new(),
            media: Vec::new(),
        }
    }

    /// A description whose media all listen on `address`: session name `-`, one session-level
    /// `c=` line, `t=0 0`, then the media. This is Net::SIP's `new_from_parts`.
    ///
    /// ```
    /// use sip_sdp::{Codec, MediaDescription, MediaKind, Origin, SessionDescription};
    /// let ip = "192.0.2.10".parse().unwrap();
    /// let sdp = SessionDescription::from_media(
    ///     Origin::new("-", 3_900_000_000, 3_900_000_000, ip),
    ///     ip,
    ///     [MediaDescription::new(MediaKind::Audio, 2012, "RTP/AVP").with_codec(&Codec::pcmu())],
    /// );
    /// assert_eq!(
    ///     sdp.to_string(),
    ///     "v=0\r\n\
    ///      o=- 3900000000 3900000000 IN IP4 192.0.2.10\r\n\
    ///      s=-\r\n\
    ///      c=IN IP4 192.0.2.10\r\n\
    ///      t=0 0\r\n\
    ///      m=audio 2012 RTP/AVP 0\r\n\
    ///      a=rtpmap:0 PCMU/8000\r\n"
    /// );
    /// ```
    pub fn from_media(
        origin: Origin,
        address: IpAddr,
        media: impl IntoIterator<Item = MediaDescription>,
    ) -> Self {
        let mut sdp = Self::new(origin, "-").with_connection(address);
        sdp.media.extend(media);
        sdp
    }

    /// Parses a description with the default [`Limits`].
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        crate::parse::parse(input, &Limits::DEFAULT)
    }

    /// Parses a description within `limits`.
    pub fn parse_with_limits(input: &[u8], limits: &Limits) -> Result<Self, ParseError> {
        crate::parse::parse(input, limits)
    }

    /// The printed description as bytes, ready to be a SIP body.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Sets the session-level `c=` line.
    #[must_use]
    pub fn with_connection(mut self, connection: impl Into<Connection>) -> Self {
        self.connection = Some(connection.into());
        self
    }

    /// Adds a session-level attribute.
    #[must_use]
    pub fn with_attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a media description.
    #[must_use]
    pub fn with_media(mut self, media: MediaDescription) -> Self {
        self.media.push(media);
        self
    }

    /// The first session-level attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The value of the first session-level attribute named `name` that has one.
    pub fn attribute_value(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == name)
            .find_map(|a| a.value.as_deref())
    }

    /// The session-level direction attribute, the default for media without their own.
    pub fn direction(&self) -> Option<Direction> {
        self.attributes
            .iter()
            .filter(|a| a.value.is_none())
            .find_map(|a| Direction::from_name(&a.name))
    }

    /// The `c=` line that applies to media `index`: its own, or else the session's.
    pub fn media_connection(&self, index: usize) -> Option<&Connection> {
        let media = self.media.get(index)?;
        media.connection().or(self.connection.as_ref())
    }

    /// The direction that applies to media `index`: its own attribute, or else the session's,
    /// or else `sendrecv`.
    pub fn media_direction(&self, index: usize) -> Option<Direction> {
        let media = self.media.get(index)?;
        Some(media.direction().or(self.direction()).unwrap_or_default())
    }

    /// Whether media `index` is held by the side that wrote this description: it is enabled, and
    /// its direction is `sendonly` or `inactive`, or its address is `0.0.0.0` (the RFC 2543 hold
    /// that RFC 3264 §8.4 asks to recognize).
    pub fn is_media_on_hold(&self, index: usize) -> bool {
        let Some(media) = self.media.get(index) else {
            return false;
        };
        if media.is_disabled() {
            return false;
        }
        let direction = self.media_direction(index).unwrap_or_default();
        !direction.is_receiving()
            || self
                .media_connection(index)
                .is_some_and(Connection::is_unspecified)
    }

    /// Whether the writer holds the call: at least one media is enabled and every enabled media
    /// is on hold (see [`SessionDescription::is_media_on_hold`]).
    ///
    /// ```
    /// use sip_sdp::SessionDescription;
    /// let held: SessionDescription = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\n\
    ///     c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n".parse().unwrap();
    /// assert!(held.is_on_hold());
    /// ```
    pub fn is_on_hold(&self) -> bool {
        let mut enabled = self
            .media
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_disabled())
            .map(|(i, _)| i)
            .peekable();
        enabled.peek().is_some() && enabled.all(|i| self.is_media_on_hold(i))
    }

    /// Makes this description the next version of `previous`, which this side sent before in
    /// the same session (RFC 3264 §8): the `o=` line becomes that of `previous`, its version
    /// incremented if anything else differs. Returns whether something differed.
    ///
    /// ```
    /// use sip_sdp::SessionDescription;
    /// let first: SessionDescription = "v=0\r\no=- 7 1 IN IP4 192.0.2.1\r\ns=-\r\n\
    ///     c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n".parse().unwrap();
    /// let mut hold = first.clone();
    /// hold.media[0].set_direction(sip_sdp::Direction::SendOnly);
    /// assert!(hold.revise_from(&first));
    /// assert_eq!(hold.origin.session_version, 2);
    /// let mut same = first.clone();
    /// assert!(!same.revise_from(&first));
    /// assert_eq!(same.origin.session_version, 1);
    /// ```
    pub fn revise_from(&mut self, previous: &Self) -> bool {
        self.origin = previous.origin.clone();
        let changed = self != previous;
        if changed {
            // Wrapping is the only thing left to do after 2^64 changes; no peer will get there.
            self.origin.session_version = previous.origin.session_version.wrapping_add(1);
        }
        changed
    }
}

impl FromStr for SessionDescription {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s.as_bytes())
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 8866 §5 order: v= o= s= i= u= e= p= c= b= (t= r=)* z= k= a= then the media.
        write!(f, "v=0\r\no={}\r\ns={}\r\n", self.origin, self.session_name)?;
        if let Some(information) = &self.information {
            write!(f, "i={information}\r\n")?;
        }
        if let Some(uri) = &self.uri {
            write!(f, "u={uri}\r\n")?;
        }
        for email in &self.emails {
            write!(f, "e={email}\r\n")?;
        }
        for phone in &self.phones {
            write!(f, "p={phone}\r\n")?;
        }
        if let Some(connection) = &self.connection {
            write!(f, "c={connection}\r\n")?;
        }
        for bandwidth in &self.bandwidths {
            write!(f, "b={bandwidth}\r\n")?;
        }
        for timing in &self.timings {
            write!(f, "t={timing}\r\n")?;
            for repeat in &timing.repeats {
                write!(f, "r={repeat}\r\n")?;
            }
        }
        if !self.time_zones.is_empty() {
            write!(f, "z={}\r\n", ZoneList(&self.time_zones))?;
        }
        if let Some(key) = &self.key {
            write!(f, "k={key}\r\n")?;
        }
        crate::line::write_attributes(f, &self.attributes, &self.other_lines)?;
        for media in &self.media {
            write!(f, "{media}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Codec, MediaKind};

    fn sdp(text: &str) -> SessionDescription {
        text.parse().unwrap()
    }

    const TWO_MEDIA: &str =
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
        a=recvonly\r\n\
        m=audio 4000 RTP/AVP 0\r\n\
        m=video 0 RTP/AVP 31\r\n\
        m=audio 4002 RTP/AVP 8\r\nc=IN IP6 2001:db8::2\r\na=inactive\r\n";

    #[test]
    fn connection_and_direction_per_media() {
        let s = sdp(TWO_MEDIA);
        assert_eq!(s.media_connection(0).unwrap().host(), "192.0.2.1");
        assert_eq!(s.media_connection(2).unwrap().host(), "2001:db8::2");
        assert!(s.media_connection(3).is_none());
        assert_eq!(s.direction(), Some(Direction::RecvOnly));
        assert_eq!(s.media_direction(0), Some(Direction::RecvOnly));
        assert_eq!(s.media_direction(2), Some(Direction::Inactive));
        assert_eq!(s.media_direction(9), None);
    }

    #[test]
    fn hold() {
        let s = sdp(TWO_MEDIA);
        assert!(!s.is_media_on_hold(0));
        assert!(!s.is_media_on_hold(1), "a disabled stream is not held");
        assert!(s.is_media_on_hold(2));
        assert!(!s.is_on_hold());
        let old_style = sdp("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
        assert!(old_style.is_on_hold());
        let no_media = sdp("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n");
        assert!(!no_media.is_on_hold());
    }

    #[test]
    fn builders() {
        let ip: IpAddr = "2001:db8::5".parse().unwrap();
        let s = SessionDescription::new(Origin::new("alice", 1, 2, ip), "call")
            .with_connection(ip)
            .with_attribute(Attribute::property("sendrecv"))
            .with_media(
                MediaDescription::new(MediaKind::Audio, 5004, "RTP/AVP").with_codec(&Codec::pcma()),
            );
        assert_eq!(
            s.to_string(),
            "v=0\r\no=alice 1 2 IN IP6 2001:db8::5\r\ns=call\r\nc=IN IP6 2001:db8::5\r\nt=0 0\r\n\
             a=sendrecv\r\nm=audio 5004 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
        );
        assert_eq!(s.to_bytes(), s.to_string().into_bytes());
        assert_eq!(sdp(&s.to_string()), s);
    }

    #[test]
    fn revise_keeps_origin_of_previous() {
        let first = sdp(TWO_MEDIA);
        let mut next = first.clone();
        next.origin.username = "changed".into();
        next.origin.session_version = 99;
        assert!(!next.revise_from(&first), "only the origin differed");
        assert_eq!(next.origin, first.origin);
        next.media[0].port = 4010;
        assert!(next.revise_from(&first));
        assert_eq!(next.origin.session_version, 2);
    }
}
