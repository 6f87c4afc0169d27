//! Every request and answer through a print-and-read round trip, and every kind of bad line
//! answered with the right code and a message that names the problem.

use std::time::Duration;

use super::*;
use crate::nat::info::{Activation, CloseReason, NatStats, SessionInfo};

fn key() -> SessionKey {
    SessionKey::new(
        "a84b4c76e66710@pc33.example.com",
        314159,
        PartyId::new("tag=1928301774;leg=127.0.0.1:5060"),
        PartyId::new("uri=sip:bob@example.com;leg=[::1]:5060"),
    )
}

fn session(reason: Option<CloseReason>) -> SessionInfo {
    SessionInfo {
        id: 9,
        call_id: "c\"1\n".into(),
        cseq: 2,
        from: PartyId::new("a"),
        to: PartyId::new("b"),
        bytes_from: 1720,
        bytes_to: u64::MAX,
        age: Duration::from_millis(31_250),
        reason,
    }
}

fn round_trip(r: ControlRequest) {
    let line = r.to_line(42);
    assert!(line.ends_with('\n'));
    assert_eq!(line.matches('\n').count(), 1, "one line: {line:?}");
    let (id, back) = parse_request(line.trim_end().as_bytes()).unwrap();
    assert_eq!(id, 42);
    assert_eq!(back, r);
}

#[test]
fn requests_round_trip() {
    round_trip(ControlRequest::Allocate(AllocateRequest::new(
        key(),
        Side::From,
        "::1".parse().unwrap(),
        vec![
            StreamRequest::relay(Some("[2001:db8::5]:4000".parse().unwrap()), 2),
            StreamRequest::untouched(),
            StreamRequest::relay(None, 1),
        ],
    )));
    round_trip(ControlRequest::Allocate(AllocateRequest::new(
        key(),
        Side::To,
        "127.0.0.1".parse().unwrap(),
        vec![],
    )));
    round_trip(ControlRequest::Activate(key()));
    round_trip(ControlRequest::Close(CloseRequest::new(
        "c1",
        None,
        PartyId::new("x"),
        PartyId::new("y"),
    )));
    round_trip(ControlRequest::Close(CloseRequest::new(
        "c1",
        Some(u32::MAX),
        PartyId::new("x"),
        PartyId::new("y"),
    )));
    round_trip(ControlRequest::Expire);
    round_trip(ControlRequest::Stats);
}

fn reply_round_trip(op: &str, r: ControlReply) {
    let line = r.to_line(7);
    let (id, back) = parse_reply(line.trim_end().as_bytes(), op).unwrap();
    assert_eq!(id, 7);
    assert_eq!(back, Ok(r));
}

#[test]
fn replies_round_trip() {
    reply_round_trip(
        "allocate",
        ControlReply::Allocated(vec![
            Some("127.0.0.1:30000".parse().unwrap()),
            None,
            Some("[::1]:30002".parse().unwrap()),
        ]),
    );
    reply_round_trip(
        "activate",
        ControlReply::Activated(Activation {
            session: session(None),
            existing: true,
            replaced: vec![session(Some(CloseReason::Replaced))],
        }),
    );
    reply_round_trip(
        "close",
        ControlReply::Closed(vec![session(Some(CloseReason::Closed))]),
    );
    reply_round_trip(
        "expire",
        ControlReply::Expired(vec![session(Some(CloseReason::Expired))]),
    );
    reply_round_trip(
        "stats",
        ControlReply::Stats(NatStats {
            calls: 1,
            sessions: 2,
            closing: 3,
            groups: 4,
            sockets: 5,
        }),
    );
}

#[test]
fn error_answers_round_trip() {
    let e = ControlError::new(ErrorCode::Limit, "too many");
    let line = e.to_line(Some(5));
    assert_eq!(
        parse_reply(line.trim_end().as_bytes(), "allocate").unwrap(),
        (5, Err(e.clone()))
    );
    // An answer to a line without a readable number.
    let line = ControlError::new(ErrorCode::Malformed, "x").to_line(None);
    let (id, answer) = parse_reply(line.trim_end().as_bytes(), "stats").unwrap();
    assert_eq!(id, 0);
    assert_eq!(answer.unwrap_err().code, ErrorCode::Malformed);
    // A code from a newer nathelper reads as `failed`.
    let line = br#"{"v":1,"id":1,"ok":false,"error":"quantum","message":"?"}"#;
    let (_, answer) = parse_reply(line, "stats").unwrap();
    assert_eq!(answer.unwrap_err().code, ErrorCode::Failed);
}

#[test]
fn every_code_reads_back() {
    for c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_name(c.as_str()), c);
    }
}

#[test]
fn nat_errors_map_to_codes() {
    let limit = NatError::TotalLimit {
        needed: 4,
        in_use: 998,
        max: 1000,
    };
    let c = ControlError::from(limit.clone());
    assert_eq!(c.code, ErrorCode::Limit);
    assert_eq!(c.message, limit.to_string());
    let incomplete = NatError::Incomplete {
        call_id: "c".into(),
        cseq: 1,
        from: PartyId::new("a"),
        to: PartyId::new("b"),
    };
    assert_eq!(ControlError::from(incomplete).code, ErrorCode::Incomplete);
    // A remote error passes through unchanged, and back.
    let remote = NatError::Remote {
        code: ErrorCode::Bind,
        message: "no ports".into(),
    };
    let c = ControlError::from(remote.clone());
    assert_eq!(c, ControlError::new(ErrorCode::Bind, "no ports"));
    assert_eq!(NatError::from(c), remote);
}

/// The line must be refused with `code`, the request's number `id`, and a message holding
/// `needle`.
fn refused(line: &str, id: Option<u64>, code: ErrorCode, needle: &str) {
    let (got_id, e) = parse_request(line.as_bytes()).unwrap_err();
    assert_eq!((got_id, e.code), (id, code), "{line}: {e}");
    assert!(e.message.contains(needle), "{line}: {e}");
}

#[test]
fn malformed_requests_are_refused_with_reasons() {
    refused("", None, ErrorCode::Malformed, "not JSON");
    refused("{\"v\":1", None, ErrorCode::Malformed, "not JSON");
    refused("[1,2]", None, ErrorCode::Malformed, "not an object");
    refused("\u{fffd}\u{0}", None, ErrorCode::Malformed, "not JSON");
    refused(
        r#"{"id":1,"op":"stats"}"#,
        Some(1),
        ErrorCode::Version,
        "\"v\"",
    );
    refused(
        r#"{"v":2,"id":1,"op":"stats"}"#,
        Some(1),
        ErrorCode::Version,
        "version 2",
    );
    refused(
        r#"{"v":1,"op":"stats"}"#,
        None,
        ErrorCode::BadRequest,
        "\"id\"",
    );
    refused(
        r#"{"v":1,"id":-1,"op":"stats"}"#,
        None,
        ErrorCode::BadRequest,
        "\"id\"",
    );
    refused(
        r#"{"v":1,"id":1}"#,
        Some(1),
        ErrorCode::BadRequest,
        "\"op\"",
    );
    refused(
        r#"{"v":1,"id":1,"op":7}"#,
        Some(1),
        ErrorCode::BadRequest,
        "\"op\"",
    );
    refused(
        r#"{"v":1,"id":1,"op":"fly"}"#,
        Some(1),
        ErrorCode::UnknownOp,
        "\"fly\"",
    );
    refused(
        r#"{"v":1,"id":1,"op":"activate","call_id":"c","from":"a","to":"b"}"#,
        Some(1),
        ErrorCode::BadRequest,
        "\"cseq\"",
    );
    refused(
        r#"{"v":1,"id":1,"op":"activate","call_id":"c","cseq":4294967296,"from":"a","to":"b"}"#,
        Some(1),
        ErrorCode::BadRequest,
        "past 4294967295",
    );
    refused(
        r#"{"v":1,"id":1,"op":"close","call_id":"c","cseq":"1","from":"a","to":"b"}"#,
        Some(1),
        ErrorCode::BadRequest,
        "\"cseq\"",
    );
    let allocate = |extra: &str| {
        format!(
            r#"{{"v":1,"id":2,"op":"allocate","call_id":"c","cseq":1,"from":"a","to":"b",{extra}}}"#
        )
    };
    refused(
        &allocate(r#""side":"up","address":"127.0.0.1","media":[]"#),
        Some(2),
        ErrorCode::BadRequest,
        "\"up\"",
    );
    refused(
        &allocate(r#""side":"from","address":"localhost","media":[]"#),
        Some(2),
        ErrorCode::BadRequest,
        "\"address\"",
    );
    refused(
        &allocate(r#""side":"from","address":"127.0.0.1","media":{}"#),
        Some(2),
        ErrorCode::BadRequest,
        "\"media\"",
    );
    refused(
        &allocate(r#""side":"from","address":"127.0.0.1","media":[3]"#),
        Some(2),
        ErrorCode::BadRequest,
        "media 0",
    );
    refused(
        &allocate(
            r#""side":"from","address":"127.0.0.1","media":[{"target":"1.2.3.4","sockets":2}]"#,
        ),
        Some(2),
        ErrorCode::BadRequest,
        "\"1.2.3.4\" is not IP:PORT",
    );
    refused(
        &allocate(
            r#""side":"from","address":"127.0.0.1","media":[{"target":null,"sockets":70000}]"#,
        ),
        Some(2),
        ErrorCode::BadRequest,
        "70000 sockets",
    );
    refused(
        &allocate(r#""side":"from","address":"127.0.0.1","media":[{"target":5,"sockets":2}]"#),
        Some(2),
        ErrorCode::BadRequest,
        "target",
    );
}

#[test]
fn malformed_replies_are_errors() {
    for (line, needle) in [
        ("nope", "not JSON"),
        (r#"{"v":9,"id":1,"ok":true}"#, "version 9"),
        (r#"{"v":1,"id":1}"#, "\"ok\""),
        (r#"{"v":1,"id":1,"ok":true}"#, "\"calls\""),
        (r#"{"v":1,"id":1,"ok":true,"media":[5]}"#, "relay address"),
        (r#"{"v":1,"id":1,"ok":true,"media":["x"]}"#, "\"x\""),
    ] {
        let op = if line.contains("media") {
            "allocate"
        } else {
            "stats"
        };
        let e = parse_reply(line.as_bytes(), op).unwrap_err();
        assert!(e.message.contains(needle), "{line}: {e}");
    }
    let e = parse_reply(br#"{"v":1,"id":1,"ok":true}"#, "fly").unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownOp);
    let bad_session = r#"{"v":1,"id":1,"ok":true,"closed":[{"id":1}]}"#;
    assert!(parse_reply(bad_session.as_bytes(), "close").is_err());
    let bad_reason = r#"{"v":1,"id":1,"ok":true,"closed":[{"id":1,"call_id":"c","cseq":1,"from":"a","to":"b","bytes_from":0,"bytes_to":0,"age_ms":0,"reason":"bored"}]}"#;
    let e = parse_reply(bad_reason.as_bytes(), "close").unwrap_err();
    assert!(e.message.contains("\"bored\""), "{e}");
}
