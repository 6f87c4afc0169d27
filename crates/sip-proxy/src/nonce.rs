//! Stateless nonces: each carries the time it was issued and an HMAC, so the server keeps no
//! table of the nonces it handed out (only of the nonce counts it has seen, bounded).

use std::collections::HashMap;

use crate::hmac::{constant_time_eq, hex, hmac_sha256, unhex};

/// Makes and checks nonces: `hex(issued_secs || random) || hex(HMAC(key, issued || random
/// || realm))[..32]`, 64 hex digits.
#[derive(Clone)]
pub struct NonceMint {
    key: [u8; 32],
    lifetime_secs: u64,
}

impl std::fmt::Debug for NonceMint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceMint")
            .field("lifetime_secs", &self.lifetime_secs)
            .finish_non_exhaustive()
    }
}

/// What a nonce is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceState {
    /// Ours and fresh; issued at this many seconds.
    Valid {
        /// When it was issued.
        issued: u64,
    },
    /// Ours but older than the lifetime: the client should retry with a new one.
    Stale {
        /// When it was issued.
        issued: u64,
    },
    /// Not ours (another key, altered, or from the future).
    Invalid,
}

impl NonceMint {
    /// Nonces under `key` that live `lifetime_secs` seconds.
    pub fn new(key: [u8; 32], lifetime_secs: u64) -> Self {
        Self { key, lifetime_secs }
    }

    /// A new nonce for `realm`, issued at `now_secs`; `random` makes nonces of the same
    /// second differ (their counts are tracked apart).
    pub fn issue(&self, now_secs: u64, random: u64, realm: &str) -> String {
        let mut body = [0u8; 16];
        body[..8].copy_from_slice(&now_secs.to_be_bytes());
        body[8..].copy_from_slice(&random.to_be_bytes());
        let mac = hmac_sha256(&self.key, &[&body, realm.as_bytes()]);
        format!("{}{}", hex(&body), hex(&mac[..16]))
    }

    /// Checks a nonce for `realm` at `now_secs`.
    pub fn check(&self, nonce: &str, now_secs: u64, realm: &str) -> NonceState {
        let Some(raw) = (nonce.len() == 64).then(|| unhex(nonce)).flatten() else {
            return NonceState::Invalid;
        };
        let (body, mac) = raw.split_at(16);
        let want = hmac_sha256(&self.key, &[body, realm.as_bytes()]);
        if !constant_time_eq(&want[..16], mac) {
            return NonceState::Invalid;
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&body[..8]);
        let issued = u64::from_be_bytes(ts);
        if issued > now_secs {
            NonceState::Invalid
        } else if now_secs - issued > self.lifetime_secs {
            NonceState::Stale { issued }
        } else {
            NonceState::Valid { issued }
        }
    }
}

/// What the nonce-count table says of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    /// A count higher than any seen with this nonce: accept.
    Fresh,
    /// The same count by the same transaction: a retransmission (over UDP a stateless proxy
    /// sees every one); accept.
    Retransmission,
    /// A count already used by another request: a replay; refuse.
    Replay,
    /// The table had to forget this nonce's counts to stay bounded: treat it as stale.
    Forgotten,
}

struct Seen {
    issued: u64,
    nc: u32,
    transaction: String,
}

/// The highest nonce count seen per nonce, bounded: entries leave when their nonce expires,
/// and when the table is full the oldest nonces are forgotten (and from then on refused as
/// stale, so forgetting never opens a replay window).
pub(crate) struct NonceCounts {
    seen: HashMap<String, Seen>,
    capacity: usize,
    lifetime_secs: u64,
    /// Nonces issued at or before this time that are not in the table were forgotten.
    forgotten_until: Option<u64>,
}

impl NonceCounts {
    pub(crate) fn new(capacity: usize, lifetime_secs: u64) -> Self {
        Self {
            seen: HashMap::new(),
            capacity: capacity.max(1),
            lifetime_secs,
            forgotten_until: None,
        }
    }

    /// Notes that `nonce` (issued at `issued`) was used with count `nc` by `transaction`.
    pub(crate) fn observe(
        &mut self,
        now_secs: u64,
        nonce: &str,
        issued: u64,
        nc: u32,
        transaction: &str,
    ) -> Count {
        if let Some(s) = self.seen.get_mut(nonce) {
            return if nc > s.nc {
                s.nc = nc;
                s.transaction = transaction.to_owned();
                Count::Fresh
            } else if nc == s.nc && s.transaction == transaction {
                Count::Retransmission
            } else {
                Count::Replay
            };
        }
        if self.forgotten_until.is_some_and(|t| issued <= t) {
            return Count::Forgotten;
        }
        if self.seen.len() >= self.capacity {
            let lifetime = self.lifetime_secs;
            self.seen
                .retain(|_, s| now_secs.saturating_sub(s.issued) <= lifetime);
        }
        while self.seen.len() >= self.capacity {
            let Some((oldest, issued_at)) = self
                .seen
                .iter()
                .min_by_key(|(_, s)| s.issued)
                .map(|(k, s)| (k.clone(), s.issued))
            else {
                break;
            };
            self.seen.remove(&oldest);
            self.forgotten_until = Some(self.forgotten_until.unwrap_or(0).max(issued_at));
            if issued <= issued_at {
                return Count::Forgotten;
            }
        }
        self.seen.insert(
            nonce.to_owned(),
            Seen {
                issued,
                nc,
                transaction: transaction.to_owned(),
            },
        );
        Count::Fresh
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_carry_time_and_mac() {
        let mint = NonceMint::new([9; 32], 300);
        let n = mint.issue(1000, 42, "r");
        assert_eq!(n.len(), 64);
        assert_ne!(n, mint.issue(1000, 43, "r"));
        assert_eq!(
            mint.check(&n, 1000, "r"),
            NonceState::Valid { issued: 1000 }
        );
        assert_eq!(
            mint.check(&n, 1300, "r"),
            NonceState::Valid { issued: 1000 }
        );
        assert_eq!(
            mint.check(&n, 1301, "r"),
            NonceState::Stale { issued: 1000 }
        );
        assert_eq!(mint.check(&n, 999, "r"), NonceState::Invalid);
        assert_eq!(mint.check(&n, 1000, "other realm"), NonceState::Invalid);
        assert_eq!(
            NonceMint::new([8; 32], 300).check(&n, 1000, "r"),
            NonceState::Invalid
        );
        let mut forged = n.clone().into_bytes();
        forged[0] = b'1';
        assert_eq!(
            mint.check(std::str::from_utf8(&forged).unwrap(), 1000, "r"),
            NonceState::Invalid
        );
        assert_eq!(mint.check("xyz", 1000, "r"), NonceState::Invalid);
    }

    #[test]
    fn counts_refuse_replays_and_stay_bounded() {
        let mut c = NonceCounts::new(2, 300);
        assert_eq!(c.observe(0, "n1", 0, 1, "t1"), Count::Fresh);
        assert_eq!(c.observe(0, "n1", 0, 1, "t1"), Count::Retransmission);
        assert_eq!(c.observe(0, "n1", 0, 1, "t2"), Count::Replay);
        assert_eq!(c.observe(0, "n1", 0, 2, "t2"), Count::Fresh);
        assert_eq!(c.observe(0, "n1", 0, 1, "t3"), Count::Replay);
        assert_eq!(c.observe(5, "n2", 5, 1, "t4"), Count::Fresh);
        // Full: the oldest nonce (n1) is forgotten, and refused from then on.
        assert_eq!(c.observe(10, "n3", 10, 1, "t5"), Count::Fresh);
        assert_eq!(c.len(), 2);
        assert_eq!(c.observe(10, "n1", 0, 3, "t6"), Count::Forgotten);
        // Expired entries leave first.
        assert_eq!(c.observe(400, "n4", 400, 1, "t7"), Count::Fresh);
        assert_eq!(c.len(), 1);
    }
}
