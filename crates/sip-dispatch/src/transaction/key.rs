//! Matching messages to transactions (RFC 3261 §17.1.3, §17.2.3).

use std::fmt::Write as _;

use bytestring::ByteString;
use sip_packet::{Headers, Host, Method, ParseError};

/// What a response is matched to its client transaction by: the branch of the top Via (ours)
/// and the CSeq method (a CANCEL has the branch of the INVITE it cancels), §17.1.3.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    branch: ByteString,
    method: Method,
}

impl ClientKey {
    /// The key of a request we send or of a response to it, from its headers.
    pub fn from_headers(headers: &Headers) -> Result<Self, ParseError> {
        let via = headers.top_via()?;
        let branch = via.branch_shared().unwrap_or_default();
        Ok(Self {
            branch,
            method: headers.cseq()?.method().clone(),
        })
    }

    /// The branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }
}

/// What a request is matched to its server transaction by (§17.2.3), derived alike from a
/// request and from the response to it. An ACK matches its INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerKey {
    /// The branch has the RFC 3261 magic cookie: branch, sent-by and method.
    Rfc3261 {
        /// The top Via branch.
        branch: ByteString,
        /// The top Via sent-by, lower case, with the port (default filled in).
        sent_by: String,
        /// The method; INVITE for an ACK.
        method: Method,
    },
    /// An RFC 2543 peer: the transaction is told by the whole top Via, Call-ID, From tag and
    /// CSeq number (the Request-URI is left out so that a response finds its transaction).
    Rfc2543 {
        /// The top Via, as printed.
        via: String,
        /// Call-ID.
        call_id: ByteString,
        /// From tag.
        from_tag: String,
        /// CSeq number.
        seq: u32,
        /// The method; INVITE for an ACK.
        method: Method,
    },
}

/// `host:port` in lower case: the sent-by of a [`ServerKey`]. Made for every request and
/// every response, so an IPv4 address (the usual case) is written digit by digit: std's
/// `Ipv4Addr` Display, through the formatter, costs about ten times as much.
fn sent_by(host: &Host, port: u16) -> String {
    let mut s = String::with_capacity(24);
    match host {
        Host::Ipv4(ip) => {
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                push_decimal(&mut s, octet.into());
            }
        }
        other => {
            let _ = write!(s, "{other}");
            s.make_ascii_lowercase();
        }
    }
    s.push(':');
    push_decimal(&mut s, port.into());
    s
}

/// Appends `n` in decimal.
fn push_decimal(s: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        // n % 10 < 10: the cast cannot truncate.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.extend(digits[at..].iter().map(|d| char::from(*d)));
}

impl ServerKey {
    /// The key of a request that arrived or of a response to it, from its headers.
    pub fn from_headers(h: &Headers) -> Result<Self, ParseError> {
        let via = h.top_via()?;
        let cseq = h.cseq()?;
        let mut method = cseq.method().clone();
        if method == Method::Ack {
            method = Method::Invite;
        }
        if via.has_rfc3261_branch() {
            Ok(Self::Rfc3261 {
                branch: via.branch_shared().unwrap_or_default(),
                sent_by: sent_by(via.host(), via.port_or_default()),
                method,
            })
        } else {
            Ok(Self::Rfc2543 {
                via: via.to_string(),
                call_id: h.share(h.call_id()?),
                from_tag: h.from()?.tag().unwrap_or_default().to_owned(),
                seq: cseq.seq(),
                method,
            })
        }
    }

    /// The method of the transaction.
    pub fn method(&self) -> &Method {
        match self {
            Self::Rfc3261 { method, .. } | Self::Rfc2543 { method, .. } => method,
        }
    }

    /// The key of the INVITE transaction a CANCEL with this key cancels (§9.2).
    pub fn invite_for_cancel(&self) -> Self {
        let mut k = self.clone();
        match &mut k {
            Self::Rfc3261 { method, .. } | Self::Rfc2543 { method, .. } => *method = Method::Invite,
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_by_is_what_the_formatter_writes_in_lower_case() {
        for (host, port) in [
            ("127.0.0.1", 5060u16),
            ("0.0.0.0", 0),
            ("255.255.255.255", 65535),
            ("10.20.3.4", 9),
            ("PC33.Atlanta.COM", 5061),
            ("[2001:DB8::1]", 5060),
        ] {
            let host = Host::parse(host).unwrap();
            assert_eq!(
                sent_by(&host, port),
                format!("{host}:{port}").to_ascii_lowercase()
            );
        }
    }
}
