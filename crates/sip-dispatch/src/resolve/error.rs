//! What can go wrong while finding where to send a request.

use std::fmt;

/// The kind of DNS lookup that failed, for error messages and for [`StaticResolver`]'s log.
///
/// [`StaticResolver`]: super::StaticResolver
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupKind {
    /// A NAPTR lookup (RFC 3403), the first step of RFC 3263 §4.1.
    Naptr,
    /// An SRV lookup (RFC 2782).
    Srv,
    /// A and AAAA lookups together.
    Address,
}

impl fmt::Display for LookupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Naptr => "NAPTR",
            Self::Srv => "SRV",
            Self::Address => "A/AAAA",
        })
    }
}

/// Why a URI could not be turned into targets, or why one DNS lookup failed.
///
/// A [`DnsResolver`](super::DnsResolver) returns the lookup variants (`NxDomain`, `NoRecords`,
/// `Timeout`, `ServerFailure`); [`resolve_uri`](super::resolve_uri) treats those as "nothing
/// here" and moves on to the next RFC 3263 step, and only when every step came up empty does it
/// return [`ResolveError::NoTargets`], carrying the last lookup failure as its cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The DNS says the name does not exist at all (RCODE 3, NXDOMAIN).
    #[error("no such domain name: {name} (NXDOMAIN)")]
    NxDomain {
        /// The name that was looked up.
        name: String,
    },
    /// The name exists but has no records of the kind asked for (NOERROR with no answer).
    #[error("no {kind} records for {name}")]
    NoRecords {
        /// The name that was looked up.
        name: String,
        /// What was asked for.
        kind: LookupKind,
    },
    /// No answer came from the DNS server in time.
    #[error("{kind} lookup of {name} timed out")]
    Timeout {
        /// The name that was looked up.
        name: String,
        /// What was asked for.
        kind: LookupKind,
    },
    /// The DNS server answered with an error (SERVFAIL, REFUSED, …), or could not be reached.
    #[error("{kind} lookup of {name} failed: {detail}")]
    ServerFailure {
        /// The name that was looked up.
        name: String,
        /// What was asked for.
        kind: LookupKind,
        /// What the resolver said: the response code or the transport error.
        detail: String,
    },
    /// The system's resolver configuration (`/etc/resolv.conf`) could not be read.
    #[error("cannot read the system DNS configuration: {detail}")]
    Config {
        /// What the resolver library said.
        detail: String,
    },
    /// The URI is not `sip:` or `sips:` (a `tel:` URI, say), so there is no host to route to;
    /// also when a configured proxy URI is not a SIP URI.
    #[error("cannot route {uri}: scheme {scheme}: is not sip: or sips:")]
    UnsupportedScheme {
        /// The URI, as written.
        uri: String,
        /// Its scheme.
        scheme: String,
    },
    /// Every rule was tried and none gave an address reachable with the supported transports.
    #[error("no target to send {uri} to{}", Cause(cause.as_deref()))]
    NoTargets {
        /// The URI that was resolved, as written.
        uri: String,
        /// The last thing that went wrong on the way, when something did: a failed lookup, or
        /// why the URI's own transport cannot be used. Part of the message, not an
        /// [`Error::source`](std::error::Error::source), so that printing the error once says
        /// all of it.
        cause: Option<Box<Self>>,
    },
    /// The URI asks for a transport that cannot be used: one we do not know (`sctp`, `ws`), UDP
    /// for a `sips:` URI, or one not in the caller's supported list. Given as the cause of
    /// [`ResolveError::NoTargets`].
    #[error("transport {transport} is not usable here")]
    UnusableTransport {
        /// The transport, as named in the URI (or the protocol it maps to).
        transport: String,
    },
}

/// Prints ": cause" when there is one.
struct Cause<'a>(Option<&'a ResolveError>);

impl fmt::Display for Cause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(cause) => write!(f, ": {cause}"),
            None => Ok(()),
        }
    }
}

impl ResolveError {
    /// Whether the error says only that there was nothing to find (NXDOMAIN or no records), as
    /// opposed to a lookup that could not be completed (timeout, server failure).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NxDomain { .. } | Self::NoRecords { .. })
    }
}
