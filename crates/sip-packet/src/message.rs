//! Requests, responses, and a message that is one or the other; printing them.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::headers::Headers;
use crate::method::Method;
use crate::parse::{self, ParseLimits};
use crate::text;
use crate::uri::Uri;

/// A SIP request: method, Request-URI, headers and body.
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: Headers,
    pub(crate) body: Bytes,
    /// See `Response::wire`.
    pub(crate) wire: Option<Bytes>,
}

/// A SIP response: status code, reason phrase, headers and body.
#[derive(Clone)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) reason: ByteString,
    pub(crate) headers: Headers,
    pub(crate) body: Bytes,
    /// The message as it was parsed, kept while it is unchanged and only when printing it
    /// would give back exactly these bytes (the parser checks that): `to_bytes` then hands
    /// them out instead of printing, which is most of what a proxy or a transaction layer
    /// forwarding or retransmitting a message costs. Every `&mut self` method drops it.
    pub(crate) wire: Option<Bytes>,
}

// The cached wire bytes are not part of the value: Debug and equality are what they were
// before the cache, field by field.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

impl PartialEq for Request {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method
            && self.uri == other.uri
            && self.headers == other.headers
            && self.body == other.body
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

impl PartialEq for Response {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.reason == other.reason
            && self.headers == other.headers
            && self.body == other.body
    }
}

impl Eq for Response {}

/// A parsed SIP message: a request or a response.
///
/// ```
/// use sip_packet::Message;
/// let raw = "OPTIONS sip:bob@example.com SIP/2.0\r\n\
///            Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
///            From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n\
///            Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
/// let msg = Message::parse(raw.into()).unwrap();
/// let req = msg.as_request().unwrap();
/// assert_eq!(req.method().as_str(), "OPTIONS");
/// assert_eq!(msg.headers().top_via().unwrap().branch(), Some("z9hG4bK1"));
/// assert_eq!(msg.headers().from().unwrap().tag(), Some("a"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// Parses one message from a datagram with the default [`ParseLimits`].
    ///
    /// Bytes after the body that Content-Length declares are ignored (RFC 3261 §18.3); without
    /// Content-Length the rest of the datagram is the body.
    pub fn parse(buf: Bytes) -> Result<Self, ParseError> {
        parse::parse_message(buf, &ParseLimits::default())
    }

    /// Parses one message with the given limits.
    pub fn parse_with(buf: Bytes, limits: &ParseLimits) -> Result<Self, ParseError> {
        parse::parse_message(buf, limits)
    }

    /// Parses, then checks every header this crate knows against its grammar
    /// ([`Message::validate`]): what a server does before acting on a request.
    pub fn parse_strict(buf: Bytes) -> Result<Self, ParseError> {
        let m = Self::parse(buf)?;
        m.validate()?;
        Ok(m)
    }

    /// Checks every header this crate knows against its grammar, as a server must before it
    /// acts on a request (RFC 3261 §16.3, RFC 4475): Via, From, To, Contact, Route,
    /// Record-Route, Max-Forwards, Expires, Content-Type, authentication headers, and for a
    /// request the Request-URI.
    pub fn validate(&self) -> Result<(), ParseError> {
        self.headers().validate()
    }

    /// The request, when this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Self::Request(r) => Some(r),
            Self::Response(_) => None,
        }
    }

    /// The response, when this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Self::Request(_) => None,
            Self::Response(r) => Some(r),
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self, Self::Request(_))
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        match self {
            Self::Request(r) => &r.headers,
            Self::Response(r) => &r.headers,
        }
    }

    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Self::Request(r) => r.headers_mut(),
            Self::Response(r) => r.headers_mut(),
        }
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        match self {
            Self::Request(r) => &r.body,
            Self::Response(r) => &r.body,
        }
    }

    /// The message as it goes on the wire: names as they were written (compact stays
    /// compact), one value per line, a Content-Length that matches the body.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Self::Request(r) => r.to_bytes(),
            Self::Response(r) => r.to_bytes(),
        }
    }

    /// The canonical form: long header names, one value per line, a correct Content-Length.
    pub fn to_canonical(&self) -> Bytes {
        match self {
            Self::Request(r) => r.to_canonical(),
            Self::Response(r) => r.to_canonical(),
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Self::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Self::Response(r)
    }
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: Uri) -> Self {
        Self {
            method,
            uri,
            headers: Headers::new(),
            body: Bytes::new(),
            wire: None,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The Request-URI.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Replaces the Request-URI (what a proxy does when it retargets).
    pub fn set_uri(&mut self, uri: Uri) {
        self.wire = None;
        self.uri = uri;
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut Headers {
        self.wire = None;
        &mut self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Sets the body and its Content-Type (removed when `None`). Content-Length is written
    /// when the message is printed.
    pub fn set_body(&mut self, content_type: Option<&str>, body: impl Into<Bytes>) {
        self.wire = None;
        set_body(&mut self.headers, &mut self.body, content_type, body.into());
    }

    /// See [`Message::to_bytes`].
    pub fn to_bytes(&self) -> Bytes {
        unchanged_or(self.wire.as_ref(), || self.print(false))
    }

    /// See [`Message::to_canonical`].
    pub fn to_canonical(&self) -> Bytes {
        self.print(true)
    }

    fn print(&self, canonical: bool) -> Bytes {
        let mut out = BytesMut::with_capacity(estimate(&self.headers, &self.body));
        out.put_slice(self.method.as_str().as_bytes());
        out.put_u8(b' ');
        write_display(&mut out, &self.uri);
        out.put_slice(b" SIP/2.0\r\n");
        write_head_and_body(&mut out, &self.headers, &self.body, canonical);
        out.freeze()
    }
}

impl Response {
    /// A response with no headers and no body; `reason` `None` uses the RFC's phrase.
    pub fn new(status: u16, reason: Option<&str>) -> Self {
        Self {
            status,
            reason: ByteString::from(reason.unwrap_or_else(|| reason_phrase(status))),
            headers: Headers::new(),
            body: Bytes::new(),
            wire: None,
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Whether this is a provisional (1xx) response.
    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    /// Whether this is a 2xx response.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut Headers {
        self.wire = None;
        &mut self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Sets the body and its Content-Type (removed when `None`).
    pub fn set_body(&mut self, content_type: Option<&str>, body: impl Into<Bytes>) {
        self.wire = None;
        set_body(&mut self.headers, &mut self.body, content_type, body.into());
    }

    /// See [`Message::to_bytes`].
    pub fn to_bytes(&self) -> Bytes {
        unchanged_or(self.wire.as_ref(), || self.print(false))
    }

    /// See [`Message::to_canonical`].
    pub fn to_canonical(&self) -> Bytes {
        self.print(true)
    }

    fn print(&self, canonical: bool) -> Bytes {
        let mut out = BytesMut::with_capacity(estimate(&self.headers, &self.body));
        out.put_slice(b"SIP/2.0 ");
        out.put_slice(text::DecimalText::new(self.status.into()).as_bytes());
        out.put_u8(b' ');
        out.put_slice(self.reason.as_bytes());
        out.put_slice(b"\r\n");
        write_head_and_body(&mut out, &self.headers, &self.body, canonical);
        out.freeze()
    }
}

/// The wire bytes kept from parsing, or a fresh print. Debug builds (every test) check that
/// the two are the same bytes.
fn unchanged_or(wire: Option<&Bytes>, print: impl FnOnce() -> Bytes) -> Bytes {
    match wire {
        Some(w) => {
            debug_assert_eq!(
                w,
                &print(),
                "cached wire bytes differ from the printed message"
            );
            w.clone()
        }
        None => print(),
    }
}

fn set_body(headers: &mut Headers, slot: &mut Bytes, content_type: Option<&str>, body: Bytes) {
    match content_type {
        Some(ct) => headers.set(HeaderName::ContentType, ct),
        None => {
            headers.remove(HeaderName::ContentType);
        }
    }
    *slot = body;
}

fn estimate(headers: &Headers, body: &Bytes) -> usize {
    128 + body.len() + headers.iter().map(|h| h.value().len() + 24).sum::<usize>()
}

fn write_display(out: &mut BytesMut, v: &impl fmt::Display) {
    use std::fmt::Write as _;
    struct W<'a>(&'a mut BytesMut);
    impl fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0.put_slice(s.as_bytes());
            Ok(())
        }
    }
    // Writing into a BytesMut cannot fail.
    let _ = write!(W(out), "{v}");
}

/// Writes the headers and the body. Content-Length is written with the body's real length,
/// where the message had it (or last); a second Content-Length is dropped.
fn write_head_and_body(out: &mut BytesMut, headers: &Headers, body: &Bytes, canonical: bool) {
    let mut length_written = false;
    for h in headers {
        if h.name() == &HeaderName::ContentLength {
            if !length_written {
                write_content_length(out, body.len(), canonical || !h.is_compact());
                length_written = true;
            }
            continue;
        }
        if canonical {
            out.put_slice(h.name().as_str().as_bytes());
        } else {
            out.put_slice(h.wire_name().as_bytes());
        }
        out.put_slice(b": ");
        out.put_slice(h.value().as_bytes());
        out.put_slice(b"\r\n");
    }
    if !length_written {
        write_content_length(out, body.len(), true);
    }
    out.put_slice(b"\r\n");
    out.put_slice(body);
}

fn write_content_length(out: &mut BytesMut, len: usize, long_name: bool) {
    out.put_slice(if long_name {
        b"Content-Length: " as &[u8]
    } else {
        b"l: "
    });
    out.put_slice(text::DecimalText::new(len as u64).as_bytes());
    out.put_slice(b"\r\n");
}

/// The canonical text, with the body shown lossily where it is not UTF-8.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_canonical()))
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_canonical()))
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_canonical()))
    }
}

/// The reason phrase RFC 3261 §21 (and later RFCs) give a status code; "Unknown" else.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        199 => "Early Dialog Terminated",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        412 => "Conditional Request Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds\r\n\
        To: Bob <sip:bob@biloxi.example.com>\r\n\
        From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
        Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
        CSeq: 314159 INVITE\r\n\
        Content-Length: 4\r\n\r\nbody";

    /// The same headers held on their own (none a span of a parsed head), so that printing
    /// writes every line piece by piece.
    fn rebuilt(r: &Request) -> Request {
        let mut copy = Request::new(r.method().clone(), r.uri().clone());
        for h in r.headers() {
            let value = ByteString::from(h.value());
            copy.headers_mut()
                .push_owned(h.name().clone(), value, h.is_compact(), 0);
        }
        copy.body = r.body().clone();
        copy
    }

    #[test]
    fn a_changed_message_prints_as_if_written_line_by_line() {
        // Lines that print as they came (copied whole) among lines that do not: compact
        // names, a name in odd case, odd spacing, a list split, a folded value.
        let text = "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n\
            v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n\
            Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n\
            Max-Forwards: 70\r\n\
            to:   <sip:bob@biloxi.example.com>  \r\n\
            From: <sip:alice@atlanta.example.com>;tag=1\r\n\
            Call-ID: c1@example.com\r\n\
            CSeq: 1 OPTIONS\r\n\
            Subject: one\r\n two\r\n\
            X-Odd:value\r\n\
            f-custom: kept\r\n\
            l: 4\r\n\r\nbody";
        let Message::Request(mut r) = Message::parse(Bytes::from(text)).unwrap() else {
            panic!("a request")
        };
        r.headers_mut()
            .insert_at_top("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp");
        r.headers_mut().set("Max-Forwards", "69");
        r.headers_mut()
            .add("Record-Route", "<sip:proxy.example.com;lr>");
        let printed = r.to_bytes();
        assert_eq!(printed, rebuilt(&r).to_bytes());
        assert_eq!(r.to_canonical(), rebuilt(&r).to_canonical());
        let again = Message::parse(printed.clone()).unwrap();
        assert_eq!(again.to_bytes(), printed);
        let printed = String::from_utf8(printed.to_vec()).unwrap();
        assert!(printed.contains("\r\nMax-Forwards: 69\r\nTo: <sip:bob@biloxi.example.com>\r\n"));
        assert!(printed.contains("\r\nv: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"));
        assert!(printed.contains("\r\nX-Odd: value\r\n"));
        assert!(
            printed.ends_with("\r\nl: 4\r\nRecord-Route: <sip:proxy.example.com;lr>\r\n\r\nbody")
        );
    }

    /// Whether `to_bytes` handed out the parsed buffer rather than printing.
    fn reused(m: &Message, wire: &Bytes) -> bool {
        m.to_bytes().as_ptr() == wire.as_ptr()
    }

    #[test]
    fn unchanged_message_prints_as_its_own_bytes() {
        let wire = Bytes::from_static(INVITE.as_bytes());
        let mut m = Message::parse(wire.clone()).unwrap();
        assert!(reused(&m, &wire));
        assert_eq!(m.to_bytes(), wire);
        let _ = m.headers_mut();
        assert!(!reused(&m, &wire));
        assert_eq!(m.to_bytes(), wire, "the same bytes, printed");

        // Trailing bytes after the body are not part of the message.
        let padded = Bytes::from(format!("{INVITE}junk"));
        let m = Message::parse(padded.clone()).unwrap();
        assert_eq!(m.to_bytes(), wire);
    }

    #[test]
    fn messages_that_print_differently_are_printed() {
        for (from, to) in [
            ("Content-Length: 4\r\n", ""),
            ("Content-Length: 4", "Content-Length: 04"),
            ("Call-ID:", "I:"),
            ("Call-ID: ", "Call-ID:  "),
            ("Call-ID:", "call-id:"),
            ("CSeq: 314159 INVITE\r\n", "CSeq: 314159 INVITE\r\n\r\n"),
            ("SIP/2.0\r\n", "sip/2.0\r\n"),
            ("sip:bob", "SIP:bob"),
            ("biloxi.example.com SIP", "biloxi.example.com; SIP"),
            ("biloxi.example.com SIP", "biloxi.example.com:05060 SIP"),
            ("\r\n", "\n"),
        ] {
            let text = INVITE.replacen(from, to, 1);
            let wire = Bytes::from(text.clone());
            let m = Message::parse(wire.clone()).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(!reused(&m, &wire), "{text}");
        }
        let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>;tag=1\r\n\
                  From: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let wire = Bytes::from_static(ok.as_bytes());
        let mut m = Message::parse(wire.clone()).unwrap();
        assert!(reused(&m, &wire));
        let Message::Response(r) = &mut m else {
            unreachable!()
        };
        assert!(!r.set_to_tag("x").unwrap(), "the To has a tag");
        assert!(reused(&m, &wire), "nothing changed");
        let wire = Bytes::from(ok.replacen(";tag=1", "", 1));
        let mut m = Message::parse(wire.clone()).unwrap();
        assert!(reused(&m, &wire));
        let Message::Response(r) = &mut m else {
            unreachable!()
        };
        assert!(r.set_to_tag("x").unwrap());
        assert!(!reused(&m, &wire));
        assert!(m.to_bytes().windows(6).any(|w| w == b";tag=x"));
    }
}
