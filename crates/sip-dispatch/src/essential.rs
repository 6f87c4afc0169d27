//! The syntax check of a dispatcher without transactions (a stateless proxy): only the
//! headers every hop relies on, not every header the message carries.
//!
//! RFC 3261 §16.3 item 1 asks a proxy for a "reasonable syntax" check of only the parts it
//! uses: anything else it forwards as it is, for the endpoints to judge. A stateless proxy
//! matches and routes with From, To, Call-ID, CSeq, Via and Max-Forwards; what it reads
//! beyond them (Route, Proxy-Authorization, Contact) it checks where it reads it and answers
//! 400 itself. A transaction-stateful dispatcher keeps the full
//! [`Headers::validate`](sip_packet::Headers::validate), since the user agents behind it read
//! any header.

use sip_packet::{Headers, ParseError};

/// Checks From, To, Call-ID, CSeq, every Via and Max-Forwards
/// ([`Headers::validate_essential`]); leaves every other header unchecked.
pub(crate) fn validate_essential(headers: &Headers) -> Result<(), ParseError> {
    headers.validate_essential()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(extra: &[(&str, &str)]) -> Headers {
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
    fn headers_a_proxy_does_not_use_are_not_checked() {
        let h = headers(&[
            ("Contact", "<sip:broken"),
            ("Content-Type", "not a media type"),
            ("Expires", "soon"),
            ("Record-Route", "<<<"),
        ]);
        assert!(h.validate().is_err(), "the full check does reject these");
        assert_eq!(validate_essential(&h), Ok(()));
    }

    #[test]
    fn broken_essential_headers_are_errors_naming_the_header() {
        // A second Via that is broken: every Via is checked, not only the top one.
        let h = headers(&[("Via", "SIP/2.0/UDP")]);
        assert_eq!(validate_essential(&h).unwrap_err().header(), Some("Via"));
        for value in ["many", "300"] {
            let mut h = headers(&[]);
            h.set("Max-Forwards", value);
            let e = validate_essential(&h).expect_err(value);
            assert_eq!(e.header(), Some("Max-Forwards"), "{value}: {e}");
            assert_eq!(e.response_status(), 400);
        }
        let mut h = headers(&[]);
        h.set("CSeq", "one INVITE");
        assert_eq!(validate_essential(&h).unwrap_err().header(), Some("CSeq"));
        let mut h = headers(&[]);
        h.set("From", "<sip:alice@example.com");
        assert!(validate_essential(&h).is_err());
        let mut h = headers(&[]);
        h.set("To", "");
        assert!(validate_essential(&h).is_err());
    }

    #[test]
    fn call_id_must_be_there_and_one_word() {
        let mut h = headers(&[]);
        h.set("Call-ID", "two words");
        let e = validate_essential(&h).unwrap_err();
        assert_eq!(e.header(), Some("Call-ID"));
        assert!(e.to_string().contains("whitespace"), "{e}");
        h.remove_first("Call-ID");
        assert!(validate_essential(&h).is_err());
    }
}
