//! `name-addr` and `addr-spec` values with header parameters: From, To, Contact, Route,
//! Record-Route, Reply-To (RFC 3261 §20.10, §25.1).

use std::borrow::Cow;
use std::fmt;

use bytestring::ByteString;

use crate::error::ParseError;
use crate::params::Params;
use crate::text;
use crate::uri::Uri;

/// An address with an optional display name and header parameters (`tag`, `expires`, `q`, ...).
///
/// Parameters after a URI that is not in `<>` belong to the header, not to the URI
/// (RFC 3261 §20.10).
///
/// ```
/// use sip_packet::NameAddr;
/// let a = NameAddr::parse(r#""Alice \"A\"" <sip:alice@atlanta.example.com>;tag=1928301774"#).unwrap();
/// assert_eq!(a.display_name().unwrap(), r#"Alice "A""#);
/// assert_eq!(a.tag(), Some("1928301774"));
/// let b = NameAddr::parse("sip:bob@biloxi.example.com;tag=a6c85cf").unwrap();
/// assert_eq!(b.uri().to_string(), "sip:bob@biloxi.example.com");
/// assert_eq!(b.tag(), Some("a6c85cf"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NameAddr {
    display: Option<ByteString>,
    uri: Uri,
    params: Params,
}

impl NameAddr {
    /// An address for `uri` with no display name and no parameters.
    pub fn new(uri: impl Into<Uri>) -> Self {
        Self {
            display: None,
            uri: uri.into(),
            params: Params::new(),
        }
    }

    /// Parses a `name-addr` or `addr-spec` with parameters.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        let s = text::trim(s);
        let (display, rest) = if s.starts_with('"') {
            let len = text::quoted_len(s)
                .ok_or_else(|| ParseError::value(s, "unterminated quoted display name"))?;
            let rest = text::trim_start(&s[len..]);
            if !rest.starts_with('<') {
                return Err(ParseError::value(
                    s,
                    "quoted display name not followed by <URI>",
                ));
            }
            (Some(&s[..len]), rest)
        } else if let Some(lt) = text::find_byte(s, b'<') {
            let dn = text::trim(&s[..lt]);
            if !dn.bytes().all(|b| text::is_token_char(b) || text::is_ws(b)) {
                return Err(ParseError::value(
                    s,
                    "display name holds characters that need quotes",
                ));
            }
            ((!dn.is_empty()).then_some(dn), &s[lt..])
        } else {
            // addr-spec: the URI ends at the first ';' (a URI with ';', ',' or '?' must be
            // written in <>, RFC 3261 §20), what follows are header parameters.
            let (uri, params) = match text::find_byte(s, b';') {
                Some(i) => (text::trim(&s[..i]), &s[i + 1..]),
                None => (s, ""),
            };
            let uri = Uri::parse_shared(owner, uri)?;
            let params = Params::parse_shared(owner, params)?;
            return Ok(Self {
                display: None,
                uri,
                params,
            });
        };
        // rest starts with '<'
        let gt = text::find_byte(rest, b'>')
            .ok_or_else(|| ParseError::value(s, "< without a closing >"))?;
        let inner = &rest[1..gt];
        if inner.starts_with(|c: char| c.is_ascii_whitespace())
            || inner.ends_with(|c: char| c.is_ascii_whitespace())
        {
            return Err(ParseError::value(s, "whitespace inside <> around the URI"));
        }
        let uri = Uri::parse_shared(owner, inner)?;
        let after = text::trim_start(&rest[gt + 1..]);
        let params = match after.strip_prefix(';') {
            Some(p) => Params::parse_shared(owner, p)?,
            None if after.is_empty() => Params::new(),
            None => return Err(ParseError::value(s, "text after > that is not a parameter")),
        };
        Ok(Self {
            display: display.map(|d| text::sub(owner, d)),
            uri,
            params,
        })
    }

    /// The header parameters of a name-addr or addr-spec value `s` (the text after the `;`
    /// that follows the address, `""` when there are none), found with the same rules as
    /// [`NameAddr::parse_shared`] but without reading the URI.
    pub(crate) fn params_text(s: &str) -> Result<&str, ParseError> {
        let s = text::trim(s);
        let rest = if s.starts_with('"') {
            let len = text::quoted_len(s)
                .ok_or_else(|| ParseError::value(s, "unterminated quoted display name"))?;
            let rest = text::trim_start(&s[len..]);
            if !rest.starts_with('<') {
                return Err(ParseError::value(
                    s,
                    "quoted display name not followed by <URI>",
                ));
            }
            rest
        } else if let Some(lt) = s.bytes().position(|b| b == b'<') {
            // (A byte loop: the `<` comes after a short display name, if at all.)
            &s[lt..]
        } else {
            return Ok(match text::find_byte(s, b';') {
                Some(i) => &s[i + 1..],
                None => "",
            });
        };
        let gt = text::find_byte(rest, b'>')
            .ok_or_else(|| ParseError::value(s, "< without a closing >"))?;
        let after = text::trim_start(&rest[gt + 1..]);
        match after.strip_prefix(';') {
            Some(p) => Ok(p),
            None if after.is_empty() => Ok(""),
            None => Err(ParseError::value(s, "text after > that is not a parameter")),
        }
    }

    /// The display name with quotes removed and escapes resolved.
    pub fn display_name(&self) -> Option<Cow<'_, str>> {
        let d = self.display.as_deref()?;
        if d.starts_with('"') {
            text::unquote(d)
        } else {
            Some(Cow::Borrowed(d))
        }
    }

    /// The display name as written (quoted or a sequence of tokens).
    pub fn display_raw(&self) -> Option<&str> {
        self.display.as_deref()
    }

    /// Sets the display name; it is written quoted.
    pub fn set_display_name(&mut self, name: Option<&str>) {
        self.display = name.map(|n| ByteString::from(text::quote(n)));
    }

    /// Sets the display name (builder style).
    #[must_use]
    pub fn with_display_name(mut self, name: &str) -> Self {
        self.set_display_name(Some(name));
        self
    }

    /// The URI.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The URI, to change.
    pub fn uri_mut(&mut self) -> &mut Uri {
        &mut self.uri
    }

    /// The header parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The header parameters, to change.
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// The `tag` parameter (From and To, RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").flatten()
    }

    /// The `tag` as a shared string.
    pub fn tag_shared(&self) -> Option<ByteString> {
        self.params.get_shared("tag")
    }

    /// Sets the `tag` parameter.
    pub fn set_tag(&mut self, tag: &str) {
        self.params.set("tag", Some(tag));
    }

    /// Sets the `tag` parameter (builder style).
    #[must_use]
    pub fn with_tag(mut self, tag: &str) -> Self {
        self.set_tag(tag);
        self
    }

    /// The `expires` parameter of a Contact, in seconds; `None` when absent or not a number.
    pub fn expires(&self) -> Option<u32> {
        let v = self.params.get("expires").flatten()?;
        text::parse_decimal(v).map(|n| n.min(u64::from(u32::MAX)) as u32)
    }

    /// The `q` parameter of a Contact (0 to 1); `None` when absent or malformed.
    pub fn q(&self) -> Option<f64> {
        let v = self.params.get("q").flatten()?;
        let valid = v.len() <= 5
            && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && v.starts_with(['0', '1']);
        let q: f64 = v.parse().ok().filter(|_| valid)?;
        (0.0..=1.0).contains(&q).then_some(q)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Piece by piece with `write_str` (a registrar prints every contact it binds).
        if let Some(d) = &self.display {
            f.write_str(d)?;
            f.write_str(" ")?;
        }
        f.write_str("<")?;
        fmt::Display::fmt(&self.uri, f)?;
        f.write_str(">")?;
        fmt::Display::fmt(&self.params, f)
    }
}

impl std::str::FromStr for NameAddr {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse(s)
    }
}

/// One Contact value: an address, or `*` (REGISTER removing all bindings, RFC 3261 §10.2.2).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // `*` is rare; boxing the common case would cost more
pub enum Contact {
    /// `*`
    Star,
    /// An address with its parameters (`expires`, `q`, ...).
    Address(NameAddr),
}

impl Contact {
    /// Parses one Contact value.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        if text::trim(s) == "*" {
            Ok(Self::Star)
        } else {
            NameAddr::parse_shared(owner, s).map(Self::Address)
        }
    }

    /// The address, unless this is `*`.
    pub fn address(&self) -> Option<&NameAddr> {
        match self {
            Self::Star => None,
            Self::Address(a) => Some(a),
        }
    }
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Star => f.write_str("*"),
            Self::Address(a) => a.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_display_names() {
        let a = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display_name().unwrap(), "caller");
        let a =
            NameAddr::parse("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>").unwrap();
        assert_eq!(a.display_name().unwrap(), "token1~` token2'+_ token3*%!.-");
        let a = NameAddr::parse("<sip:x@y>").unwrap();
        assert!(a.display_name().is_none());
    }

    #[test]
    fn rejects_what_rfc4475_rejects() {
        // quotbal
        assert!(NameAddr::parse(r#""Mr. J. User <sip:j.user@example.com>"#).is_err());
        // baddn
        assert!(NameAddr::parse("Bell, Alexander <sip:a.g.bell@example.com>;tag=43").is_err());
        // badaspec
        assert!(NameAddr::parse(r#""Watson, Thomas" < sip:t.watson@example.org >"#).is_err());
        // badinv01 Contact
        assert!(NameAddr::parse(r#""Joe" <sip:joe@example.org>;;;;"#).is_err());
        assert!(NameAddr::parse("<sip:x@y").is_err());
        assert!(NameAddr::parse("<sip:x@y> junk").is_err());
    }

    #[test]
    fn expires_and_q() {
        let a = NameAddr::parse("<sip:a@b>;expires=3600;q=0.7").unwrap();
        assert_eq!(a.expires(), Some(3600));
        assert_eq!(a.q(), Some(0.7));
        let a = NameAddr::parse("<sip:a@b>;q=2").unwrap();
        assert_eq!(a.q(), None);
        let a = NameAddr::parse("<sip:a@b>;expires=280297596632815").unwrap();
        assert_eq!(a.expires(), Some(u32::MAX));
    }

    #[test]
    fn builds_and_prints() {
        let mut a = NameAddr::new(Uri::parse("sip:alice@example.com").unwrap())
            .with_display_name("Alice \"A\"")
            .with_tag("abc");
        assert_eq!(
            a.to_string(),
            r#""Alice \"A\"" <sip:alice@example.com>;tag=abc"#
        );
        a.set_tag("def");
        let b = NameAddr::parse(&a.to_string()).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.tag(), Some("def"));
    }

    #[test]
    fn contact_star() {
        assert_eq!(Contact::parse(" * ").unwrap(), Contact::Star);
        assert!(Contact::parse("<sip:a@b>").unwrap().address().is_some());
    }
}
