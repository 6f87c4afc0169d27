//! Dropping unwanted traffic without an answer (Net::SIP::Dropper): scanners, abusive peers.

use std::net::{IpAddr, SocketAddr};

use sip_dispatch::Receiver;
use sip_packet::Message;
use sip_transport::Leg;

/// One reason to drop a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropRule {
    /// Everything from this IP address.
    SourceIp(IpAddr),
    /// Everything from this IP address and port.
    SourceAddr(SocketAddr),
    /// Messages with a header field (any of its values) matching a pattern: a glob with `*`
    /// (any run of characters) and `?` (one character) matching the whole value, or, without
    /// either, a substring. Case-insensitive.
    Header {
        /// The header name (long or compact form).
        name: String,
        /// The pattern.
        pattern: String,
    },
}

impl DropRule {
    /// A header rule.
    pub fn header(name: impl Into<String>, pattern: impl Into<String>) -> Self {
        Self::Header {
            name: name.into(),
            pattern: pattern.into(),
        }
    }

    /// Whether the rule matches a message from `from`.
    pub fn matches(&self, message: &Message, from: SocketAddr) -> bool {
        match self {
            Self::SourceIp(ip) => from.ip().to_canonical() == ip.to_canonical(),
            Self::SourceAddr(a) => {
                from.port() == a.port() && from.ip().to_canonical() == a.ip().to_canonical()
            }
            Self::Header { name, pattern } => message
                .headers()
                .get_all(name.as_str())
                .any(|v| pattern_matches(pattern, v)),
        }
    }
}

/// Drops (handles without answering) every message a rule matches; the others go on down
/// the chain. Put it first.
///
/// ```
/// use sip_proxy::{DropRule, Dropper};
/// let d = Dropper::new(vec![DropRule::header("User-Agent", "friendly-scanner")]);
/// let raw = "OPTIONS sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\n\
///     From: <sip:100@192.0.2.1>;tag=1\r\nTo: <sip:100@192.0.2.1>\r\nCall-ID: c\r\n\
///     CSeq: 1 OPTIONS\r\nUser-Agent: Friendly-Scanner 1.0\r\nContent-Length: 0\r\n\r\n";
/// let msg = sip_packet::Message::parse(raw.into()).unwrap();
/// assert!(d.matching(&msg, "192.0.2.9:5060".parse().unwrap()).is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Dropper {
    rules: Vec<DropRule>,
}

impl Dropper {
    /// A dropper with these rules.
    pub fn new(rules: Vec<DropRule>) -> Self {
        Self { rules }
    }

    /// The first rule that matches.
    pub fn matching(&self, message: &Message, from: SocketAddr) -> Option<&DropRule> {
        self.rules.iter().find(|r| r.matches(message, from))
    }
}

impl Receiver for Dropper {
    fn receive(&self, packet: &Message, _leg: &Leg, from: SocketAddr) -> bool {
        match self.matching(packet, from) {
            Some(rule) => {
                tracing::info!(%from, ?rule, "dropped");
                true
            }
            None => false,
        }
    }
}

/// Case-insensitive glob (`*`, `?`) over the whole value, or substring without wildcards.
fn pattern_matches(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let v: Vec<char> = value.to_lowercase().chars().collect();
    if !p.iter().any(|&c| c == '*' || c == '?') {
        return v.windows(p.len().max(1)).any(|w| w == p.as_slice()) || p.is_empty();
    }
    // Iterative glob with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("friendly-scanner", "Friendly-Scanner/1.0"));
        assert!(!pattern_matches("friendly-scanner", "friendly"));
        assert!(pattern_matches("sipvicious*", "SIPVicious 0.3"));
        assert!(!pattern_matches("sipvicious*", "x sipvicious"));
        assert!(pattern_matches("*scan?er*", "a friendly-scanner b"));
        assert!(pattern_matches("*", ""));
        assert!(pattern_matches("", "anything"));
        assert!(!pattern_matches("a?c", "abbc"));
    }

    #[test]
    fn rules_match_sources_and_headers() {
        let raw =
            "OPTIONS sip:1@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\n\
            From: <sip:1@192.0.2.1>;tag=1\r\nTo: <sip:1@192.0.2.1>\r\nCall-ID: c\r\n\
            CSeq: 1 OPTIONS\r\nUser-Agent: sipcli/v1.8\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(raw.into()).unwrap();
        let from: SocketAddr = "192.0.2.9:5070".parse().unwrap();
        assert!(DropRule::SourceIp("192.0.2.9".parse().unwrap()).matches(&m, from));
        assert!(DropRule::SourceIp("192.0.2.9".parse().unwrap())
            .matches(&m, "[::ffff:192.0.2.9]:1".parse().unwrap()));
        assert!(DropRule::SourceAddr(from).matches(&m, from));
        assert!(!DropRule::SourceAddr("192.0.2.9:5071".parse().unwrap()).matches(&m, from));
        assert!(DropRule::header("user-agent", "SIPCLI*").matches(&m, from));
        assert!(!DropRule::header("Server", "sipcli").matches(&m, from));
        let d = Dropper::new(vec![DropRule::header("User-Agent", "scanner")]);
        assert!(d.matching(&m, from).is_none());
    }
}
