//! A dialog (RFC 3261 §12): the state two user agents share for a call, and the requests
//! built inside it. A plain type: no IO, no clock.

use sip_packet::{CSeq, HeaderName, Method, NameAddr, Request, Response, Uri};

use crate::error::DialogError;
use crate::route_set::request_target;

/// Whether a dialog is early (made by a provisional response) or confirmed (by a 2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogState {
    /// Made by a 1xx with a To tag; a 2xx or a final error ends it (§12.1).
    Early,
    /// Made or confirmed by a 2xx.
    Confirmed,
    /// Ended by a BYE, a non-2xx final response, a 481 or 408 (§12.2.1.2).
    Terminated,
}

/// Which side of the dialog we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We sent the request that made the dialog.
    Uac,
    /// We received it.
    Uas,
}

/// One dialog: Call-ID, local and remote tags, sequence numbers, route set, remote target.
///
/// ```
/// use sip_endpoint::{Dialog, DialogState};
/// use sip_packet::{Message, Method, Response};
/// let raw = "INVITE sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
///            From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n\
///            Call-ID: c1\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\n\r\n";
/// let Message::Request(invite) = Message::parse(raw.into()).unwrap() else { unreachable!() };
/// let mut ok = Response::from_request(&invite, 200, None);
/// ok.set_to_tag("b1").unwrap();
/// ok.headers_mut().add("Contact", "<sip:bob@192.0.2.4:5070>");
/// let mut dialog = Dialog::uac(&invite, &ok).unwrap();
/// assert_eq!(dialog.state(), DialogState::Confirmed);
/// let bye = dialog.create_request(Method::Bye);
/// assert_eq!(bye.uri().to_string(), "sip:bob@192.0.2.4:5070");
/// assert_eq!(bye.headers().cseq().unwrap().seq(), 8);
/// assert_eq!(bye.headers().to().unwrap().tag(), Some("b1"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    call_id: String,
    local_tag: String,
    remote_tag: String,
    local_uri: NameAddr,
    remote_uri: NameAddr,
    local_cseq: Option<u32>,
    remote_cseq: Option<u32>,
    route_set: Vec<NameAddr>,
    remote_target: Uri,
    secure: bool,
    state: DialogState,
    role: Role,
}

fn without_tag(mut a: NameAddr) -> NameAddr {
    a.params_mut().remove("tag");
    a
}

/// The URI of the first Contact, if there is a usable one.
pub(crate) fn first_contact(headers: &sip_packet::Headers) -> Option<Uri> {
    headers
        .contacts()
        .filter_map(Result::ok)
        .find_map(|c| c.address().map(|a| a.uri().clone()))
}

impl Dialog {
    /// The UAC's dialog made by `response` (1xx with a To tag: early; 2xx: confirmed) to
    /// `request` (§12.1.2): the route set is the response's Record-Route reversed, the remote
    /// target its Contact. A response without a Contact keeps the Request-URI as the target
    /// (lenient with peers that omit it).
    pub fn uac(request: &Request, response: &Response) -> Result<Self, DialogError> {
        let rh = request.headers();
        let h = response.headers();
        let to = h.to()?;
        let remote_tag = to.tag().ok_or(DialogError::MissingTag("To"))?.to_owned();
        let from = rh.from()?;
        let local_tag = from
            .tag()
            .ok_or(DialogError::MissingTag("From"))?
            .to_owned();
        let mut route_set = h.record_routes().collect::<Result<Vec<_>, _>>()?;
        route_set.reverse();
        let remote_target = first_contact(h).unwrap_or_else(|| request.uri().clone());
        Ok(Self {
            call_id: rh.call_id()?.to_string(),
            local_tag,
            remote_tag,
            local_uri: without_tag(from),
            remote_uri: without_tag(rh.to()?),
            local_cseq: Some(rh.cseq()?.seq()),
            remote_cseq: None,
            route_set,
            remote_target,
            secure: is_sips(request.uri()),
            state: if response.status() < 200 {
                DialogState::Early
            } else {
                DialogState::Confirmed
            },
            role: Role::Uac,
        })
    }

    /// The UAS's dialog for `request`, answered with our `local_tag` (§12.1.1): the route set
    /// is the request's Record-Route in order, the remote target its Contact (else its From).
    /// A request without a From tag (RFC 2543) gets an empty remote tag.
    pub fn uas(
        request: &Request,
        local_tag: &str,
        state: DialogState,
    ) -> Result<Self, DialogError> {
        let h = request.headers();
        let from = h.from()?;
        let remote_tag = from.tag().unwrap_or_default().to_owned();
        let route_set = h.record_routes().collect::<Result<Vec<_>, _>>()?;
        let remote_target = first_contact(h).unwrap_or_else(|| from.uri().clone());
        Ok(Self {
            call_id: h.call_id()?.to_string(),
            local_tag: local_tag.to_owned(),
            remote_tag,
            local_uri: without_tag(h.to()?),
            remote_uri: without_tag(from),
            local_cseq: None,
            remote_cseq: Some(h.cseq()?.seq()),
            route_set,
            remote_target,
            secure: is_sips(request.uri()),
            state,
            role: Role::Uas,
        })
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Our tag.
    pub fn local_tag(&self) -> &str {
        &self.local_tag
    }

    /// The peer's tag (empty for an RFC 2543 peer that sent none).
    pub fn remote_tag(&self) -> &str {
        &self.remote_tag
    }

    /// Our address (From of our requests), without tag.
    pub fn local_uri(&self) -> &NameAddr {
        &self.local_uri
    }

    /// The peer's address (To of our requests), without tag.
    pub fn remote_uri(&self) -> &NameAddr {
        &self.remote_uri
    }

    /// The CSeq of our last request in the dialog; `None` before the first.
    pub fn local_cseq(&self) -> Option<u32> {
        self.local_cseq
    }

    /// The CSeq of the peer's last request in the dialog; `None` before the first.
    pub fn remote_cseq(&self) -> Option<u32> {
        self.remote_cseq
    }

    /// The proxies our requests go through, in order.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    /// Where the peer wants requests: its last Contact.
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// Whether the dialog was made over `sips:` (§12.1.1).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Early, confirmed or terminated.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Whether we made the dialog (UAC) or answered it (UAS).
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether a message with this Call-ID, our tag and the peer's tag belongs here.
    pub fn is_match(&self, call_id: &str, local_tag: &str, remote_tag: &str) -> bool {
        self.call_id == call_id && self.local_tag == local_tag && self.remote_tag == remote_tag
    }

    /// A 2xx confirms an early dialog.
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// The dialog ends.
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// A target refresh (re-INVITE, UPDATE or their 2xx) moves the remote target to its
    /// Contact (§12.2.1.2, §12.2.2); without a Contact nothing changes.
    pub fn handle_target_refresh(&mut self, headers: &sip_packet::Headers) {
        if let Some(uri) = first_contact(headers) {
            self.remote_target = uri;
        }
    }

    /// Checks the CSeq of a request from the peer and remembers it (§12.2.2): one not above
    /// the last is out of order, answered 500 by the caller. ACK and CANCEL carry the CSeq of
    /// the request they belong to and are not checked.
    pub fn handle_remote_cseq(&mut self, cseq: u32) -> Result<(), DialogError> {
        match self.remote_cseq {
            Some(last) if cseq <= last => Err(DialogError::CSeqOutOfOrder { got: cseq, last }),
            _ => {
                self.remote_cseq = Some(cseq);
                Ok(())
            }
        }
    }

    /// The next CSeq for a request of ours; starts at 1 when the peer made the dialog (we had
    /// none yet, §12.2.1.1).
    pub fn next_cseq(&mut self) -> u32 {
        let n = self.local_cseq.map_or(1, |n| n.wrapping_add(1));
        self.local_cseq = Some(n);
        n
    }

    /// A new request inside the dialog (§12.2.1.1): Request-URI and Route from the route set
    /// and remote target, From and To with the tags, the Call-ID, the next CSeq. Contact,
    /// Via and a body are the caller's to add.
    pub fn create_request(&mut self, method: Method) -> Request {
        let seq = self.next_cseq();
        self.build(method, seq)
    }

    /// The ACK for a 2xx to our INVITE with CSeq `invite_cseq` (§13.2.2.4): a request of the
    /// dialog with the INVITE's CSeq number.
    pub fn create_ack(&self, invite_cseq: u32) -> Request {
        self.build(Method::Ack, invite_cseq)
    }

    fn build(&self, method: Method, seq: u32) -> Request {
        let (uri, routes) = request_target(&self.route_set, &self.remote_target);
        let mut r = Request::new(method.clone(), uri);
        let h = r.headers_mut();
        for route in routes {
            h.add(HeaderName::Route, route.to_string());
        }
        h.add(HeaderName::MaxForwards, "70");
        h.add(
            HeaderName::From,
            self.local_uri.clone().with_tag(&self.local_tag).to_string(),
        );
        let mut to = self.remote_uri.clone();
        if !self.remote_tag.is_empty() {
            to.set_tag(&self.remote_tag);
        }
        h.add(HeaderName::To, to.to_string());
        h.add(HeaderName::CallId, self.call_id.clone());
        h.add(HeaderName::CSeq, CSeq::new(seq, method).to_string());
        r
    }
}

fn is_sips(uri: &Uri) -> bool {
    uri.as_sip().is_some_and(|s| s.is_secure())
}

#[cfg(test)]
mod tests;
