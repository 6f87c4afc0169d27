//! The registrar's options, as Net::SIP::Registrar's.

use std::time::Duration;

/// Options of a [`Registrar`](crate::Registrar).
///
/// ```
/// use sip_registrar::RegistrarConfig;
/// let config = RegistrarConfig::new()
///     .min_expires(10)
///     .max_expires(60)
///     .domains(["example.com", "example.org"]);
/// assert!(config.serves("pbx.example.org"));
/// assert!(!config.serves("example.net"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RegistrarConfig {
    pub(crate) min_expires: u32,
    pub(crate) max_expires: u32,
    pub(crate) default_expires: u32,
    pub(crate) domains: Vec<String>,
    pub(crate) standalone: bool,
    pub(crate) remember_for: Duration,
    pub(crate) seed: Option<u64>,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        Self {
            min_expires: 30,
            max_expires: 300,
            default_expires: 3600,
            domains: Vec::new(),
            standalone: false,
            remember_for: Duration::from_secs(3600),
            seed: None,
        }
    }
}

/// Why options do not make a registrar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `min_expires` is above `max_expires`: no interval would be accepted.
    #[error("min_expires ({min}) is above max_expires ({max})")]
    MinAboveMax {
        /// The minimum given.
        min: u32,
        /// The maximum given.
        max: u32,
    },
    /// `max_expires` is 0: every binding would be removed as soon as it is made.
    #[error("max_expires must be at least 1")]
    ZeroMax,
}

impl RegistrarConfig {
    /// The defaults: min 30 s, max 300 s (Net::SIP's), every domain, inside a chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Intervals shorter than this (and not 0) get 423 Interval Too Brief with Min-Expires
    /// (RFC 3261 §10.3 step 7). Default 30.
    #[must_use]
    pub fn min_expires(mut self, secs: u32) -> Self {
        self.min_expires = secs;
        self
    }

    /// Longer intervals are cut to this. Default 300.
    #[must_use]
    pub fn max_expires(mut self, secs: u32) -> Self {
        self.max_expires = secs;
        self
    }

    /// The interval when a contact has no `expires` parameter and the request no Expires
    /// header (RFC 3261 §10.3 step 7: "a locally-configured default"). Default 3600, the
    /// value §10.2.1.1 suggests to clients, so that with the default `max_expires` the
    /// binding gets `max_expires`, as in Net::SIP; it is cut to `max_expires` like any
    /// interval.
    #[must_use]
    pub fn default_expires(mut self, secs: u32) -> Self {
        self.default_expires = secs;
        self
    }

    /// The domains served; none (the default) serves all. A host matches a domain when it is
    /// the domain or a subdomain of it (Net::SIP's rule); `*` matches everything.
    #[must_use]
    pub fn domains<S: Into<String>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        self.domains = domains
            .into_iter()
            .map(|d| d.into().to_ascii_lowercase())
            .collect();
        self
    }

    /// Adds one served domain.
    #[must_use]
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domains.push(domain.into().to_ascii_lowercase());
        self
    }

    /// Standalone, a REGISTER for an address the registrar does not serve gets 404 Not Found;
    /// otherwise (the default) it is left alone for the next member of a
    /// [`ReceiveChain`](sip_dispatch::ReceiveChain), as Net::SIP does.
    #[must_use]
    pub fn standalone(mut self, on: bool) -> Self {
        self.standalone = on;
        self
    }

    /// How long an address is remembered after its last binding went, so that a
    /// [`Redirect`](crate::Redirect) says 480 Temporarily Unavailable rather than 404.
    /// Default one hour.
    #[must_use]
    pub fn remember_for(mut self, d: Duration) -> Self {
        self.remember_for = d;
        self
    }

    /// Seeds the random source of To tags, so that one seed replays a run; default from
    /// the system's entropy.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether `host` (a URI's host, any case, IPv6 in brackets) is served.
    pub fn serves(&self, host: &str) -> bool {
        if self.domains.is_empty() {
            return true;
        }
        let host = host.to_ascii_lowercase();
        self.domains.iter().any(|d| {
            d == "*"
                || host == *d
                || (host.len() > d.len()
                    && host.ends_with(d.as_str())
                    && host.as_bytes()[host.len() - d.len() - 1] == b'.')
        })
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_expires == 0 {
            return Err(ConfigError::ZeroMax);
        }
        if self.min_expires > self.max_expires {
            return Err(ConfigError::MinAboveMax {
                min: self.min_expires,
                max: self.max_expires,
            });
        }
        Ok(())
    }

    /// The interval granted for `asked` (`None`: nothing asked): the default, cut to the
    /// maximum.
    pub(crate) fn granted(&self, asked: Option<u32>) -> u32 {
        asked.unwrap_or(self.default_expires).min(self.max_expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_matching_is_exact_or_subdomain() {
        let c = RegistrarConfig::new().domains(["Example.com"]);
        assert!(c.serves("example.com"));
        assert!(c.serves("EXAMPLE.COM"));
        assert!(c.serves("a.b.example.com"));
        assert!(!c.serves("badexample.com"));
        assert!(!c.serves("example.com.evil"));
        assert!(RegistrarConfig::new().serves("anything"));
        assert!(RegistrarConfig::new().domain("*").serves("anything"));
    }

    #[test]
    fn granted_interval_defaults_and_caps() {
        let c = RegistrarConfig::new();
        assert_eq!(c.granted(None), 300);
        assert_eq!(c.granted(Some(100_000)), 300);
        assert_eq!(c.granted(Some(0)), 0);
        assert_eq!(c.default_expires(60).granted(None), 60);
    }

    #[test]
    fn inconsistent_limits_are_refused() {
        assert_eq!(
            RegistrarConfig::new().min_expires(400).validate(),
            Err(ConfigError::MinAboveMax { min: 400, max: 300 })
        );
        assert_eq!(
            RegistrarConfig::new()
                .max_expires(0)
                .min_expires(0)
                .validate(),
            Err(ConfigError::ZeroMax)
        );
        assert_eq!(RegistrarConfig::new().validate(), Ok(()));
    }
}
