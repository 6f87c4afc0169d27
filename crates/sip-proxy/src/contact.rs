//! Contact rewriting (Net::SIP::StatelessProxy's `rewrite_contact`).
//!
//! When a message leaves on another leg than it came in on (or always, when forced: clients
//! behind NAT on one leg), every `sip:`/`sips:` Contact is replaced by one that points at the
//! proxy's outgoing leg, with the original packed into the user part:
//! `sip:b<TOKEN>@<out leg>`. A later request whose Request-URI is such a token (the peer
//! answering or calling back) is turned back into the original on the way in, and sent out
//! on the leg the original came from, to the address it came from.
//!
//! The token is `b` and the base32 (`A-Z2-7`, as Net::SIP) of `siv || E(payload)`, where the
//! payload holds the two leg numbers, the source address of the message and the original
//! URI; `siv` is the first 8 bytes of HMAC-SHA256 of the payload under a per-process key,
//! and `E` XORs with a SHA-256 keystream seeded by `siv` under a second key. So the token is
//! deterministic (a retransmission gets the same Contact), hides internal addresses, and
//! cannot be forged to make the proxy send somewhere else. Net::SIP used RC4 with a 4-byte
//! MD5 MAC and noted it was no real protection; the idea is the same.
//!
//! Unlike Net::SIP, which resolves the decoded original contact, the decoded request goes
//! to the *source address* of the message that carried the contact: a client behind NAT
//! writes its private address in Contact, and only its public address and port (the NAT
//! binding) reach it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sha2::{Digest, Sha256};
use sip_packet::{Contact, Headers, SipUri, Uri};

use crate::hmac::{constant_time_eq, hmac_sha256};
use crate::legs::LegInfo;

const VERSION: u8 = 1;
const SIV_LEN: usize = 8;

/// Where a rewritten contact came from: enough to reach its owner again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContactOrigin {
    /// The leg the message with the original contact came in on: requests for the
    /// contact go out there.
    pub leg: usize,
    /// The leg the rewritten contact was sent out on: requests for it come in there.
    pub via_leg: usize,
    /// The address the message came from.
    pub source: SocketAddr,
}

/// Encodes and decodes rewritten contacts with one per-process key.
#[derive(Clone)]
pub struct ContactRewriter {
    mac_key: [u8; 32],
    enc_key: [u8; 32],
}

impl std::fmt::Debug for ContactRewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactRewriter { .. }")
    }
}

impl ContactRewriter {
    /// A rewriter keyed with `secret` (draw it at random: tokens from another key do not
    /// decode).
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            mac_key: hmac_sha256(&secret, &[b"contact mac"]),
            enc_key: hmac_sha256(&secret, &[b"contact enc"]),
        }
    }

    /// The URI that replaces `original`: the token at `out`'s sent-by, same scheme, with a
    /// `transport` parameter for stream legs.
    pub fn encode(&self, original: &Uri, origin: &ContactOrigin, out: &LegInfo) -> Uri {
        let mut payload = vec![VERSION];
        payload.push(u8::try_from(origin.leg).unwrap_or(u8::MAX));
        payload.push(u8::try_from(origin.via_leg).unwrap_or(u8::MAX));
        match origin.source.ip() {
            IpAddr::V4(ip) => {
                payload.push(4);
                payload.extend_from_slice(&ip.octets());
            }
            IpAddr::V6(ip) => {
                payload.push(6);
                payload.extend_from_slice(&ip.octets());
            }
        }
        payload.extend_from_slice(&origin.source.port().to_be_bytes());
        payload.extend_from_slice(original.to_string().as_bytes());

        let siv = &hmac_sha256(&self.mac_key, &[&payload])[..SIV_LEN];
        self.apply_keystream(siv, &mut payload);
        let mut token = Vec::with_capacity(SIV_LEN + payload.len());
        token.extend_from_slice(siv);
        token.extend_from_slice(&payload);

        let mut uri = SipUri::new(
            Some(&format!("b{}", base32_encode(&token))),
            out.sent_by.0.clone(),
        );
        uri.set_port(Some(out.sent_by.1));
        if original.as_sip().is_some_and(SipUri::is_secure) {
            uri.set_secure(true);
        }
        if out.protocol != sip_transport::Protocol::Udp {
            uri.params_mut()
                .set("transport", Some(out.protocol.as_str()));
        }
        Uri::from(uri)
    }

    /// The original URI and its origin, when `uri`'s user part is a token of this key.
    pub fn decode(&self, uri: &Uri) -> Option<(Uri, ContactOrigin)> {
        let user = uri.as_sip()?.user()?;
        let raw = base32_decode(user.strip_prefix('b')?)?;
        if raw.len() <= SIV_LEN {
            return None;
        }
        let (siv, ciphertext) = raw.split_at(SIV_LEN);
        let mut payload = ciphertext.to_vec();
        self.apply_keystream(siv, &mut payload);
        let mac = hmac_sha256(&self.mac_key, &[&payload]);
        if !constant_time_eq(&mac[..SIV_LEN], siv) {
            return None;
        }
        let (&version, rest) = payload.split_first()?;
        if version != VERSION || rest.len() < 3 {
            return None;
        }
        let (leg, via_leg, family, rest) = (rest[0], rest[1], rest[2], &rest[3..]);
        let (ip, rest): (IpAddr, &[u8]) = match family {
            4 if rest.len() >= 4 => {
                let o: [u8; 4] = rest[..4].try_into().ok()?;
                (Ipv4Addr::from(o).into(), &rest[4..])
            }
            6 if rest.len() >= 16 => {
                let o: [u8; 16] = rest[..16].try_into().ok()?;
                (Ipv6Addr::from(o).into(), &rest[16..])
            }
            _ => return None,
        };
        if rest.len() < 2 {
            return None;
        }
        let port = u16::from_be_bytes([rest[0], rest[1]]);
        let original = Uri::parse(std::str::from_utf8(&rest[2..]).ok()?).ok()?;
        Some((
            original,
            ContactOrigin {
                leg: usize::from(leg),
                via_leg: usize::from(via_leg),
                source: SocketAddr::new(ip, port),
            },
        ))
    }

    /// Rewrites every SIP Contact of a message leaving on `out`: a token of ours back to its
    /// original, anything else to a new token. A Contact header that does not parse, and
    /// `Contact: *`, are left as they are. Returns whether anything changed.
    pub fn rewrite_headers(
        &self,
        headers: &mut Headers,
        origin: &ContactOrigin,
        out: &LegInfo,
    ) -> bool {
        let contacts: Result<Vec<Contact>, _> = headers.contacts().collect();
        let Ok(contacts) = contacts else {
            return false;
        };
        if contacts.is_empty() || contacts.iter().any(|c| c.address().is_none()) {
            return false;
        }
        let mut values = Vec::with_capacity(contacts.len());
        for c in contacts {
            let Some(mut addr) = c.address().cloned() else {
                return false;
            };
            if addr.uri().as_sip().is_some() {
                let new = match self.decode(addr.uri()) {
                    Some((original, _)) => original,
                    None => self.encode(addr.uri(), origin, out),
                };
                *addr.uri_mut() = new;
            }
            values.push(addr.to_string());
        }
        headers.remove("Contact");
        for v in values {
            headers.add("Contact", v);
        }
        true
    }

    fn apply_keystream(&self, siv: &[u8], data: &mut [u8]) {
        for (i, chunk) in data.chunks_mut(32).enumerate() {
            let mut h = Sha256::new();
            h.update(self.enc_key);
            h.update(siv);
            h.update((i as u32).to_be_bytes());
            let block = h.finalize();
            for (b, k) in chunk.iter_mut().zip(block.iter()) {
                *b ^= k;
            }
        }
    }
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 8 / 5 + 1);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
        buf &= (1 << bits) - 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_packet::Host;
    use sip_transport::Protocol;

    fn out_leg() -> LegInfo {
        LegInfo::new(
            Protocol::Tcp,
            "127.0.0.1:5070".parse().unwrap(),
            (Host::parse("127.0.0.1").unwrap(), 5070),
        )
    }

    fn origin() -> ContactOrigin {
        ContactOrigin {
            leg: 0,
            via_leg: 1,
            source: "203.0.113.7:40001".parse().unwrap(),
        }
    }

    #[test]
    fn base32_round_trips() {
        for n in 0..40u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base32_decode(&base32_encode(&data)).unwrap(), data);
        }
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("ab"), None);
    }

    #[test]
    fn encode_then_decode() {
        let rw = ContactRewriter::new([7; 32]);
        let original: Uri = "sip:alice@10.0.0.5:5062;transport=udp;ob".parse().unwrap();
        let new = rw.encode(&original, &origin(), &out_leg());
        let s = new.to_string();
        assert!(s.starts_with("sip:b"), "{s}");
        assert!(s.ends_with("@127.0.0.1:5070;transport=tcp"), "{s}");
        assert!(!s.contains("10.0.0.5"));
        // Deterministic: retransmissions carry the same Contact.
        assert_eq!(rw.encode(&original, &origin(), &out_leg()), new);
        let (back, o) = rw.decode(&new).unwrap();
        assert_eq!(back, original);
        assert_eq!(o, origin());
        // Another key, or a changed token, does not decode.
        assert!(ContactRewriter::new([8; 32]).decode(&new).is_none());
        let user = new.as_sip().unwrap().user().unwrap().to_owned();
        let mut forged = user.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged: Uri = format!("sip:{}@127.0.0.1", String::from_utf8(forged).unwrap())
            .parse()
            .unwrap();
        assert!(rw.decode(&forged).is_none());
        assert!(rw.decode(&"sip:bob@127.0.0.1".parse().unwrap()).is_none());
        assert!(rw.decode(&"sip:bAAAA@127.0.0.1".parse().unwrap()).is_none());
    }

    #[test]
    fn headers_rewritten_and_back() {
        let rw = ContactRewriter::new([1; 32]);
        let mut h = Headers::new();
        h.add(
            "Contact",
            "\"A\" <sip:alice@10.0.0.5>;expires=60, <tel:+123>",
        );
        assert!(rw.rewrite_headers(&mut h, &origin(), &out_leg()));
        let values: Vec<String> = h.get_all("Contact").map(|v| v.to_string()).collect();
        assert_eq!(values.len(), 2);
        assert!(values[0].starts_with("\"A\" <sip:b"), "{}", values[0]);
        assert!(
            values[0].ends_with(";transport=tcp>;expires=60"),
            "{}",
            values[0]
        );
        assert_eq!(values[1], "<tel:+123>");
        // Going back the other way restores the original.
        assert!(rw.rewrite_headers(&mut h, &origin(), &out_leg()));
        assert_eq!(
            h.get("Contact").unwrap(),
            "\"A\" <sip:alice@10.0.0.5>;expires=60"
        );
        let mut star = Headers::new();
        star.add("Contact", "*");
        assert!(!rw.rewrite_headers(&mut star, &origin(), &out_leg()));
    }
}
