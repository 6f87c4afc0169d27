//! Character classes and small text helpers of RFC 3261 §25.1: tokens, quoted strings,
//! %-escapes, and splitting on separators outside quotes and angle brackets.

use std::borrow::Cow;

use bytestring::ByteString;

/// `token` characters of RFC 3261 §25.1: alphanumerics and `-.!%*_+`~'`.
#[inline]
pub(crate) fn is_token_char(b: u8) -> bool {
    class(b) & TOKEN != 0
}

/// Character classes, one bit each, looked up in [`CLASSES`]: one load per byte instead of a
/// chain of comparisons, and a whole text checked against several classes in one pass.
pub(crate) const TOKEN: u8 = 1;
/// `user` and `password` characters of a SIP URI (see `uri::is_user_char`).
pub(crate) const USER: u8 = 2;
/// Characters of a domain name as `Host` accepts it: alphanumerics, `-`, `_` and `.`.
pub(crate) const DOMAIN: u8 = 4;
/// Digits and `.`: what an IPv4 address is made of.
pub(crate) const DIGIT_DOT: u8 = 8;
/// Characters of an unquoted parameter value (see `params::is_param_value_char`).
pub(crate) const PARAM_VALUE: u8 = 16;
/// `;`, which separates parameters.
pub(crate) const SEMI: u8 = 32;
/// What a SIP URI never holds unescaped: whitespace, control characters, `<`, `>`, `"`.
pub(crate) const URI_BAD: u8 = 64;
/// `:`
pub(crate) const COLON: u8 = 128;

/// The classes of a byte.
#[inline]
pub(crate) fn class(b: u8) -> u8 {
    CLASSES[b as usize]
}

static CLASSES: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        let alnum = b.is_ascii_alphanumeric();
        if alnum
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            )
        {
            c |= TOKEN | PARAM_VALUE;
        }
        if alnum
            || b >= 0x80
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'!'
                    | b'~'
                    | b'*'
                    | b'\''
                    | b'('
                    | b')'
                    | b'%'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b','
                    | b';'
                    | b'?'
                    | b'/'
            )
        {
            c |= USER;
        }
        if alnum || matches!(b, b'-' | b'_' | b'.') {
            c |= DOMAIN;
        }
        if b.is_ascii_digit() || b == b'.' {
            c |= DIGIT_DOT;
        }
        if b >= 0x80
            || matches!(
                b,
                b'[' | b']' | b'/' | b':' | b'&' | b'$' | b'@' | b'?' | b'='
            )
        {
            c |= PARAM_VALUE;
        }
        if b == b';' {
            c |= SEMI;
        }
        if b <= b' ' || matches!(b, b'<' | b'>' | b'"' | 0x7f) {
            c |= URI_BAD;
        }
        if b == b':' {
            c |= COLON;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// Whether every byte of `s` is in one of the classes `mask`.
#[inline]
pub(crate) fn all_in(s: &str, mask: u8) -> bool {
    s.bytes().all(|b| class(b) & mask != 0)
}

/// Whether the whole text is a non-empty `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && all_in(s, TOKEN)
}

/// Linear whitespace inside a value (after unfolding only SP and HTAB remain).
#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r' || b == b'\n'
}

/// Trims SP, HTAB, CR and LF from both ends.
pub(crate) fn trim(s: &str) -> &str {
    // Byte-wise: the characters trimmed are ASCII, so both ends fall on char boundaries.
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// Trims SP, HTAB, CR and LF from the start.
#[inline]
pub(crate) fn trim_start(s: &str) -> &str {
    let start = s.bytes().position(|c| !is_ws(c)).unwrap_or(s.len());
    &s[start..]
}

/// The position of the ASCII byte `b` in `s`: a char boundary, since `b` is ASCII. Faster
/// than `str::find(char)` on the short texts of a header.
#[inline]
pub(crate) fn find_byte(s: &str, b: u8) -> Option<usize> {
    // memchr's vector search costs a few dozen instructions to set up; the parts of a header
    // value it is asked about are mostly shorter than that.
    if s.len() < SHORT {
        return s.bytes().position(|c| c == b);
    }
    memchr::memchr(b, s.as_bytes())
}

/// Texts shorter than this are searched byte by byte.
const SHORT: usize = 32;

/// The position of the last ASCII byte `b` in `s`; see [`find_byte`].
#[inline]
pub(crate) fn rfind_byte(s: &str, b: u8) -> Option<usize> {
    if s.len() < SHORT {
        return s.bytes().rposition(|c| c == b);
    }
    memchr::memrchr(b, s.as_bytes())
}

/// A sub-slice of `owner` as a shared [`ByteString`] without copying.
///
/// `part` must be a slice of `owner` (all callers take it from `owner` itself).
#[inline]
pub(crate) fn sub(owner: &ByteString, part: &str) -> ByteString {
    if part.is_empty() {
        return ByteString::new();
    }
    owner.slice_ref(part)
}

/// Where `part` starts in `owner`, when `part` is a slice of it (by address, not content).
#[inline]
pub(crate) fn offset_in(owner: &str, part: &str) -> Option<usize> {
    let base = owner.as_ptr() as usize;
    let at = (part.as_ptr() as usize).checked_sub(base)?;
    (at + part.len() <= owner.len()).then_some(at)
}

/// Splits `s` on `sep` where the separator is outside double quotes and angle brackets,
/// honouring backslash escapes inside quotes. Pieces are trimmed; empty pieces are kept so that
/// callers can reject them.
pub(crate) fn split_outside_quotes(s: &str, sep: u8) -> SplitOutside<'_> {
    SplitOutside { rest: Some(s), sep }
}

/// Iterator of [`split_outside_quotes`].
pub(crate) struct SplitOutside<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitOutside<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match find_outside_quotes(s, self.sep) {
            Some(i) => {
                self.rest = Some(&s[i + 1..]);
                Some(trim(&s[..i]))
            }
            None => {
                self.rest = None;
                Some(trim(s))
            }
        }
    }
}

/// The position of the first `sep` outside quotes and angle brackets.
pub(crate) fn find_outside_quotes(s: &str, sep: u8) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            match b {
                b'\\' => i += 1,
                b'"' => in_quotes = false,
                _ => {}
            }
        } else if in_angle {
            if b == b'>' {
                in_angle = false;
            }
        } else if b == sep {
            return Some(i);
        } else if b == b'"' {
            in_quotes = true;
        } else if b == b'<' {
            in_angle = true;
        }
        i += 1;
    }
    None
}

/// Removes the quotes of a `quoted-string` and resolves its `\x` escapes.
///
/// Returns `None` when `s` is not one well-formed quoted string.
pub(crate) fn unquote(s: &str) -> Option<Cow<'_, str>> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let mut escaped = false;
    let mut has_escape = false;
    for &b in bytes {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
            has_escape = true;
        } else if b == b'"' {
            return None;
        }
    }
    if escaped {
        return None;
    }
    if !has_escape {
        return Some(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Some(Cow::Owned(out))
}

/// Quotes `s` as a `quoted-string`, escaping `"` and `\`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The length of the quoted string at the start of `s` (both quotes included), or `None` when it
/// is not terminated.
pub(crate) fn quoted_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Resolves `%HH` escapes (RFC 3261 §19.1.2). A `%` not followed by two hex digits is kept
/// as it is, as RFC 4475 §3.1.1.5 asks of a tolerant receiver.
pub fn percent_decode(s: &str) -> Cow<'_, [u8]> {
    let bytes = s.as_bytes();
    if memchr::memchr(b'%', bytes).is_none() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// [`percent_decode`] as text; bytes that do not form UTF-8 become U+FFFD.
pub fn percent_decode_str(s: &str) -> Cow<'_, str> {
    match percent_decode(s) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// Parses a decimal number made of ASCII digits only (no sign, no spaces), without overflow.
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    // 19 digits always fit in a u64, so the sum below cannot overflow.
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    Some(n)
}

/// A dotted-quad IPv4 address, read as `Ipv4Addr::from_str` reads it (four decimal octets
/// of 0 to 255, no leading zeros), in one pass without the general address parser.
pub(crate) fn parse_ipv4(s: &str) -> Option<std::net::Ipv4Addr> {
    let b = s.as_bytes();
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value: u16 = 0;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            value = value * 10 + u16::from(d - b'0');
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && b[start] == b'0') {
            return None;
        }
        *octet = u8::try_from(value).ok()?;
    }
    (i == b.len()).then(|| std::net::Ipv4Addr::from(octets))
}

/// An IPv4 address as dotted-quad text, written without the formatter (printing addresses
/// is on the path of every Via and Contact a server writes).
pub(crate) struct Ipv4Text {
    buf: [u8; 15],
    len: usize,
}

impl Ipv4Text {
    /// The text of `addr`.
    pub(crate) fn new(addr: std::net::Ipv4Addr) -> Self {
        let mut buf = [0u8; 15];
        let mut len = 0;
        for (i, octet) in addr.octets().into_iter().enumerate() {
            if i > 0 {
                buf[len] = b'.';
                len += 1;
            }
            if octet >= 100 {
                buf[len] = b'0' + octet / 100;
                len += 1;
            }
            if octet >= 10 {
                buf[len] = b'0' + octet / 10 % 10;
                len += 1;
            }
            buf[len] = b'0' + octet % 10;
            len += 1;
        }
        Self { buf, len }
    }
}

impl std::ops::Deref for Ipv4Text {
    type Target = str;
    fn deref(&self) -> &str {
        // Digits and dots only: always UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// A number as decimal text, written without the formatter (a port in every URI printed, a
/// Content-Length in every message).
pub(crate) struct DecimalText {
    buf: [u8; 20],
    start: usize,
}

impl DecimalText {
    /// The text of `n`.
    pub(crate) fn new(mut n: u64) -> Self {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        loop {
            start -= 1;
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Self { buf, start }
    }
}

impl std::ops::Deref for DecimalText {
    type Target = str;
    fn deref(&self) -> &str {
        // Digits only: always UTF-8.
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_text_is_what_the_formatter_writes() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            5060,
            65535,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            assert_eq!(&*DecimalText::new(n), n.to_string());
        }
    }

    #[test]
    fn parse_ipv4_reads_what_std_reads() {
        for a in [
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "1.2.3.4",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            "1234.1.1.1",
            "",
            "a.b.c.d",
            "1.2.3.0004",
            "10.0.0.255",
        ] {
            assert_eq!(parse_ipv4(a), a.parse().ok(), "{a:?}");
        }
    }

    #[test]
    fn ipv4_text_is_the_dotted_quad() {
        for a in [
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "10.100.9.99",
            "1.20.200.0",
        ] {
            let addr: std::net::Ipv4Addr = a.parse().unwrap();
            assert_eq!(&*Ipv4Text::new(addr), a);
        }
    }

    use super::*;

    #[test]
    fn classes_match_the_grammar() {
        for b in 0..=255u8 {
            let token = b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b);
            assert_eq!(is_token_char(b), token, "{b}");
            assert_eq!(
                class(b) & URI_BAD != 0,
                b <= b' ' || b"<>\"\x7f".contains(&b),
                "{b}"
            );
            assert_eq!(
                class(b) & DOMAIN != 0,
                b.is_ascii_alphanumeric() || b"-_.".contains(&b),
                "{b}"
            );
        }
    }

    #[test]
    fn split_respects_quotes_and_angles() {
        let parts: Vec<_> =
            split_outside_quotes(r#""a,b" <sip:x@y;p=1,2>, sip:z@w , "c\",d""#, b',').collect();
        assert_eq!(
            parts,
            vec![r#""a,b" <sip:x@y;p=1,2>"#, "sip:z@w", r#""c\",d""#]
        );
    }

    #[test]
    fn unquote_resolves_escapes_and_rejects_unbalanced() {
        assert_eq!(
            unquote(r#""J Rosenberg \\\"""#).unwrap(),
            r#"J Rosenberg \""#
        );
        assert_eq!(unquote(r#""plain""#).unwrap(), "plain");
        assert!(unquote(r#""open"#).is_none());
        assert!(unquote(r#""a"b""#).is_none());
        assert!(unquote(r#""a\""#).is_none());
    }

    #[test]
    fn quote_round_trips() {
        let s = r#"a "b" \c"#;
        assert_eq!(unquote(&quote(s)).unwrap(), s);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(&*percent_decode("%75se%72"), b"user");
        assert_eq!(&*percent_decode("100%"), b"100%");
        assert_eq!(&*percent_decode("%4"), b"%4");
        assert_eq!(&*percent_decode("null-%00-x"), b"null-\0-x");
        assert_eq!(percent_decode_str("a%20b"), "a b");
    }

    #[test]
    fn decimal_rejects_signs_spaces_and_overflow() {
        assert_eq!(parse_decimal("0009"), Some(9));
        assert_eq!(parse_decimal("-1"), None);
        assert_eq!(parse_decimal(" 1"), None);
        assert_eq!(parse_decimal("36893488147419103232"), None);
        assert_eq!(parse_decimal(""), None);
    }
}
