//! How an endpoint behaves.

use std::time::Duration;

use sip_dispatch::transaction::TimerConfig;
use sip_packet::Method;

/// How an endpoint behaves: timers, randomness, registration refresh, what OPTIONS says.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EndpointConfig {
    /// T1 and T2 for 2xx retransmission (§13.3.1.4); use the dispatcher's.
    pub timers: TimerConfig,
    /// Seed of the random source of tags, Call-IDs and client nonces; `None` seeds from the
    /// OS.
    pub seed: Option<u64>,
    /// The fraction of a granted registration time after which the registration is
    /// refreshed (0.85: a 900 s binding is refreshed after 765 s).
    pub refresh_fraction: f64,
    /// How long after a failed REGISTER it is tried again.
    pub register_retry: Duration,
    /// How many redirections (3xx) one request follows at most.
    pub max_redirects: usize,
    /// The methods the Allow header lists (answers to OPTIONS).
    pub allow: Vec<Method>,
    /// The body types the Accept header lists (answers to OPTIONS).
    pub accept: Vec<String>,
    /// The User-Agent header of our requests, if any.
    pub user_agent: Option<String>,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            timers: TimerConfig::default(),
            seed: None,
            refresh_fraction: 0.85,
            register_retry: Duration::from_secs(30),
            max_redirects: 5,
            allow: vec![
                Method::Invite,
                Method::Ack,
                Method::Cancel,
                Method::Bye,
                Method::Options,
                Method::Update,
            ],
            accept: vec!["application/sdp".to_owned()],
            user_agent: None,
        }
    }
}

impl EndpointConfig {
    /// These timers.
    #[must_use]
    pub fn timers(mut self, timers: TimerConfig) -> Self {
        self.timers = timers;
        self
    }

    /// A fixed seed: the same tags, Call-IDs and nonces on every run.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Refreshes registrations after this fraction (clamped to 0.1 to 1) of the granted time.
    #[must_use]
    pub fn refresh_fraction(mut self, fraction: f64) -> Self {
        self.refresh_fraction = fraction.clamp(0.1, 1.0);
        self
    }

    /// Retries a failed registration after this long.
    #[must_use]
    pub fn register_retry(mut self, after: Duration) -> Self {
        self.register_retry = after;
        self
    }

    /// Follows at most this many redirections per request.
    #[must_use]
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// Sends this User-Agent header.
    #[must_use]
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }
}
