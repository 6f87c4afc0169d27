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

/// `n` random characters of [`ALPHABET`], five random bits each.
fn chars(rng: &mut impl RngCore, n: usize) -> String {
    let mut s = String::with_capacity(n);
    push_chars(rng, n, &mut s);
    s
}

/// Appends `n` random characters to `out`, drawn in blocks on the stack: no allocation but
/// the one `out` may need.
fn push_chars(rng: &mut impl RngCore, n: usize, out: &mut String) {
    let mut block = [0u8; 32];
    let mut left = n;
    while left > 0 {
        let take = left.min(block.len());
        rng.fill_bytes(&mut block[..take]);
        out.extend(
            block[..take]
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
        );
        left -= take;
    }
}

/// A branch: the RFC 3261 magic cookie and 120 random bits (§8.1.1.7).
pub fn branch(rng: &mut impl RngCore) -> String {
    let mut s = String::with_capacity(BRANCH_COOKIE.len() + 24);
    s.push_str(BRANCH_COOKIE);
    push_chars(rng, 24, &mut s);
    s
}

/// A From/To tag with 80 random bits (§19.3 asks for at least 32).
pub fn tag(rng: &mut impl RngCore) -> String {
    chars(rng, 16)
}

/// A Call-ID with 160 random bits, `@host` appended when given (§8.1.1.4).
pub fn call_id(rng: &mut impl RngCore, host: Option<&str>) -> String {
    let mut id = String::with_capacity(33 + host.map_or(0, str::len));
    push_chars(rng, 32, &mut id);
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

    #[test]
    fn lengths_and_characters() {
        let mut rng = StdRng::seed_from_u64(3);
        let only_alphabet = |s: &str| s.bytes().all(|b| ALPHABET.contains(&b));
        let t = tag(&mut rng);
        assert!(t.len() == 16 && only_alphabet(&t), "{t}");
        let b = branch(&mut rng);
        assert!(b.len() == BRANCH_COOKIE.len() + 24 && only_alphabet(&b[BRANCH_COOKIE.len()..]));
        let id = call_id(&mut rng, None);
        assert!(id.len() == 32 && only_alphabet(&id), "{id}");
        // Longer than one block of random bytes.
        let long = chars(&mut rng, 70);
        assert!(long.len() == 70 && only_alphabet(&long), "{long}");
        // Not one character repeated: the blocks are drawn anew.
        assert!(long.bytes().any(|c| c != long.as_bytes()[0]));
    }
}
