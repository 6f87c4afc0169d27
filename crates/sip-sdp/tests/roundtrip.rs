//! Property tests: printing then parsing gives back the same value, for descriptions built from
//! every kind of line, and parse ∘ print ∘ parse = parse for text made of arbitrary lines.

use proptest::prelude::*;
use sip_sdp::{
    AddressType, Attribute, Bandwidth, Connection, MediaDescription, MediaKind, Origin, RawLine,
    Repeat, SessionDescription, TimeUnit, TimeZoneAdjustment, Timing, TypedTime,
};

/// A field without spaces.
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.:/+_*#-]{1,12}"
}

/// Free text: anything but CR, LF and NUL.
fn text() -> impl Strategy<Value = String> {
    "[^\r\n\u{0}]{0,16}"
}

fn addr_type() -> impl Strategy<Value = AddressType> {
    prop_oneof![
        Just(AddressType::Ip4),
        Just(AddressType::Ip6),
        token()
            .prop_filter("not a known type", |t| t != "IP4" && t != "IP6")
            .prop_map(AddressType::Other),
    ]
}

fn connection() -> impl Strategy<Value = Connection> {
    (token(), addr_type(), token())
        .prop_map(|(net, kind, address)| Connection::new(net, kind, address))
}

fn origin() -> impl Strategy<Value = Origin> {
    (
        prop::collection::vec(token(), 1..3),
        token(),
        any::<u64>(),
        token(),
        addr_type(),
        token(),
    )
        .prop_map(|(user, id, version, net, kind, address)| {
            let mut origin = Origin::new("-", 0, version, "0.0.0.0".parse().unwrap());
            origin.username = user.join(" ");
            origin.session_id = id;
            origin.net_type = net;
            origin.addr_type = kind;
            origin.address = address;
            origin
        })
}

fn typed_time() -> impl Strategy<Value = TypedTime> {
    (
        any::<i64>(),
        prop::option::of(prop_oneof![
            Just(TimeUnit::Days),
            Just(TimeUnit::Hours),
            Just(TimeUnit::Minutes),
            Just(TimeUnit::Seconds),
        ]),
    )
        .prop_map(|(value, unit)| match unit {
            Some(unit) => TypedTime::with_unit(value, unit),
            None => TypedTime::seconds(value),
        })
}

fn timing() -> impl Strategy<Value = Timing> {
    (
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec(
            (
                typed_time(),
                typed_time(),
                prop::collection::vec(typed_time(), 0..3),
            ),
            0..2,
        ),
    )
        .prop_map(|(start, stop, repeats)| {
            let mut timing = Timing::new(start, stop);
            for (interval, duration, offsets) in repeats {
                timing
                    .repeats
                    .push(Repeat::new(interval, duration, offsets));
            }
            timing
        })
}

fn attribute() -> impl Strategy<Value = Attribute> {
    ("[^\r\n\u{0}:]{0,10}", prop::option::of(text())).prop_map(|(name, value)| match value {
        Some(value) => Attribute::new(name, value),
        None => Attribute::property(name),
    })
}

fn bandwidth() -> impl Strategy<Value = Bandwidth> {
    ("[A-Za-z0-9_-]{1,6}", any::<u64>()).prop_map(|(kind, value)| Bandwidth::new(kind, value))
}

/// Raw lines among `attributes` attributes, in order of position.
fn raw_lines(letters: &'static str, attributes: usize) -> impl Strategy<Value = Vec<RawLine>> {
    let letters: Vec<char> = letters.chars().collect();
    prop::collection::vec(
        (prop::sample::select(letters), text(), 0..=attributes),
        0..3,
    )
    .prop_map(|lines| {
        let mut lines: Vec<RawLine> = lines
            .into_iter()
            .map(|(letter, value, after)| RawLine::after(letter, value, after))
            .collect();
        lines.sort_by_key(|l| l.after_attributes);
        lines
    })
}

fn media_kind() -> impl Strategy<Value = MediaKind> {
    prop_oneof![
        Just(MediaKind::Audio),
        Just(MediaKind::Video),
        Just(MediaKind::Application),
        token().prop_map(|t| MediaKind::from_token(&t)),
    ]
}

fn media() -> impl Strategy<Value = MediaDescription> {
    (
        (
            media_kind(),
            any::<u16>(),
            prop::option::of(any::<u16>()),
            token(),
            prop::collection::vec(token(), 0..4),
        ),
        (
            prop::option::of(text()),
            prop::collection::vec(connection(), 0..3),
            prop::collection::vec(bandwidth(), 0..2),
            prop::option::of(text()),
            prop::collection::vec(attribute(), 0..5),
        ),
    )
        .prop_flat_map(
            |(
                (kind, port, count, proto, formats),
                (info, connections, bandwidths, key, attributes),
            )| {
                let n = attributes.len();
                raw_lines("defghjlnopqrstuvwxyz", n).prop_map(move |other_lines| {
                    let mut media = MediaDescription::new(kind.clone(), port, proto.clone());
                    media.port_count = count;
                    media.formats.clone_from(&formats);
                    media.information.clone_from(&info);
                    media.connections.clone_from(&connections);
                    media.bandwidths.clone_from(&bandwidths);
                    media.key.clone_from(&key);
                    media.attributes.clone_from(&attributes);
                    media.other_lines = other_lines;
                    media
                })
            },
        )
}

fn session() -> impl Strategy<Value = SessionDescription> {
    (
        (
            origin(),
            text(),
            prop::option::of(text()),
            prop::option::of(text()),
        ),
        (
            prop::collection::vec(text(), 0..2),
            prop::collection::vec(text(), 0..2),
            prop::option::of(connection()),
            prop::collection::vec(bandwidth(), 0..2),
            prop::collection::vec(timing(), 0..3),
        ),
        (
            prop::collection::vec((any::<u64>(), typed_time()), 0..3),
            prop::option::of(text()),
            prop::collection::vec(attribute(), 0..5),
            prop::collection::vec(media(), 0..4),
        ),
    )
        .prop_flat_map(|(head, middle, tail)| {
            let n = tail.2.len();
            raw_lines("dfghjlnqwxy", n).prop_map(move |other_lines| {
                let (origin, name, information, uri) = head.clone();
                let (emails, phones, connection, bandwidths, timings) = middle.clone();
                let (zones, key, attributes, media) = tail.clone();
                let mut sdp = SessionDescription::new(origin, name);
                sdp.information = information;
                sdp.uri = uri;
                sdp.emails = emails;
                sdp.phones = phones;
                sdp.connection = connection;
                sdp.bandwidths = bandwidths;
                sdp.timings = timings;
                sdp.time_zones = zones
                    .into_iter()
                    .map(|(t, o)| TimeZoneAdjustment::new(t, o))
                    .collect();
                sdp.key = key;
                sdp.attributes = attributes;
                sdp.other_lines = other_lines;
                sdp.media = media;
                sdp
            })
        })
}

/// One line of plausible or odd SDP: mostly values that fit their type letter, sometimes not.
fn any_line() -> impl Strategy<Value = String> {
    let media = (
        any::<u16>(),
        "(/[0-9]{1,2})?",
        "RTP/AVP|udptl|RTP/SAVP|TCP/MSRP",
        "( [0-9a-z*]{1,3}){0,4}",
    )
        .prop_map(|(port, count, proto, formats)| {
            format!("m=audio {port}{count} {proto}{formats}")
        });
    let connection = ("IP4|IP6|XX", "[0-9a-f.:/]{1,20}").prop_map(|(t, a)| format!("c=IN {t} {a}"));
    let attribute = prop_oneof![
        "a=[^\r\n\u{0}]{0,20}",
        "a=(sendonly|recvonly|inactive|sendrecv|rtcp:[0-9]{1,6}( IN IP4 [0-9.]{1,15})?|ptime:[0-9]{1,4})",
        ("[0-9]{1,3}", "[a-zA-Z0-9-]{1,8}", any::<u32>(), "(/[0-9])?")
            .prop_map(|(pt, e, r, ch)| format!("a=rtpmap:{pt} {e}/{r}{ch}")),
        "a=fmtp:[0-9]{1,3} [ -~]{0,12}",
    ];
    let timing = prop_oneof![
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| format!("t={a} {b}")),
        "r=-?[0-9]{1,3}[dhms]? [0-9]{1,3}[dhms]?( -?[0-9]{1,3}[dhms]?){0,2}",
        "z=[0-9]{1,4} -?[0-9]{1,3}[dhms]?( [0-9]{1,4} -?[0-9]{1,3}[dhms]?)?",
    ];
    prop_oneof![
        4 => attribute,
        2 => media,
        2 => connection,
        1 => timing,
        1 => "b=[A-Z]{1,4}:[0-9]{1,5}",
        2 => "[defghijklnpqsuwxyz]=[^\r\n\u{0}]{0,16}",
        1 => "[a-zA-Z=]=[ -~]{0,24}",
    ]
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\r\n"), Just("\n"), Just("\r\n\r\n")]
}

proptest! {
    #[test]
    fn print_then_parse_gives_the_same_value(sdp in session()) {
        let text = sdp.to_string();
        let parsed: SessionDescription = text.parse().map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed, &sdp, "{}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn parse_print_parse_is_parse(
        head in prop::bool::weighted(0.8),
        lines in prop::collection::vec((any_line(), line_end()), 0..24),
    ) {
        let mut text = String::new();
        if head {
            text.push_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=-\r\n");
        }
        for (line, end) in &lines {
            text.push_str(line);
            text.push_str(end);
        }
        if let Ok(first) = SessionDescription::parse(text.as_bytes()) {
            let printed = first.to_string();
            let second = SessionDescription::parse(printed.as_bytes())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}\n{printed:?}")))?;
            prop_assert_eq!(&second, &first, "{:?}", text);
            prop_assert_eq!(second.to_string(), printed);
        }
    }
}
