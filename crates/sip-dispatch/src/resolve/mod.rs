//! Where to send a request: Net::SIP's `resolve_uri` with its `domain2proxy`, `outgoing_proxy`
//! and `dnsresolv`, and RFC 3263's NAPTR → SRV → A/AAAA procedure, done in full.
//!
//! [`resolve_uri`] turns a Request-URI into the complete, ordered failover list of
//! [`Target`]s; the dispatcher walks it. The DNS is asked through the [`DnsResolver`] trait:
//! [`HickoryResolver`] asks real servers, [`StaticResolver`] answers from a table (tests, or
//! users who know their peers). SRV load balancing draws from a caller-supplied rng, so a
//! seeded rng replays the same order.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use sip_dispatch::resolve::{resolve_uri, Naptr, RouteConfig, Srv, StaticResolver};
//! use sip_packet::Uri;
//! use sip_transport::Protocol;
//!
//! let dns = StaticResolver::new()
//!     .naptr("example.com", [
//!         Naptr::new(10, 10, "S", "SIP+D2T", "_sip._tcp.example.com"),
//!         Naptr::new(10, 20, "S", "SIP+D2U", "_sip._udp.example.com"),
//!     ])
//!     .srv("_sip._tcp.example.com", [Srv::new(10, 0, 5070, "sip1.example.com")])
//!     .srv("_sip._udp.example.com", [Srv::new(10, 0, 5080, "sip1.example.com")])
//!     .ip("sip1.example.com", ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
//! let uri = Uri::parse("sip:alice@example.com").unwrap();
//! let mut rng = StdRng::seed_from_u64(7);
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let supported = [Protocol::Udp, Protocol::Tcp];
//! let targets = resolve_uri(&uri, &RouteConfig::new(), &dns, &supported, &mut rng)
//!     .await
//!     .unwrap();
//! let shown: Vec<String> = targets.iter().map(ToString::to_string).collect();
//! assert_eq!(shown, [
//!     "tcp:127.0.0.1:5070 (example.com)",
//!     "udp:127.0.0.1:5080 (example.com)",
//! ]);
//! # });
//! ```

mod config;
mod dns;
mod error;
mod hickory;
mod rfc3263;
mod srv_order;
mod static_resolver;
mod target;

pub use config::RouteConfig;
pub use dns::{BoxFuture, DnsResolver, Naptr, Srv};
pub use error::{LookupKind, ResolveError};
pub use hickory::HickoryResolver;
pub use rfc3263::resolve_uri;
pub use static_resolver::{FailKind, StaticResolver};
pub use target::Target;

#[cfg(test)]
mod tests;
