//! The header section: an ordered list of (name, value) pairs.
//!
//! A parsed message keeps its header section as it came: the values are spans of one shared
//! buffer (the message head), so that parsing takes no reference on the buffer per header.
//! Values added later are held on their own.

use bytestring::ByteString;

use std::sync::OnceLock;

use crate::cseq::CSeq;
use crate::header_name::HeaderName;
use crate::text;
use crate::via::Via;

/// One header value with its name, as [`Headers::iter`] shows it. A header line whose name is
/// a list header (see [`HeaderName::is_list`]) holding several comma-separated values is kept
/// as one header per value.
///
/// Two headers are equal when name and value are: how a header was written (compact or not)
/// and where it stood do not count.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    name: &'a HeaderName,
    value: &'a str,
    compact: bool,
    line: u32,
}

impl<'a> Header<'a> {
    /// The line (1-based) of the parsed message this header was on; `None` for a header that
    /// was added after parsing.
    pub fn line(&self) -> Option<u32> {
        (self.line > 0).then_some(self.line)
    }

    /// The header's name.
    pub fn name(&self) -> &'a HeaderName {
        self.name
    }

    /// The value: unfolded, trimmed, and for list headers one element of the list.
    pub fn value(&self) -> &'a str {
        self.value
    }

    /// Whether the header was written in its compact form (`v:` rather than `Via:`).
    pub fn is_compact(&self) -> bool {
        self.compact
    }

    /// The name as it goes on the wire: the compact form where the message used it.
    pub fn wire_name(&self) -> &'a str {
        match (self.compact, self.name.compact()) {
            (true, Some(c)) => compact_str(c),
            _ => self.name.as_str(),
        }
    }
}

/// The one-letter text of a compact header name.
fn compact_str(c: char) -> &'static str {
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyz";
    let i = (c as usize).wrapping_sub('a' as usize);
    LETTERS.get(i..i + 1).unwrap_or("")
}

impl PartialEq for Header<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}

impl Eq for Header<'_> {}

/// Where a value is: a span of the parsed head, or a string of its own.
#[derive(Debug, Clone)]
enum Value {
    /// `head[start..end]`.
    Span { start: u32, end: u32 },
    /// A value added or rewritten after parsing, or unfolded from several lines.
    Owned(ByteString),
}

/// One entry of the list.
#[derive(Debug, Clone)]
struct Entry {
    name: HeaderName,
    value: Value,
    compact: bool,
    line: u32,
}

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
    /// The parsed head the spans point into (empty for headers built by hand).
    head: ByteString,
    list: Vec<Entry>,
    /// The CSeq as the parser read it (it needs it to check the method), so that
    /// [`Headers::cseq`] does not read it again. Every `&mut self` method drops it.
    pub(crate) cseq: Option<CSeq>,
    /// The topmost Via as [`Headers::keep_top_via`] (or [`Headers::set_top_via`]) left it,
    /// so that the readers after it ([`Headers::top_via`]) do not parse it again. Boxed: a
    /// message moves from task to task, and a Via is large. Every `&mut self` method drops
    /// it.
    pub(crate) kept_top_via: OnceLock<Box<Via>>,
}

// The cached CSeq and the buffer are not part of the value: Debug and equality are the list's.
impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl Headers {
    /// An empty header section.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty header section for the parser, whose values will be spans of `head`.
    pub(crate) fn parsed(head: ByteString, capacity: usize) -> Self {
        Self {
            head,
            list: Vec::with_capacity(capacity),
            cseq: None,
            kept_top_via: OnceLock::new(),
        }
    }

    /// Appends a parsed value: `value` is a part of the head given to [`Headers::parsed`].
    #[inline(always)]
    pub(crate) fn push_span(&mut self, name: HeaderName, value: &str, compact: bool, line: u32) {
        let start = text::offset_in(&self.head, value);
        let entry_value = match start {
            Some(start) => Value::Span {
                start: start as u32,
                end: (start + value.len()) as u32,
            },
            None => Value::Owned(ByteString::from(value)),
        };
        self.push_entry(Entry {
            name,
            value: entry_value,
            compact,
            line,
        });
    }

    /// Appends a value held on its own (an unfolded line), as the parser read it.
    pub(crate) fn push_owned(
        &mut self,
        name: HeaderName,
        value: ByteString,
        compact: bool,
        line: u32,
    ) {
        self.push_entry(Entry {
            name,
            value: Value::Owned(value),
            compact,
            line,
        });
    }

    /// Appends a header with this name and value, as it is (no list split).
    pub(crate) fn push(&mut self, name: HeaderName, value: ByteString) {
        self.push_owned(name, value, false, 0);
    }

    /// Drops what is kept parsed: the section is about to change.
    #[inline]
    fn changed(&mut self) {
        self.cseq = None;
        self.kept_top_via.take();
    }

    /// Drops what is kept parsed of `name` only: the values of that header are about to
    /// change, and nothing else (a response that gets a To tag, a Contact and a Date keeps
    /// the top Via it was made with parsed).
    #[inline]
    fn changed_header(&mut self, name: &HeaderName) {
        match name {
            HeaderName::Via => {
                self.kept_top_via.take();
            }
            HeaderName::CSeq => self.cseq = None,
            _ => {}
        }
    }

    #[inline]
    fn push_entry(&mut self, entry: Entry) {
        self.changed_header(&entry.name);
        self.list.push(entry);
    }

    #[inline]
    fn view<'a>(&'a self, e: &'a Entry) -> Header<'a> {
        Header {
            name: &e.name,
            value: self.text(&e.value),
            compact: e.compact,
            line: e.line,
        }
    }

    #[inline]
    fn text<'a>(&'a self, v: &'a Value) -> &'a str {
        match v {
            Value::Span { start, end } => {
                self.head.get(*start as usize..*end as usize).unwrap_or("")
            }
            Value::Owned(s) => s,
        }
    }

    /// The buffer that a value of this section lives in, to build typed views sharing it.
    pub(crate) fn owner_of<'a>(&'a self, value: &str) -> &'a ByteString {
        if text::offset_in(&self.head, value).is_some() {
            return &self.head;
        }
        self.list
            .iter()
            .find_map(|e| match &e.value {
                Value::Owned(s) if text::offset_in(s, value).is_some() => Some(s),
                _ => None,
            })
            .unwrap_or(&self.head)
    }

    /// `part` (a value of this section, or any part of one) as a [`ByteString`] sharing this
    /// section's buffer; a copy when `part` is not from here. For keeping a value (a Call-ID,
    /// a branch) after the message is gone without copying it.
    pub fn share(&self, part: &str) -> ByteString {
        let owner = self.owner_of(part);
        match text::offset_in(owner, part) {
            Some(_) => owner.slice_ref(part),
            None => ByteString::from(part),
        }
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
    pub fn iter(&self) -> HeaderIter<'_> {
        HeaderIter {
            headers: self,
            inner: self.list.iter(),
        }
    }

    /// The first value of the header `name`.
    pub fn get(&self, name: impl Into<HeaderName>) -> Option<&str> {
        let name = name.into();
        self.get_known(&name)
    }

    /// The first value of a known header, without building a name.
    #[inline]
    pub(crate) fn get_known(&self, name: &HeaderName) -> Option<&str> {
        self.list
            .iter()
            .find(|h| &h.name == name)
            .map(|h| self.text(&h.value))
    }

    /// The first header of a known name.
    #[inline]
    pub(crate) fn first(&self, name: &HeaderName) -> Option<Header<'_>> {
        self.list
            .iter()
            .find(|h| &h.name == name)
            .map(|e| self.view(e))
    }

    /// Every value of the header `name`, in order.
    pub fn get_all(&self, name: impl Into<HeaderName>) -> impl Iterator<Item = &str> {
        let name = name.into();
        self.list
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| self.text(&h.value))
    }

    /// How many values of the header `name` there are.
    pub fn count(&self, name: impl Into<HeaderName>) -> usize {
        let name = name.into();
        self.list.iter().filter(|h| h.name == name).count()
    }

    /// Appends a value at the end of the header section. A list header value holding several
    /// comma-separated elements is split into one value per element.
    pub fn add(&mut self, name: impl Into<HeaderName>, value: impl Into<ByteString>) {
        let name = name.into();
        let value = value.into();
        for v in split_list(&name, &value) {
            self.push(name.clone(), v);
        }
    }

    /// Inserts a value above every other value of the same header (or at the very top when
    /// there is none): where a proxy puts its Via and Record-Route.
    pub fn insert_at_top(&mut self, name: impl Into<HeaderName>, value: impl Into<ByteString>) {
        let name = name.into();
        self.changed_header(&name);
        let value = value.into();
        let at = self.list.iter().position(|h| h.name == name).unwrap_or(0);
        if !is_split(&name, &value) {
            self.list.insert(at, owned(name, value));
            return;
        }
        let values = split_list(&name, &value);
        for (i, v) in values.into_iter().enumerate() {
            self.list.insert(at + i, owned(name.clone(), v));
        }
    }

    /// Replaces every value of `name` with this one, where the first of them was (or at the
    /// end when there was none).
    pub fn set(&mut self, name: impl Into<HeaderName>, value: impl Into<ByteString>) {
        let name = name.into();
        self.changed_header(&name);
        let value = value.into();
        match self.list.iter().position(|h| h.name == name) {
            Some(at) => {
                let single = !is_split(&name, &value);
                let others = self.list.iter().skip(at + 1).any(|h| h.name == name);
                if single && !others {
                    // One value replacing one value (a proxy's Max-Forwards): in place.
                    if let Some(entry) = self.list.get_mut(at) {
                        *entry = owned(name, value);
                    }
                    return;
                }
                self.list.retain(|h| h.name != name);
                if single {
                    self.list.insert(at, owned(name, value));
                    return;
                }
                let values = split_list(&name, &value);
                for (i, v) in values.into_iter().enumerate() {
                    self.list.insert(at + i, owned(name.clone(), v));
                }
            }
            None => self.add(name, value),
        }
    }

    /// Removes every value of `name`; returns how many there were.
    pub fn remove(&mut self, name: impl Into<HeaderName>) -> usize {
        let name = name.into();
        self.changed_header(&name);
        let before = self.list.len();
        self.list.retain(|h| h.name != name);
        before - self.list.len()
    }

    /// Removes the first value of `name` and returns it (a proxy pops its own Via this way).
    pub fn remove_first(&mut self, name: impl Into<HeaderName>) -> Option<ByteString> {
        let name = name.into();
        self.changed_header(&name);
        let at = self.list.iter().position(|h| h.name == name)?;
        Some(match self.list.remove(at).value {
            Value::Owned(s) => s,
            Value::Span { start, end } => match self.head.get(start as usize..end as usize) {
                Some(part) => self.head.slice_ref(part),
                None => ByteString::new(),
            },
        })
    }

    /// Replaces the topmost Via with `via` where it stands (a server stamping `received` and
    /// `rport` on what arrived, RFC 3261 §18.2.1, RFC 3581 §4), or puts it on top when there
    /// is none. It is kept parsed, as [`Headers::keep_top_via`] keeps it.
    ///
    /// ```
    /// use sip_packet::{Headers, Via};
    /// let mut h = Headers::new();
    /// h.add("Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
    /// h.add("Via", "SIP/2.0/UDP b.example.com;branch=z9hG4bK2");
    /// let mut top = h.top_via().unwrap();
    /// top.set_rport(Some(5062));
    /// h.set_top_via(&top);
    /// assert_eq!(h.get("Via").unwrap(), "SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport=5062");
    /// assert_eq!(h.top_via().unwrap(), top);
    /// assert_eq!(h.count("Via"), 2);
    /// ```
    pub fn set_top_via(&mut self, via: &Via) {
        self.changed();
        let value = ByteString::from(via.to_string());
        match self.list.iter_mut().find(|h| h.name == HeaderName::Via) {
            Some(entry) => *entry = owned(HeaderName::Via, value),
            None => self.list.insert(0, owned(HeaderName::Via, value)),
        }
        let _ = self.kept_top_via.set(Box::new(via.clone()));
    }

    /// Keeps only the headers for which `keep` says true.
    pub fn retain(&mut self, mut keep: impl FnMut(Header<'_>) -> bool) {
        self.changed();
        let head = &self.head;
        self.list.retain(|e| {
            let value = match &e.value {
                Value::Span { start, end } => {
                    head.get(*start as usize..*end as usize).unwrap_or("")
                }
                Value::Owned(s) => s,
            };
            keep(Header {
                name: &e.name,
                value,
                compact: e.compact,
                line: e.line,
            })
        });
    }
}

fn owned(name: HeaderName, value: ByteString) -> Entry {
    Entry {
        name,
        value: Value::Owned(value),
        compact: false,
        line: 0,
    }
}

/// The headers of a [`Headers`], in order.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    headers: &'a Headers,
    inner: std::slice::Iter<'a, Entry>,
}

impl<'a> HeaderIter<'a> {
    /// The next header named `name`: the others are passed by their name alone, without
    /// reading their value.
    #[inline]
    pub(crate) fn next_named(&mut self, name: &HeaderName) -> Option<Header<'a>> {
        let headers = self.headers;
        self.inner
            .find(|e| &e.name == name)
            .map(|e| headers.view(e))
    }
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Header<'a>;

    #[inline]
    fn next(&mut self) -> Option<Header<'a>> {
        self.inner.next().map(|e| self.headers.view(e))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    fn nth(&mut self, n: usize) -> Option<Header<'a>> {
        self.inner.nth(n).map(|e| self.headers.view(e))
    }
}

impl DoubleEndedIterator for HeaderIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|e| self.headers.view(e))
    }
}

impl ExactSizeIterator for HeaderIter<'_> {}

impl<'a> IntoIterator for &'a Headers {
    type Item = Header<'a>;
    type IntoIter = HeaderIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Whether `value` of `name` may hold several values (a list header with a comma): the one
/// case [`split_list`] has work to do.
fn is_split(name: &HeaderName, value: &str) -> bool {
    name.is_list() && memchr::memchr(b',', value.as_bytes()).is_some()
}

/// Splits a list header value into its elements; any other value stays whole.
fn split_list(name: &HeaderName, value: &ByteString) -> Vec<ByteString> {
    if !is_split(name, value) {
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
        assert_eq!(h.iter().next().unwrap().wire_name(), "From");

        h.set("via", "SIP/2.0/TCP only");
        assert_eq!(values(&h, "Via"), vec!["SIP/2.0/TCP only"]);
        assert_eq!(h.iter().nth(1).unwrap().name(), &HeaderName::Via);

        assert_eq!(h.remove_first("Via").as_deref(), Some("SIP/2.0/TCP only"));
        assert_eq!(h.remove("From"), 1);
        assert!(h.is_empty());
    }

    #[test]
    fn set_replaces_one_value_where_it_stands_and_several_with_the_new_ones() {
        let mut h = Headers::new();
        h.add("Max-Forwards", "70");
        h.add("Route", "<sip:a;lr>");
        h.add("To", "<sip:x@y>");
        h.set("max-forwards", "69");
        assert_eq!(values(&h, "Max-Forwards"), vec!["69"]);
        assert_eq!(h.iter().next().unwrap().name(), &HeaderName::MaxForwards);
        assert_eq!(h.len(), 3);
        // A list value replacing one value: each element in its place.
        h.set("Route", "<sip:b;lr>, <sip:c;lr>");
        assert_eq!(values(&h, "Route"), vec!["<sip:b;lr>", "<sip:c;lr>"]);
        assert_eq!(h.iter().nth(1).unwrap().value(), "<sip:b;lr>");
        // One value replacing several.
        h.set("Route", "<sip:d;lr>");
        assert_eq!(values(&h, "Route"), vec!["<sip:d;lr>"]);
        assert_eq!(h.iter().nth(1).unwrap().value(), "<sip:d;lr>");
        assert_eq!(h.iter().nth(2).unwrap().name(), &HeaderName::To);
        // A change drops what was read from before.
        h.add("Call-ID", "c1");
        h.add("CSeq", "1 INVITE");
        let cseq = h.cseq().unwrap();
        assert_eq!(cseq.seq(), 1);
        h.set("CSeq", "2 INVITE");
        assert_eq!(h.cseq().unwrap().seq(), 2);
    }

    #[test]
    fn insert_at_top_without_that_header_goes_first() {
        let mut h = Headers::new();
        h.add("To", "<sip:x@y>");
        h.insert_at_top("Record-Route", "<sip:p;lr>");
        assert_eq!(h.iter().next().unwrap().name(), &HeaderName::RecordRoute);
    }
}
