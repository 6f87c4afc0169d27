//! The DNS as RFC 3263 needs it: three questions, asked through a trait so that tests and users
//! can answer them without a DNS server (Net::SIP's `dnsresolv` callback).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::Poll;

use super::ResolveError;

/// A boxed, sendable future, the return type of [`DnsResolver`]'s methods (no `async_trait`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Answers the DNS questions of RFC 3263.
///
/// Names are given as found: without a trailing dot when they come from a URI, often with one
/// when they come from a NAPTR or SRV record; treat both alike. An empty answer (`Ok(vec![])`)
/// and [`ResolveError::NoRecords`] / [`ResolveError::NxDomain`] mean the same to
/// [`resolve_uri`](super::resolve_uri); the errors make the final message clearer.
///
/// Implemented by [`HickoryResolver`](super::HickoryResolver) (the real DNS) and
/// [`StaticResolver`](super::StaticResolver) (a fixed table). The futures may not borrow `name`:
/// copy it if it is needed after the first poll.
pub trait DnsResolver: Send + Sync {
    /// The NAPTR records of `name` (RFC 3403), in any order.
    fn naptr(&self, name: &str) -> BoxFuture<'_, Result<Vec<Naptr>, ResolveError>>;
    /// The SRV records of `name` (RFC 2782), such as `_sip._udp.example.com`, in any order.
    fn srv(&self, name: &str) -> BoxFuture<'_, Result<Vec<Srv>, ResolveError>>;
    /// The addresses of `name`: its A and AAAA records both, in the order to try them.
    fn ip(&self, name: &str) -> BoxFuture<'_, Result<Vec<IpAddr>, ResolveError>>;
}

/// One NAPTR record (RFC 3403 §4.1); the `regexp` field is not kept because SIP does not use it
/// (RFC 3263 §4.1: the replacement field names the SRV record).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Naptr {
    /// Lower is processed first.
    pub order: u16,
    /// Among records of one order, lower is preferred.
    pub preference: u16,
    /// `S` (next: SRV lookup of the replacement) or `A` (next: address lookup); others are
    /// skipped. Case-insensitive.
    pub flags: String,
    /// `SIP+D2U`, `SIP+D2T` or `SIPS+D2T` for the transports here. Case-insensitive.
    pub services: String,
    /// The next name to look up.
    pub replacement: String,
}

impl Naptr {
    /// A NAPTR record.
    pub fn new(
        order: u16,
        preference: u16,
        flags: impl Into<String>,
        services: impl Into<String>,
        replacement: impl Into<String>,
    ) -> Self {
        Self {
            order,
            preference,
            flags: flags.into(),
            services: services.into(),
            replacement: replacement.into(),
        }
    }
}

/// One SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Srv {
    /// Lower is tried first.
    pub priority: u16,
    /// Among records of one priority, the share of selections (RFC 2782's weighted choice).
    pub weight: u16,
    /// The port to send to.
    pub port: u16,
    /// The host to look up; `.` means the service is decidedly not available at this domain.
    pub target: String,
}

impl Srv {
    /// An SRV record.
    pub fn new(priority: u16, weight: u16, port: u16, target: impl Into<String>) -> Self {
        Self {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }

    /// Whether the target is `.`: RFC 2782 says the service is decidedly not available.
    pub fn is_unavailable(&self) -> bool {
        self.target.trim_end_matches('.').is_empty()
    }
}

/// The lookup form of a name: lower case, no trailing dot. DNS names compare
/// case-insensitively (RFC 4343) and the trailing dot only marks a name as absolute.
pub(crate) fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Runs the futures concurrently and returns their outputs in the order given, so that several
/// lookups cost one round trip (or one timeout) and yet the result does not depend on which
/// answer came first.
pub(crate) async fn join_all<'a, T>(futures: Vec<BoxFuture<'a, T>>) -> Vec<T> {
    let mut slots: Vec<(BoxFuture<'a, T>, Option<T>)> =
        futures.into_iter().map(|f| (f, None)).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (future, output) in slots.iter_mut() {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(slots.iter_mut().filter_map(|(_, o)| o.take()).collect())
        }
    })
    .await
}
