//! Static routes that come before the DNS: Net::SIP's `domain2proxy` and `outgoing_proxy`.

use sip_packet::{Host, Uri};

/// Where to send requests regardless of what the DNS says.
///
/// ```
/// use sip_dispatch::resolve::RouteConfig;
/// use sip_packet::{Host, Uri};
/// let config = RouteConfig::new()
///     .with_domain2proxy("example.com", Uri::parse("sip:127.0.0.1:5070").unwrap())
///     .with_domain2proxy("*.example.org", Uri::parse("sip:127.0.0.2;transport=tcp").unwrap())
///     .with_domain2proxy("*", Uri::parse("sip:127.0.0.3").unwrap());
/// let proxy = |d: &str| config.proxy_for(&Host::parse(d).unwrap()).map(|u| u.to_string());
/// assert_eq!(proxy("example.com").as_deref(), Some("sip:127.0.0.1:5070"));
/// assert_eq!(proxy("a.b.example.org").as_deref(), Some("sip:127.0.0.2;transport=tcp"));
/// assert_eq!(proxy("example.org").as_deref(), Some("sip:127.0.0.2;transport=tcp"));
/// assert_eq!(proxy("sub.example.com").as_deref(), Some("sip:127.0.0.3"));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RouteConfig {
    /// `(pattern, proxy)` pairs: a request for a domain matching the pattern goes to the proxy.
    /// A pattern is a domain (`example.com`: that domain only), `*.domain` (the domain and all
    /// its subdomains, as in Net::SIP) or `*` (any host, the fallback). The most specific
    /// pattern wins, whatever the order of the list: exact, then the `*.domain` nearest the
    /// host, then `*`. Domains compare case-insensitively. An IP host matches its exact
    /// address text (`127.0.0.1`, `[::1]`) or `*`.
    pub domain2proxy: Vec<(String, Uri)>,
    /// The proxy for every request that `domain2proxy` does not route.
    pub outgoing_proxy: Option<Uri>,
}

impl RouteConfig {
    /// No static routes: everything goes by the URI and the DNS.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `domain2proxy` entry.
    #[must_use]
    pub fn with_domain2proxy(mut self, pattern: impl Into<String>, proxy: Uri) -> Self {
        self.domain2proxy.push((pattern.into(), proxy));
        self
    }

    /// Sets the outgoing proxy.
    #[must_use]
    pub fn with_outgoing_proxy(mut self, proxy: Uri) -> Self {
        self.outgoing_proxy = Some(proxy);
        self
    }

    /// The `domain2proxy` proxy for `host`, by the most specific matching pattern.
    pub fn proxy_for(&self, host: &Host) -> Option<&Uri> {
        let wanted = match host.domain() {
            Some(d) => d.trim_end_matches('.').to_ascii_lowercase(),
            None => host.to_string(),
        };
        let lookup = |pattern: &str| {
            self.domain2proxy
                .iter()
                .find(|(p, _)| p.trim_end_matches('.').eq_ignore_ascii_case(pattern))
                .map(|(_, proxy)| proxy)
        };
        if let Some(proxy) = lookup(&wanted) {
            return Some(proxy);
        }
        if host.domain().is_some() {
            // `*.example.com` covers example.com itself and every name under it; the nearest
            // parent wins, so walk up one label at a time.
            let mut suffix = wanted.as_str();
            loop {
                if let Some(proxy) = lookup(&format!("*.{suffix}")) {
                    return Some(proxy);
                }
                match suffix.split_once('.') {
                    Some((_, parent)) if !parent.is_empty() => suffix = parent,
                    _ => break,
                }
            }
        }
        lookup("*")
    }
}
