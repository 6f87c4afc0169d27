//! Side-by-side parse benchmarks: sip-packet against `rsip` 0.4 and `ezk-sip-types` 0.6.
//!
//! For each message (an INVITE, the 200 OK answering it, a REGISTER with credentials) one
//! criterion group does the same work three ways: parse the datagram, read the top Via's
//! branch, the CSeq (number and method), the Call-ID, the From tag and the To tag through each
//! library's own typed API, then print the message back to bytes. The group `parse_only`
//! parses and reads nothing.
//!
//! Ours is measured two ways: `ours` reads the fields with the accessors a transaction layer
//! uses (`Headers::top_via_branch`, `from_tag`, `to_tag`: they check the parameters they read
//! but build no Via or address), and `ours-full-views` builds the whole typed Via, From and
//! To, as the peers' typed APIs do.
//!
//! Each peer starts from the same `Bytes` (a clone is a reference count); before timing, every
//! implementation's reading of every message is checked against the expected values, so a
//! peer that silently misparses cannot win. `cargo xtask bench parser` runs this and writes
//! `target/bench-report/parser.md`.

use std::fmt::{self, Write as _};
use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};

/// The INVITE of RFC 3665 §3.1 (F1), with CRLF line ends. The RFC's Content-Length of 142
/// counts LF-only line ends; with CRLF the body is 149 bytes.
const INVITE: &str = concat!(
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n",
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds\r\n",
    "Max-Forwards: 70\r\n",
    "To: Bob <sip:bob@biloxi.example.com>\r\n",
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n",
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n",
    "CSeq: 314159 INVITE\r\n",
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n",
    "Content-Type: application/sdp\r\n",
    "Content-Length: 149\r\n",
    "\r\n",
    "v=0\r\n",
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n",
    "s=-\r\n",
    "c=IN IP4 192.0.2.101\r\n",
    "t=0 0\r\n",
    "m=audio 49172 RTP/AVP 0\r\n",
    "a=rtpmap:0 PCMU/8000\r\n",
);

/// Bob's 200 OK to that INVITE as it leaves Bob when the INVITE came through Biloxi's proxy:
/// the proxy's Via on top, Alice's below it, the proxy's Record-Route, a To tag, a Contact
/// and an SDP answer.
const OK_200: &str = concat!(
    "SIP/2.0 200 OK\r\n",
    "Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.222\r\n",
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.101\r\n",
    "Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n",
    "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n",
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n",
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n",
    "CSeq: 314159 INVITE\r\n",
    "Contact: <sip:bob@client.biloxi.example.com:5060>\r\n",
    "Content-Type: application/sdp\r\n",
    "Content-Length: 147\r\n",
    "\r\n",
    "v=0\r\n",
    "o=bob 2890844527 2890844527 IN IP4 client.biloxi.example.com\r\n",
    "s=-\r\n",
    "c=IN IP4 192.0.2.201\r\n",
    "t=0 0\r\n",
    "m=audio 3456 RTP/AVP 0\r\n",
    "a=rtpmap:0 PCMU/8000\r\n",
);

/// A REGISTER answering a digest challenge, with a Contact that asks for an hour
/// (RFC 3665 §2.1 F3, with qop).
const REGISTER: &str = concat!(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n",
    "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n",
    "Max-Forwards: 70\r\n",
    "To: Bob <sip:bob@biloxi.example.com>\r\n",
    "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n",
    "Call-ID: 843817637684230@998sdasdh09\r\n",
    "CSeq: 1826 REGISTER\r\n",
    "Contact: <sip:bob@192.0.2.4>;expires=3600\r\n",
    "Authorization: Digest username=\"bob\", realm=\"atlanta.example.com\", ",
    "nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", uri=\"sip:registrar.biloxi.example.com\", ",
    "response=\"dfe56131d1958046689d83306477ecc\", algorithm=MD5, qop=auth, nc=00000001, ",
    "cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n",
    "Content-Length: 0\r\n",
    "\r\n",
);

/// What the work reads from a message; borrowed from whichever library parsed it.
struct Fields<'a> {
    branch: &'a str,
    seq: u32,
    method: &'a dyn fmt::Display,
    call_id: &'a str,
    from_tag: Option<&'a str>,
    to_tag: Option<&'a str>,
}

/// The fields as owned strings, to compare outside the timed loop.
#[derive(Debug, PartialEq)]
struct Expected {
    branch: String,
    seq: u32,
    method: String,
    call_id: String,
    from_tag: Option<String>,
    to_tag: Option<String>,
}

impl Expected {
    fn of(f: &Fields<'_>) -> Self {
        Self {
            branch: f.branch.to_owned(),
            seq: f.seq,
            method: f.method.to_string(),
            call_id: f.call_id.to_owned(),
            from_tag: f.from_tag.map(str::to_owned),
            to_tag: f.to_tag.map(str::to_owned),
        }
    }

    fn new(
        branch: &str,
        seq: u32,
        method: &str,
        call_id: &str,
        from: &str,
        to: Option<&str>,
    ) -> Self {
        Self {
            branch: branch.into(),
            seq,
            method: method.into(),
            call_id: call_id.into(),
            from_tag: Some(from.into()),
            to_tag: to.map(Into::into),
        }
    }
}

/// Where the work hands what it read: a check outside the timed loop, `black_box` inside it.
type Sink<'a> = &'a mut dyn FnMut(Fields<'_>);

/// One of the implementations compared: its name in the report and its two kinds of work.
struct Implementation {
    name: &'static str,
    /// Parse, read [`Fields`] (handed to the sink), print.
    work: fn(&Bytes, Sink<'_>) -> Bytes,
    /// Parse only; returns something of the parse so it is not optimised away.
    parse: fn(&Bytes) -> usize,
}

const IMPLEMENTATIONS: [Implementation; 4] = [
    Implementation {
        name: "ours",
        work: ours::work,
        parse: ours::parse,
    },
    Implementation {
        name: "ours-full-views",
        work: ours::work_full_views,
        parse: ours::parse,
    },
    Implementation {
        name: "rsip",
        work: rsip_peer::work,
        parse: rsip_peer::parse,
    },
    Implementation {
        name: "ezk-sip-types",
        work: ezk::work,
        parse: ezk::parse,
    },
];

mod ours {
    use super::*;
    use sip_packet::Message;

    pub(super) fn parse(input: &Bytes) -> usize {
        let msg = Message::parse(input.clone()).expect("sip-packet parses the message");
        msg.headers().len()
    }

    /// The fields through the accessors a transaction layer uses: they check the parameters
    /// they read but build no Via or address.
    pub(super) fn work(input: &Bytes, sink: Sink<'_>) -> Bytes {
        let msg = Message::parse(input.clone()).expect("sip-packet parses the message");
        let h = msg.headers();
        let cseq = h.cseq().expect("CSeq");
        sink(Fields {
            branch: h.top_via_branch().expect("Via").expect("branch"),
            seq: cseq.seq(),
            method: cseq.method(),
            call_id: h.call_id().expect("Call-ID"),
            from_tag: h.from_tag().expect("From"),
            to_tag: h.to_tag().expect("To"),
        });
        msg.to_bytes()
    }

    /// The fields through the full typed views: a whole Via, From and To address built.
    pub(super) fn work_full_views(input: &Bytes, sink: Sink<'_>) -> Bytes {
        let msg = Message::parse(input.clone()).expect("sip-packet parses the message");
        let h = msg.headers();
        let via = h.top_via().expect("Via");
        let cseq = h.cseq().expect("CSeq");
        let call_id = h.call_id().expect("Call-ID");
        let from = h.from().expect("From");
        let to = h.to().expect("To");
        sink(Fields {
            branch: via.branch().expect("branch"),
            seq: cseq.seq(),
            method: cseq.method(),
            call_id,
            from_tag: from.tag(),
            to_tag: to.tag(),
        });
        msg.to_bytes()
    }
}

mod rsip_peer {
    use super::*;
    use rsip::prelude::*;
    use rsip::SipMessage;

    pub(super) fn parse(input: &Bytes) -> usize {
        let msg = SipMessage::try_from(input.clone()).expect("rsip parses the message");
        msg.headers().iter().count()
    }

    pub(super) fn work(input: &Bytes, sink: Sink<'_>) -> Bytes {
        let msg = SipMessage::try_from(input.clone()).expect("rsip parses the message");
        let via = msg.via_header().expect("Via").typed().expect("typed Via");
        let cseq = msg
            .cseq_header()
            .expect("CSeq")
            .typed()
            .expect("typed CSeq");
        let call_id = msg.call_id_header().expect("Call-ID");
        let from = msg
            .from_header()
            .expect("From")
            .typed()
            .expect("typed From");
        let to = msg.to_header().expect("To").typed().expect("typed To");
        sink(Fields {
            branch: via.branch().expect("branch").value(),
            seq: cseq.seq,
            method: &cseq.method,
            call_id: call_id.value(),
            from_tag: from.tag().map(|t| t.value()),
            to_tag: to.tag().map(|t| t.value()),
        });
        // rsip's own conversion to bytes (through its Display).
        Bytes::from(msg)
    }
}

mod ezk {
    //! ezk-sip-types has no message type of its own: ezk's sip-core assembles one from the
    //! crate's pull parser, message line and header line parsers (its
    //! `transport::parse::parse_complete_sip`), and prints it as the line, the headers and the
    //! body. That same assembly is done here with the crate's public API.

    use super::*;
    use ezk_sip_types::header::typed::{CSeq, CallID, ContentLength, FromTo, Via};
    use ezk_sip_types::msg::{Line, MessageLine, PullParser};
    use ezk_sip_types::parse::Parse as _;
    use ezk_sip_types::print::{AppendCtx as _, PrintCtx};
    use ezk_sip_types::{Headers, Name};

    /// A parsed message as sip-core holds it.
    pub(super) struct Parsed {
        line: MessageLine,
        headers: Headers,
        body: Bytes,
    }

    pub(super) fn parse_message(buffer: &Bytes) -> Option<Parsed> {
        let mut parser = PullParser::new(buffer, 0);
        let mut line = None;
        let mut headers = Headers::new();
        for item in &mut parser {
            let raw = std::str::from_utf8(item.ok()?).ok()?;
            if line.is_none() {
                line = Some(MessageLine::parse(buffer)(raw).ok()?.1);
            } else {
                let (_, header) = Line::parse(buffer, raw).ok()?;
                headers.insert(header.name, header.value);
            }
        }
        let head_end = parser.head_end();
        let body = match headers.get_named::<ContentLength>() {
            Ok(ContentLength(0)) => Bytes::new(),
            Ok(ContentLength(n)) if buffer.len() >= head_end + n => {
                buffer.slice(head_end..head_end + n)
            }
            Ok(_) => return None,
            Err(_) => buffer.slice(head_end..),
        };
        Some(Parsed {
            line: line?,
            headers,
            body,
        })
    }

    pub(super) fn parse(input: &Bytes) -> usize {
        let msg = parse_message(input).expect("ezk-sip-types parses the message");
        msg.body.len() + usize::from(msg.line.is_request())
    }

    pub(super) fn work(input: &Bytes, sink: Sink<'_>) -> Bytes {
        let msg = parse_message(input).expect("ezk-sip-types parses the message");
        let h = &msg.headers;
        let via = h.get_named::<Via>().expect("Via");
        let cseq = h.get_named::<CSeq>().expect("CSeq");
        let call_id = h.get_named::<CallID>().expect("Call-ID");
        let from = h.get::<FromTo>(Name::FROM).expect("From");
        let to = h.get::<FromTo>(Name::TO).expect("To");
        sink(Fields {
            branch: via.params.get_val("branch").expect("branch").as_str(),
            seq: cseq.cseq,
            method: &cseq.method,
            call_id: call_id.0.as_str(),
            from_tag: from.tag.as_ref().map(|t| t.as_str()),
            to_tag: to.tag.as_ref().map(|t| t.as_str()),
        });
        print(&msg)
    }

    fn print(msg: &Parsed) -> Bytes {
        let ctx = PrintCtx {
            method: msg.line.request_method(),
            uri: None,
        };
        let mut out = BytesMut::with_capacity(msg.headers.printed_len() + msg.body.len() + 128);
        // Writing into a BytesMut cannot fail.
        let _ = write!(out, "{}\r\n{}\r\n", msg.line.print_ctx(ctx), msg.headers);
        out.extend_from_slice(&msg.body);
        out.freeze()
    }
}

/// The messages benchmarked: group name, wire bytes, what the work must read.
fn messages() -> Vec<(&'static str, Bytes, Expected)> {
    let invite = Expected::new(
        "z9hG4bK776asdhds",
        314159,
        "INVITE",
        "a84b4c76e66710@pc33.atlanta.example.com",
        "1928301774",
        None,
    );
    let ok = Expected::new(
        "z9hG4bK2d4790.1",
        314159,
        "INVITE",
        "a84b4c76e66710@pc33.atlanta.example.com",
        "1928301774",
        Some("8321234356"),
    );
    let register = Expected::new(
        "z9hG4bKnashds7",
        1826,
        "REGISTER",
        "843817637684230@998sdasdh09",
        "456248",
        None,
    );
    vec![
        ("invite", Bytes::copy_from_slice(INVITE.as_bytes()), invite),
        ("200_ok", Bytes::copy_from_slice(OK_200.as_bytes()), ok),
        (
            "register",
            Bytes::copy_from_slice(REGISTER.as_bytes()),
            register,
        ),
    ]
}

/// Checks, outside any timed loop, that the declared Content-Length is the body's length and
/// that every implementation reads the expected values and prints something that parses again
/// to the same values.
fn check(name: &str, input: &Bytes, expected: &Expected) {
    let text = std::str::from_utf8(input).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header section");
    let declared = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .expect("Content-Length");
    assert_eq!(declared, body.len(), "{name}: Content-Length");

    for imp in &IMPLEMENTATIONS {
        let mut seen = None;
        let printed = (imp.work)(input, &mut |f| seen = Some(Expected::of(&f)));
        assert_eq!(seen.as_ref(), Some(expected), "{name}: {} read", imp.name);
        let mut again = None;
        (imp.work)(&printed, &mut |f| again = Some(Expected::of(&f)));
        assert_eq!(
            again.as_ref(),
            Some(expected),
            "{name}: {} reprinted",
            imp.name
        );
        (imp.parse)(input);
    }
}

fn parse_benches(c: &mut Criterion) {
    let messages = messages();
    for (name, input, expected) in &messages {
        check(name, input, expected);
    }

    for (name, input, _) in &messages {
        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Elements(1));
        for imp in &IMPLEMENTATIONS {
            group.bench_function(imp.name, |b| {
                b.iter(|| {
                    (imp.work)(black_box(input), &mut |f| {
                        black_box(f);
                    })
                })
            });
        }
        group.finish();
    }

    let mut group = c.benchmark_group("parse_only");
    group.throughput(Throughput::Elements(1));
    for (name, input, _) in &messages {
        // The two ways of reading share one parse.
        for imp in IMPLEMENTATIONS
            .iter()
            .filter(|i| i.name != "ours-full-views")
        {
            group.bench_with_input(BenchmarkId::new(imp.name, name), input, |b, input| {
                b.iter(|| (imp.parse)(black_box(input)))
            });
        }
    }
    group.finish();
}

/// Every group of this file, with criterion's options from the command line
/// (what `criterion_group!` would write, with a doc comment the workspace lints ask for).
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    parse_benches(&mut c);
}

criterion_main!(benches);
