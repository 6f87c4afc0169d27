//! Typed views of the headers, parsed on access, and the check of every known header.

use bytestring::ByteString;

use crate::auth::AuthValue;
use crate::cseq::CSeq;
use crate::error::{ParseError, ParseErrorKind};
use crate::header_name::HeaderName;
use crate::headers::{Header, HeaderIter, Headers};
use crate::name_addr::{Contact, NameAddr};
use crate::text;
use crate::via::Via;

fn at(h: Header<'_>, e: ParseError) -> ParseError {
    let e = e.in_header(h.name().as_str());
    match h.line() {
        Some(l) => e.at_line(l),
        None => e,
    }
}

fn one<'a>(
    headers: &'a Headers,
    name: HeaderName,
    label: &'static str,
) -> Result<Header<'a>, ParseError> {
    // (`let else`, not `ok_or_else`: keeps the error path out of line.)
    let Some(h) = headers.first(&name) else {
        return Err(ParseError::new(ParseErrorKind::MissingHeader(label)));
    };
    Ok(h)
}

/// The `tag` parameter of a From or To header.
fn tag_of(h: Header<'_>) -> Result<Option<&str>, ParseError> {
    let params = NameAddr::params_text(h.value()).map_err(|e| at(h, e))?;
    let found = crate::params::find_checked(params, "tag").map_err(|e| at(h, e))?;
    Ok(found.flatten())
}

fn number(h: Header<'_>, what: &'static str, max: u64) -> Result<u32, ParseError> {
    text::parse_decimal(h.value())
        .filter(|n| *n <= max)
        .map(|n| n as u32)
        .ok_or_else(|| at(h, ParseError::number(what, h.value())))
}

/// The values of one header, each parsed when reached: skipping (`nth`, `skip`) parses
/// nothing, so that reading the second Via does not parse the first again.
struct Typed<'a, T> {
    headers: &'a Headers,
    inner: HeaderIter<'a>,
    name: HeaderName,
    parse: fn(&ByteString, &str) -> Result<T, ParseError>,
}

impl<T> Iterator for Typed<'_, T> {
    type Item = Result<T, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let h = self.inner.next_named(&self.name)?;
        Some((self.parse)(self.headers.owner_of(h.value()), h.value()).map_err(|e| at(h, e)))
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        for _ in 0..n {
            self.inner.next_named(&self.name)?;
        }
        self.next()
    }
}

/// Typed accessors. Each parses the header on the call; the values share the message's buffer.
impl Headers {
    /// The Call-ID.
    pub fn call_id(&self) -> Result<&str, ParseError> {
        one(self, HeaderName::CallId, "Call-ID").map(|h| h.value())
    }

    /// The CSeq.
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        if let Some(c) = &self.cseq {
            return Ok(c.clone());
        }
        let h = one(self, HeaderName::CSeq, "CSeq")?;
        CSeq::parse_shared(self.owner_of(h.value()), h.value()).map_err(|e| at(h, e))
    }

    /// The From address.
    pub fn from(&self) -> Result<NameAddr, ParseError> {
        let h = one(self, HeaderName::From, "From")?;
        NameAddr::parse_shared(self.owner_of(h.value()), h.value()).map_err(|e| at(h, e))
    }

    /// The To address.
    pub fn to(&self) -> Result<NameAddr, ParseError> {
        let h = one(self, HeaderName::To, "To")?;
        NameAddr::parse_shared(self.owner_of(h.value()), h.value()).map_err(|e| at(h, e))
    }

    /// The From tag, read without building the address: what `from()?.tag()` gives for a
    /// From whose parameters are well-formed (the URI itself is not checked). For matching
    /// transactions and dialogs, where the tag is all that is needed.
    pub fn from_tag(&self) -> Result<Option<&str>, ParseError> {
        let h = one(self, HeaderName::From, "From")?;
        tag_of(h)
    }

    /// The To tag, read the way [`Headers::from_tag`] reads the From tag.
    pub fn to_tag(&self) -> Result<Option<&str>, ParseError> {
        let h = one(self, HeaderName::To, "To")?;
        tag_of(h)
    }

    /// The branch of the topmost Via, read without building the Via: what
    /// `top_via()?.branch()` gives for a Via whose parameters are well-formed (the sent-by is
    /// not checked).
    pub fn top_via_branch(&self) -> Result<Option<&str>, ParseError> {
        let h = one(self, HeaderName::Via, "Via")?;
        let v = text::trim(h.value());
        // The sent-by holds no `;` (an IPv6 reference is in brackets, without one).
        let Some(i) = text::find_byte(v, b';') else {
            return Ok(None);
        };
        let found = crate::params::find_checked(&v[i + 1..], "branch").map_err(|e| at(h, e))?;
        Ok(found.flatten())
    }

    /// The topmost Via.
    ///
    /// Parsed on each call, unless [`Headers::keep_top_via`] kept it; never allocates.
    pub fn top_via(&self) -> Result<Via, ParseError> {
        if let Some(via) = self.kept_top_via.get() {
            return Ok(Via::clone(via));
        }
        self.parse_top_via()
    }

    /// The topmost Via, as [`Headers::top_via`] gives it, and kept parsed until the header
    /// section changes (one allocation), so that the readers after this one do not parse it
    /// again: what a server calls first on a message it reads the Via of several times
    /// (stamping `received`, checking, routing, answering).
    ///
    /// ```
    /// use sip_packet::Headers;
    /// let mut h = Headers::new();
    /// h.add("Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
    /// let kept = h.keep_top_via().unwrap();
    /// assert_eq!(h.top_via().unwrap(), kept);
    /// h.insert_at_top("Via", "SIP/2.0/UDP b.example.com;branch=z9hG4bK2");
    /// assert_eq!(h.top_via().unwrap().branch(), Some("z9hG4bK2"));
    /// ```
    pub fn keep_top_via(&self) -> Result<Via, ParseError> {
        if let Some(via) = self.kept_top_via.get() {
            return Ok(Via::clone(via));
        }
        let via = self.parse_top_via()?;
        let _ = self.kept_top_via.set(Box::new(via.clone()));
        Ok(via)
    }

    fn parse_top_via(&self) -> Result<Via, ParseError> {
        let h = one(self, HeaderName::Via, "Via")?;
        Via::parse_shared(self.owner_of(h.value()), h.value()).map_err(|e| at(h, e))
    }

    /// Every Via, top first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via, ParseError>> + '_ {
        self.typed(HeaderName::Via, Via::parse_shared)
    }

    /// Every Contact value.
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact, ParseError>> + '_ {
        self.typed(HeaderName::Contact, Contact::parse_shared)
    }

    /// Every Route, in order.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr, ParseError>> + '_ {
        self.typed(HeaderName::Route, NameAddr::parse_shared)
    }

    /// Every Record-Route, in order.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr, ParseError>> + '_ {
        self.typed(HeaderName::RecordRoute, NameAddr::parse_shared)
    }

    /// Every WWW-Authenticate challenge.
    pub fn www_authenticate(&self) -> impl Iterator<Item = Result<AuthValue, ParseError>> + '_ {
        self.typed(HeaderName::WwwAuthenticate, AuthValue::parse_shared)
    }

    /// Every Proxy-Authenticate challenge.
    pub fn proxy_authenticate(&self) -> impl Iterator<Item = Result<AuthValue, ParseError>> + '_ {
        self.typed(HeaderName::ProxyAuthenticate, AuthValue::parse_shared)
    }

    /// Every Authorization value.
    pub fn authorization(&self) -> impl Iterator<Item = Result<AuthValue, ParseError>> + '_ {
        self.typed(HeaderName::Authorization, AuthValue::parse_shared)
    }

    /// Every Proxy-Authorization value.
    pub fn proxy_authorization(&self) -> impl Iterator<Item = Result<AuthValue, ParseError>> + '_ {
        self.typed(HeaderName::ProxyAuthorization, AuthValue::parse_shared)
    }

    /// Max-Forwards (0 to 255), when present.
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        self.first(&HeaderName::MaxForwards)
            .map(|h| number(h, "Max-Forwards", 255).map(|n| n as u8))
            .transpose()
    }

    /// Expires in seconds (RFC 3261 §20.19: up to 2**32-1), when present.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.first(&HeaderName::Expires)
            .map(|h| number(h, "Expires", u64::from(u32::MAX)))
            .transpose()
    }

    /// Min-Expires in seconds, when present.
    pub fn min_expires(&self) -> Result<Option<u32>, ParseError> {
        self.first(&HeaderName::MinExpires)
            .map(|h| number(h, "Min-Expires", u64::from(u32::MAX)))
            .transpose()
    }

    /// The Content-Length header's value, when present (printing always writes the body's
    /// real length).
    pub fn content_length(&self) -> Result<Option<usize>, ParseError> {
        match self.iter().find(|h| h.name() == &HeaderName::ContentLength) {
            None => Ok(None),
            Some(h) => text::parse_decimal(h.value())
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    at(
                        h,
                        ParseErrorKind::ContentLength(h.value().to_string()).into(),
                    )
                }),
        }
    }

    /// The media type of Content-Type (`application/sdp`), lower-cased, without parameters.
    pub fn content_type(&self) -> Result<Option<String>, ParseError> {
        let Some(h) = self.iter().find(|h| h.name() == &HeaderName::ContentType) else {
            return Ok(None);
        };
        let v = h.value();
        let media = text::trim(v.split(';').next().unwrap_or(""));
        match media.split_once('/') {
            Some((t, s)) if text::is_token(text::trim(t)) && text::is_token(text::trim(s)) => Ok(
                Some(format!("{}/{}", text::trim(t), text::trim(s)).to_ascii_lowercase()),
            ),
            _ => Err(at(
                h,
                ParseError::value(v, "Content-Type is not type/subtype"),
            )),
        }
    }

    fn typed<'a, T: 'a>(
        &'a self,
        name: HeaderName,
        parse: fn(&ByteString, &str) -> Result<T, ParseError>,
    ) -> impl Iterator<Item = Result<T, ParseError>> + 'a {
        Typed {
            headers: self,
            inner: self.iter(),
            name,
            parse,
        }
    }

    /// Checks only what every hop relies on: From, To, CSeq, Call-ID, every Via and
    /// Max-Forwards. What a stateless proxy checks (RFC 3261 §16.3 item 1: a "reasonable
    /// syntax" check of the parts it uses; the rest is forwarded for the endpoints to judge).
    pub fn validate_essential(&self) -> Result<(), ParseError> {
        self.from()?;
        self.to()?;
        self.cseq()?;
        let call_id = one(self, HeaderName::CallId, "Call-ID")?;
        if call_id.value().is_empty() || call_id.value().bytes().any(|b| b <= b' ') {
            return Err(at(
                call_id,
                ParseError::value(call_id.value(), "Call-ID is empty or holds whitespace"),
            ));
        }
        // The top Via kept for the readers after this check (a proxy routes and answers
        // by it); the others only checked.
        if self.first(&HeaderName::Via).is_some() && self.kept_top_via.get().is_none() {
            self.keep_top_via()?;
        }
        for v in self.vias().skip(1) {
            v?;
        }
        self.max_forwards()?;
        Ok(())
    }

    /// Checks every header this crate knows against its grammar; see
    /// [`Message::validate`](crate::Message::validate).
    pub fn validate(&self) -> Result<(), ParseError> {
        self.validate_essential()?;
        let mut contacts = 0;
        let mut star = false;
        for c in self.contacts() {
            contacts += 1;
            star |= c? == Contact::Star;
        }
        if star && contacts > 1 {
            return Err(
                ParseError::value("*", "Contact * together with other contacts")
                    .in_header("Contact"),
            );
        }
        for r in self.routes().chain(self.record_routes()) {
            r?;
        }
        for a in self
            .www_authenticate()
            .chain(self.proxy_authenticate())
            .chain(self.authorization())
            .chain(self.proxy_authorization())
        {
            a?;
        }
        self.expires()?;
        self.min_expires()?;
        self.content_type()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_numbers() {
        let mut h = Headers::new();
        assert_eq!(h.max_forwards().unwrap(), None);
        h.add("Max-Forwards", "70");
        h.add("Expires", "10000000000000000000000000000");
        assert_eq!(h.max_forwards().unwrap(), Some(70));
        let e = h.expires().unwrap_err();
        assert_eq!(e.header(), Some("Expires"));
        h.set("Max-Forwards", "300");
        assert!(h.max_forwards().is_err());
    }

    #[test]
    fn content_type_is_lowercased_without_params() {
        let mut h = Headers::new();
        h.add("c", "Application/SDP ; charset=utf-8");
        assert_eq!(
            h.content_type().unwrap().as_deref(),
            Some("application/sdp")
        );
        h.set("Content-Type", "garbage");
        assert!(h.content_type().is_err());
    }

    #[test]
    fn light_accessors_find_the_header_params_not_the_uri_params() {
        let mut h = Headers::new();
        h.add("From", "\"a;tag=no\" <sip:x@y;tag=uri>;tag=yes");
        h.add("To", "sip:x@y;tag=t1");
        h.add(
            "Via",
            "SIP/2.0/UDP [2001:db8::1]:5060 ; rport ; BRANCH=z9hG4bKx",
        );
        assert_eq!(h.from_tag().unwrap(), Some("yes"));
        assert_eq!(h.to_tag().unwrap(), Some("t1"));
        assert_eq!(h.top_via_branch().unwrap(), Some("z9hG4bKx"));
        h.set("To", "<sip:x@y>");
        assert_eq!(h.to_tag().unwrap(), None);
        h.set("To", "<sip:x@y> junk");
        assert_eq!(h.to_tag().unwrap_err().header(), Some("To"));
        h.set("From", "<sip:x@y;tag=1");
        assert!(h.from_tag().is_err());
        h.set("Via", "SIP/2.0/UDP host;branch=\"unterminated");
        assert!(h.top_via_branch().is_err());
        h.remove("Via");
        assert!(h.top_via_branch().is_err());
    }

    fn essential_headers(extra: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        h.add("Via", "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKa");
        h.add("From", "<sip:alice@example.com>;tag=1");
        h.add("To", "<sip:bob@example.com>");
        h.add("Call-ID", "c1@example.com");
        h.add("CSeq", "1 INVITE");
        h.add("Max-Forwards", "70");
        for (n, v) in extra {
            h.add(*n, v.to_string());
        }
        h
    }

    #[test]
    fn a_later_via_is_read_without_parsing_those_above_it() {
        let mut h = essential_headers(&[("Via", "SIP/2.0/TCP 127.0.0.1:5090;branch=z9hG4bKb")]);
        // A top Via that does not parse: skipping it does not parse it.
        h.set_top_via(&Via::parse("SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKa").unwrap());
        h.insert_at_top("Via", "SIP/2.0/UDP");
        assert!(h.vias().next().unwrap().is_err());
        let third = h.vias().nth(2).unwrap().unwrap();
        assert_eq!(third.port(), Some(5090));
        assert_eq!(h.vias().skip(1).filter(Result::is_ok).count(), 2);
        assert!(h.vias().nth(3).is_none());
        assert!(h.validate_essential().is_err());
    }

    #[test]
    fn the_kept_top_via_lasts_until_the_headers_change() {
        let mut h = essential_headers(&[("Via", "SIP/2.0/TCP 127.0.0.1:5090;branch=z9hG4bKb")]);
        // Read, not kept.
        let top = h.top_via().unwrap();
        assert!(h.kept_top_via.get().is_none());
        // The check keeps it; the readers after it get that one.
        assert_eq!(h.validate_essential(), Ok(()));
        assert_eq!(h.kept_top_via.get().map(|v| &**v), Some(&top));
        assert_eq!(h.top_via(), Ok(top.clone()));
        assert_eq!(h.clone().top_via(), Ok(top.clone()), "a copy keeps it");
        let second = h.vias().nth(1).unwrap().unwrap();
        // A change of other headers keeps it, whether or not it moves the Vias.
        for change in [
            |h: &mut Headers| h.add("Subject", "x"),
            |h: &mut Headers| h.set("To", "<sip:b@example.com>;tag=t"),
            |h: &mut Headers| h.insert_at_top("Record-Route", "<sip:p.example.com;lr>"),
            |h: &mut Headers| {
                h.remove("Subject");
            },
            |h: &mut Headers| {
                h.remove_first("Record-Route");
            },
        ] {
            assert_eq!(h.keep_top_via(), Ok(top.clone()));
            change(&mut h);
            assert_eq!(h.kept_top_via.get().map(|v| &**v), Some(&top));
            assert_eq!(h.top_via(), Ok(top.clone()));
        }
        // A change of the Vias drops it, in whatever spelling it names them, and so do the
        // changes that do not say which headers they touch.
        let mut v = h.clone();
        v.add("v", "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKz");
        assert!(v.kept_top_via.get().is_none());
        assert_eq!(v.top_via(), Ok(top.clone()));
        for change in [
            |h: &mut Headers| h.add("Via", "SIP/2.0/UDP 127.0.0.1:5098;branch=z9hG4bKy"),
            |h: &mut Headers| h.set("via", "SIP/2.0/UDP 127.0.0.1:5097;branch=z9hG4bKx"),
            |h: &mut Headers| h.insert_at_top("Via", "SIP/2.0/UDP 127.0.0.1:5096;branch=z9hG4bKw"),
            |h: &mut Headers| {
                h.remove("VIA");
            },
            |h: &mut Headers| h.retain(|_| true),
        ] {
            let mut h = h.clone();
            h.keep_top_via().ok();
            change(&mut h);
            assert!(h.kept_top_via.get().is_none());
        }
        h.keep_top_via().unwrap();
        h.remove_first("Via");
        assert_eq!(h.top_via(), Ok(second.clone()), "not the one removed");
        assert_eq!(h.keep_top_via(), Ok(second.clone()));
        h.insert_at_top("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc");
        assert_eq!(h.top_via().unwrap().port(), Some(5070));
        // A broken top Via is not kept: every call says what is wrong.
        h.insert_at_top("Via", "SIP/2.0/UDP");
        assert!(h.keep_top_via().is_err());
        assert!(h.kept_top_via.get().is_none());
        assert!(h.top_via().is_err());
        assert!(h.validate_essential().is_err());
        // No Via at all: nothing to keep, and nothing wrong for the essential check.
        h.remove("Via");
        assert!(h.keep_top_via().is_err());
        assert_eq!(h.validate_essential(), Ok(()));
    }

    #[test]
    fn setting_the_top_via_replaces_it_where_it_stands() {
        let mut h = essential_headers(&[("Via", "SIP/2.0/TCP 127.0.0.1:5090;branch=z9hG4bKb")]);
        let mut top = h.top_via().unwrap();
        top.set_rport(Some(5091));
        h.set_top_via(&top);
        assert_eq!(h.kept_top_via.get().map(|v| &**v), Some(&top));
        assert_eq!(h.top_via(), Ok(top));
        assert_eq!(h.count("Via"), 2);
        assert_eq!(h.iter().next().unwrap().name(), &HeaderName::Via);
        assert_eq!(h.vias().nth(1).unwrap().unwrap().port(), Some(5090));
        h.remove("Via");
        let alone = Via::parse("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc").unwrap();
        h.set_top_via(&alone);
        assert_eq!(
            h.iter().next().unwrap().name(),
            &HeaderName::Via,
            "put on top"
        );
        assert_eq!(h.top_via(), Ok(alone));
    }

    #[test]
    fn headers_a_proxy_does_not_use_are_not_checked() {
        let h = essential_headers(&[
            ("Contact", "<sip:broken"),
            ("Content-Type", "not a media type"),
            ("Expires", "soon"),
            ("Record-Route", "<<<"),
        ]);
        assert!(h.validate().is_err(), "the full check does reject these");
        assert_eq!(h.validate_essential(), Ok(()));
    }

    #[test]
    fn broken_essential_headers_are_errors_naming_the_header() {
        // A second Via that is broken: every Via is checked, not only the top one.
        let h = essential_headers(&[("Via", "SIP/2.0/UDP")]);
        assert_eq!(h.validate_essential().unwrap_err().header(), Some("Via"));
        for value in ["many", "300"] {
            let mut h = essential_headers(&[]);
            h.set("Max-Forwards", value);
            let e = h.validate_essential().expect_err(value);
            assert_eq!(e.header(), Some("Max-Forwards"), "{value}: {e}");
            assert_eq!(e.response_status(), 400);
        }
        let mut h = essential_headers(&[]);
        h.set("CSeq", "one INVITE");
        assert_eq!(h.validate_essential().unwrap_err().header(), Some("CSeq"));
        let mut h = essential_headers(&[]);
        h.set("From", "<sip:alice@example.com");
        assert!(h.validate_essential().is_err());
        let mut h = essential_headers(&[]);
        h.set("To", "");
        assert!(h.validate_essential().is_err());
    }

    #[test]
    fn call_id_must_be_there_and_one_word() {
        let mut h = essential_headers(&[]);
        h.set("Call-ID", "two words");
        let e = h.validate_essential().unwrap_err();
        assert_eq!(e.header(), Some("Call-ID"));
        assert!(e.to_string().contains("whitespace"), "{e}");
        h.remove_first("Call-ID");
        assert!(h.validate_essential().is_err());
    }
}
