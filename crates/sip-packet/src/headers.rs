//! The header section: an ordered list of (name, value) pairs.

use bytestring::ByteString;

use crate::cseq::CSeq;
use crate::header_name::HeaderName;
use crate::text;

/// One header value with its name. A header line whose name is a list header
/// (see [`HeaderName::is_list`]) holding several comma-separated values is kept as one
/// [`Header`] per value.
///
/// Two headers are equal when name and value are: how a header was written (compact or not)
/// and where it stood do not count.
#[derive(Debug, Clone)]
pub struct Header {
    name: HeaderName,
    value: ByteString,
    compact: bool,
    line: u32,
}

impl Header {
    /// A header with this name and value.
    pub fn new(name: impl Into<HeaderName>, value: impl Into<ByteString>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            compact: false,
            line: 0,
        }
    }

    pub(crate) fn parsed(name: HeaderName, value: ByteString, compact: bool, line: u32) -> Self {
        Self {
            name,
            value,
            compact,
            line,
        }
    }

    /// The line (1-based) of the parsed message this header was on; `None` for a header that
    /// was added after parsing.
    pub fn line(&self) -> Option<u32> {
        (self.line > 0).then_some(self.line)
    }

    /// The header's name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The value: unfolded, trimmed, and for list headers one element of the list.
    pub fn value(&self) -> &ByteString {
        &self.value
    }

    /// Whether the header was written in its compact form (`v:` rather than `Via:`).
    pub fn is_compact(&self) -> bool {
        self.compact
    }

    /// The name as it goes on the wire: the compact form where the message used it.
    pub fn wire_name(&self) -> std::borrow::Cow<'_, str> {
        match (self.compact, self.name.compact()) {
            (true, Some(c)) => std::borrow::Cow::Owned(c.to_string()),
            _ => std::borrow::Cow::Borrowed(self.name.as_str()),
        }
    }
}

impl PartialEq for Header {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}

impl Eq for Header {}

/// The header section of a message: headers in the order they came, with get, get-all, add,
/// insert-at-top, set and remove by case-insensitive name.
///
/// ```
/// use sip_packet::{Headers, HeaderName};
/// let mut h = Headers::new();
/// h.add("Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
/// h.insert_at_top("v", "SIP/2.0/UDP b.example.com;branch=z9hG4bK2");
/// assert_eq!(h.get_all(HeaderName::Via).count(), 2);
/// assert!(h.get("via").unwrap().contains("b.example.com"));
/// ```
#[derive(Clone, Default)]
pub struct Headers {
    list: Vec<Header>,
    /// The CSeq as the parser read it (it needs it to check the method), so that
    /// [`Headers::cseq`] does not read it again. Every `&mut self` method drops it.
    pub(crate) cseq: Option<CSeq>,
}

// The cached CSeq is not part of the value: Debug and equality are the list's.
impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headers").field("list", &self.list).finish()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl Eq for Headers {}

impl Headers {
    /// An empty header section.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            list: Vec::with_capacity(n),
            cseq: None,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, header: Header) {
        self.cseq = None;
        self.list.push(header);
    }

    /// Number of header values.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every header in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.list.iter()
    }

    /// The first value of the header `name`.
    pub fn get(&self, name: impl Into<HeaderName>) -> Option<&ByteString> {
        let name = name.into();
        self.list.iter().find(|h| h.name == name).map(|h| &h.value)
    }

    /// The first value of a known header, without building a name.
    pub(crate) fn get_known(&self, name: &HeaderName) -> Option<&ByteString> {
        self.list.iter().find(|h| &h.name == name).map(|h| &h.value)
    }

    /// Every value of the header `name`, in order.
    pub fn get_all(&self, name: impl Into<HeaderName>) -> impl Iterator<Item = &ByteString> {
        let name = name.into();
        self.list
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| &h.value)
    }

    /// How many values of the header `name` there are.
    pub fn count(&self, name: impl Into<HeaderName>) -> usize {
        let name = name.into();
        self.list.iter().filter(|h| h.name == name).count()
    }

    /// Appends a value at the end of the header section. A list header value holding several
    /// comma-separated elements is split into one value per element.
    pub fn add(&mut self, name: impl Into<HeaderName>, value: impl Into<ByteString>) {
        self.cseq = None;
        let name = name.into();
        let value = value.into();
        for v in split_list(&name, &value) {
            self.list.push(Header::new(name.clone(), v));
        }
    }

    /// Inserts a value above every other value of the same header (or at the very top when
    /// there is none): where a proxy puts its Via and Record-Route.
    pub fn insert_at_top(&mut self, name: impl Into<HeaderName>, value: impl Into<ByteString>) {
        self.cseq = None;
        let name = name.into();
        let value = value.into();
        let at = self.list.iter().position(|h| h.name == name).unwrap_or(0);
        let values = split_list(&name, &value);
        for (i, v) in values.into_iter().enumerate() {
            self.list.insert(at + i, Header::new(name.clone(), v));
        }
    }

    /// Replaces every value of `name` with this one, where the first of them was (or at the
    /// end when there was none).
    pub fn set(&mut self, name: impl Into<HeaderName>, value: impl Into<ByteString>) {
        self.cseq = None;
        let name = name.into();
        let value = value.into();
        match self.list.iter().position(|h| h.name == name) {
            Some(at) => {
                self.list.retain(|h| h.name != name);
                let values = split_list(&name, &value);
                for (i, v) in values.into_iter().enumerate() {
                    self.list.insert(at + i, Header::new(name.clone(), v));
                }
            }
            None => self.add(name, value),
        }
    }

    /// Removes every value of `name`; returns how many there were.
    pub fn remove(&mut self, name: impl Into<HeaderName>) -> usize {
        self.cseq = None;
        let name = name.into();
        let before = self.list.len();
        self.list.retain(|h| h.name != name);
        before - self.list.len()
    }

    /// Removes the first value of `name` and returns it (a proxy pops its own Via this way).
    pub fn remove_first(&mut self, name: impl Into<HeaderName>) -> Option<ByteString> {
        self.cseq = None;
        let name = name.into();
        let at = self.list.iter().position(|h| h.name == name)?;
        Some(self.list.remove(at).value)
    }

    /// Keeps only the headers for which `keep` says true.
    pub fn retain(&mut self, keep: impl FnMut(&Header) -> bool) {
        self.cseq = None;
        self.list.retain(keep);
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// Splits a list header value into its elements; any other value stays whole.
fn split_list(name: &HeaderName, value: &ByteString) -> Vec<ByteString> {
    if !name.is_list() || memchr::memchr(b',', value.as_bytes()).is_none() {
        return vec![value.clone()];
    }
    text::split_outside_quotes(value, b',')
        .filter(|v| !v.is_empty())
        .map(|v| text::sub(value, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(h: &Headers, name: &str) -> Vec<String> {
        h.get_all(name).map(|v| v.to_string()).collect()
    }

    #[test]
    fn add_splits_list_headers_only() {
        let mut h = Headers::new();
        h.add("Route", "<sip:a;lr>, <sip:b;lr>");
        h.add("Subject", "hello, world");
        assert_eq!(values(&h, "route"), vec!["<sip:a;lr>", "<sip:b;lr>"]);
        assert_eq!(values(&h, "s"), vec!["hello, world"]);
    }

    #[test]
    fn insert_at_top_set_remove() {
        let mut h = Headers::new();
        h.add("From", "<sip:a@b>;tag=1");
        h.add("Via", "SIP/2.0/UDP one");
        h.add("Via", "SIP/2.0/UDP two");
        h.insert_at_top("v", "SIP/2.0/UDP zero");
        assert_eq!(
            values(&h, "Via"),
            vec!["SIP/2.0/UDP zero", "SIP/2.0/UDP one", "SIP/2.0/UDP two"]
        );
        assert_eq!(h.iter().next().unwrap().name(), &HeaderName::From);

        h.set("via", "SIP/2.0/TCP only");
        assert_eq!(values(&h, "Via"), vec!["SIP/2.0/TCP only"]);
        assert_eq!(h.iter().nth(1).unwrap().name(), &HeaderName::Via);

        assert_eq!(h.remove_first("Via").as_deref(), Some("SIP/2.0/TCP only"));
        assert_eq!(h.remove("From"), 1);
        assert!(h.is_empty());
    }

    #[test]
    fn insert_at_top_without_that_header_goes_first() {
        let mut h = Headers::new();
        h.add("To", "<sip:x@y>");
        h.insert_at_top("Record-Route", "<sip:p;lr>");
        assert_eq!(h.iter().next().unwrap().name(), &HeaderName::RecordRoute);
    }
}
