//! The real DNS, through hickory-resolver.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, Protocol as DnsProtocol, ResolverConfig, ResolverOpts,
};
use hickory_resolver::error::{ResolveError as HickoryError, ResolveErrorKind};
use hickory_resolver::proto::error::ProtoErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioAsyncResolver;

use super::{BoxFuture, DnsResolver, LookupKind, Naptr, ResolveError, Srv};

/// A [`DnsResolver`] that asks DNS servers, through hickory-resolver (with its cache).
///
/// Needs a tokio runtime when its lookups run. Names read from NAPTR and SRV answers are given
/// absolute, with their trailing dot.
#[derive(Debug, Clone)]
pub struct HickoryResolver {
    inner: TokioAsyncResolver,
}

impl HickoryResolver {
    /// The servers, search domains, timeouts and hosts file of the system (`/etc/resolv.conf`,
    /// `/etc/hosts`).
    ///
    /// Returns [`ResolveError::Config`] when the system configuration cannot be read.
    pub fn from_system() -> Result<Self, ResolveError> {
        let (config, opts) = hickory_resolver::system_conf::read_system_conf().map_err(|e| {
            ResolveError::Config {
                detail: e.to_string(),
            }
        })?;
        Ok(Self::build(config, opts))
    }

    /// Asks only the server at `server`, over UDP, with no search domains and no hosts file;
    /// each query waits 2 s for an answer and is sent twice at most.
    pub fn with_nameserver(server: SocketAddr) -> Self {
        Self::with_nameserver_timeout(server, Duration::from_secs(2), 2)
    }

    /// As [`HickoryResolver::with_nameserver`], with each query sent at most `attempts` times
    /// (at least once) and waiting `timeout` for an answer each time.
    pub fn with_nameserver_timeout(server: SocketAddr, timeout: Duration, attempts: usize) -> Self {
        let config = ResolverConfig::from_parts(
            None,
            Vec::new(),
            vec![NameServerConfig::new(server, DnsProtocol::Udp)],
        );
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = attempts.max(1);
        opts.use_hosts_file = false;
        Self::build(config, opts)
    }

    fn build(config: ResolverConfig, mut opts: ResolverOpts) -> Self {
        // Both families: RFC 3263 targets are every address of a host, and the dispatcher
        // walks the list on failure. The default strategy stops at the A records.
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        Self {
            inner: TokioAsyncResolver::tokio(config, opts),
        }
    }
}

impl DnsResolver for HickoryResolver {
    fn naptr(&self, name: &str) -> BoxFuture<'_, Result<Vec<Naptr>, ResolveError>> {
        let name = name.to_owned();
        Box::pin(async move {
            let lookup = self
                .inner
                .lookup(name.as_str(), RecordType::NAPTR)
                .await
                .map_err(|e| convert(&e, &name, LookupKind::Naptr))?;
            Ok(lookup
                .iter()
                .filter_map(|rdata| match rdata {
                    RData::NAPTR(n) => Some(Naptr::new(
                        n.order(),
                        n.preference(),
                        String::from_utf8_lossy(n.flags()),
                        String::from_utf8_lossy(n.services()),
                        n.replacement().to_ascii(),
                    )),
                    _ => None,
                })
                .collect())
        })
    }

    fn srv(&self, name: &str) -> BoxFuture<'_, Result<Vec<Srv>, ResolveError>> {
        let name = name.to_owned();
        Box::pin(async move {
            let lookup = self
                .inner
                .srv_lookup(name.as_str())
                .await
                .map_err(|e| convert(&e, &name, LookupKind::Srv))?;
            Ok(lookup
                .iter()
                .map(|s| Srv::new(s.priority(), s.weight(), s.port(), s.target().to_ascii()))
                .collect())
        })
    }

    fn ip(&self, name: &str) -> BoxFuture<'_, Result<Vec<IpAddr>, ResolveError>> {
        let name = name.to_owned();
        Box::pin(async move {
            let lookup = self
                .inner
                .lookup_ip(name.as_str())
                .await
                .map_err(|e| convert(&e, &name, LookupKind::Address))?;
            let mut ips: Vec<IpAddr> = lookup.iter().collect();
            // The A and AAAA answers arrive in a race; IPv4 first makes the order repeatable,
            // and is the safer first try where IPv6 is configured but not routed: the
            // dispatcher has no happy eyeballs and would wait a whole Timer B on it.
            ips.sort_by_key(IpAddr::is_ipv6);
            Ok(ips)
        })
    }
}

/// Says what hickory's error means for one lookup.
fn convert(error: &HickoryError, name: &str, kind: LookupKind) -> ResolveError {
    let name = name.trim_end_matches('.').to_owned();
    match error.kind() {
        ResolveErrorKind::NoRecordsFound { response_code, .. } => match *response_code {
            ResponseCode::NXDomain => ResolveError::NxDomain { name },
            ResponseCode::NoError => ResolveError::NoRecords { name, kind },
            code => ResolveError::ServerFailure {
                name,
                kind,
                detail: format!("server answered {code}"),
            },
        },
        ResolveErrorKind::Timeout => ResolveError::Timeout { name, kind },
        ResolveErrorKind::Proto(e) if matches!(e.kind(), ProtoErrorKind::Timeout) => {
            ResolveError::Timeout { name, kind }
        }
        _ => ResolveError::ServerFailure {
            name,
            kind,
            detail: error.to_string(),
        },
    }
}
