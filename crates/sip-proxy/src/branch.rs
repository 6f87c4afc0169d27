//! The branch a stateless proxy puts in its Via (RFC 3261 §16.11, §16.6 step 8): computed
//! from the request, never drawn at random, so that every retransmission of a request gets
//! the same branch and the next hop's transaction recognises it.
//!
//! The branch is `z9hG4bK-sp-<T>-<L>`, two hashes of 64 bits in hex:
//! - `T`, transaction uniqueness: the incoming top Via's branch and sent-by (§16.11: a hash
//!   of the received branch when it has the magic cookie), the Call-ID, the CSeq number (not
//!   the method), the From tag and the Request-URI as received. An RFC 2543 top Via (no
//!   cookie) is hashed whole, with the To tag.
//! - `L`, loop detection (§16.3 item 4): the fields that change when a request spirals:
//!   Request-URI as received, Route, Call-ID, From tag, CSeq number.
//!
//! Neither part contains the method, the To tag (for a cookie branch), Proxy-Require or
//! Proxy-Authorization, because a CANCEL (§9.1: no Proxy-Require, usually no credentials)
//! and the ACK of a non-2xx response (§17.1.1.3: it has the response's To tag) must carry
//! the branch of their INVITE to reach its transaction downstream.
//!
//! A request has looped when a Via with our sent-by has our branch with the `L` we compute
//! for it now: it came back unchanged. A spiral (changed Request-URI or Route) has a
//! different `L` and goes on.

use sha2::{Digest, Sha256};
use sip_packet::{HeaderName, Host, Request, Uri, Via};

/// The prefix of every branch a stateless proxy of this crate writes.
pub const BRANCH_PREFIX: &str = "z9hG4bK-sp-";

/// The two parts of our branch for one request, as lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyBranch {
    transaction: [u8; 16],
    loop_part: [u8; 16],
}

impl ProxyBranch {
    /// The branch for `request` as it was received (before any change by the proxy).
    pub fn of(request: &Request) -> Self {
        Self::with_top_via(request, request.headers().top_via().ok().as_ref())
    }

    /// The same for a caller that has parsed the request's top Via already (`None` when it
    /// does not parse): the proxy parses it once for the branch and for its own answers.
    pub fn with_top_via(request: &Request, top_via: Option<&Via>) -> Self {
        let h = request.headers();
        // Every field is read borrowed from the message, none printed into a string of its
        // own: this runs for every request the proxy forwards.
        let call_id = h.call_id().unwrap_or_default();
        let cseq = h.cseq().map(|c| c.seq()).ok();
        let from_tag = h.from_tag().ok().flatten().unwrap_or_default();

        // What both hashes share: Request-URI as received, Call-ID, From tag, CSeq number.
        let mut shared = Fields(Vec::with_capacity(256));
        shared.uri(request.uri());
        shared.text(call_id);
        shared.text(from_tag);
        match cseq {
            Some(n) => shared.bytes(&n.to_be_bytes()),
            None => shared.bytes(&[]),
        }

        // The transaction's own fields, then the shared ones (hashed after, not copied).
        let mut t = Fields(Vec::with_capacity(96));
        match top_via {
            Some(via) if via.has_rfc3261_branch() => {
                t.text(via.branch().unwrap_or_default());
                t.host(via.host());
                t.port(via.port());
            }
            _ => {
                // RFC 2543 peers: no unique branch; hash what identifies the transaction.
                t.text(h.get(HeaderName::Via).unwrap_or_default());
                t.text(h.to_tag().ok().flatten().unwrap_or_default());
            }
        }

        let transaction = hex_digest(&[&t.0, &shared.0]);
        let mut l = shared;
        for r in h.get_all(HeaderName::Route) {
            l.text(r);
        }
        Self {
            transaction,
            loop_part: hex_digest(&[&l.0]),
        }
    }

    /// The branch parameter.
    pub fn value(&self) -> String {
        let mut s = String::with_capacity(BRANCH_PREFIX.len() + 33);
        self.write_value(&mut s);
        s
    }

    /// Appends the branch parameter to `out` (a Via value being written).
    pub fn write_value(&self, out: &mut String) {
        out.push_str(BRANCH_PREFIX);
        out.push_str(self.transaction_part());
        out.push('-');
        out.push_str(ascii(&self.loop_part));
    }

    /// The transaction part alone (16 hex digits): unique per transaction, the same for
    /// retransmissions.
    pub fn transaction_part(&self) -> &str {
        ascii(&self.transaction)
    }

    /// Whether `branch` (from a Via with our sent-by) is ours for this very request
    /// unchanged: the request has looped.
    pub fn is_loop_of(&self, branch: &str) -> bool {
        loop_part(branch) == Some(ascii(&self.loop_part))
    }
}

/// The text of a hex part (always ASCII: [`Fields::finish`] writes it).
fn ascii(hex: &[u8; 16]) -> &str {
    std::str::from_utf8(hex).unwrap_or_default()
}

/// Whether `branch` is one this crate's proxies write.
pub fn is_proxy_branch(branch: &str) -> bool {
    loop_part(branch).is_some()
}

fn loop_part(branch: &str) -> Option<&str> {
    let rest = branch.strip_prefix(BRANCH_PREFIX)?;
    let (t, l) = rest.split_once('-')?;
    (t.len() == 16 && l.len() == 16).then_some(l)
}

/// Fields gathered for one hash, each length-prefixed (or tagged, for the parts of a URI or
/// host) so that `("ab", "c")` and `("a", "bc")` differ. Gathered in a buffer and hashed in
/// one go: a SHA-256 update per field costs more than the copy.
struct Fields(Vec<u8>);

impl Fields {
    fn bytes(&mut self, field: &[u8]) {
        self.0
            .extend_from_slice(&(field.len() as u64).to_be_bytes());
        self.0.extend_from_slice(field);
    }

    fn text(&mut self, field: &str) {
        self.bytes(field.as_bytes());
    }

    fn optional(&mut self, field: Option<&str>) {
        match field {
            Some(f) => {
                self.0.push(1);
                self.text(f);
            }
            None => self.0.push(0),
        }
    }

    fn port(&mut self, port: Option<u16>) {
        match port {
            Some(p) => {
                self.0.push(1);
                self.0.extend_from_slice(&p.to_be_bytes());
            }
            None => self.0.push(0),
        }
    }

    fn host(&mut self, host: &Host) {
        match host {
            Host::Domain(d) => {
                self.0.push(b'd');
                self.text(d);
            }
            Host::Ipv4(a) => {
                self.0.push(b'4');
                self.0.extend_from_slice(&a.octets());
            }
            Host::Ipv6(a) => {
                self.0.push(b'6');
                self.0.extend_from_slice(&a.octets());
            }
            // A kind of host added later: its text.
            other => {
                self.0.push(b'o');
                self.text(&other.to_string());
            }
        }
    }

    /// A URI by its parts, which are what it prints as: the same text gives the same
    /// parts, without printing it.
    fn uri(&mut self, uri: &Uri) {
        match uri.as_sip() {
            Some(u) => {
                self.0.push(if u.is_secure() { b'S' } else { b's' });
                self.optional(u.user());
                self.optional(u.password());
                self.host(u.host());
                self.port(u.port());
                self.text(u.params().as_str());
                self.optional(u.headers());
            }
            None => {
                self.0.push(b'o');
                self.text(&uri.to_string());
            }
        }
    }
}

/// The first 64 bits of the SHA-256 of `parts` one after the other, in hex.
fn hex_digest(parts: &[&[u8]]) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hash = Sha256::new();
    for p in parts {
        hash.update(p);
    }
    let digest = hash.finalize();
    let mut out = [0u8; 16];
    for (i, b) in digest.iter().take(8).enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_packet::Message;

    fn req(s: &str) -> Request {
        match Message::parse(s.replace("\r\n", "\n").replace('\n', "\r\n").into()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    fn invite(method: &str, to_tag: &str, extra: &str) -> Request {
        req(&format!(
            "{method} sip:bob@example.com SIP/2.0\n\
             Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\n\
             From: <sip:alice@example.com>;tag=f1\nTo: <sip:bob@example.com>{to_tag}\n\
             Call-ID: c1\nCSeq: 7 {method}\nMax-Forwards: 70\n{extra}Content-Length: 0\n\n"
        ))
    }

    #[test]
    fn invite_cancel_and_ack_share_a_branch() {
        let i = ProxyBranch::of(&invite("INVITE", "", "Proxy-Authorization: Digest x=1\n"));
        let c = ProxyBranch::of(&invite("CANCEL", "", ""));
        let a = ProxyBranch::of(&invite("ACK", ";tag=t9", ""));
        assert_eq!(i, c);
        assert_eq!(i, a);
        assert!(i.value().starts_with(BRANCH_PREFIX));
        assert!(is_proxy_branch(&i.value()));
        assert!(!is_proxy_branch("z9hG4bKabc"));
        // Retransmissions: the same request gives the same branch.
        assert_eq!(
            i.value(),
            ProxyBranch::of(&invite("INVITE", "", "")).value()
        );
    }

    #[test]
    fn other_transactions_differ() {
        let base = ProxyBranch::of(&invite("INVITE", "", ""));
        let other_via = invite("INVITE", "", "")
            .to_string()
            .replace("z9hG4bKabc", "z9hG4bKdef");
        let other = ProxyBranch::of(&req(&other_via));
        assert_ne!(base.value(), other.value());
        // ... but the loop part is the same: the same request, come back.
        assert!(other.is_loop_of(&base.value()));
        let cseq = invite("INVITE", "", "")
            .to_string()
            .replace("CSeq: 7", "CSeq: 8");
        assert_ne!(base.value(), ProxyBranch::of(&req(&cseq)).value());
    }

    #[test]
    fn spirals_are_not_loops() {
        let first = ProxyBranch::of(&invite("INVITE", "", ""));
        let retargeted = invite("INVITE", "", "")
            .to_string()
            .replace("sip:bob@example.com SIP", "sip:bob@192.0.2.9 SIP");
        assert!(!ProxyBranch::of(&req(&retargeted)).is_loop_of(&first.value()));
        let routed = ProxyBranch::of(&invite("INVITE", "", "Route: <sip:p2.example.com;lr>\n"));
        assert!(!routed.is_loop_of(&first.value()));
        assert!(first.is_loop_of(&first.value()));
        assert!(!first.is_loop_of("z9hG4bKabc"));
    }

    #[test]
    fn the_parsed_top_via_gives_the_same_branch() {
        let r = invite("INVITE", "", "");
        let via = r.headers().top_via().unwrap();
        let b = ProxyBranch::with_top_via(&r, Some(&via));
        assert_eq!(b, ProxyBranch::of(&r));
        let mut written = String::from("x;branch=");
        b.write_value(&mut written);
        assert_eq!(written, format!("x;branch={}", b.value()));
        assert_eq!(b.value().len(), BRANCH_PREFIX.len() + 33);
        assert!(b.value().contains(b.transaction_part()));
    }

    #[test]
    fn every_part_of_the_request_uri_and_sent_by_counts() {
        let base = invite("INVITE", "", "").to_string();
        let b = ProxyBranch::of(&req(&base));
        for (from, to) in [
            ("INVITE sip:bob@", "INVITE sips:bob@"),
            ("sip:bob@example.com SIP", "sip:bob:pw@example.com SIP"),
            ("sip:bob@example.com SIP", "sip:bob@example.com:5060 SIP"),
            ("sip:bob@example.com SIP", "sip:bob@example.com;lr SIP"),
            ("sip:bob@example.com SIP", "sip:bob@192.0.2.1 SIP"),
            ("sip:bob@example.com SIP", "sip:bob@[2001:db8::1] SIP"),
            ("sip:bob@example.com SIP", "tel:+1234 SIP"),
            ("UDP 192.0.2.1:5060", "UDP 192.0.2.1"),
            ("UDP 192.0.2.1:5060", "UDP 192.0.2.2:5060"),
            ("UDP 192.0.2.1:5060", "UDP host.example.com:5060"),
            ("tag=f1", "tag=f2"),
            ("Call-ID: c1", "Call-ID: c2"),
        ] {
            let other = ProxyBranch::of(&req(&base.replacen(from, to, 1)));
            assert_ne!(b, other, "{to}");
        }
    }

    #[test]
    fn rfc2543_requests_are_told_apart_by_via_and_to_tag() {
        let old = |via: &str, to_tag: &str| {
            let r = invite("INVITE", to_tag, "")
                .to_string()
                .replace("192.0.2.1:5060;branch=z9hG4bKabc", via);
            ProxyBranch::of(&req(&r))
        };
        let a = old("192.0.2.1:5060", "");
        assert_eq!(a, old("192.0.2.1:5060", ""));
        assert_ne!(a, old("192.0.2.1:5070", ""));
        assert_ne!(a, old("192.0.2.1:5060", ";tag=t1"));
        // The same with a Via that does not parse at all: hashed as written.
        let r = invite("INVITE", "", "");
        assert_eq!(
            ProxyBranch::with_top_via(&r, None),
            ProxyBranch::with_top_via(&r, None)
        );
        assert_ne!(ProxyBranch::with_top_via(&r, None), ProxyBranch::of(&r));
    }
}
