//! Parameters: `;name=value` lists of URIs and header values, kept as text and read on demand.

use std::fmt;

use bytestring::ByteString;

use crate::error::ParseError;
use crate::text;

/// A list of `;name[=value]` parameters, kept as the text after the first `;` and scanned on
/// access: reading a branch or a tag allocates nothing.
///
/// Names compare case-insensitively. Values are as written (quoted values keep their quotes;
/// see [`Params::get_unquoted`]).
///
/// ```
/// use sip_packet::Params;
/// let mut p = Params::parse("branch=z9hG4bK1;rport;TTL=3").unwrap();
/// assert_eq!(p.get("branch"), Some(Some("z9hG4bK1")));
/// assert_eq!(p.get("rport"), Some(None));
/// assert_eq!(p.get("ttl"), Some(Some("3")));
/// p.set("received", Some("192.0.2.1"));
/// assert_eq!(p.to_string(), ";branch=z9hG4bK1;rport;TTL=3;received=192.0.2.1");
/// ```
#[derive(Clone, Default)]
pub struct Params {
    raw: ByteString,
    /// `raw` holds no whitespace, quote or `<`, so that splitting it on `;` and `=` is all
    /// [`Params::iter`] does: lookups take the short way.
    plain: bool,
}

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses parameters written as `a=1;b;c=2` (without the leading `;`).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let owner = ByteString::from(s);
        Self::parse_shared(&owner, &owner)
    }

    /// Checks `s` (a slice of `owner`, without the leading `;`) and keeps it without copying.
    pub(crate) fn parse_shared(owner: &ByteString, s: &str) -> Result<Self, ParseError> {
        let s = text::trim(s);
        if s.is_empty() {
            return Ok(Self::new());
        }
        if is_plain_and_valid(s) {
            return Ok(Self {
                raw: text::sub(owner, s),
                plain: true,
            });
        }
        check_general(s)?;
        Ok(Self {
            raw: text::sub(owner, s),
            plain: false,
        })
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Every parameter in order, as (name, value) with the value `None` for a bare flag.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        let raw: &str = &self.raw;
        let mut it = (!raw.is_empty()).then(|| text::split_outside_quotes(raw, b';'));
        std::iter::from_fn(move || it.as_mut()?.next().map(split_param))
    }

    /// The parameter `name`: `None` when absent, `Some(None)` for a flag, `Some(Some(v))` with
    /// the value as written.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        if self.plain && !self.raw.is_empty() && !name.bytes().any(|b| b == b'=' || b == b';') {
            return get_plain(&self.raw, name);
        }
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value of `name` with the quotes of a quoted value removed and escapes resolved.
    pub fn get_unquoted(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        let v = self.get(name)??;
        if v.starts_with('"') {
            text::unquote(v)
        } else {
            Some(std::borrow::Cow::Borrowed(v))
        }
    }

    /// A shared slice of the value of `name` (no copy).
    pub(crate) fn get_shared(&self, name: &str) -> Option<ByteString> {
        let v = self.get(name)??;
        Some(text::sub(&self.raw, v))
    }

    /// Whether the parameter `name` is present (with or without a value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to `value` (`None` for a flag), replacing it where it was or appending it.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let mut out = String::with_capacity(self.raw.len() + name.len() + 16);
        let mut done = false;
        for (n, v) in self.iter() {
            if n.eq_ignore_ascii_case(name) {
                if done {
                    continue;
                }
                done = true;
                push_param(&mut out, name, value);
            } else {
                push_param(&mut out, n, v);
            }
        }
        if !done {
            push_param(&mut out, name, value);
        }
        self.plain = is_plain(&out);
        self.raw = ByteString::from(out);
    }

    /// Removes every parameter called `name`; returns whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        if !self.contains(name) {
            return false;
        }
        let mut out = String::with_capacity(self.raw.len());
        for (n, v) in self.iter() {
            if !n.eq_ignore_ascii_case(name) {
                push_param(&mut out, n, v);
            }
        }
        self.plain = is_plain(&out);
        self.raw = ByteString::from(out);
        true
    }

    /// The parameters as written, without the leading `;`.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

/// The parameter `name` of the parameter text `s` (without the leading `;`), after the check
/// [`Params::parse_shared`] makes: what [`Params::get`] on the parsed list gives, without
/// building it.
pub(crate) fn find_checked<'a>(
    s: &'a str,
    name: &str,
) -> Result<Option<Option<&'a str>>, ParseError> {
    let s = text::trim(s);
    if s.is_empty() {
        return Ok(None);
    }
    if let Some(found) = find_plain_valid(s, name) {
        return Ok(found);
    }
    check_general(s)?;
    Ok(text::split_outside_quotes(s, b';')
        .map(split_param)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v))
}

/// The check of [`Params::parse_shared`] for any text: quoted values, whitespace around `=`.
fn check_general(s: &str) -> Result<(), ParseError> {
    for p in text::split_outside_quotes(s, b';') {
        let (name, value) = split_param(p);
        if !text::is_token(name) {
            return Err(ParseError::value(p, "parameter name is not a token"));
        }
        if let Some(v) = value {
            let ok = if v.starts_with('"') {
                text::quoted_len(v) == Some(v.len())
            } else {
                !v.is_empty() && v.bytes().all(is_param_value_char)
            };
            if !ok {
                return Err(ParseError::value(p, "parameter value is malformed"));
            }
        }
    }
    Ok(())
}

/// Whether `s` holds only parameter-value characters and `;`: no whitespace to trim, no
/// quotes or angle brackets for a `;` to hide in.
fn is_plain(s: &str) -> bool {
    text::all_in(s, text::PARAM_VALUE | text::SEMI)
}

/// [`is_plain`], and every parameter valid as [`Params::parse_shared`] checks it, in one pass.
/// `false` sends the text through the general check, which also says what is wrong.
fn is_plain_and_valid(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        // A name: one or more token characters.
        let start = i;
        while i < b.len() && text::class(b[i]) & text::TOKEN != 0 {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i < b.len() && b[i] == b'=' {
            // A value: one or more value characters up to the next ';'.
            i += 1;
            let start = i;
            while i < b.len() && b[i] != b';' {
                if text::class(b[i]) & text::PARAM_VALUE == 0 {
                    return false;
                }
                i += 1;
            }
            if i == start {
                return false;
            }
        }
        if i == b.len() {
            return true;
        }
        if b[i] != b';' {
            return false;
        }
        i += 1;
    }
}

/// [`is_plain_and_valid`] and [`get_plain`] in one pass: `None` when `s` is not plain and
/// valid, else the parameter `name` (the first of that name).
fn find_plain_valid<'a>(s: &'a str, name: &str) -> Option<Option<Option<&'a str>>> {
    let b = s.as_bytes();
    let n = name.as_bytes();
    let mut found = None;
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && text::class(b[i]) & text::TOKEN != 0 {
            i += 1;
        }
        if i == start {
            return None;
        }
        let hit = found.is_none()
            && i - start == n.len()
            && b[start..i]
                .iter()
                .zip(n)
                .all(|(&a, &b)| same_ignoring_case(a, b));
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            let vstart = i;
            while i < b.len() && b[i] != b';' {
                if text::class(b[i]) & text::PARAM_VALUE == 0 {
                    return None;
                }
                i += 1;
            }
            if i == vstart {
                return None;
            }
            // Every index here is at an ASCII byte or the end, so a char boundary.
            value = Some(&s[vstart..i]);
        }
        if hit {
            found = Some(value);
        }
        if i == b.len() {
            return Some(found);
        }
        if b[i] != b';' {
            return None;
        }
        i += 1;
    }
}

/// [`Params::get`] on plain text: split on `;`, name and value split at the first `=`.
fn get_plain<'a>(raw: &'a str, name: &str) -> Option<Option<&'a str>> {
    // One pass: at each parameter compare the name in place, then skip to the next `;`.
    // `raw` holds no whitespace or quotes, so a name ends at `=`, `;` or the end.
    let b = raw.as_bytes();
    let n = name.as_bytes();
    let mut at = 0;
    loop {
        let rest = &b[at..];
        let hit = rest.len() >= n.len()
            && rest.iter().zip(n).all(|(&a, &b)| same_ignoring_case(a, b))
            && matches!(rest.get(n.len()), None | Some(b'=' | b';'));
        let end = match text::find_byte(&raw[at..], b';') {
            Some(i) => at + i,
            None => b.len(),
        };
        if hit {
            let after = at + n.len();
            // Every index here is at an ASCII byte or the end, so a char boundary.
            return Some((after < end).then(|| &raw[after + 1..end]));
        }
        if end == b.len() {
            return None;
        }
        at = end + 1;
    }
}

/// `u8::eq_ignore_ascii_case` with the usual case, equal bytes, decided first.
#[inline(always)]
fn same_ignoring_case(a: u8, b: u8) -> bool {
    a == b || (a | 0x20 == b | 0x20 && (a | 0x20).is_ascii_lowercase())
}

fn push_param(out: &mut String, name: &str, value: Option<&str>) {
    if !out.is_empty() {
        out.push(';');
    }
    out.push_str(name);
    if let Some(v) = value {
        out.push('=');
        out.push_str(v);
    }
}

fn split_param(p: &str) -> (&str, Option<&str>) {
    match text::find_byte(p, b'=') {
        Some(i) => (text::trim(&p[..i]), Some(text::trim(&p[i + 1..]))),
        None => (text::trim(p), None),
    }
}

/// Characters of a parameter value that is not quoted: `token`, plus what `host` (IPv6
/// references) and URI `paramchar` (`[]/:&+$` and %-escapes) add.
fn is_param_value_char(b: u8) -> bool {
    text::class(b) & text::PARAM_VALUE != 0
}

/// Equal when they hold the same parameters in the same order, names compared ignoring case.
impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .eq(other.iter().map(|(n, v)| (n.to_ascii_lowercase(), v)))
    }
}

impl Eq for Params {}

/// Writes `;a=1;b`, or nothing when empty.
impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.raw.is_empty() {
            f.write_str(";")?;
            f.write_str(&self.raw)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_around_equals_and_flags() {
        let p = Params::parse(" tag    = 1918181833n ;  x").unwrap();
        assert_eq!(p.get("TAG"), Some(Some("1918181833n")));
        assert_eq!(p.get("x"), Some(None));
        assert_eq!(p.get("y"), None);
    }

    #[test]
    fn quoted_values() {
        let p = Params::parse(r#"a="x;y";b=2"#).unwrap();
        assert_eq!(p.get("a"), Some(Some(r#""x;y""#)));
        assert_eq!(p.get_unquoted("a").unwrap(), "x;y");
        assert_eq!(p.get("b"), Some(Some("2")));
    }

    #[test]
    fn empty_names_are_rejected() {
        assert!(Params::parse(";;").is_err());
        assert!(Params::parse("a=1;;b").is_err());
        assert!(Params::parse("=1").is_err());
        assert!(Params::parse("a=").is_err());
        assert!(Params::parse(r#"a="open"#).is_err());
    }

    /// Random texts over the characters that matter to parameters: the one-pass check accepts
    /// exactly the plain texts the general check accepts, and lookups read the same values.
    #[test]
    fn plain_check_and_lookup_agree_with_the_general_ones() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(5061);
        let alphabet: Vec<char> = "ab=;\" <>:1%.\té[]".chars().collect();
        for _ in 0..200_000 {
            let len = rng.gen_range(0..12);
            let s: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            let s = text::trim(&s);
            let plain = is_plain(s) && !s.is_empty();
            assert_eq!(
                is_plain_and_valid(s),
                plain && check_general(s).is_ok(),
                "{s:?}"
            );
            let p = Params::parse(s);
            if let Ok(p) = p {
                let general = Params {
                    raw: p.raw.clone(),
                    plain: false,
                };
                for name in ["a", "b", "ab", "A", ""] {
                    assert_eq!(p.get(name), general.get(name), "{s:?} {name:?}");
                }
            }
        }
    }

    #[test]
    fn same_ignoring_case_is_eq_ignore_ascii_case() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(
                    same_ignoring_case(a, b),
                    a.eq_ignore_ascii_case(&b),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn set_and_remove() {
        let mut p = Params::new();
        p.set("rport", None);
        p.set("branch", Some("z9hG4bKx"));
        p.set("RPORT", Some("5060"));
        assert_eq!(p.as_str(), "RPORT=5060;branch=z9hG4bKx");
        assert!(p.remove("rport"));
        assert!(!p.remove("rport"));
        assert_eq!(p.to_string(), ";branch=z9hG4bKx");
    }
}
