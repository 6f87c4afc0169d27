//! Branches, tags, Call-IDs and client nonces from an injectable random source.
//!
//! Every function takes the generator, so a seeded one (`rand::rngs::StdRng::seed_from_u64`)
//! replays a whole run and a test can predict every identifier.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! let mut rng = StdRng::seed_from_u64(7);
//! let b = sip_packet::random::branch(&mut rng);
//! assert!(b.starts_with("z9hG4bK"));
//! assert_eq!(b, sip_packet::random::branch(&mut StdRng::seed_from_u64(7)));
//! ```

use rand::RngCore;

use crate::via::BRANCH_COOKIE;

/// Lower-case letters and digits: safe in a token, a Call-ID and a URI.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn chars(rng: &mut impl RngCore, n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect()
}

/// A branch: the RFC 3261 magic cookie and 120 random bits (§8.1.1.7).
pub fn branch(rng: &mut impl RngCore) -> String {
    let mut s = String::with_capacity(BRANCH_COOKIE.len() + 24);
    s.push_str(BRANCH_COOKIE);
    s.push_str(&chars(rng, 24));
    s
}

/// A From/To tag with 80 random bits (§19.3 asks for at least 32).
pub fn tag(rng: &mut impl RngCore) -> String {
    chars(rng, 16)
}

/// A Call-ID with 160 random bits, `@host` appended when given (§8.1.1.4).
pub fn call_id(rng: &mut impl RngCore, host: Option<&str>) -> String {
    let mut id = chars(rng, 32);
    if let Some(h) = host {
        id.push('@');
        id.push_str(h);
    }
    id
}

/// A client nonce for digest authentication.
pub fn cnonce(rng: &mut impl RngCore) -> String {
    chars(rng, 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn seeded_runs_repeat_and_values_differ() {
        let mut a = StdRng::seed_from_u64(1);
        let mut b = StdRng::seed_from_u64(1);
        assert_eq!(tag(&mut a), tag(&mut b));
        assert_ne!(tag(&mut a), tag(&mut StdRng::seed_from_u64(2)));
        let id = call_id(&mut a, Some("host.example"));
        assert!(id.ends_with("@host.example") && id.len() == 32 + 13);
        assert!(crate::text::is_token(&branch(&mut a)));
    }
}
