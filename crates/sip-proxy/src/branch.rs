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
use sip_packet::Request;

use crate::hmac::hex;

/// The prefix of every branch a stateless proxy of this crate writes.
pub const BRANCH_PREFIX: &str = "z9hG4bK-sp-";

/// The two parts of our branch for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyBranch {
    transaction: String,
    loop_part: String,
}

impl ProxyBranch {
    /// The branch for `request` as it was received (before any change by the proxy).
    pub fn of(request: &Request) -> Self {
        let h = request.headers();
        // Borrowed from the message, and the From tag read without parsing the whole From:
        // this runs for every request the proxy forwards.
        let call_id = h.call_id().unwrap_or_default();
        let cseq = h.cseq().map(|c| c.seq().to_string()).unwrap_or_default();
        let from_tag = h.from_tag().ok().flatten().unwrap_or_default();
        let uri = request.uri().to_string();

        let mut t = Fields::new();
        match h.top_via() {
            Ok(via) if via.has_rfc3261_branch() => {
                t.add(via.branch().unwrap_or_default());
                t.add(&via.host().to_string());
                t.add(&via.port().map(|p| p.to_string()).unwrap_or_default());
            }
            _ => {
                // RFC 2543 peers: no unique branch; hash what identifies the transaction.
                t.add(h.get("Via").unwrap_or_default());
                let to_tag = h
                    .to()
                    .ok()
                    .and_then(|f| f.tag().map(str::to_owned))
                    .unwrap_or_default();
                t.add(&to_tag);
            }
        }
        for f in [call_id, &cseq, from_tag, &uri] {
            t.add(f);
        }

        let mut l = Fields::new();
        for f in [&uri, call_id, from_tag, &cseq] {
            l.add(f);
        }
        for r in h.get_all("Route") {
            l.add(r);
        }
        Self {
            transaction: t.finish(),
            loop_part: l.finish(),
        }
    }

    /// The branch parameter.
    pub fn value(&self) -> String {
        format!("{BRANCH_PREFIX}{}-{}", self.transaction, self.loop_part)
    }

    /// The transaction part alone (16 hex digits): unique per transaction, the same for
    /// retransmissions.
    pub fn transaction_part(&self) -> &str {
        &self.transaction
    }

    /// Whether `branch` (from a Via with our sent-by) is ours for this very request
    /// unchanged: the request has looped.
    pub fn is_loop_of(&self, branch: &str) -> bool {
        loop_part(branch) == Some(self.loop_part.as_str())
    }
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

/// Length-prefixed fields into SHA-256, so that `("ab", "c")` and `("a", "bc")` differ.
struct Fields(Sha256);

impl Fields {
    fn new() -> Self {
        Self(Sha256::new())
    }

    fn add(&mut self, field: &str) {
        self.0.update((field.len() as u64).to_be_bytes());
        self.0.update(field.as_bytes());
    }

    fn finish(self) -> String {
        hex(&self.0.finalize()[..8])
    }
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
}
