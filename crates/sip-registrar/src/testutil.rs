//! Requests for the unit tests, written as a client would put them on the wire.

use sip_packet::{Message, Request};

/// A REGISTER being written: defaults are bob@example.com, Call-ID `c1`, CSeq 1, no Contact.
pub(crate) struct Reg {
    to: String,
    call_id: String,
    cseq: u32,
    contacts: Vec<String>,
    extra: Vec<String>,
}

pub(crate) fn reg() -> Reg {
    Reg {
        to: "<sip:bob@example.com>".into(),
        call_id: "c1".into(),
        cseq: 1,
        contacts: Vec::new(),
        extra: Vec::new(),
    }
}

impl Reg {
    pub(crate) fn to(mut self, to: &str) -> Self {
        self.to = to.into();
        self
    }

    pub(crate) fn call_id(mut self, id: &str) -> Self {
        self.call_id = id.into();
        self
    }

    pub(crate) fn cseq(mut self, n: u32) -> Self {
        self.cseq = n;
        self
    }

    /// Adds a Contact header with this value.
    pub(crate) fn contact(mut self, c: &str) -> Self {
        self.contacts.push(c.into());
        self
    }

    pub(crate) fn expires(self, e: &str) -> Self {
        self.header(&format!("Expires: {e}"))
    }

    pub(crate) fn header(mut self, line: &str) -> Self {
        self.extra.push(line.into());
        self
    }

    pub(crate) fn build(&self) -> Request {
        let mut raw = format!(
            "REGISTER sip:example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK{cseq}x\r\n\
             Max-Forwards: 70\r\nTo: {to}\r\nFrom: {to};tag=f1\r\n\
             Call-ID: {call}\r\nCSeq: {cseq} REGISTER\r\n",
            cseq = self.cseq,
            to = self.to,
            call = self.call_id,
        );
        for c in &self.contacts {
            raw.push_str(&format!("Contact: {c}\r\n"));
        }
        for l in &self.extra {
            raw.push_str(l);
            raw.push_str("\r\n");
        }
        raw.push_str("Content-Length: 0\r\n\r\n");
        request(&raw)
    }
}

/// Parses a request.
pub(crate) fn request(raw: &str) -> Request {
    match Message::parse(raw.to_owned().into()) {
        Ok(Message::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

/// Any other request to `uri`.
pub(crate) fn other(method: &str, uri: &str) -> Request {
    request(&format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKo1\r\n\
         Max-Forwards: 70\r\nTo: <{uri}>\r\nFrom: <sip:carol@example.net>;tag=c9\r\n\
         Call-ID: o1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    ))
}
