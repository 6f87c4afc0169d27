//! Static routes that come before the DNS: Net::SIP's `domain2proxy` and `outgoing_proxy`.

use std::fmt;

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
        if self.domain2proxy.is_empty() {
            return None;
        }
        // Compared in place, without a lower-cased or printed copy: this runs for every
        // request a proxy routes. An IPv4 address is compared with the patterns that read as
        // one (the text std reads is the dotted quad printing writes, nothing looser); an
        // IPv6 one prints into a buffer on the stack.
        if let Host::Ipv4(a) = host {
            let found = self.domain2proxy.iter().find(|(p, _)| {
                p.trim_end_matches('.').parse::<std::net::Ipv4Addr>().ok() == Some(*a)
            });
            return found.map(|(_, proxy)| proxy).or_else(|| self.wildcard());
        }
        let mut printed = HostText::default();
        let wanted = match host.domain() {
            Some(d) => d.trim_end_matches('.'),
            None => {
                if fmt::write(&mut printed, format_args!("{host}")).is_err() {
                    return self.wildcard();
                }
                printed.as_str()
            }
        };
        let found = self.domain2proxy.iter().find(|(p, _)| {
            let p = p.trim_end_matches('.');
            p.eq_ignore_ascii_case(wanted) && p != "*"
        });
        if let Some((_, proxy)) = found {
            return Some(proxy);
        }
        if host.domain().is_some() {
            // `*.example.com` covers example.com itself and every name under it; the nearest
            // parent wins, so walk up one label at a time.
            let mut suffix = wanted;
            loop {
                let found = self.domain2proxy.iter().find(|(p, _)| {
                    p.trim_end_matches('.')
                        .strip_prefix("*.")
                        .is_some_and(|d| d.eq_ignore_ascii_case(suffix))
                });
                if let Some((_, proxy)) = found {
                    return Some(proxy);
                }
                match suffix.split_once('.') {
                    Some((_, parent)) if !parent.is_empty() => suffix = parent,
                    _ => break,
                }
            }
        }
        self.wildcard()
    }

    /// The `*` entry, when there is one.
    fn wildcard(&self) -> Option<&Uri> {
        self.domain2proxy
            .iter()
            .find(|(p, _)| p.trim_end_matches('.') == "*")
            .map(|(_, proxy)| proxy)
    }
}

/// A host address as text, on the stack: `[` an IPv6 address `]` is at most 47 bytes.
struct HostText {
    buf: [u8; 64],
    len: usize,
}

impl Default for HostText {
    fn default() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }
}

impl HostText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for HostText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
