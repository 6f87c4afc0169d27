//! A DNS made of a table, for tests and for users who know their peers' addresses (Net::SIP's
//! `dnsresolv` callback).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use super::dns::normalize_name;
use super::{BoxFuture, DnsResolver, LookupKind, Naptr, ResolveError, Srv};

/// How a [`StaticResolver`] makes every lookup of a name fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailKind {
    /// Answer NXDOMAIN: [`ResolveError::NxDomain`].
    NxDomain,
    /// Answer nothing in time: [`ResolveError::Timeout`] (at once: no clock is involved).
    Timeout,
    /// Answer SERVFAIL: [`ResolveError::ServerFailure`].
    ServerFailure,
}

/// A [`DnsResolver`] that answers from a table built up front.
///
/// A name in none of the tables is NXDOMAIN; a name in some table but not the one asked is
/// "no records". Names match case-insensitively, with or without a trailing dot. Every
/// question asked is logged, in order, for tests to check ([`StaticResolver::queries`]).
///
/// ```
/// use sip_dispatch::resolve::{DnsResolver, FailKind, Naptr, ResolveError, Srv, StaticResolver};
/// let dns = StaticResolver::new()
///     .naptr("example.com", [Naptr::new(10, 10, "S", "SIP+D2U", "_sip._udp.example.com")])
///     .srv("_sip._udp.example.com", [Srv::new(10, 0, 5060, "sip.example.com")])
///     .ip("sip.example.com", [std::net::Ipv4Addr::new(127, 0, 0, 1)])
///     .fail("down.example.com", FailKind::Timeout);
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // The builder methods share names with the trait's, so call those through the trait.
/// let ips = DnsResolver::ip(&dns, "SIP.example.com.").await.unwrap();
/// assert_eq!(ips, ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
/// assert!(matches!(DnsResolver::srv(&dns, "down.example.com").await,
///                  Err(ResolveError::Timeout { .. })));
/// # });
/// ```
#[derive(Debug, Default)]
pub struct StaticResolver {
    naptr: HashMap<String, Vec<Naptr>>,
    srv: HashMap<String, Vec<Srv>>,
    ip: HashMap<String, Vec<IpAddr>>,
    fail: HashMap<String, FailKind>,
    queries: Mutex<Vec<(LookupKind, String)>>,
}

impl StaticResolver {
    /// An empty table: every name is NXDOMAIN.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds NAPTR records for `name` (to any already there).
    #[must_use]
    pub fn naptr(mut self, name: &str, records: impl IntoIterator<Item = Naptr>) -> Self {
        self.naptr
            .entry(normalize_name(name))
            .or_default()
            .extend(records);
        self
    }

    /// Adds SRV records for `name`, e.g. `_sip._udp.example.com` (to any already there).
    #[must_use]
    pub fn srv(mut self, name: &str, records: impl IntoIterator<Item = Srv>) -> Self {
        self.srv
            .entry(normalize_name(name))
            .or_default()
            .extend(records);
        self
    }

    /// Adds A/AAAA addresses for `name` (after any already there: they are answered in the
    /// order given).
    #[must_use]
    pub fn ip<A: Into<IpAddr>>(mut self, name: &str, addrs: impl IntoIterator<Item = A>) -> Self {
        self.ip
            .entry(normalize_name(name))
            .or_default()
            .extend(addrs.into_iter().map(Into::into));
        self
    }

    /// Makes every lookup of `name` fail as `kind` says, whatever the tables hold.
    #[must_use]
    pub fn fail(mut self, name: &str, kind: FailKind) -> Self {
        self.fail.insert(normalize_name(name), kind);
        self
    }

    /// Every question asked so far, in order, with names as asked.
    pub fn queries(&self) -> Vec<(LookupKind, String)> {
        self.queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn answer<T: Clone>(
        &self,
        kind: LookupKind,
        name: &str,
        table: &HashMap<String, Vec<T>>,
    ) -> Result<Vec<T>, ResolveError> {
        self.queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((kind, name.to_owned()));
        let key = normalize_name(name);
        let name = name.trim_end_matches('.').to_owned();
        if let Some(fail) = self.fail.get(&key) {
            return Err(match fail {
                FailKind::NxDomain => ResolveError::NxDomain { name },
                FailKind::Timeout => ResolveError::Timeout { name, kind },
                FailKind::ServerFailure => ResolveError::ServerFailure {
                    name,
                    kind,
                    detail: "SERVFAIL (simulated)".to_owned(),
                },
            });
        }
        match table.get(&key) {
            Some(records) if !records.is_empty() => Ok(records.clone()),
            _ if self.knows(&key) => Err(ResolveError::NoRecords { name, kind }),
            _ => Err(ResolveError::NxDomain { name }),
        }
    }

    fn knows(&self, key: &str) -> bool {
        self.naptr.contains_key(key) || self.srv.contains_key(key) || self.ip.contains_key(key)
    }
}

impl DnsResolver for StaticResolver {
    fn naptr(&self, name: &str) -> BoxFuture<'_, Result<Vec<Naptr>, ResolveError>> {
        let answer = self.answer(LookupKind::Naptr, name, &self.naptr);
        Box::pin(async move { answer })
    }

    fn srv(&self, name: &str) -> BoxFuture<'_, Result<Vec<Srv>, ResolveError>> {
        let answer = self.answer(LookupKind::Srv, name, &self.srv);
        Box::pin(async move { answer })
    }

    fn ip(&self, name: &str) -> BoxFuture<'_, Result<Vec<IpAddr>, ResolveError>> {
        let answer = self.answer(LookupKind::Address, name, &self.ip);
        Box::pin(async move { answer })
    }
}
