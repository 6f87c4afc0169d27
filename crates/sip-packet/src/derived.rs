//! Building messages from others: a response to a request, the ACK for a non-2xx final
//! response, a CANCEL, and credentials for a challenge (Net::SIP::Request's create_response,
//! create_ack, create_cancel and authorize).

use bytestring::ByteString;

use crate::auth::AuthValue;
use crate::cseq::CSeq;
use crate::digest::{DigestChallenge, DigestClient, DigestError};
use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::message::{Request, Response};
use crate::method::Method;

/// Why a message could not be built from another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The message to build from lacks a header, or has one that does not parse.
    #[error("the message to build from is malformed: {0}")]
    Malformed(#[from] ParseError),
    /// An ACK or CANCEL was asked for a request it does not apply to.
    #[error("{what} cannot be built for a {method} request")]
    WrongMethod {
        /// What was asked for.
        what: &'static str,
        /// The request's method.
        method: String,
    },
    /// An ACK was asked for a response it does not apply to.
    #[error("the transaction ACKs only non-2xx final responses, not {0}")]
    WrongStatus(u16),
    /// A challenge could not be answered.
    #[error("cannot answer the challenge: {0}")]
    Digest(#[from] DigestError),
}

impl Response {
    /// A response to `request` (RFC 3261 §8.2.6): Via (all, in order), From, To, Call-ID and
    /// CSeq copied; Record-Route copied too for responses of 101 to 299 to dialog-creating
    /// requests (§12.1.1). `reason` `None` uses the RFC's phrase.
    pub fn from_request(request: &Request, status: u16, reason: Option<&str>) -> Self {
        let mut r = Self::new(status, reason);
        let dialog_creating = matches!(
            request.method(),
            Method::Invite | Method::Subscribe | Method::Refer
        );
        for h in request.headers() {
            let copy = match h.name() {
                HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq => true,
                HeaderName::RecordRoute => dialog_creating && (101..300).contains(&status),
                _ => false,
            };
            if copy {
                r.headers
                    .push(h.name().clone(), request.headers.share(h.value()));
            }
        }
        // The Vias are the request's, in order: so is the top one, if the request has it
        // parsed already (the transport layer reads it again to send the response).
        if let Some(via) = request.headers.kept_top_via.get() {
            let _ = r.headers.kept_top_via.set(via.clone());
        }
        r
    }

    /// Adds `tag` to the To header unless it has one already (§8.2.6.2). Returns whether it
    /// was added.
    pub fn set_to_tag(&mut self, tag: &str) -> Result<bool, ParseError> {
        let mut to = self.headers.to()?;
        if to.tag().is_some() {
            return Ok(false);
        }
        to.set_tag(tag);
        self.wire = None;
        self.headers.set(HeaderName::To, to.to_string());
        Ok(true)
    }
}

impl Request {
    /// The ACK a client transaction sends for a non-2xx final response to this INVITE
    /// (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From and CSeq number, To from the
    /// response, the top Via only, Route as in the INVITE. The ACK for a 2xx is a request of
    /// the dialog, built by the endpoint.
    pub fn create_ack(&self, response: &Response) -> Result<Self, BuildError> {
        if self.method != Method::Invite {
            return Err(BuildError::WrongMethod {
                what: "ACK",
                method: self.method.to_string(),
            });
        }
        if response.status() < 300 {
            return Err(BuildError::WrongStatus(response.status()));
        }
        let to = response
            .headers()
            .get_known(&HeaderName::To)
            .ok_or(ParseError::new(
                crate::error::ParseErrorKind::MissingHeader("To"),
            ))?;
        let to = response.headers().share(to);
        self.derived(Method::Ack, to)
    }

    /// A CANCEL for this request (RFC 3261 §9.1): same Request-URI, Call-ID, To, From and
    /// CSeq number, the top Via only (same branch), Route as in the request.
    pub fn create_cancel(&self) -> Result<Self, BuildError> {
        if matches!(self.method, Method::Ack | Method::Cancel) {
            return Err(BuildError::WrongMethod {
                what: "CANCEL",
                method: self.method.to_string(),
            });
        }
        let to = self
            .headers
            .get_known(&HeaderName::To)
            .ok_or(ParseError::new(
                crate::error::ParseErrorKind::MissingHeader("To"),
            ))?;
        let to = self.headers.share(to);
        self.derived(Method::Cancel, to)
    }

    fn derived(&self, method: Method, to: ByteString) -> Result<Self, BuildError> {
        let cseq = self.headers.cseq()?;
        let via = self
            .headers
            .get_known(&HeaderName::Via)
            .ok_or(ParseError::new(
                crate::error::ParseErrorKind::MissingHeader("Via"),
            ))?;
        let via = self.headers.share(via);
        let mut r = Self::new(method.clone(), self.uri.clone());
        r.headers.add(HeaderName::Via, via);
        r.headers.add(HeaderName::MaxForwards, "70");
        for route in self.headers.get_all(HeaderName::Route) {
            r.headers.add(HeaderName::Route, self.headers.share(route));
        }
        r.headers
            .add(HeaderName::From, self.headers.from()?.to_string());
        r.headers.add(HeaderName::To, to);
        r.headers.add(
            HeaderName::CallId,
            self.headers.share(self.headers.call_id()?),
        );
        r.headers
            .add(HeaderName::CSeq, CSeq::new(cseq.seq(), method).to_string());
        Ok(r)
    }

    /// Answers the Digest challenges of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate)
    /// `response` by adding Authorization or Proxy-Authorization headers, replacing an earlier
    /// answer for the same realm (Net::SIP::Request::authorize).
    ///
    /// `credentials` is asked for (user, password) per realm; a realm it has none for is
    /// skipped. Returns how many challenges were answered. The caller increments the CSeq
    /// before sending the request again (RFC 3261 §22.2).
    pub fn authorize(
        &mut self,
        response: &Response,
        mut credentials: impl FnMut(&str) -> Option<(String, String)>,
        cnonce: &str,
        nc: u32,
    ) -> Result<usize, BuildError> {
        let (challenges, answer_name): (Vec<_>, _) = match response.status() {
            401 => (
                response.headers().www_authenticate().collect(),
                HeaderName::Authorization,
            ),
            407 => (
                response.headers().proxy_authenticate().collect(),
                HeaderName::ProxyAuthorization,
            ),
            other => return Err(BuildError::WrongStatus(other)),
        };
        self.wire = None;
        let uri = self.uri.to_string();
        let mut answered = 0;
        for challenge in challenges {
            let challenge = challenge?;
            if !challenge.is_digest() {
                continue;
            }
            let challenge = DigestChallenge::from_auth_value(&challenge)?;
            let Some((user, password)) = credentials(&challenge.realm) else {
                continue;
            };
            let answer = DigestClient {
                username: &user,
                password: &password,
                method: self.method.as_str(),
                uri: &uri,
                body: &self.body,
                cnonce,
                nc,
            }
            .answer(&challenge)?;
            let realm = challenge.realm.clone();
            self.headers.retain(|h| {
                h.name() != &answer_name
                    || AuthValue::parse(h.value())
                        .ok()
                        .and_then(|a| a.get("realm").map(|r| r != realm.as_str()))
                        .unwrap_or(true)
            });
            self.headers.add(answer_name.clone(), answer.to_string());
            answered += 1;
        }
        Ok(answered)
    }
}

#[cfg(test)]
mod tests;

/// A response to a request that could not be parsed, built from its raw bytes: the Via,
/// From, To, Call-ID and CSeq lines are copied as they are (RFC 3261 §8.2: a UAS answers a
/// malformed request with 400, a wrong version with 505). `None` when the bytes are not a
/// request or lack any of those headers, so that nothing can be answered: the caller drops
/// them.
///
/// ```
/// use sip_packet::salvage_response;
/// let raw = b"OPTIONS sip:a@b SIP/7.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:c@d>;tag=1\r\n\
///             To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
/// let r = salvage_response(raw, 505, "Version Not Supported").unwrap();
/// assert_eq!(r.status(), 505);
/// assert_eq!(r.headers().call_id().unwrap(), "x");
/// ```
pub fn salvage_response(raw: &[u8], status: u16, reason: &str) -> Option<Response> {
    let head_end = crate::parse::find_head_end(raw).map_or(raw.len(), |(end, _)| end);
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    let mut lines = head.lines();
    let start = lines.next()?;
    if start.len() >= 4 && start[..4].eq_ignore_ascii_case("SIP/") {
        return None; // a response is never answered
    }
    let mut r = Response::new(status, Some(reason));
    let mut seen = [false; 5];
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = HeaderName::parse(name.trim());
        let slot = match name {
            HeaderName::Via => 0,
            HeaderName::From => 1,
            HeaderName::To => 2,
            HeaderName::CallId => 3,
            HeaderName::CSeq => 4,
            _ => continue,
        };
        let value = crate::text::trim(value);
        if value.is_empty() || value.bytes().any(|b| b < b' ' && b != b'\t') {
            return None;
        }
        seen[slot] = true;
        r.headers.push(name, ByteString::from(value));
    }
    seen.iter().all(|s| *s).then_some(r)
}
