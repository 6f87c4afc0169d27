use super::*;
use crate::{Direction, MediaKind};

fn ok(text: &str) -> SessionDescription {
    match SessionDescription::parse(text.as_bytes()) {
        Ok(sdp) => sdp,
        Err(e) => panic!("{e}\n{text}"),
    }
}

fn err(text: &str) -> ParseError {
    SessionDescription::parse(text.as_bytes()).unwrap_err()
}

/// The example of RFC 8866 §5.
const RFC8866: &str = "v=0\r\n\
o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n\
s=Call to John Smith\r\n\
i=SDP Offer #1\r\n\
u=http://www.jdoe.example.com/home.html\r\n\
e=Jane Doe <jane@jdoe.example.com>\r\n\
p=+1 617 555-6011\r\n\
c=IN IP4 198.51.100.1\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n\
m=audio 49180 RTP/AVP 0\r\n\
m=video 51372 RTP/AVP 99\r\n\
c=IN IP6 2001:db8::2\r\n\
a=rtpmap:99 h263-1998/90000\r\n";

const MINIMAL: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";

#[test]
fn rfc8866_example_reads_and_prints_back_unchanged() {
    let sdp = ok(RFC8866);
    assert_eq!(sdp.origin.username, "jdoe");
    assert_eq!(sdp.session_name, "Call to John Smith");
    assert_eq!(sdp.information.as_deref(), Some("SDP Offer #1"));
    assert_eq!(
        sdp.uri.as_deref(),
        Some("http://www.jdoe.example.com/home.html")
    );
    assert_eq!(sdp.emails, ["Jane Doe <jane@jdoe.example.com>"]);
    assert_eq!(sdp.phones, ["+1 617 555-6011"]);
    assert_eq!(sdp.media.len(), 3);
    assert_eq!(sdp.media[2].kind, MediaKind::Video);
    assert_eq!(sdp.media_connection(1).unwrap().host(), "198.51.100.1");
    assert_eq!(sdp.media_connection(2).unwrap().host(), "2001:db8::2");
    assert_eq!(sdp.media[2].rtpmap(99).unwrap().encoding, "h263-1998");
    assert_eq!(sdp.to_string(), RFC8866);
}

#[test]
fn lf_and_mixed_line_ends() {
    let lf = RFC8866.replace("\r\n", "\n");
    assert_eq!(ok(&lf), ok(RFC8866));
    let mixed = RFC8866.replacen("\r\n", "\n", 3);
    assert_eq!(ok(&mixed), ok(RFC8866));
    // Without a final line end, and with trailing empty lines.
    assert_eq!(ok(RFC8866.trim_end()), ok(RFC8866));
    assert_eq!(ok(&format!("{RFC8866}\r\n\r\n\n")), ok(RFC8866));
}

#[test]
fn everything_at_session_level() {
    let text = "v=0\r\no=- 1 1 IN IP4 h\r\ns= \r\ni=info\r\nu=http://x\r\ne=a@b\r\ne=c@d\r\np=+1\r\n\
        c=IN IP4 224.2.17.12/127\r\nb=CT:128\r\nb=AS:64\r\nt=2873397496 2873404696\r\nr=7d 1h 0 25h\r\n\
        t=0 0\r\nz=2882844526 -1h 2898848070 0\r\nk=prompt\r\na=recvonly\r\na=tool:x\r\n";
    let sdp = ok(text);
    assert_eq!(sdp.session_name, " ");
    assert_eq!(sdp.connection.as_ref().unwrap().ttl(), Some(127));
    assert_eq!(sdp.bandwidths.len(), 2);
    assert_eq!(sdp.timings.len(), 2);
    assert_eq!(sdp.timings[0].repeats.len(), 1);
    assert!(sdp.timings[1].repeats.is_empty());
    assert_eq!(sdp.time_zones.len(), 2);
    assert_eq!(sdp.key.as_deref(), Some("prompt"));
    assert_eq!(sdp.direction(), Some(Direction::RecvOnly));
    assert_eq!(sdp.attribute_value("tool"), Some("x"));
    assert_eq!(sdp.to_string(), text);
}

#[test]
fn everything_at_media_level() {
    let text = format!(
        "{MINIMAL}m=audio 49170/2 RTP/AVP 0 96\r\ni=voice\r\nc=IN IP4 224.2.1.1/127/2\r\n\
         c=IN IP4 224.2.1.3/127/2\r\nb=AS:64\r\nk=clear:secret\r\na=rtpmap:96 opus/48000/2\r\n\
         a=fmtp:96 useinbandfec=1\r\na=ptime:20\r\na=sendonly\r\na=rtcp:53020\r\n"
    );
    let sdp = ok(&text);
    let m = &sdp.media[0];
    assert_eq!(m.connections.len(), 2, "layered multicast may repeat c=");
    assert_eq!(m.key.as_deref(), Some("clear:secret"));
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.fmtp("96").unwrap().parameter("useinbandfec"), Some("1"));
    assert_eq!(m.rtcp().unwrap().port, 53020);
    assert_eq!(sdp.to_string(), text);
}

#[test]
fn unknown_lines_are_kept_in_order() {
    let text = format!(
        "{MINIMAL}a=first\r\nx=one\r\ny=two\r\nm=audio 1 RTP/AVP 0\r\nq=three\r\nt=0 0\r\na=x-custom:?\r\nw=four\r\n"
    );
    let sdp = ok(&text);
    let session: Vec<String> = sdp.other_lines.iter().map(ToString::to_string).collect();
    assert_eq!(session, ["x=one", "y=two"]);
    let media: Vec<String> = sdp.media[0]
        .other_lines
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(media, ["q=three", "t=0 0", "w=four"]);
    assert_eq!(sdp.media[0].attribute_value("x-custom"), Some("?"));
    assert_eq!(
        sdp.to_string(),
        text,
        "unknown lines stay among the attributes"
    );
}

#[test]
fn out_of_order_lines_are_accepted_and_printed_in_rfc_order() {
    let text = "v=0\r\no=- 1 1 IN IP4 h\r\na=tool:x\r\nt=0 0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n\
        m=audio 1 RTP/AVP 0\r\na=ptime:20\r\nc=IN IP4 192.0.2.2\r\n";
    let sdp = ok(text);
    let printed = sdp.to_string();
    assert_eq!(
        printed,
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\na=tool:x\r\n\
         m=audio 1 RTP/AVP 0\r\nc=IN IP4 192.0.2.2\r\na=ptime:20\r\n"
    );
    assert_eq!(ok(&printed), sdp);
}

#[test]
fn lenient_spacing() {
    let sdp = ok("v=0 \r\no=-  1 1 IN\tIP4 h\r\ns=-\r\nt=0 0 \r\nm=audio  1  RTP/AVP  0 8 \r\nc=IN IP4 1.2.3.4 \r\n");
    assert_eq!(sdp.media[0].formats, ["0", "8"]);
    assert_eq!(sdp.media[0].connection().unwrap().host(), "1.2.3.4");
}

#[test]
fn no_media_and_no_timing() {
    let sdp = ok("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n");
    assert!(sdp.timings.is_empty());
    assert!(sdp.media.is_empty());
    assert_eq!(sdp.to_string(), "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n");
}

#[test]
fn structure_errors_name_the_line() {
    assert_eq!(err(""), ParseError::Empty);
    assert_eq!(err("\r\n\n"), ParseError::Empty);
    assert_eq!(
        err("o=- 1 1 IN IP4 h\r\n"),
        ParseError::VersionNotFirst {
            line: 1,
            letter: 'o'
        }
    );
    assert_eq!(
        err("v=1\r\n"),
        ParseError::UnsupportedVersion {
            line: 1,
            found: "1".into()
        }
    );
    assert_eq!(
        err("v=0\r\ns=-\r\nt=0 0\r\n"),
        ParseError::MissingLine {
            line: 4,
            letter: 'o'
        }
    );
    assert_eq!(
        err("v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n"),
        ParseError::MissingLine {
            line: 4,
            letter: 's'
        }
    );
    assert_eq!(
        err(&format!(
            "{MINIMAL}c=IN IP4 1.1.1.1\r\nc=IN IP4 1.1.1.2\r\n"
        )),
        ParseError::DuplicateLine {
            line: 6,
            letter: 'c',
            section: Section::Session,
            first: 5
        }
    );
    assert_eq!(
        err(&format!(
            "{MINIMAL}m=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\ni=a\r\ni=b\r\n"
        )),
        ParseError::DuplicateLine {
            line: 8,
            letter: 'i',
            section: Section::Media(2),
            first: 7
        }
    );
    assert_eq!(
        err("v=0\r\nv=0\r\n"),
        ParseError::DuplicateLine {
            line: 2,
            letter: 'v',
            section: Section::Session,
            first: 1
        }
    );
    assert_eq!(
        err("v=0\r\nr=7d 1h 0\r\n"),
        ParseError::RepeatWithoutTime { line: 2 }
    );
}

#[test]
fn line_syntax_errors() {
    for (bad, line) in [
        ("v=0\r\nfoo\r\n", 2),
        ("v=0\r\nA=x\r\n", 2),
        ("v=0\r\n=x\r\n", 2),
        ("v=0\r\na\r\n", 2),
        ("v=0\r\n a=x\r\n", 2),
        ("v=0\r\n\r\né=x\r\n", 3),
    ] {
        match err(bad) {
            ParseError::MalformedLine { line: l, .. } => assert_eq!(l, line, "{bad:?}"),
            other => panic!("{bad:?}: {other}"),
        }
    }
    assert_eq!(
        err("v=0\r\na=x\0y\r\n"),
        ParseError::ForbiddenCharacter {
            line: 2,
            character: "NUL"
        }
    );
    assert_eq!(
        err("v=0\r\na=x\ry\r\n"),
        ParseError::ForbiddenCharacter {
            line: 2,
            character: "CR"
        }
    );
    assert_eq!(
        err("v=0\r\na=x\r\r\n"),
        ParseError::ForbiddenCharacter {
            line: 2,
            character: "CR"
        }
    );
    assert_eq!(
        SessionDescription::parse(b"v=0\r\ns=\xff\r\n").unwrap_err(),
        ParseError::InvalidUtf8 { line: 2 }
    );
}

#[test]
fn field_errors_name_line_letter_and_field() {
    let cases = [
        ("o=- 1 x IN IP4 h", 'o', "sess-version"),
        ("c=IN IP4", 'c', "connection-address"),
        ("b=AS:fast", 'b', "bandwidth"),
        ("t=now 0", 't', "start-time"),
        ("m=audio 65536 RTP/AVP 0", 'm', "port"),
        ("m=audio 1", 'm', "proto"),
        ("z=1", 'z', "offset"),
    ];
    for (line_text, letter, field) in cases {
        let text = format!("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n{line_text}\r\n");
        let text = text.replacen("o=- 1 1 IN IP4 h\r\n", "", usize::from(letter == 'o'));
        let expected_line = if letter == 'o' { 3 } else { 4 };
        match err(&text) {
            ParseError::InvalidField {
                line,
                letter: l,
                field: f,
                ..
            } => {
                assert_eq!((line, l, f), (expected_line, letter, field), "{text:?}");
            }
            other => panic!("{text:?}: {other}"),
        }
    }
    let e = err("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\nc=IN\r\n");
    assert_eq!(
        e.to_string(),
        "line 6: bad addrtype in c= line (\"\"): expected IP4 or IP6 and an address"
    );
}

#[test]
fn limits_are_enforced() {
    let limits = Limits::default().with_max_bytes(10);
    assert_eq!(
        SessionDescription::parse_with_limits(MINIMAL.as_bytes(), &limits).unwrap_err(),
        ParseError::TooLong {
            len: MINIMAL.len(),
            limit: 10
        }
    );
    let limits = Limits::default().with_max_lines(3);
    assert_eq!(
        SessionDescription::parse_with_limits(MINIMAL.as_bytes(), &limits).unwrap_err(),
        ParseError::TooManyLines { line: 4, limit: 3 }
    );
    let limits = limits.with_max_lines(4);
    assert!(
        SessionDescription::parse_with_limits(MINIMAL.as_bytes(), &limits).is_ok(),
        "the final LF is no line"
    );
    let limits = Limits::default().with_max_media(1);
    let two = format!("{MINIMAL}m=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\n");
    assert_eq!(
        SessionDescription::parse_with_limits(two.as_bytes(), &limits).unwrap_err(),
        ParseError::TooManyMedia { line: 6, limit: 1 }
    );
}

#[test]
fn a_full_datagram_parses_with_the_defaults() {
    let mut text = String::from(MINIMAL);
    let mut n = 0;
    while text.len() < 64 * 1024 {
        if n % 100 == 0 {
            text.push_str(&format!("m=audio {} RTP/AVP 0\r\n", 2000 + n));
        }
        text.push_str("a=x\r\n");
        n += 1;
    }
    let sdp = ok(&text);
    assert!(sdp.media.len() > 100);
    assert_eq!(ok(&sdp.to_string()), sdp);
}

#[test]
fn odd_inputs_do_not_panic() {
    let inputs: [&[u8]; 10] = [
        b"v=0",
        b"v=0\n\n\n",
        b"v=0\no=\ns=\n",
        b"v=0\no=a b c d e f\ns=\nm=\n",
        b"v=0\no=- 1 1 IN IP4 h\ns=\nm=audio 0/ RTP/AVP\n",
        b"v=0\no=- 1 1 IN IP4 h\ns=\nz=\n",
        b"v=0\no=- 1 1 IN IP4 h\ns=\nt=0 0\nr=\n",
        b"v=0\no=- 1 1 IN IP4 h\ns=\nb=:\n",
        b"v=0\r",
        b"\xef\xbb\xbfv=0\n",
    ];
    for input in inputs {
        let _ = SessionDescription::parse(input);
    }
}
