//! SDP offer/answer for our audio streams (RFC 3264), without IO: the offers and answers we
//! write, and what a pair of descriptions (ours and the peer's) means for each stream: which
//! codec to send, where to, which payload types to accept, which way media flows.

use std::net::{IpAddr, SocketAddr};

use sip_sdp::{
    Capabilities, Codec, Direction, MediaCapability, MediaDescription, MediaKind, Origin,
    SessionDescription, StreamDecision,
};

use crate::media::AudioCodec;

/// What we offer and accept for audio: G.711 codecs in order of preference and, when
/// `dtmf_payload_type` is set, RFC 4733 telephone-events under that payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AudioProfile {
    pub(crate) codecs: Vec<AudioCodec>,
    pub(crate) dtmf_payload_type: Option<u8>,
}

impl AudioProfile {
    fn sdp_codecs(&self) -> Vec<Codec> {
        let mut codecs: Vec<Codec> = self
            .codecs
            .iter()
            .map(|c| Codec::new(c.name(), c.clock_rate()))
            .collect();
        if let Some(pt) = self.dtmf_payload_type {
            codecs.push(Codec::telephone_event().with_payload_type(pt));
        }
        codecs
    }

    fn capability(&self, direction: Direction) -> MediaCapability {
        // ptime 20: the only packet size we send (RFC 3551 §4.5 default for G.711).
        MediaCapability::audio(self.sdp_codecs())
            .with_ptime(20)
            .with_direction(direction)
    }

    /// An `m=audio` line on `port` with our codecs, `a=ptime:20` and `direction` (written
    /// when not `sendrecv`).
    fn media(&self, port: u16, direction: Direction) -> MediaDescription {
        let mut media = MediaDescription::new(MediaKind::Audio, port, "RTP/AVP");
        for codec in self.sdp_codecs() {
            media = media.with_codec(&codec);
        }
        media = media.with_ptime(20);
        if direction != Direction::SendRecv {
            media.set_direction(direction);
        }
        media
    }
}

/// An offer with one audio stream per port in `ports` (0 disables a stream), all in
/// `direction` (`sendonly` puts the call on hold).
pub(crate) fn offer(
    profile: &AudioProfile,
    origin: Origin,
    ip: IpAddr,
    ports: &[u16],
    direction: Direction,
) -> SessionDescription {
    SessionDescription::from_media(
        origin,
        ip,
        ports.iter().map(|&p| profile.media(p, direction)),
    )
}

/// The indexes of the offered streams we can accept (audio over RTP/AVP, enabled, with a
/// G.711 codec in common): the ones that need a port pair.
pub(crate) fn acceptable_streams(profile: &AudioProfile, offer: &SessionDescription) -> Vec<usize> {
    let caps = Capabilities::new().with(profile.capability(Direction::SendRecv));
    caps.negotiate(offer)
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match d {
            StreamDecision::Accept(s) if has_audio_codec(&s.formats) => Some(i),
            _ => None,
        })
        .collect()
}

fn has_audio_codec(formats: &[sip_sdp::NegotiatedFormat]) -> bool {
    formats.iter().any(|f| {
        f.rtpmap
            .as_ref()
            .is_some_and(|m| AudioCodec::from_name(&m.encoding).is_some())
    })
}

/// Our answer to `offer`: stream `i` is accepted on `ports(i)` when it is one of
/// [`acceptable_streams`] and `ports(i)` is `Some`, else declined (port 0). `direction`
/// limits ours (`sendonly` while we hold the call).
pub(crate) fn answer(
    profile: &AudioProfile,
    offer: &SessionDescription,
    origin: Origin,
    ip: IpAddr,
    direction: Direction,
    mut ports: impl FnMut(usize) -> Option<u16>,
) -> SessionDescription {
    let acceptable = acceptable_streams(profile, offer);
    let caps = Capabilities::new().with(profile.capability(direction));
    caps.answer(offer, origin, ip, |stream| {
        if acceptable.contains(&stream.index) {
            ports(stream.index)
        } else {
            None
        }
    })
}

/// What a pair of descriptions means for one of our audio streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamParams {
    /// The index of the `m=` line.
    pub(crate) index: usize,
    /// The codec we send.
    pub(crate) codec: AudioCodec,
    /// The payload type we send it under.
    pub(crate) payload_type: u8,
    /// The payload types we accept audio under, and their codecs.
    pub(crate) receive: Vec<(u8, AudioCodec)>,
    /// The payload type to send telephone-events under, when both sides have them.
    pub(crate) dtmf_send: Option<u8>,
    /// The payload types telephone-events may arrive under.
    pub(crate) dtmf_receive: Vec<u8>,
    /// Where the peer receives RTP; `None` when it did not say (hold with `0.0.0.0`).
    pub(crate) remote_rtp: Option<SocketAddr>,
    /// Where the peer receives RTCP (`a=rtcp`, else the RTP port plus one).
    pub(crate) remote_rtcp: Option<SocketAddr>,
    /// Whether we send.
    pub(crate) send: bool,
    /// Whether the peer sends to us.
    pub(crate) receive_audio: bool,
}

impl StreamParams {
    /// Whether media flows both ways: only then does silence from the peer mean it is gone.
    pub(crate) fn is_two_way(&self) -> bool {
        self.send && self.receive_audio
    }
}

/// The codec of payload type `pt` of `media`, if it is G.711.
fn audio_codec(media: &MediaDescription, pt: u8) -> Option<AudioCodec> {
    media
        .rtpmap(pt)
        .filter(|m| m.clock_rate == 8000)
        .and_then(|m| AudioCodec::from_name(&m.encoding))
}

fn telephone_events(media: &MediaDescription) -> impl Iterator<Item = u8> + '_ {
    media.payload_types().filter(move |&pt| {
        media
            .rtpmap(pt)
            .is_some_and(|m| m.encoding.eq_ignore_ascii_case("telephone-event"))
    })
}

fn usable_ip(ip: IpAddr) -> Option<IpAddr> {
    (!ip.is_unspecified()).then_some(ip)
}

/// What `local` (ours) and `remote` (the peer's) mean for each stream: `Some` for each
/// `m=audio` line that is enabled on both sides and has a G.711 codec in common, in the
/// order of the `m=` lines (`None` for the others).
pub(crate) fn streams(
    local: &SessionDescription,
    remote: &SessionDescription,
) -> Vec<Option<StreamParams>> {
    local
        .media
        .iter()
        .zip(&remote.media)
        .enumerate()
        .map(|(index, (ours, theirs))| stream(index, local, remote, ours, theirs))
        .collect()
}

fn stream(
    index: usize,
    local: &SessionDescription,
    remote: &SessionDescription,
    ours: &MediaDescription,
    theirs: &MediaDescription,
) -> Option<StreamParams> {
    if ours.kind != MediaKind::Audio
        || theirs.kind != MediaKind::Audio
        || ours.is_disabled()
        || theirs.is_disabled()
        || !theirs.is_rtp()
    {
        return None;
    }
    // The peer's order is its preference; we send the first of its codecs we also listed,
    // under the peer's number for it.
    let (payload_type, codec) = theirs.payload_types().find_map(|pt| {
        let codec = audio_codec(theirs, pt)?;
        ours.payload_types()
            .any(|p| audio_codec(ours, p) == Some(codec))
            .then_some((pt, codec))
    })?;
    let mut receive: Vec<(u8, AudioCodec)> = Vec::new();
    for media in [ours, theirs] {
        for pt in media.payload_types() {
            if let Some(c) = audio_codec(media, pt) {
                if !receive.iter().any(|&(p, _)| p == pt) {
                    receive.push((pt, c));
                }
            }
        }
    }
    let dtmf_send = telephone_events(ours)
        .next()
        .and_then(|_| telephone_events(theirs).next());
    let mut dtmf_receive: Vec<u8> = telephone_events(ours).collect();
    for pt in telephone_events(theirs) {
        if !dtmf_receive.contains(&pt) {
            dtmf_receive.push(pt);
        }
    }
    let ip = remote
        .media_connection(index)
        .and_then(sip_sdp::Connection::ip)
        .and_then(usable_ip);
    let remote_rtp = ip.map(|ip| SocketAddr::new(ip, theirs.port));
    let remote_rtcp = match theirs.rtcp() {
        Some(rtcp) => rtcp
            .connection
            .as_ref()
            .and_then(sip_sdp::Connection::ip)
            .and_then(usable_ip)
            .or(ip)
            .map(|ip| SocketAddr::new(ip, rtcp.port)),
        None => ip.and_then(|ip| Some(SocketAddr::new(ip, theirs.port.checked_add(1)?))),
    };
    let our_direction = local.media_direction(index).unwrap_or_default();
    let their_direction = remote.media_direction(index).unwrap_or_default();
    Some(StreamParams {
        index,
        codec,
        payload_type,
        receive,
        dtmf_send,
        dtmf_receive,
        remote_rtp,
        remote_rtcp,
        send: our_direction.is_sending() && their_direction.is_receiving() && ip.is_some(),
        receive_audio: our_direction.is_receiving() && their_direction.is_sending(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> AudioProfile {
        AudioProfile {
            codecs: vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            dtmf_payload_type: Some(101),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn sdp(s: &str) -> SessionDescription {
        s.parse().unwrap()
    }

    #[test]
    fn our_offer_lists_g711_telephone_events_and_ptime() {
        let o = offer(
            &profile(),
            Origin::new("-", 1, 1, ip("127.0.0.1")),
            ip("127.0.0.1"),
            &[30000, 30002],
            Direction::SendRecv,
        );
        assert_eq!(
            o.to_string(),
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio 30000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n\
             m=audio 30002 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
        );
        let held = offer(
            &profile(),
            Origin::new("-", 1, 2, ip("127.0.0.1")),
            ip("127.0.0.1"),
            &[30000],
            Direction::SendOnly,
        );
        assert!(held.is_on_hold());
    }

    #[test]
    fn answer_keeps_the_offerers_order_and_numbers_and_declines_what_we_cannot_do() {
        let offer = sdp(
            "v=0\r\no=peer 5 5 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n\
             m=audio 4002 RTP/AVP 18\r\n\
             m=video 4004 RTP/AVP 31\r\n\
             m=audio 0 RTP/AVP 0\r\n",
        );
        assert_eq!(acceptable_streams(&profile(), &offer), [0]);
        let a = answer(
            &profile(),
            &offer,
            Origin::new("-", 9, 9, ip("127.0.0.1")),
            ip("127.0.0.1"),
            Direction::SendRecv,
            |i| Some(30000 + 2 * i as u16),
        );
        let ports: Vec<u16> = a.media.iter().map(|m| m.port).collect();
        assert_eq!(ports, [30000, 0, 0, 0]);
        assert_eq!(a.media[0].formats, ["8", "0", "96"]);
        let s = streams(&a, &offer);
        assert_eq!(s.len(), 4);
        let p = s[0].clone().unwrap();
        assert_eq!((p.codec, p.payload_type), (AudioCodec::Pcma, 8));
        assert_eq!(p.receive, [(8, AudioCodec::Pcma), (0, AudioCodec::Pcmu)]);
        assert_eq!(
            (p.dtmf_send, p.dtmf_receive.as_slice()),
            (Some(96), &[96][..])
        );
        assert_eq!(p.remote_rtp, Some("192.0.2.1:4000".parse().unwrap()));
        assert_eq!(p.remote_rtcp, Some("192.0.2.1:4001".parse().unwrap()));
        assert!(p.send && p.receive_audio && p.is_two_way());
        assert!(s[1..].iter().all(Option::is_none));
    }

    #[test]
    fn a_port_refused_by_the_caller_declines_the_stream() {
        let offer = sdp(
            "v=0\r\no=peer 5 5 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0\r\n",
        );
        let a = answer(
            &profile(),
            &offer,
            Origin::new("-", 9, 9, ip("127.0.0.1")),
            ip("127.0.0.1"),
            Direction::SendRecv,
            |_| None,
        );
        assert_eq!(a.media[0].port, 0);
        assert_eq!(streams(&a, &offer), [None]);
    }

    #[test]
    fn peer_hold_is_read_from_direction_and_from_the_zero_address() {
        let ours = offer(
            &profile(),
            Origin::new("-", 1, 1, ip("127.0.0.1")),
            ip("127.0.0.1"),
            &[30000],
            Direction::SendRecv,
        );
        // RFC 3264 hold: the peer only sends; we must not.
        let sendonly = sdp(
            "v=0\r\no=peer 5 6 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
        );
        let p = streams(&ours, &sendonly)[0].clone().unwrap();
        assert!(!p.send && p.receive_audio && !p.is_two_way());
        // RFC 2543 hold: c=0.0.0.0, nowhere to send to.
        let zero = sdp(
            "v=0\r\no=peer 5 6 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0\r\n",
        );
        let p = streams(&ours, &zero)[0].clone().unwrap();
        assert_eq!((p.remote_rtp, p.remote_rtcp), (None, None));
        assert!(!p.send && p.receive_audio);
        // Port 0: the stream is off.
        let off = sdp(
            "v=0\r\no=peer 5 6 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 0 RTP/AVP 0\r\n",
        );
        assert_eq!(streams(&ours, &off), [None]);
        // And our own hold: we send, the peer does not.
        let held = offer(
            &profile(),
            Origin::new("-", 1, 2, ip("127.0.0.1")),
            ip("127.0.0.1"),
            &[30000],
            Direction::SendOnly,
        );
        let recvonly = sdp(
            "v=0\r\no=peer 5 6 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n",
        );
        let p = streams(&held, &recvonly)[0].clone().unwrap();
        assert!(p.send && !p.receive_audio);
    }

    #[test]
    fn rtcp_attribute_and_missing_telephone_events() {
        let ours = offer(
            &profile(),
            Origin::new("-", 1, 1, ip("127.0.0.1")),
            ip("127.0.0.1"),
            &[30000],
            Direction::SendRecv,
        );
        let theirs = sdp(
            "v=0\r\no=peer 5 6 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0\r\na=rtcp:4009 IN IP4 192.0.2.7\r\n",
        );
        let p = streams(&ours, &theirs)[0].clone().unwrap();
        assert_eq!(p.remote_rtcp, Some("192.0.2.7:4009".parse().unwrap()));
        assert_eq!(p.dtmf_send, None);
        assert_eq!(p.dtmf_receive, [101]);
    }

    #[test]
    fn no_common_codec_gives_no_stream() {
        let ours = offer(
            &AudioProfile {
                codecs: vec![AudioCodec::Pcma],
                dtmf_payload_type: None,
            },
            Origin::new("-", 1, 1, ip("127.0.0.1")),
            ip("127.0.0.1"),
            &[30000],
            Direction::SendRecv,
        );
        let theirs = sdp(
            "v=0\r\no=peer 5 6 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0 18\r\n",
        );
        assert_eq!(streams(&ours, &theirs), [None]);
    }
}
