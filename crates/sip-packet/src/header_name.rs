//! Header names: case-insensitive, with the compact forms of RFC 3261 §7.3.3 and its extensions.

use std::fmt;

use bytestring::ByteString;

macro_rules! header_names {
    ($( $(#[$doc:meta])* $variant:ident => $canon:literal, $compact:expr, $list:literal; )*) => {
        /// A header name. Known headers are variants; any other is kept as written.
        ///
        /// Comparison is case-insensitive, and a compact form is the same header as its long
        /// form: `HeaderName::parse("v") == HeaderName::Via`.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$doc])* $variant, )*
            /// Any header this crate has no variant for, as written.
            Other(ByteString),
        }

        impl HeaderName {
            /// The canonical long name, e.g. `Call-ID`, `WWW-Authenticate`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $canon, )*
                    Self::Other(s) => s,
                }
            }

            /// The compact form (RFC 3261 §7.3.3 and the extensions that define one), if any.
            pub fn compact(&self) -> Option<char> {
                match self {
                    $( Self::$variant => $compact, )*
                    Self::Other(_) => None,
                }
            }

            /// Whether values of this header form a comma-separated list (RFC 3261 §7.3.1), so
            /// that `H: a, b` is the same as `H: a` and `H: b`.
            pub fn is_list(&self) -> bool {
                match self {
                    $( Self::$variant => $list, )*
                    Self::Other(_) => false,
                }
            }

            fn known(name: &str) -> Option<Self> {
                $( if name.eq_ignore_ascii_case($canon) { return Some(Self::$variant); } )*
                None
            }

            fn from_compact(c: u8) -> Option<Self> {
                let c = c.to_ascii_lowercase() as char;
                $( if $compact == Some(c) { return Some(Self::$variant); } )*
                None
            }
        }
    };
}

header_names! {
    /// `Accept`
    Accept => "Accept", None, true;
    /// `Accept-Contact` (RFC 3841, compact `a`)
    AcceptContact => "Accept-Contact", Some('a'), true;
    /// `Accept-Encoding`
    AcceptEncoding => "Accept-Encoding", None, true;
    /// `Accept-Language`
    AcceptLanguage => "Accept-Language", None, true;
    /// `Alert-Info`
    AlertInfo => "Alert-Info", None, true;
    /// `Allow`
    Allow => "Allow", None, true;
    /// `Allow-Events` (RFC 6665, compact `u`)
    AllowEvents => "Allow-Events", Some('u'), true;
    /// `Authentication-Info`
    AuthenticationInfo => "Authentication-Info", None, false;
    /// `Authorization`
    Authorization => "Authorization", None, false;
    /// `Call-ID` (compact `i`)
    CallId => "Call-ID", Some('i'), false;
    /// `Call-Info`
    CallInfo => "Call-Info", None, true;
    /// `Contact` (compact `m`)
    Contact => "Contact", Some('m'), true;
    /// `Content-Disposition`
    ContentDisposition => "Content-Disposition", None, false;
    /// `Content-Encoding` (compact `e`)
    ContentEncoding => "Content-Encoding", Some('e'), true;
    /// `Content-Language`
    ContentLanguage => "Content-Language", None, true;
    /// `Content-Length` (compact `l`)
    ContentLength => "Content-Length", Some('l'), false;
    /// `Content-Type` (compact `c`)
    ContentType => "Content-Type", Some('c'), false;
    /// `CSeq`
    CSeq => "CSeq", None, false;
    /// `Date`
    Date => "Date", None, false;
    /// `Error-Info`
    ErrorInfo => "Error-Info", None, true;
    /// `Event` (RFC 6665, compact `o`)
    Event => "Event", Some('o'), false;
    /// `Expires`
    Expires => "Expires", None, false;
    /// `From` (compact `f`)
    From => "From", Some('f'), false;
    /// `Identity` (RFC 8224, compact `y`)
    Identity => "Identity", Some('y'), false;
    /// `In-Reply-To`
    InReplyTo => "In-Reply-To", None, true;
    /// `Max-Forwards`
    MaxForwards => "Max-Forwards", None, false;
    /// `MIME-Version`
    MimeVersion => "MIME-Version", None, false;
    /// `Min-Expires`
    MinExpires => "Min-Expires", None, false;
    /// `Organization`
    Organization => "Organization", None, false;
    /// `Path` (RFC 3327)
    Path => "Path", None, true;
    /// `Priority`
    Priority => "Priority", None, false;
    /// `Proxy-Authenticate`
    ProxyAuthenticate => "Proxy-Authenticate", None, false;
    /// `Proxy-Authorization`
    ProxyAuthorization => "Proxy-Authorization", None, false;
    /// `Proxy-Require`
    ProxyRequire => "Proxy-Require", None, true;
    /// `RAck` (RFC 3262)
    RAck => "RAck", None, false;
    /// `Reason` (RFC 3326)
    Reason => "Reason", None, true;
    /// `Record-Route`
    RecordRoute => "Record-Route", None, true;
    /// `Refer-To` (RFC 3515, compact `r`)
    ReferTo => "Refer-To", Some('r'), false;
    /// `Referred-By` (RFC 3892, compact `b`)
    ReferredBy => "Referred-By", Some('b'), false;
    /// `Reject-Contact` (RFC 3841, compact `j`)
    RejectContact => "Reject-Contact", Some('j'), true;
    /// `Reply-To`
    ReplyTo => "Reply-To", None, false;
    /// `Request-Disposition` (RFC 3841, compact `d`)
    RequestDisposition => "Request-Disposition", Some('d'), true;
    /// `Require`
    Require => "Require", None, true;
    /// `Retry-After`
    RetryAfter => "Retry-After", None, false;
    /// `Route`
    Route => "Route", None, true;
    /// `RSeq` (RFC 3262)
    RSeq => "RSeq", None, false;
    /// `Server`
    Server => "Server", None, false;
    /// `Service-Route` (RFC 3608)
    ServiceRoute => "Service-Route", None, true;
    /// `Session-Expires` (RFC 4028, compact `x`)
    SessionExpires => "Session-Expires", Some('x'), false;
    /// `Subject` (compact `s`)
    Subject => "Subject", Some('s'), false;
    /// `Subscription-State` (RFC 6665)
    SubscriptionState => "Subscription-State", None, false;
    /// `Supported` (compact `k`)
    Supported => "Supported", Some('k'), true;
    /// `Timestamp`
    Timestamp => "Timestamp", None, false;
    /// `To` (compact `t`)
    To => "To", Some('t'), false;
    /// `Unsupported`
    Unsupported => "Unsupported", None, true;
    /// `User-Agent`
    UserAgent => "User-Agent", None, false;
    /// `Via` (compact `v`)
    Via => "Via", Some('v'), true;
    /// `Warning`
    Warning => "Warning", None, true;
    /// `WWW-Authenticate`
    WwwAuthenticate => "WWW-Authenticate", None, false;
}

impl HeaderName {
    /// The name for a header as written in a message: a long or compact form in any case, or
    /// any other name, which is kept as written.
    pub fn parse(name: &str) -> Self {
        Self::lookup(name).unwrap_or_else(|| Self::Other(ByteString::from(name)))
    }

    /// Like [`parse`](Self::parse), but an unknown name shares `owner`'s buffer instead of
    /// being copied (`name` must be a slice of `owner`); and whether the name is written as
    /// printing writes it ([`Header::wire_name`](crate::Header::wire_name)): the canonical
    /// long name, the lower-case compact letter, or an unknown name as it is.
    #[inline]
    pub(crate) fn parse_shared_as_written(owner: &ByteString, name: &str) -> (Self, bool) {
        match Self::lookup_as_written(name) {
            Some(found) => found,
            None => (Self::Other(crate::text::sub(owner, name)), true),
        }
    }

    fn lookup(name: &str) -> Option<Self> {
        Self::lookup_as_written(name).map(|(n, _)| n)
    }

    #[inline]
    fn lookup_as_written(name: &str) -> Option<(Self, bool)> {
        match name.len() {
            0 => None,
            1 => {
                let c = name.as_bytes()[0];
                Self::from_compact(c).map(|n| (n, c.is_ascii_lowercase()))
            }
            _ => Self::fast(name).or_else(|| {
                let n = Self::known(name)?;
                let exact = n.as_str() == name;
                Some((n, exact))
            }),
        }
    }

    /// The headers of every message, tried first, and whether the name is written in the
    /// canonical case.
    #[inline]
    fn fast(name: &str) -> Option<(Self, bool)> {
        /// `header` when `n` is `canonical` in any case; the exact comparison is of a
        /// fixed length, which compiles to a few word compares.
        #[inline(always)]
        fn hit<const N: usize>(
            n: &[u8],
            canonical: &[u8; N],
            header: HeaderName,
        ) -> Option<(HeaderName, bool)> {
            let n: &[u8; N] = n.try_into().ok()?;
            if n == canonical {
                Some((header, true))
            } else if n.eq_ignore_ascii_case(canonical) {
                Some((header, false))
            } else {
                None
            }
        }
        let n = name.as_bytes();
        match (n.len(), n[0] | 0x20) {
            (3, b'v') => hit(n, b"Via", Self::Via),
            (2, b't') => hit(n, b"To", Self::To),
            (4, b'f') => hit(n, b"From", Self::From),
            (4, b'c') => hit(n, b"CSeq", Self::CSeq),
            (7, b'c') if n[1] | 0x20 == b'a' => hit(n, b"Call-ID", Self::CallId),
            (7, b'c') => hit(n, b"Contact", Self::Contact),
            (12, b'm') => hit(n, b"Max-Forwards", Self::MaxForwards),
            (12, b'c') => hit(n, b"Content-Type", Self::ContentType),
            (14, b'c') => hit(n, b"Content-Length", Self::ContentLength),
            _ => None,
        }
    }

    /// Whether this is the header called `name` (any case, long or compact form).
    pub fn is(&self, name: &str) -> bool {
        *self == Self::parse(name)
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Other(a), Self::Other(b)) => a.eq_ignore_ascii_case(b),
            (Self::Other(_), _) | (_, Self::Other(_)) => false,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for HeaderName {}

impl std::hash::Hash for HeaderName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Self::Other(s) => {
                for b in s.bytes() {
                    state.write_u8(b.to_ascii_lowercase());
                }
            }
            _ => std::mem::discriminant(self).hash(state),
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for HeaderName {
    fn from(name: &str) -> Self {
        Self::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compact_form_maps_to_its_long_name() {
        let pairs = [
            ("v", "Via"),
            ("f", "From"),
            ("t", "To"),
            ("i", "Call-ID"),
            ("m", "Contact"),
            ("l", "Content-Length"),
            ("c", "Content-Type"),
            ("e", "Content-Encoding"),
            ("k", "Supported"),
            ("s", "Subject"),
            ("o", "Event"),
            ("r", "Refer-To"),
            ("b", "Referred-By"),
            ("u", "Allow-Events"),
            ("x", "Session-Expires"),
            ("y", "Identity"),
            ("a", "Accept-Contact"),
            ("j", "Reject-Contact"),
            ("d", "Request-Disposition"),
        ];
        for (compact, long) in pairs {
            let n = HeaderName::parse(compact);
            assert_eq!(n.as_str(), long, "{compact}");
            assert_eq!(HeaderName::parse(&compact.to_uppercase()), n);
            assert_eq!(n.compact(), compact.chars().next());
        }
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(HeaderName::parse("MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::parse("call-id"), HeaderName::CallId);
        assert_eq!(
            HeaderName::parse("www-authenticate").as_str(),
            "WWW-Authenticate"
        );
        assert_eq!(HeaderName::parse("X-Foo"), HeaderName::parse("x-foo"));
        assert_eq!(HeaderName::parse("X-Foo").as_str(), "X-Foo");
        assert_ne!(HeaderName::parse("X-Foo"), HeaderName::Via);
        assert_eq!(HeaderName::parse("q").as_str(), "q");
    }
}
