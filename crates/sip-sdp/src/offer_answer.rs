//! The offer/answer model of RFC 3264: what we can do, an offer from it, and the answer to an
//! offer.

use std::net::SocketAddr;

use crate::attribute::Attribute;
use crate::codec::Codec;
use crate::connection::Connection;
use crate::direction::Direction;
use crate::fmtp::Fmtp;
use crate::media::{MediaDescription, MediaKind};
use crate::origin::Origin;
use crate::rtpmap::RtpMap;
use crate::session::SessionDescription;

/// What we can do with one kind of media: its protocol, our codecs in order of preference, and
/// the direction we are willing to use.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MediaCapability {
    /// The media type.
    pub kind: MediaKind,
    /// The transport protocol, compared without regard to case (`RTP/AVP`).
    pub proto: String,
    /// Our codecs, most preferred first.
    pub codecs: Vec<Codec>,
    /// What we are willing to do; an answer never allows more than this.
    pub direction: Direction,
    /// The `a=ptime` to put in our descriptions, in milliseconds.
    pub ptime: Option<u32>,
}

impl MediaCapability {
    /// A capability for `kind` over `proto`, sending and receiving.
    pub fn new(
        kind: MediaKind,
        proto: impl Into<String>,
        codecs: impl IntoIterator<Item = Codec>,
    ) -> Self {
        Self {
            kind,
            proto: proto.into(),
            codecs: codecs.into_iter().collect(),
            direction: Direction::SendRecv,
            ptime: None,
        }
    }

    /// Audio over `RTP/AVP`.
    pub fn audio(codecs: impl IntoIterator<Item = Codec>) -> Self {
        Self::new(MediaKind::Audio, "RTP/AVP", codecs)
    }

    /// Video over `RTP/AVP`.
    pub fn video(codecs: impl IntoIterator<Item = Codec>) -> Self {
        Self::new(MediaKind::Video, "RTP/AVP", codecs)
    }

    /// The same capability limited to `direction`.
    #[must_use]
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// The same capability announcing `a=ptime:<ms>`.
    #[must_use]
    pub fn with_ptime(mut self, ms: u32) -> Self {
        self.ptime = Some(ms);
        self
    }

    fn handles(&self, media: &MediaDescription) -> bool {
        self.kind == media.kind && self.proto.eq_ignore_ascii_case(&media.proto)
    }

    /// The offered formats we support, in the offerer's order, with the offerer's numbers.
    fn common_formats(&self, media: &MediaDescription) -> Vec<NegotiatedFormat> {
        let mut common = Vec::new();
        for format in &media.formats {
            let offered_fmtp = media.fmtp(format).map(|f| f.params);
            if media.is_rtp() {
                // RFC 3264 §6.1: keep the offerer's payload type number, also for dynamic ones,
                // which are matched by encoding name, clock rate and channels.
                let Some(pt) = crate::grammar::parse_u8(format) else {
                    continue;
                };
                let Some(map) = media.rtpmap(pt) else {
                    continue;
                };
                if let Some(codec) = self.codecs.iter().find(|c| c.matches(&map)) {
                    common.push(NegotiatedFormat {
                        format: format.clone(),
                        rtpmap: Some(map),
                        fmtp: codec.fmtp.clone().or(offered_fmtp),
                    });
                }
            } else if let Some(codec) = self
                .codecs
                .iter()
                .find(|c| c.encoding.eq_ignore_ascii_case(format))
            {
                common.push(NegotiatedFormat {
                    format: format.clone(),
                    rtpmap: None,
                    fmtp: codec.fmtp.clone().or(offered_fmtp),
                });
            }
        }
        common
    }
}

/// Everything we can do, one [`MediaCapability`] per kind of media we handle.
///
/// ```
/// use sip_sdp::{Capabilities, Codec, MediaCapability, Origin, SessionDescription};
/// let offer: SessionDescription = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\n\
///     c=IN IP4 192.0.2.1\r\nt=0 0\r\n\
///     m=audio 49170 RTP/AVP 8 0 97\r\na=rtpmap:97 telephone-event/8000\r\na=sendonly\r\n\
///     m=video 51372 RTP/AVP 31\r\n".parse().unwrap();
/// let caps = Capabilities::new().with(MediaCapability::audio([
///     Codec::pcmu(), Codec::pcma(), Codec::telephone_event(),
/// ]));
/// let ip = "198.51.100.7".parse().unwrap();
/// let answer = caps.answer(&offer, Origin::new("-", 5, 5, ip), ip, |_| Some(30000));
/// assert_eq!(
///     answer.to_string(),
///     "v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n\
///      m=audio 30000 RTP/AVP 8 0 97\r\n\
///      a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
///      a=rtpmap:97 telephone-event/8000\r\na=fmtp:97 0-15\r\n\
///      a=recvonly\r\n\
///      m=video 0 RTP/AVP 31\r\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Capabilities {
    /// What we can do per kind of media; the first that handles an offered stream is used.
    pub media: Vec<MediaCapability>,
}

/// A format both sides support.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NegotiatedFormat {
    /// The format as the offer wrote it (the payload type number, for RTP).
    pub format: String,
    /// The codec, for RTP formats.
    pub rtpmap: Option<RtpMap>,
    /// The `a=fmtp` parameters of the answer: ours if the codec has any, else the offer's.
    pub fmtp: Option<String>,
}

/// An offered stream we can accept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NegotiatedStream {
    /// The index of the `m=` line in the offer.
    pub index: usize,
    /// The media type.
    pub kind: MediaKind,
    /// The transport protocol.
    pub proto: String,
    /// The common formats, in the offerer's order of preference.
    pub formats: Vec<NegotiatedFormat>,
    /// Our direction in the answer: the offer's mirrored, limited to what we allow.
    pub direction: Direction,
    /// Where the offerer receives this stream, when its address is an IP address.
    pub remote: Option<SocketAddr>,
    /// The offerer's `a=ptime`.
    pub remote_ptime: Option<u32>,
}

/// Why an offered stream is declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeclineReason {
    /// The offer disabled it (port 0), so the answer must too.
    Disabled,
    /// We have no capability for its media type and protocol.
    UnsupportedMedia,
    /// We support none of its formats.
    NoCommonCodec,
}

/// What to do with one offered stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamDecision {
    /// Accept it with these formats.
    Accept(NegotiatedStream),
    /// Decline it (port 0 in the answer).
    Decline(DeclineReason),
}

impl Capabilities {
    /// No capabilities: every offered stream would be declined.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a capability.
    #[must_use]
    pub fn with(mut self, capability: MediaCapability) -> Self {
        self.media.push(capability);
        self
    }

    /// Decides, for each `m=` line of the offer in order, whether and how to accept it.
    pub fn negotiate(&self, offer: &SessionDescription) -> Vec<StreamDecision> {
        offer
            .media
            .iter()
            .enumerate()
            .map(|(index, media)| {
                if media.is_disabled() {
                    return StreamDecision::Decline(DeclineReason::Disabled);
                }
                let Some(capability) = self.media.iter().find(|c| c.handles(media)) else {
                    return StreamDecision::Decline(DeclineReason::UnsupportedMedia);
                };
                let formats = capability.common_formats(media);
                if formats.is_empty() {
                    return StreamDecision::Decline(DeclineReason::NoCommonCodec);
                }
                let offered = offer.media_direction(index).unwrap_or_default();
                let remote = offer
                    .media_connection(index)
                    .and_then(Connection::ip)
                    .map(|ip| SocketAddr::new(ip, media.port));
                StreamDecision::Accept(NegotiatedStream {
                    index,
                    kind: media.kind.clone(),
                    proto: media.proto.clone(),
                    formats,
                    direction: offered.reverse().intersect(capability.direction),
                    remote,
                    remote_ptime: media.ptime(),
                })
            })
            .collect()
    }

    /// The answer to `offer` (RFC 3264 §6): one `m=` line per offered one, in the same order;
    /// each accepted stream lists the common codecs in the offerer's order with the offerer's
    /// payload type numbers and the mirrored direction; a stream is declined with port 0 when it
    /// is disabled, of a kind we do not handle, without a common codec, or when `port` returns
    /// `None` or 0 for it. `port` is asked only for the streams that can be accepted, so that
    /// sockets are opened only for those.
    ///
    /// The answer's `t=` lines are the offer's, as §6 asks; its `o=` is `origin`, and its single
    /// session-level `c=` line is `connection`.
    pub fn answer(
        &self,
        offer: &SessionDescription,
        origin: Origin,
        connection: impl Into<Connection>,
        mut port: impl FnMut(&NegotiatedStream) -> Option<u16>,
    ) -> SessionDescription {
        let mut answer = SessionDescription::new(origin, "-").with_connection(connection);
        if !offer.timings.is_empty() {
            answer.timings.clone_from(&offer.timings);
        }
        for (decision, offered) in self.negotiate(offer).iter().zip(&offer.media) {
            let capability = self.media.iter().find(|c| c.handles(offered));
            let accepted = match decision {
                StreamDecision::Accept(stream) => {
                    port(stream).filter(|&p| p != 0).map(|p| (stream, p))
                }
                StreamDecision::Decline(_) => None,
            };
            let media = match (accepted, capability) {
                (Some((stream, p)), Some(capability)) => accepted_media(stream, p, capability),
                _ => declined_media(offered),
            };
            answer.media.push(media);
        }
        answer
    }

    /// An offer listing every capability that has a port: `ports[i]` is where we receive the
    /// media of capability `i`; capabilities without an entry are left out.
    ///
    /// ```
    /// use sip_sdp::{Capabilities, Codec, MediaCapability, Origin};
    /// let ip = "192.0.2.4".parse().unwrap();
    /// let caps = Capabilities::new()
    ///     .with(MediaCapability::audio([Codec::pcmu(), Codec::telephone_event()]).with_ptime(20));
    /// let offer = caps.offer(Origin::new("-", 1, 1, ip), ip, &[8000]);
    /// assert_eq!(
    ///     offer.to_string(),
    ///     "v=0\r\no=- 1 1 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n\
    ///      m=audio 8000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
    ///      a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
    /// );
    /// ```
    pub fn offer(
        &self,
        origin: Origin,
        connection: impl Into<Connection>,
        ports: &[u16],
    ) -> SessionDescription {
        let mut offer = SessionDescription::new(origin, "-").with_connection(connection);
        for (capability, &port) in self.media.iter().zip(ports) {
            let mut media =
                MediaDescription::new(capability.kind.clone(), port, capability.proto.clone());
            for codec in &capability.codecs {
                media = if media.is_rtp() {
                    media.with_codec(codec)
                } else {
                    media.with_format(codec.encoding.clone())
                };
            }
            offer
                .media
                .push(finish_media(media, capability.ptime, capability.direction));
        }
        offer
    }
}

/// Adds `a=ptime` and a direction other than the default to a media description we write.
fn finish_media(
    mut media: MediaDescription,
    ptime: Option<u32>,
    direction: Direction,
) -> MediaDescription {
    if let Some(ms) = ptime {
        media = media.with_ptime(ms);
    }
    if direction != Direction::SendRecv {
        media.set_direction(direction);
    }
    media
}

fn accepted_media(
    stream: &NegotiatedStream,
    port: u16,
    capability: &MediaCapability,
) -> MediaDescription {
    let mut media = MediaDescription::new(stream.kind.clone(), port, stream.proto.clone());
    for format in &stream.formats {
        media.formats.push(format.format.clone());
        if let Some(map) = &format.rtpmap {
            media
                .attributes
                .push(Attribute::new(RtpMap::NAME, map.to_string()));
        }
        if let Some(params) = &format.fmtp {
            media.attributes.push(Attribute::new(
                Fmtp::NAME,
                Fmtp::new(format.format.clone(), params.clone()).to_string(),
            ));
        }
    }
    finish_media(media, capability.ptime, stream.direction)
}

/// A declined stream: port 0 and, since SDP wants at least one format, the first offered one
/// with its `a=rtpmap` (as the examples of RFC 4317 do).
fn declined_media(offered: &MediaDescription) -> MediaDescription {
    let mut media = MediaDescription::new(offered.kind.clone(), 0, offered.proto.clone());
    if let Some(first) = offered.formats.first() {
        media.formats.push(first.clone());
        let map = crate::grammar::parse_u8(first)
            .filter(|_| offered.is_rtp())
            .and_then(|pt| offered.rtpmaps().find(|m| m.payload_type == pt));
        if let Some(map) = map {
            media
                .attributes
                .push(Attribute::new(RtpMap::NAME, map.to_string()));
        }
    }
    media
}

#[cfg(test)]
mod tests;
