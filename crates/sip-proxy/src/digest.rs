//! Digest authentication of requests (RFC 3261 §22, RFC 7616, RFC 8760) without IO:
//! Net::SIP::Authorize's decisions.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sip_packet::digest::{verify, Algorithm, DigestCredentials, Qop, Secret};
use sip_packet::{AuthValue, Method, Request, Response};

use crate::hmac::{hex, hmac_sha256};
use crate::nonce::{Count, NonceCounts, NonceMint, NonceState};
use crate::users::{UserSecret, UserStore};

/// How an authorizer challenges.
#[derive(Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The realm announced and required.
    pub realm: String,
    /// Who may authenticate.
    pub users: Arc<dyn UserStore>,
    /// Answer requests other than REGISTER with 407 and Proxy-Authenticate (Net::SIP's
    /// `i_am_proxy`; default true); else 401 and WWW-Authenticate. REGISTER always gets 401.
    pub i_am_proxy: bool,
    /// How long a nonce is good for (default 300 s); older ones get `stale=true`.
    pub nonce_lifetime: Duration,
    /// The algorithms offered, in order of preference, one challenge header each (default
    /// SHA-256 then MD5, as RFC 8760 §2.4 orders them).
    pub algorithms: Vec<Algorithm>,
    /// How many nonces' counts are remembered at most (default 10000).
    pub max_tracked_nonces: usize,
    /// The seed of the nonce key and the nonces' random part; `None` draws from the OS.
    pub seed: Option<u64>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("realm", &self.realm)
            .field("i_am_proxy", &self.i_am_proxy)
            .field("nonce_lifetime", &self.nonce_lifetime)
            .field("algorithms", &self.algorithms)
            .field("max_tracked_nonces", &self.max_tracked_nonces)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// Challenges for `realm` checked against `users`, with the defaults above.
    pub fn new(realm: impl Into<String>, users: Arc<dyn UserStore>) -> Self {
        Self {
            realm: realm.into(),
            users,
            i_am_proxy: true,
            nonce_lifetime: Duration::from_secs(300),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            max_tracked_nonces: 10_000,
            seed: None,
        }
    }

    /// 407 (proxy) or 401 for requests other than REGISTER.
    #[must_use]
    pub fn i_am_proxy(mut self, on: bool) -> Self {
        self.i_am_proxy = on;
        self
    }

    /// The nonce lifetime.
    #[must_use]
    pub fn nonce_lifetime(mut self, lifetime: Duration) -> Self {
        self.nonce_lifetime = lifetime;
        self
    }

    /// The algorithms offered.
    #[must_use]
    pub fn algorithms(mut self, algorithms: Vec<Algorithm>) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// A fixed seed (tests).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

/// What [`DigestAuth::check`] says of a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// Valid credentials of this user: let the request through.
    Authorized {
        /// The authenticated user name.
        username: String,
    },
    /// Not subject to authentication: an ACK or CANCEL (RFC 3261 §22.1: they cannot be
    /// challenged); let it through.
    Exempt,
    /// The ACK of one of our own challenges: it ends here.
    Absorb,
    /// Send this 401 or 407; the request goes no further.
    Challenge(Response),
}

/// Checks requests' digest credentials and makes challenges, keeping no per-challenge
/// state: nonces are [`NonceMint`]'s, and only the nonce counts seen are remembered.
pub struct DigestAuth {
    config: AuthConfig,
    mint: NonceMint,
    tag_key: [u8; 32],
    epoch: Instant,
    counts: Mutex<NonceCounts>,
    rng: Mutex<StdRng>,
}

impl std::fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestAuth")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Failure, and whether only the nonce's age was wrong.
enum Failure {
    Rejected,
    Stale,
}

impl DigestAuth {
    /// An authorizer; `epoch` is the time nonces count their seconds from (the process's
    /// start: nonces of another process do not verify anyway).
    pub fn new(config: AuthConfig, epoch: Instant) -> Self {
        let mut rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        let mut tag_key = [0u8; 32];
        rng.fill_bytes(&mut tag_key);
        let lifetime = config.nonce_lifetime.as_secs();
        Self {
            mint: NonceMint::new(key, lifetime),
            counts: Mutex::new(NonceCounts::new(config.max_tracked_nonces, lifetime)),
            tag_key,
            epoch,
            rng: Mutex::new(rng),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    /// Whether `request`, at `now`, carries valid credentials for our realm.
    pub fn check(&self, now: Instant, request: &Request) -> AuthOutcome {
        match request.method() {
            Method::Ack => {
                let ours = request
                    .headers()
                    .to()
                    .ok()
                    .is_some_and(|to| to.tag() == Some(self.challenge_tag(request).as_str()));
                return if ours {
                    AuthOutcome::Absorb
                } else {
                    AuthOutcome::Exempt
                };
            }
            Method::Cancel => return AuthOutcome::Exempt,
            _ => {}
        }
        let proxy = self.config.i_am_proxy && request.method() != &Method::Register;
        let values: Vec<AuthValue> = if proxy {
            request.headers().proxy_authorization().flatten().collect()
        } else {
            request.headers().authorization().flatten().collect()
        };
        let mut stale = false;
        for v in values.iter().filter(|v| v.is_digest()) {
            if v.get("realm").as_deref() != Some(self.config.realm.as_str()) {
                continue; // for another proxy on the path
            }
            match self.check_one(now, request, v) {
                Ok(username) => {
                    tracing::debug!(%username, "authorized");
                    return AuthOutcome::Authorized { username };
                }
                Err(Failure::Stale) => stale = true,
                Err(Failure::Rejected) => {}
            }
        }
        AuthOutcome::Challenge(self.challenge(now, request, proxy, stale))
    }

    fn check_one(&self, now: Instant, request: &Request, v: &AuthValue) -> Result<String, Failure> {
        let c = DigestCredentials::from_auth_value(v).map_err(|_| Failure::Rejected)?;
        if !self.config.algorithms.contains(&c.algorithm) {
            return Err(Failure::Rejected);
        }
        // qop is required: without a nonce count, replays cannot be told apart.
        let Some((_, nc, _)) = &c.qop else {
            return Err(Failure::Rejected);
        };
        let now_secs = self.secs(now);
        let (issued, is_stale) = match self.mint.check(&c.nonce, now_secs, &self.config.realm) {
            NonceState::Valid { issued } => (issued, false),
            NonceState::Stale { issued } => (issued, true),
            _ => return Err(Failure::Rejected),
        };
        let secrets = self.config.users.secrets(&c.username, &self.config.realm);
        let secret = secrets.iter().find_map(|s| match s {
            UserSecret::Password(p) => Some(Secret::Password(p)),
            UserSecret::Ha1 { algorithm, ha1 } if same_hash(*algorithm, c.algorithm) => {
                Some(Secret::Ha1(ha1))
            }
            _ => None,
        });
        // An unknown user costs the same digest as a known one and gets the same answer.
        let dummy = Secret::Password("\u{0}no such user\u{0}");
        let verified = verify(
            v,
            request.method().as_str(),
            request.body(),
            secret.as_ref().unwrap_or(&dummy),
        )
        .is_ok();
        if !verified || secret.is_none() {
            return Err(Failure::Rejected);
        }
        if is_stale {
            // RFC 7616 §3.3: stale only when the digest itself was right.
            return Err(Failure::Stale);
        }
        let transaction = transaction_key(request);
        let count = self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(now_secs, &c.nonce, issued, *nc, &transaction);
        match count {
            Count::Fresh | Count::Retransmission => Ok(c.username),
            Count::Forgotten => Err(Failure::Stale),
            Count::Replay => {
                tracing::info!(username = %c.username, nc, "nonce count replayed; refused");
                Err(Failure::Rejected)
            }
        }
    }

    fn challenge(&self, now: Instant, request: &Request, proxy: bool, stale: bool) -> Response {
        let (status, header) = if proxy {
            (407, "Proxy-Authenticate")
        } else {
            (401, "WWW-Authenticate")
        };
        let mut r = Response::from_request(request, status, None);
        let _ = r.set_to_tag(&self.challenge_tag(request));
        let random = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_u64();
        let nonce = self.mint.issue(self.secs(now), random, &self.config.realm);
        for algorithm in &self.config.algorithms {
            let mut v = AuthValue::new("Digest");
            v.push_quoted("realm", &self.config.realm);
            v.push_quoted("nonce", &nonce);
            v.push_token("algorithm", algorithm.as_str());
            v.push_quoted("qop", Qop::Auth.as_str());
            if stale {
                v.push_token("stale", "true");
            }
            r.headers_mut().add(header, v.to_string());
        }
        r
    }

    /// The To tag of our challenges to this request: derived (the same for every
    /// retransmission) so that its ACK is recognised without state.
    fn challenge_tag(&self, request: &Request) -> String {
        let h = request.headers();
        let call_id = h.call_id().map(|c| c.to_string()).unwrap_or_default();
        let from_tag = h
            .from()
            .ok()
            .and_then(|f| f.tag().map(str::to_owned))
            .unwrap_or_default();
        let seq = h.cseq().map(|c| c.seq()).unwrap_or_default();
        let mac = hmac_sha256(
            &self.tag_key,
            &[
                call_id.as_bytes(),
                b"\0",
                from_tag.as_bytes(),
                &seq.to_be_bytes(),
            ],
        );
        format!("au{}", hex(&mac[..8]))
    }
}

/// Whether an HA1 made with `have` serves `want` (`-sess` uses the plain HA1).
fn same_hash(have: Algorithm, want: Algorithm) -> bool {
    let sha = |a| matches!(a, Algorithm::Sha256 | Algorithm::Sha256Sess);
    sha(have) == sha(want)
}

/// What identifies a request's transaction for the nonce-count table: a retransmission has
/// the same.
fn transaction_key(request: &Request) -> String {
    let h = request.headers();
    let branch = h
        .top_via()
        .ok()
        .and_then(|v| v.branch().map(str::to_owned))
        .unwrap_or_default();
    let seq = h.cseq().map(|c| c.seq()).unwrap_or_default();
    format!("{branch} {seq} {}", request.method())
}

#[cfg(test)]
mod tests;
