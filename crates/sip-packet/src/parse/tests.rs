use super::*;

fn parse(s: &str) -> Result<Message, ParseError> {
    Message::parse(Bytes::copy_from_slice(s.as_bytes()))
}

const MINIMAL: &str = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n";

fn with(extra: &str, body: &str) -> String {
    format!("{MINIMAL}{extra}\r\n{body}")
}

#[test]
fn minimal_request_and_lf_only_lines() {
    let m = parse(&with("Content-Length: 0\r\n", "")).unwrap();
    assert!(m.is_request());
    let lf = with("", "").replace("\r\n", "\n");
    let m = parse(&lf).unwrap();
    assert_eq!(m.headers().call_id().unwrap(), "x");
}

#[test]
fn leading_crlf_is_ignored() {
    assert!(parse(&format!("\r\n\r\n{}", with("", ""))).is_ok());
    assert_eq!(
        parse("\r\n\r\n").unwrap_err().kind(),
        &ParseErrorKind::Empty
    );
}

#[test]
fn each_missing_mandatory_header_is_named() {
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        let msg: String = with("", "")
            .split_inclusive("\r\n")
            .filter(|l| !l.starts_with(&format!("{name}:")))
            .collect();
        let e = parse(&msg).unwrap_err();
        assert_eq!(e.kind(), &ParseErrorKind::MissingHeader(name), "{name}");
    }
}

#[test]
fn duplicates_of_single_headers_are_rejected() {
    for (h, v) in [
        ("CSeq", "1 OPTIONS"),
        ("Call-ID", "y"),
        ("From", "<sip:c@d>"),
        ("To", "<sip:c@d>"),
        ("Content-Length", "0"),
    ] {
        let msg = with(
            &format!("{h}: {v}\r\nContent-Length: 0\r\n").replace(
                "Content-Length: 0\r\nContent-Length: 0",
                "Content-Length: 0\r\nl: 0",
            ),
            "",
        );
        let e = parse(&msg).unwrap_err();
        assert!(
            matches!(e.kind(), ParseErrorKind::DuplicateHeader(_)),
            "{h}: {e}"
        );
    }
}

#[test]
fn header_line_errors_carry_their_line() {
    let e = parse(&with("Bogus line\r\n", "")).unwrap_err();
    assert_eq!(e.kind(), &ParseErrorKind::MissingColon);
    assert_eq!(e.line(), Some(7));
    let e = parse(&with("Bad\u{1}Name: x\r\n", "")).unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::HeaderName(_)));
    let e = parse(&with("Bad Name: x\r\n", "")).unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::HeaderName(_)));
}

#[test]
fn cseq_errors() {
    let m = MINIMAL.replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS");
    let e = parse(&format!("{m}\r\n")).unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::Number { .. }));
    assert_eq!(e.header(), Some("CSeq"));
    assert_eq!(e.line(), Some(6));
    let m = MINIMAL.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    let e = parse(&format!("{m}\r\n")).unwrap_err();
    assert!(matches!(
        e.kind(),
        ParseErrorKind::CSeqMethodMismatch { .. }
    ));
}

#[test]
fn content_length_rules() {
    let m = parse(&with("Content-Length: 3\r\n", "abcdef")).unwrap();
    assert_eq!(&m.body()[..], b"abc");
    let m = parse(&with("", "abcdef")).unwrap();
    assert_eq!(&m.body()[..], b"abcdef");
    let e = parse(&with("Content-Length: 9\r\n", "abc")).unwrap_err();
    assert_eq!(
        e.kind(),
        &ParseErrorKind::BodyTruncated {
            declared: 9,
            available: 3
        }
    );
    let e = parse(&with("Content-Length: -3\r\n", "abc")).unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::ContentLength(_)));
}

#[test]
fn size_limits() {
    let limits = ParseLimits::default().with_max_body(4);
    let e = Message::parse_with(Bytes::from(with("", "abcdef")), &limits).unwrap_err();
    assert_eq!(e.kind(), &ParseErrorKind::BodyTooLarge(4));
    assert_eq!(e.response_status(), 513);
    let big = with(&format!("X-Big: {}\r\n", "a".repeat(17 * 1024)), "");
    assert_eq!(
        parse(&big).unwrap_err().kind(),
        &ParseErrorKind::HeadTooLarge(16 * 1024)
    );
    let many: String = (0..300).map(|i| format!("X-{i}: v\r\n")).collect();
    assert!(matches!(
        parse(&with(&many, "")).unwrap_err().kind(),
        ParseErrorKind::TooManyHeaders(_)
    ));
}

#[test]
fn start_line_errors() {
    let bad = |line: &str| {
        parse(&format!(
            "{}\r\n",
            MINIMAL.replacen("OPTIONS sip:b@example.com SIP/2.0", line, 1)
        ))
    };
    assert!(matches!(
        bad("OPTIONS sip:b@example.com SIP/3.0").unwrap_err().kind(),
        ParseErrorKind::Version(_)
    ));
    assert!(matches!(
        bad("OPTIONS  sip:b@example.com SIP/2.0")
            .unwrap_err()
            .kind(),
        ParseErrorKind::StartLine(_)
    ));
    assert!(matches!(
        bad("OPTIONS sip:b@example.com SIP/2.0 ")
            .unwrap_err()
            .kind(),
        ParseErrorKind::StartLine(_)
    ));
    assert!(matches!(
        bad("SIP/2.0 99 Low").unwrap_err().kind(),
        ParseErrorKind::StatusCode(_)
    ));
    assert!(matches!(
        bad("SIP/2.0 700 High").unwrap_err().kind(),
        ParseErrorKind::StatusCode(_)
    ));
    assert!(matches!(
        bad("SIP/2.0 2000 OK").unwrap_err().kind(),
        ParseErrorKind::StatusCode(_)
    ));
    let ok = bad("SIP/2.0 699 Max").unwrap();
    assert_eq!(ok.as_response().unwrap().status(), 699);
}

#[test]
fn non_utf8_head_is_an_error_not_a_panic() {
    let mut raw = with("", "").into_bytes();
    raw[20] = 0xff;
    assert_eq!(
        Message::parse(raw.into()).unwrap_err().kind(),
        &ParseErrorKind::NotUtf8
    );
}

#[test]
fn folding_is_unfolded_and_lists_split() {
    let m = parse(&with(
        "Subject: first\r\n  second\r\nRoute: <sip:a;lr>,\r\n <sip:b;lr>\r\n",
        "",
    ))
    .unwrap();
    assert_eq!(m.headers().get("s").unwrap(), "first second");
    let routes: Vec<_> = m
        .headers()
        .routes()
        .map(|r| r.unwrap().uri().to_string())
        .collect();
    assert_eq!(routes, ["sip:a;lr", "sip:b;lr"]);
}

#[test]
fn no_panic_on_any_prefix_of_a_valid_message() {
    let full = with("Content-Length: 4\r\n", "body");
    for i in 0..full.len() {
        let _ = parse(&full[..i]);
    }
}

// Found by fuzzing (parse_message): a version or start line with a multi-byte character across
// byte 4 was sliced as a str there, and panicked.
#[test]
fn utf8_across_byte_four_of_a_version_is_an_error_not_a_panic() {
    let version = with("", "").replacen("SIP/2.0\r\n", "SIz\u{217}G4bKP/2.0\r\n", 1);
    assert!(matches!(
        parse(&version).unwrap_err().kind(),
        ParseErrorKind::StartLine(_)
    ));
    let status = with("", "").replacen("OPTIONS sip:b@example.com SIP/2.0", "SIP\u{217} 200 OK", 1);
    assert!(matches!(
        parse(&status).unwrap_err().kind(),
        ParseErrorKind::Method(_)
    ));
}
