use super::*;

fn sdp(text: &str) -> SessionDescription {
    text.parse().unwrap()
}

fn ip() -> std::net::IpAddr {
    "192.0.2.9".parse().unwrap()
}

fn origin() -> Origin {
    Origin::new("-", 1, 1, ip())
}

fn audio_caps() -> Capabilities {
    Capabilities::new().with(MediaCapability::audio([
        Codec::pcmu(),
        Codec::pcma(),
        Codec::telephone_event(),
    ]))
}

const HEAD: &str = "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";

#[test]
fn dynamic_payload_types_match_by_name_and_rate() {
    let offer = sdp(&format!(
        "{HEAD}m=audio 4000 RTP/AVP 96 120 8\r\na=rtpmap:96 opus/48000/2\r\n\
         a=rtpmap:120 TELEPHONE-EVENT/8000\r\na=fmtp:120 0-11\r\n"
    ));
    let decisions = audio_caps().negotiate(&offer);
    let StreamDecision::Accept(stream) = &decisions[0] else {
        panic!("declined: {decisions:?}");
    };
    let formats: Vec<&str> = stream.formats.iter().map(|f| f.format.as_str()).collect();
    assert_eq!(formats, ["120", "8"]);
    assert_eq!(
        stream.formats[0].fmtp.as_deref(),
        Some("0-15"),
        "our events"
    );
    assert_eq!(stream.remote, Some("192.0.2.1:4000".parse().unwrap()));
    assert_eq!(stream.direction, Direction::SendRecv);
}

#[test]
fn offered_fmtp_is_kept_when_we_have_none() {
    let caps = Capabilities::new().with(MediaCapability::video([Codec::new("H264", 90000)]));
    let offer = sdp(&format!(
        "{HEAD}m=video 4000 RTP/AVP 99\r\na=rtpmap:99 H264/90000\r\na=fmtp:99 profile-level-id=42e01f\r\n"
    ));
    let answer = caps.answer(&offer, origin(), ip(), |_| Some(5000));
    assert_eq!(
        answer.media[0].fmtp("99").unwrap().params,
        "profile-level-id=42e01f"
    );
}

#[test]
fn directions_are_mirrored() {
    for (offered, answered) in [
        ("a=sendonly\r\n", Some(Direction::RecvOnly)),
        ("a=recvonly\r\n", Some(Direction::SendOnly)),
        ("a=inactive\r\n", Some(Direction::Inactive)),
        ("a=sendrecv\r\n", None),
        ("", None),
    ] {
        let offer = sdp(&format!("{HEAD}m=audio 4000 RTP/AVP 0\r\n{offered}"));
        let answer = audio_caps().answer(&offer, origin(), ip(), |_| Some(5000));
        assert_eq!(answer.media[0].direction(), answered, "{offered:?}");
    }
    // A session-level attribute applies to media without their own.
    let offer = sdp(&format!("{HEAD}a=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n"));
    let answer = audio_caps().answer(&offer, origin(), ip(), |_| Some(5000));
    assert_eq!(answer.media[0].direction(), Some(Direction::RecvOnly));
}

#[test]
fn our_direction_limits_the_answer() {
    let caps = Capabilities::new()
        .with(MediaCapability::audio([Codec::pcmu()]).with_direction(Direction::RecvOnly));
    let offer = sdp(&format!("{HEAD}m=audio 4000 RTP/AVP 0\r\n"));
    let answer = caps.answer(&offer, origin(), ip(), |_| Some(5000));
    assert_eq!(answer.media[0].direction(), Some(Direction::RecvOnly));
    let offer = sdp(&format!("{HEAD}m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n"));
    let answer = caps.answer(&offer, origin(), ip(), |_| Some(5000));
    assert_eq!(answer.media[0].direction(), Some(Direction::Inactive));
}

#[test]
fn declines_keep_count_and_order() {
    let offer = sdp(&format!(
        "{HEAD}m=video 4002 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\nm=audio 4004 RTP/AVP 3\r\n\
         m=audio 4006 RTP/SAVP 0\r\nm=image 4008 udptl t38\r\nm=audio 4010 RTP/AVP 0\r\n"
    ));
    let decisions = audio_caps().negotiate(&offer);
    assert_eq!(
        decisions[..5],
        [
            StreamDecision::Decline(DeclineReason::UnsupportedMedia),
            StreamDecision::Decline(DeclineReason::Disabled),
            StreamDecision::Decline(DeclineReason::NoCommonCodec),
            StreamDecision::Decline(DeclineReason::UnsupportedMedia),
            StreamDecision::Decline(DeclineReason::UnsupportedMedia),
        ]
    );
    let mut asked = Vec::new();
    let answer = audio_caps().answer(&offer, origin(), ip(), |s| {
        asked.push(s.index);
        Some(5000)
    });
    assert_eq!(asked, [5], "ports are asked for accepted streams only");
    let ports: Vec<u16> = answer.media.iter().map(|m| m.port).collect();
    assert_eq!(ports, [0, 0, 0, 0, 0, 5000]);
    let kinds: Vec<&str> = answer.media.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["video", "audio", "audio", "audio", "image", "audio"]
    );
    assert_eq!(answer.media[4].formats, ["t38"]);
    assert_eq!(answer.media[3].proto, "RTP/SAVP");
}

#[test]
fn no_port_declines() {
    let offer = sdp(&format!("{HEAD}m=audio 4000 RTP/AVP 0\r\n"));
    let answer = audio_caps().answer(&offer, origin(), ip(), |_| None);
    assert_eq!(answer.media[0].port, 0);
    let answer = audio_caps().answer(&offer, origin(), ip(), |_| Some(0));
    assert_eq!(answer.media[0].port, 0);
}

#[test]
fn non_rtp_formats_match_by_name() {
    let caps = Capabilities::new().with(MediaCapability::new(
        MediaKind::Image,
        "udptl",
        [Codec::new("t38", 0)],
    ));
    let offer = sdp(&format!(
        "{HEAD}m=image 4000 udptl t38\r\na=T38FaxVersion:0\r\n"
    ));
    let answer = caps.answer(&offer, origin(), ip(), |_| Some(6000));
    assert_eq!(answer.media[0].to_string(), "m=image 6000 udptl t38\r\n");
}

#[test]
fn answer_copies_offer_timing() {
    let offer = sdp("v=0\r\no=a 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=3034423619 3042462419\r\nm=audio 4000 RTP/AVP 0\r\n");
    let answer = audio_caps().answer(&offer, origin(), ip(), |_| Some(5000));
    assert_eq!(answer.timings, offer.timings);
}

#[test]
fn offer_then_answer_round_trip() {
    let caps = audio_caps();
    let offer = caps.offer(origin(), ip(), &[7000]);
    let answer = caps.answer(&offer, Origin::new("b", 2, 2, ip()), ip(), |_| Some(7002));
    assert_eq!(answer.media[0].formats, ["0", "8", "101"]);
    assert_eq!(answer.media[0].port, 7002);
    assert_eq!(sdp(&answer.to_string()), answer);
}
