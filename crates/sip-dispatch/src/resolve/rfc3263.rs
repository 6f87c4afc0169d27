//! From a URI to the ordered list of places to send a request: Net::SIP's `resolve_uri`, with
//! RFC 3263 §4 done in full (NAPTR, SRV, A/AAAA).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use rand::RngCore;
use sip_packet::{Host, SipUri, Uri};
use sip_transport::Protocol;

use super::dns::{join_all, normalize_name};
use super::srv_order::order_srv;
use super::{DnsResolver, ResolveError, RouteConfig, Target};

/// The targets to send a request for `uri` to, in the order to try them: the dispatcher sends
/// to the first and moves to the next on a timeout, a transport error or a 503 (RFC 3263 §4.3).
///
/// The first rule that applies decides the next hop (Net::SIP's order):
/// 1. `config.domain2proxy` has a pattern for the URI's host: the proxy's URI is resolved by
///    rules 3 and 4 (never through the static routes again).
/// 2. `config.outgoing_proxy` is set: likewise.
/// 3. The host (or the `maddr` parameter, which replaces it) is an IP address: that address,
///    with the URI's port or 5060 (5061 for TLS), over the `transport=` protocol, TLS for
///    `sips:`, else UDP (TCP when UDP is not supported).
/// 4. RFC 3263 §4 on the domain:
///    - a port is given: the domain's A/AAAA addresses with that port, transport as in 3;
///    - `transport=` is given: SRV records for it (`_sip._udp.`, `_sip._tcp.`, `_sips._tcp.`),
///      and only when there are none, A/AAAA with the default port;
///    - otherwise NAPTR records with services `SIP+D2U`, `SIP+D2T`, `SIPS+D2T` (for `sips:`
///      only `SIPS+D2T`), those of supported transports only, by order then preference, each
///      followed to its SRV records (flag `S`) or addresses (flag `A`); when that gives nothing,
///      SRV records for each supported transport (`sips:` TLS; `sip:` UDP then TCP); when there
///      are no SRV records at all, A/AAAA with the default port over UDP (TLS for `sips:`).
///
/// SRV records are ordered by priority and, within one, by RFC 2782's weighted random choice
/// drawn from `rng` (a seeded rng gives a repeatable order); each target host gives one
/// [`Target`] per address (IPv4 and IPv6 alike, in the resolver's order). A `sips:` URI is
/// only ever sent over TLS, also when it is routed through a proxy whose URI is `sip:`
/// (RFC 3261 §26.2.2). Only protocols in `supported` are returned, and each
/// (protocol, address) only once.
///
/// A failed lookup (NXDOMAIN, timeout, server failure) is treated as an empty answer, so that
/// e.g. a NAPTR timeout falls back to SRV. Returns [`ResolveError::UnsupportedScheme`] for a
/// URI (or proxy URI) that is not `sip:`/`sips:`, and [`ResolveError::NoTargets`] when the list
/// would be empty, with the last failed lookup or the unusable transport as its cause.
pub async fn resolve_uri(
    uri: &Uri,
    config: &RouteConfig,
    resolver: &dyn DnsResolver,
    supported: &[Protocol],
    rng: &mut impl RngCore,
) -> Result<Vec<Target>, ResolveError> {
    let sip = as_sip(uri)?;
    let hop = match config
        .proxy_for(sip.host())
        .or(config.outgoing_proxy.as_ref())
    {
        Some(proxy) => as_sip(proxy)?,
        None => sip,
    };
    let mut run = Run {
        resolver,
        supported,
        rng,
        last_error: None,
    };
    let targets = run.hop(hop, sip.is_secure() || hop.is_secure()).await;
    tracing::debug!(%uri, ?targets, "resolved");
    if targets.is_empty() {
        return Err(ResolveError::NoTargets {
            uri: uri.to_string(),
            cause: run.last_error.map(Box::new),
        });
    }
    Ok(targets)
}

fn as_sip(uri: &Uri) -> Result<&SipUri, ResolveError> {
    uri.as_sip().ok_or_else(|| ResolveError::UnsupportedScheme {
        uri: uri.to_string(),
        scheme: uri.scheme().to_owned(),
    })
}

/// One thing to look up on the way to addresses.
enum Step {
    /// SRV records of the name, for the protocol.
    Srv(Protocol, String),
    /// Addresses of the name, with the port, for the protocol.
    Address(Protocol, String, u16),
}

/// One resolution: what it may use and the last thing that went wrong.
struct Run<'a, R: RngCore> {
    resolver: &'a dyn DnsResolver,
    supported: &'a [Protocol],
    rng: &'a mut R,
    last_error: Option<ResolveError>,
}

impl<R: RngCore> Run<'_, R> {
    /// Rules 3 and 4 for the next hop's URI.
    async fn hop(&mut self, hop: &SipUri, secure: bool) -> Vec<Target> {
        // RFC 3263 §4: "If the URI contains an maddr parameter with a value, TARGET is the
        // maddr", and all that follows applies to it, domain or address.
        let maddr = match hop.params().get("maddr") {
            Some(Some(m)) => Host::parse(m)
                .inspect_err(|e| tracing::debug!(%hop, %e, "ignoring unparsable maddr"))
                .ok(),
            _ => None,
        };
        let host = maddr.as_ref().unwrap_or(hop.host());

        let explicit = match hop.params().get("transport") {
            Some(Some(name)) => match transport_protocol(name, secure) {
                Some(p) if self.supported.contains(&p) => Some(p),
                _ => {
                    self.note(ResolveError::UnusableTransport {
                        transport: name.to_owned(),
                    });
                    return Vec::new();
                }
            },
            _ => None,
        };

        let domain = match host {
            Host::Domain(d) => d.to_string(),
            other => {
                let Some(ip) = other.ip() else {
                    return Vec::new();
                };
                let Some(protocol) = explicit.or_else(|| self.fallback_protocol(secure)) else {
                    return Vec::new();
                };
                let port = hop.port().unwrap_or_else(|| protocol.default_port());
                return vec![Target::new(protocol, SocketAddr::new(ip, port), None)];
            }
        };
        let server_name = Some(domain.trim_end_matches('.').to_owned());

        // RFC 3263 §4.2: "If the TARGET was not a numeric IP address, but a port is present
        // in the URI, the client performs an A or AAAA record lookup of the domain name."
        if let Some(port) = hop.port() {
            let Some(protocol) = explicit.or_else(|| self.fallback_protocol(secure)) else {
                return Vec::new();
            };
            let step = Step::Address(protocol, domain, port);
            return self.follow(vec![step], &server_name).await.1;
        }

        // RFC 3263 §4.1: a transport parameter settles the protocol; SRV for it, else A.
        if let Some(protocol) = explicit {
            let step = Step::Srv(protocol, srv_name(protocol, &domain));
            let (srv_found, targets) = self.follow(vec![step], &server_name).await;
            if srv_found {
                return targets;
            }
            let step = Step::Address(protocol, domain, protocol.default_port());
            return self.follow(vec![step], &server_name).await.1;
        }

        let targets = self.via_naptr(&domain, secure, &server_name).await;
        if !targets.is_empty() {
            return targets;
        }

        // No (usable) NAPTR: "the client constructs SRV queries for those transport protocols
        // it supports, and does a query for each" (RFC 3263 §4.1).
        let steps = candidate_protocols(secure)
            .iter()
            .filter(|p| self.supported.contains(p))
            .map(|&p| Step::Srv(p, srv_name(p, &domain)))
            .collect();
        let (srv_found, targets) = self.follow(steps, &server_name).await;
        // Records that lead nowhere (target `.`, hosts without addresses) still mean the
        // domain has said where SIP is: RFC 3263 §4.2 falls back to A only when no SRV
        // records were found.
        if srv_found {
            return targets;
        }
        let Some(protocol) = self.fallback_protocol(secure) else {
            return Vec::new();
        };
        let step = Step::Address(protocol, domain, protocol.default_port());
        self.follow(vec![step], &server_name).await.1
    }

    /// The NAPTR step of RFC 3263 §4.1, followed to the end. Empty when there are no usable
    /// records, or when they all lead nowhere: a NAPTR whose replacement has no SRV records is
    /// a broken zone, and the SRV step that follows is what RFC 3263 would do without it.
    async fn via_naptr(
        &mut self,
        domain: &str,
        secure: bool,
        server_name: &Option<String>,
    ) -> Vec<Target> {
        let records = match self.resolver.naptr(domain).await {
            Ok(records) => records,
            Err(e) => {
                self.note(e);
                return Vec::new();
            }
        };
        let mut usable: Vec<_> = records
            .into_iter()
            .filter_map(|n| {
                let protocol = naptr_protocol(&n.services)?;
                let wanted = (!secure || protocol == Protocol::Tls)
                    && self.supported.contains(&protocol)
                    && (n.flags.eq_ignore_ascii_case("s") || n.flags.eq_ignore_ascii_case("a"));
                wanted.then_some((n, protocol))
            })
            .collect();
        usable.sort_by_key(|(n, _)| (n.order, n.preference));
        let steps = usable
            .into_iter()
            .map(|(n, protocol)| {
                if n.flags.eq_ignore_ascii_case("s") {
                    Step::Srv(protocol, n.replacement)
                } else {
                    Step::Address(protocol, n.replacement, protocol.default_port())
                }
            })
            .collect::<Vec<_>>();
        if steps.is_empty() {
            return Vec::new();
        }
        self.follow(steps, server_name).await.1
    }

    /// Looks up the steps and returns whether any SRV records were found, and the targets in
    /// step order. Lookups of one kind run together; the rng is drawn in step order, so the
    /// result does not depend on which answer came first.
    async fn follow(
        &mut self,
        steps: Vec<Step>,
        server_name: &Option<String>,
    ) -> (bool, Vec<Target>) {
        let resolver = self.resolver;
        let srv_answers = join_all(
            steps
                .iter()
                .filter_map(|step| match step {
                    Step::Srv(_, name) => Some(resolver.srv(name)),
                    Step::Address(..) => None,
                })
                .collect(),
        )
        .await;

        let mut srv_found = false;
        let mut hosts: Vec<(Protocol, String, u16)> = Vec::new();
        let mut srv_answers = srv_answers.into_iter();
        for step in steps {
            match step {
                Step::Srv(protocol, _) => match srv_answers.next() {
                    Some(Ok(records)) if !records.is_empty() => {
                        srv_found = true;
                        for record in order_srv(records, self.rng) {
                            hosts.push((protocol, record.target, record.port));
                        }
                    }
                    Some(Err(e)) => self.note(e),
                    _ => {}
                },
                Step::Address(protocol, name, port) => hosts.push((protocol, name, port)),
            }
        }

        // Each host once, however many records name it.
        let mut names: Vec<&str> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (_, name, _) in &hosts {
            index.entry(normalize_name(name)).or_insert_with(|| {
                names.push(name);
                names.len() - 1
            });
        }
        let answers = join_all(names.iter().map(|name| resolver.ip(name)).collect()).await;
        let mut addresses: Vec<Vec<IpAddr>> = Vec::with_capacity(answers.len());
        for answer in answers {
            addresses.push(answer.unwrap_or_else(|e| {
                self.note(e);
                Vec::new()
            }));
        }

        let mut targets = Vec::new();
        for (protocol, name, port) in &hosts {
            let Some(ips) = index.get(&normalize_name(name)).map(|&i| &addresses[i]) else {
                continue;
            };
            for &ip in ips {
                let target =
                    Target::new(*protocol, SocketAddr::new(ip, *port), server_name.clone());
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
        }
        (srv_found, targets)
    }

    /// The protocol when the URI names none and no DNS record says: RFC 3263 §4.1, "UDP for a
    /// SIP URI, and TCP for a SIPS URI" (TCP with TLS). TCP stands in for UDP when only TCP is
    /// supported, rather than failing a `sip:` URI that TCP can reach.
    fn fallback_protocol(&mut self, secure: bool) -> Option<Protocol> {
        let found = candidate_protocols(secure)
            .iter()
            .copied()
            .find(|p| self.supported.contains(p));
        if found.is_none() {
            let wanted = candidate_protocols(secure)[0];
            self.note(ResolveError::UnusableTransport {
                transport: wanted.to_string(),
            });
        }
        found
    }

    fn note(&mut self, error: ResolveError) {
        tracing::debug!(%error, "RFC 3263 step came up empty");
        self.last_error = Some(error);
    }
}

/// The protocols to consider, in order, when nothing names one.
fn candidate_protocols(secure: bool) -> &'static [Protocol] {
    if secure {
        &[Protocol::Tls]
    } else {
        &[Protocol::Udp, Protocol::Tcp]
    }
}

/// The protocol a `transport=` value asks for; `None` when we cannot do it. For `sips:`, TCP
/// means TLS over TCP, and UDP is not allowed (RFC 3261 §26.2.2: TLS on every hop).
fn transport_protocol(name: &str, secure: bool) -> Option<Protocol> {
    if name.eq_ignore_ascii_case("tls") || (secure && name.eq_ignore_ascii_case("tcp")) {
        Some(Protocol::Tls)
    } else if secure {
        None
    } else if name.eq_ignore_ascii_case("udp") {
        Some(Protocol::Udp)
    } else if name.eq_ignore_ascii_case("tcp") {
        Some(Protocol::Tcp)
    } else {
        None
    }
}

/// The protocol of a NAPTR service field (RFC 3263 §4.1), `None` for services not ours.
fn naptr_protocol(services: &str) -> Option<Protocol> {
    if services.eq_ignore_ascii_case("SIP+D2U") {
        Some(Protocol::Udp)
    } else if services.eq_ignore_ascii_case("SIP+D2T") {
        Some(Protocol::Tcp)
    } else if services.eq_ignore_ascii_case("SIPS+D2T") {
        Some(Protocol::Tls)
    } else {
        None
    }
}

/// The SRV name for a protocol (RFC 3263 §4.1; TLS is `_sips._tcp`, RFC 3261 §26.2.2).
fn srv_name(protocol: Protocol, domain: &str) -> String {
    let prefix = match protocol {
        Protocol::Udp => "_sip._udp",
        Protocol::Tcp => "_sip._tcp",
        Protocol::Tls => "_sips._tcp",
    };
    format!("{prefix}.{domain}")
}
