//! The offer/answer examples of RFC 4317, read from `fixtures/rfc4317.txt`: every body parses
//! and prints back, and our answerer, given the answerer's codecs, produces the RFC's answers.

use std::collections::BTreeMap;

use sip_sdp::{Capabilities, Codec, Direction, MediaCapability, SessionDescription};

/// Sections of the fixture: "2.1" → { "Offer" → body, "Answer" → body, ... }.
fn examples() -> BTreeMap<String, BTreeMap<String, String>> {
    let text = include_str!("fixtures/rfc4317.txt");
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section = String::new();
    let mut block = String::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.split(' ').next().unwrap().to_owned();
        } else if line.starts_with('#') {
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            block = name.to_owned();
        } else if !line.is_empty() {
            let body = sections
                .entry(section.clone())
                .or_default()
                .entry(block.clone())
                .or_default();
            body.push_str(line);
            body.push_str("\r\n");
        }
    }
    sections
}

fn body(section: &str, block: &str) -> SessionDescription {
    let examples = examples();
    let text = &examples[section][block];
    text.parse()
        .unwrap_or_else(|e| panic!("{section} {block}: {e}\n{text}"))
}

/// The answer our answerer gives to `offer` with `caps`, written by the party of `expected`
/// (same origin, connection and the RFC's one-space session name), on the ports of `expected`.
fn our_answer(
    caps: &Capabilities,
    offer: &SessionDescription,
    expected: &SessionDescription,
) -> SessionDescription {
    let ports: Vec<u16> = expected.media.iter().map(|m| m.port).collect();
    let mut answer = caps.answer(
        offer,
        expected.origin.clone(),
        expected.connection.clone().unwrap(),
        |stream| ports.get(stream.index).copied(),
    );
    answer.session_name = " ".into();
    answer
}

fn assert_same(ours: &SessionDescription, rfc: &SessionDescription, what: &str) {
    assert_eq!(ours, rfc, "{what}\nours:\n{ours}\nRFC 4317:\n{rfc}");
    assert_eq!(ours.to_string(), rfc.to_string(), "{what}");
}

#[test]
fn every_body_parses_and_prints_back_exactly() {
    let examples = examples();
    let count: usize = examples.values().map(BTreeMap::len).sum();
    assert_eq!(examples.len(), 16);
    assert_eq!(count, 54);
    for (section, blocks) in &examples {
        for (name, text) in blocks {
            let sdp: SessionDescription = text
                .parse()
                .unwrap_or_else(|e| panic!("{section} {name}: {e}"));
            assert_eq!(&sdp.to_string(), text, "{section} {name}");
            assert_eq!(sdp.session_name, " ");
            // LF line ends read the same.
            assert_eq!(
                text.replace("\r\n", "\n")
                    .parse::<SessionDescription>()
                    .unwrap(),
                sdp
            );
        }
    }
}

#[test]
fn s2_1_one_codec_per_stream() {
    let caps = Capabilities::new()
        .with(MediaCapability::audio([Codec::pcmu()]))
        .with(MediaCapability::video([Codec::new("MPV", 90000)]));
    let (offer, answer) = (body("2.1", "Offer"), body("2.1", "Answer"));
    assert_same(&our_answer(&caps, &offer, &answer), &answer, "2.1");
}

#[test]
fn s2_2_video_declined_then_second_offer() {
    let caps = Capabilities::new().with(MediaCapability::audio([Codec::pcmu(), Codec::pcma()]));
    let (offer, answer) = (body("2.2", "Offer"), body("2.2", "Answer"));
    let first = our_answer(&caps, &offer, &answer);
    assert_same(&first, &answer, "2.2 answer");

    let (offer2, answer2) = (body("2.2", "Second-Offer"), body("2.2", "Second-Answer"));
    let mut previous = offer.clone();
    assert!(
        offer2.clone().revise_from(&previous),
        "Alice's second offer changed"
    );
    previous.origin.session_version += 1;
    assert_eq!(offer2.origin, previous.origin);

    let mut second = our_answer(&caps, &offer2, &answer2);
    assert!(
        second.revise_from(&first),
        "Bob's answer changed: PCMA is gone"
    );
    assert_eq!(second.origin.session_version, 2_808_844_565);
    assert_same(&second, &answer2, "2.2 second answer");
}

#[test]
fn s2_3_answerer_may_renumber_but_we_keep_the_offerers_number() {
    let caps = Capabilities::new()
        .with(MediaCapability::audio([Codec::new("iLBC", 8000)]))
        .with(MediaCapability::video([Codec::new("H261", 90000)]));
    let (offer, answer) = (body("2.3", "Offer"), body("2.3", "Answer"));
    let ours = our_answer(&caps, &offer, &answer);
    // RFC 3264 §6.1 says the same number SHOULD be used; the RFC's answer uses 99 for iLBC.
    assert_eq!(ours.media[0].formats, ["97"]);
    assert_eq!(answer.media[0].formats, ["99"]);
    assert!(ours.media[0].codecs()[0].same_codec(&answer.media[0].codecs()[0]));
    assert_eq!(ours.media[1], answer.media[1]);
}

#[test]
fn s2_4_two_audio_streams_one_send_only() {
    let caps = Capabilities::new().with(MediaCapability::audio([
        Codec::new("iLBC", 8000),
        Codec::new("telephone-event", 8000),
    ]));
    let (offer, answer) = (body("2.4", "Offer"), body("2.4", "Answer"));
    assert_eq!(offer.media_direction(1), Some(Direction::SendOnly));
    assert_same(&our_answer(&caps, &offer, &answer), &answer, "2.4");
}

#[test]
fn s2_5_unchanged_answer_keeps_its_version() {
    let alice = Capabilities::new()
        .with(MediaCapability::audio([Codec::new("iLBC", 8000)]))
        .with(MediaCapability::video([Codec::new("H261", 90000)]));
    let (offer, offer2, answer2) = (
        body("2.5", "Offer"),
        body("2.5", "Second-Offer"),
        body("2.5", "Second-Answer"),
    );
    assert_eq!(
        offer2.media_connection(0).unwrap().host(),
        "newhost.biloxi.example.com"
    );
    let mut ours = our_answer(&alice, &offer2, &answer2);
    assert!(
        !ours.revise_from(&offer),
        "Alice answers with the SDP of her first offer"
    );
    assert_same(&ours, &answer2, "2.5 second answer");
}

#[test]
fn s2_6_first_stream_declined() {
    let caps = Capabilities::new().with(MediaCapability::audio([
        Codec::new("iLBC", 8000),
        Codec::new("telephone-event", 8000),
    ]));
    let (offer, answer) = (body("2.6", "Offer"), body("2.6", "Answer"));
    assert_same(&our_answer(&caps, &offer, &answer), &answer, "2.6");
}

#[test]
fn s2_7_second_video_codec_added() {
    let caps = Capabilities::new()
        .with(MediaCapability::audio([Codec::new("iLBC", 8000)]))
        .with(MediaCapability::video([
            Codec::new("H261", 90000),
            Codec::new("MPV", 90000),
        ]));
    let (offer, answer) = (body("2.7", "Offer"), body("2.7", "Answer"));
    let first = our_answer(&caps, &offer, &answer);
    // Bob's first answer lists only H261 although he could do MPV: Alice offered only H261.
    assert_same(&first, &answer, "2.7 answer");
    let (offer2, answer2) = (body("2.7", "Second-Offer"), body("2.7", "Second-Answer"));
    let mut second = our_answer(&caps, &offer2, &answer2);
    assert!(second.revise_from(&first));
    assert_same(&second, &answer2, "2.7 second answer");
}

#[test]
fn s2_8_video_elsewhere() {
    let answer = body("2.8", "Answer");
    assert_eq!(
        answer.media_connection(0).unwrap().host(),
        "host.biloxi.example.com"
    );
    assert_eq!(
        answer.media_connection(1).unwrap().host(),
        "otherhost.biloxi.example.com"
    );
    let media = answer.media_info();
    assert_eq!(
        media[1].connection.as_ref().unwrap().host(),
        "otherhost.biloxi.example.com"
    );
    assert_eq!(media[1].address, None, "a host name is not an IP address");
}

#[test]
fn s3_1_hold_in_the_answer_then_resume() {
    let bob = Capabilities::new().with(
        MediaCapability::audio([Codec::new("iLBC", 8000)]).with_direction(Direction::SendOnly),
    );
    let (offer, answer) = (body("3.1", "Offer"), body("3.1", "Answer"));
    let held = our_answer(&bob, &offer, &answer);
    assert_same(&held, &answer, "3.1 answer");
    assert!(held.is_on_hold());
    assert!(!offer.is_on_hold());

    let (offer2, answer2) = (body("3.1", "Second-Offer"), body("3.1", "Second-Answer"));
    assert!(!offer2.is_on_hold(), "Bob takes Alice off hold");
    let alice = Capabilities::new().with(MediaCapability::audio([
        Codec::pcmu(),
        Codec::new("iLBC", 8000),
    ]));
    let mut resumed = our_answer(&alice, &offer2, &answer2);
    assert!(resumed.revise_from(&offer));
    assert_same(&resumed, &answer2, "3.1 second answer");
}

#[test]
fn s3_2_hold_one_of_two_streams() {
    let offer2 = body("3.2", "Second-Offer");
    assert!(offer2.is_media_on_hold(0));
    assert!(!offer2.is_media_on_hold(1), "recvonly is no hold");
    assert!(!offer2.is_on_hold());
    let alice = Capabilities::new().with(MediaCapability::audio([
        Codec::pcmu(),
        Codec::new("iLBC", 8000),
        Codec::new("telephone-event", 8000),
    ]));
    let answer2 = body("3.2", "Second-Answer");
    let ours = our_answer(&alice, &offer2, &answer2);
    // RFC 3264 §6.1 wants a sendonly stream answered recvonly or inactive; the RFC 4317 answer
    // repeats Alice's first offer instead, without a direction on the first stream.
    assert_eq!(ours.media_direction(0), Some(Direction::RecvOnly));
    assert_eq!(ours.media_direction(1), Some(Direction::SendOnly));
    assert_eq!(answer2.media_direction(1), Some(Direction::SendOnly));
}

#[test]
fn s4_1_stream_added_at_another_address() {
    let alice = Capabilities::new().with(MediaCapability::audio([
        Codec::pcmu(),
        Codec::new("iLBC", 8000),
        Codec::new("telephone-event", 8000),
    ]));
    let (offer2, answer2) = (body("4.1", "Second-Offer"), body("4.1", "Second-Answer"));
    let mut ours = our_answer(&alice, &offer2, &answer2);
    assert!(ours.revise_from(&body("4.1", "Offer")));
    // The RFC's answer repeats the session address at media level; ours does not need to.
    let mut rfc = answer2.clone();
    rfc.media[1].connections.clear();
    assert_same(&ours, &rfc, "4.1 second answer");
    assert_eq!(
        offer2.media_info()[1].connection.as_ref().unwrap().host(),
        "mediaserver.biloxi.example.com"
    );
}

#[test]
fn s4_2_video_added() {
    let bob = Capabilities::new()
        .with(MediaCapability::audio([Codec::pcmu()]))
        .with(MediaCapability::video([Codec::new("H261", 90000)]));
    let (offer, answer) = (body("4.2", "Offer"), body("4.2", "Answer"));
    let first = our_answer(&bob, &offer, &answer);
    assert_same(&first, &answer, "4.2 answer");
    let (offer2, answer2) = (body("4.2", "Second-Offer"), body("4.2", "Second-Answer"));
    let mut second = our_answer(&bob, &offer2, &answer2);
    assert!(second.revise_from(&first));
    assert_same(&second, &answer2, "4.2 second answer");
}

#[test]
fn s4_3_video_deleted() {
    let alice = Capabilities::new()
        .with(MediaCapability::audio([Codec::new("iLBC", 8000)]))
        .with(MediaCapability::video([Codec::new("H261", 90000)]));
    let (offer2, answer2) = (body("4.3", "Second-Offer"), body("4.3", "Second-Answer"));
    let mut ours = our_answer(&alice, &offer2, &answer2);
    assert!(ours.revise_from(&body("4.3", "Offer")));
    assert_same(&ours, &answer2, "4.3 second answer");
}

#[test]
fn s5_1_no_media_then_audio() {
    let bob = Capabilities::new().with(MediaCapability::audio([Codec::new("iLBC", 8000)]));
    let (offer, answer) = (body("5.1", "Offer"), body("5.1", "Answer"));
    let first = our_answer(&bob, &offer, &answer);
    assert_same(&first, &answer, "5.1 answer");
    assert!(!first.is_on_hold(), "no media, nothing held");
    let (offer2, answer2) = (body("5.1", "Second-Offer"), body("5.1", "Second-Answer"));
    let mut second = our_answer(&bob, &offer2, &answer2);
    assert!(second.revise_from(&first));
    assert_same(&second, &answer2, "5.1 second answer");
}

#[test]
fn s5_2_old_style_hold_in_the_offer() {
    let bob = Capabilities::new().with(MediaCapability::audio([Codec::new("iLBC", 8000)]));
    let (offer, answer) = (body("5.2", "Offer"), body("5.2", "Answer"));
    assert!(offer.is_on_hold(), "c=0.0.0.0 is RFC 2543 hold");
    let first = our_answer(&bob, &offer, &answer);
    assert_same(&first, &answer, "5.2 answer");
    let (offer2, answer2) = (body("5.2", "Second-Offer"), body("5.2", "Second-Answer"));
    assert!(!offer2.is_on_hold());
    let mut second = our_answer(&bob, &offer2, &answer2);
    assert!(!second.revise_from(&first), "same answer, same version");
    assert_same(&second, &answer2, "5.2 second answer");
}

#[test]
fn s5_3_old_style_hold_in_the_answer() {
    let (offer, answer) = (body("5.3", "Offer"), body("5.3", "Answer"));
    assert!(answer.is_on_hold());
    let alice = Capabilities::new().with(MediaCapability::audio([Codec::new("iLBC", 8000)]));
    let (offer2, answer2) = (body("5.3", "Second-Offer"), body("5.3", "Second-Answer"));
    let mut ours = our_answer(&alice, &offer2, &answer2);
    assert!(!ours.revise_from(&offer));
    assert_same(&ours, &answer2, "5.3 second answer");
}
