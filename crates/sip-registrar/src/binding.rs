//! One contact bound to an address-of-record, and the record of all of them.

use std::fmt::Write as _;
use std::time::Instant;

use bytestring::ByteString;
use sip_packet::{NameAddr, Uri};

/// A contact address bound to an address-of-record until it expires (RFC 3261 §10).
///
/// It remembers the Call-ID and CSeq of the REGISTER that last touched it: §10.3 step 7
/// refuses a request of the same Call-ID whose CSeq is not higher.
#[derive(Debug, Clone)]
pub struct Binding {
    contact: NameAddr,
    /// `contact` as printed, once: every 200 of the address lists it again.
    printed: ByteString,
    q_millis: Option<u16>,
    call_id: ByteString,
    cseq: u32,
    expires_at: Instant,
}

impl Binding {
    /// A binding of `contact` (its `expires` parameter is dropped: the binding's own expiry
    /// replaces it) made by the REGISTER with `call_id` and `cseq`, alive until `expires_at`.
    pub fn new(mut contact: NameAddr, call_id: ByteString, cseq: u32, expires_at: Instant) -> Self {
        contact.params_mut().remove("expires");
        // Thousandths: q has at most three decimals (RFC 3261 §25.1 qvalue), and an integer
        // orders without the traps of floats.
        let q_millis = contact.q().map(|q| (q * 1000.0).round() as u16);
        let mut printed = String::with_capacity(64);
        let _ = write!(printed, "{contact}");
        Self {
            printed: ByteString::from(printed),
            contact,
            q_millis,
            call_id,
            cseq,
            expires_at,
        }
    }

    /// The contact as registered, with its parameters but without `expires`.
    pub fn contact(&self) -> &NameAddr {
        &self.contact
    }

    /// The contact's URI.
    pub fn uri(&self) -> &Uri {
        self.contact.uri()
    }

    /// The `q` value, when the contact gave one (0 to 1).
    pub fn q(&self) -> Option<f32> {
        self.q_millis.map(|q| f32::from(q) / 1000.0)
    }

    /// The `q` value for ordering, in thousandths: a contact without one counts as 1, as an
    /// absent qvalue does in HTTP content negotiation, from which SIP takes it.
    pub fn q_order(&self) -> u16 {
        self.q_millis.unwrap_or(1000)
    }

    /// The Call-ID of the REGISTER that made or last refreshed the binding.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The CSeq number of that REGISTER.
    pub fn cseq(&self) -> u32 {
        self.cseq
    }

    /// When the binding expires.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// Whether the binding is alive at `now`.
    pub fn is_live(&self, now: Instant) -> bool {
        self.expires_at > now
    }

    /// Whole seconds left at `now`, rounded up so that a live binding never says 0.
    pub fn remaining_secs(&self, now: Instant) -> u32 {
        let left = self.expires_at.saturating_duration_since(now);
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        secs.min(u64::from(u32::MAX)) as u32
    }

    /// Whether this binding's contact is the same as `uri` (RFC 3261 §19.1.4, as §10.3 step 7
    /// asks).
    pub fn is_for(&self, uri: &Uri) -> bool {
        self.contact.uri().equivalent(uri)
    }

    /// The Contact value for a response: the contact with `expires` set to what is left.
    ///
    /// The contact was printed once when the binding was made (without `expires`, which it
    /// never keeps); a header parameter after it is the same whether the address is a
    /// name-addr or a bare addr-spec, so `;expires=N` is appended to that text.
    pub fn to_contact_value(&self, now: Instant) -> String {
        let mut value = String::with_capacity(self.printed.len() + 20);
        value.push_str(&self.printed);
        let _ = write!(value, ";expires={}", self.remaining_secs(now));
        value
    }
}

/// All bindings of one address-of-record, as a [`BindingStore`](crate::BindingStore) keeps
/// them.
///
/// `keep_until` is how long the store remembers the address after its last binding has gone:
/// a redirect server answers 480 (known, not reachable now) rather than 404 while it does.
#[derive(Debug, Clone)]
pub struct AorRecord {
    bindings: Vec<Binding>,
    keep_until: Instant,
}

impl AorRecord {
    /// A record of these bindings, remembered until `keep_until` once they have gone.
    pub fn new(bindings: Vec<Binding>, keep_until: Instant) -> Self {
        Self {
            bindings,
            keep_until,
        }
    }

    /// The bindings, live or not (see [`AorRecord::live`]).
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The bindings, to change.
    pub fn bindings_mut(&mut self) -> &mut Vec<Binding> {
        &mut self.bindings
    }

    /// The bindings alive at `now`.
    pub fn live(&self, now: Instant) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.is_live(now))
    }

    /// Until when the address is remembered without bindings.
    pub fn keep_until(&self) -> Instant {
        self.keep_until
    }

    /// Drops the bindings expired at `now`; returns how many.
    pub fn drop_expired(&mut self, now: Instant) -> usize {
        let before = self.bindings.len();
        self.bindings.retain(|b| b.is_live(now));
        before - self.bindings.len()
    }

    /// When the store has to look at this record again: the first binding's expiry, or,
    /// without bindings, the end of `keep_until`.
    pub fn next_deadline(&self) -> Instant {
        self.bindings
            .iter()
            .map(Binding::expires_at)
            .min()
            .unwrap_or(self.keep_until)
    }

    /// Whether the record can be forgotten at `now`: no live binding and past `keep_until`.
    pub fn is_forgotten(&self, now: Instant) -> bool {
        self.keep_until <= now && self.live(now).next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn expires_param_is_dropped_q_kept_and_remaining_rounds_up() {
        let now = Instant::now();
        let b = Binding::new(
            NameAddr::parse("<sip:a@10.0.0.1>;expires=99;q=0.7").unwrap(),
            "c1".into(),
            1,
            now + Duration::from_millis(60_500),
        );
        assert_eq!(b.q(), Some(0.7));
        assert_eq!(b.q_order(), 700);
        assert_eq!(b.remaining_secs(now), 61);
        assert_eq!(b.to_contact_value(now), "<sip:a@10.0.0.1>;q=0.7;expires=61");
        assert!(b.is_live(now));
        assert!(!b.is_live(now + Duration::from_millis(60_500)));
        assert_eq!(b.remaining_secs(now + Duration::from_secs(100)), 0);
    }

    #[test]
    fn the_contact_value_is_what_setting_expires_on_the_contact_prints() {
        let now = Instant::now();
        for contact in [
            "sip:a@10.0.0.1",
            "sip:a@10.0.0.1;q=0.5",
            "<sip:a@10.0.0.1;transport=tcp>",
            "\"Bob B.\" <sips:bob@example.com:5061;lr>;expires=30;q=1;+sip.instance=\"<urn:uuid:1>\"",
            "Alice <sip:alice@[2001:db8::1]:5070?Subject=x>;reg-id=1",
            "<tel:+15551234>;expires=7",
        ] {
            let parsed = NameAddr::parse(contact).unwrap();
            let b = Binding::new(parsed.clone(), "c".into(), 1, now + Duration::from_secs(42));
            let mut expected = parsed;
            expected.params_mut().remove("expires");
            expected.params_mut().set("expires", Some("42"));
            assert_eq!(b.to_contact_value(now), expected.to_string(), "{contact}");
            // What a client parses back is the contact with the new expiry.
            let back = NameAddr::parse(&b.to_contact_value(now)).unwrap();
            assert_eq!(back.expires(), Some(42), "{contact}");
            assert!(b.is_for(back.uri()), "{contact}");
        }
    }

    #[test]
    fn record_deadline_is_first_expiry_then_keep_until() {
        let now = Instant::now();
        let b = |s| {
            Binding::new(
                NameAddr::parse("<sip:a@10.0.0.1>").unwrap(),
                "c".into(),
                1,
                now + Duration::from_secs(s),
            )
        };
        let mut r = AorRecord::new(vec![b(20), b(10)], now + Duration::from_secs(100));
        assert_eq!(r.next_deadline(), now + Duration::from_secs(10));
        assert_eq!(r.drop_expired(now + Duration::from_secs(15)), 1);
        assert_eq!(r.next_deadline(), now + Duration::from_secs(20));
        assert_eq!(r.drop_expired(now + Duration::from_secs(20)), 1);
        assert_eq!(r.next_deadline(), now + Duration::from_secs(100));
        assert!(!r.is_forgotten(now + Duration::from_secs(99)));
        assert!(r.is_forgotten(now + Duration::from_secs(100)));
    }
}
