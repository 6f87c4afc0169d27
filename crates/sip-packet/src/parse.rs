//! The one-pass message parser: start line, header spans, body.

use bytes::Bytes;
use bytestring::ByteString;

use crate::cseq::CSeq;
use crate::error::{ParseError, ParseErrorKind};
use crate::header_name::HeaderName;
use crate::headers::Headers;
use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::text;
use crate::uri::Uri;

/// Size limits that keep a parser from holding more than it should of a peer's input.
///
/// The defaults follow Net::SIP: 16 KiB of header section, 64 KiB of body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseLimits {
    /// The most bytes of start line and headers.
    pub max_head: usize,
    /// The most bytes of body.
    pub max_body: usize,
    /// The most header values.
    pub max_headers: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_head: 16 * 1024,
            max_body: 64 * 1024,
            max_headers: 256,
        }
    }
}

impl ParseLimits {
    /// These limits with another header-section limit.
    #[must_use]
    pub fn with_max_head(mut self, bytes: usize) -> Self {
        self.max_head = bytes;
        self
    }

    /// These limits with another body limit.
    #[must_use]
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// These limits with another limit on the number of header values.
    #[must_use]
    pub fn with_max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }

    /// The largest whole message these limits allow.
    pub fn max_message(&self) -> usize {
        self.max_head + 4 + self.max_body
    }
}

/// Where the header section ends: (end of the last header line including its LF,
/// start of the body). `None` when there is no empty line.
pub(crate) fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    head_end_and_lines(buf, &mut []).map(|(end, _)| end)
}

/// [`find_head_end`], and the number of lines of the head (start line included). The LF
/// ending each of the first `ends.len()` lines is written to `ends`, so that the parser does
/// not search for it again.
fn head_end_and_lines(buf: &[u8], ends: &mut [usize]) -> Option<((usize, usize), usize)> {
    // The first LF followed by LF or CRLF. Stepping from LF to LF is cheaper on a datagram's
    // dozen lines than building the two substring searchers `memmem::find` makes per call.
    for (line, p) in memchr::memchr_iter(b'\n', buf).enumerate() {
        if let Some(slot) = ends.get_mut(line) {
            *slot = p;
        }
        match buf.get(p + 1) {
            Some(b'\n') => return Some(((p + 1, p + 2), line + 1)),
            Some(b'\r') if buf.get(p + 2) == Some(&b'\n') => {
                return Some(((p + 1, p + 3), line + 1))
            }
            _ => {}
        }
    }
    None
}

/// How many line ends the head scan keeps for the parser: more than a usual message has.
const KEPT_LINE_ENDS: usize = 32;

/// Counts of the headers that may appear once, and whether Via appeared.
#[derive(Default)]
struct Seen {
    via: bool,
    from: u8,
    to: u8,
    call_id: u8,
    cseq: Option<(usize, u8)>,
    content_length: Option<(usize, u8)>,
}

impl Seen {
    #[inline(always)]
    fn note(&mut self, name: &HeaderName, index: usize) {
        let bump = |c: &mut u8| *c = c.saturating_add(1);
        match name {
            HeaderName::Via => self.via = true,
            HeaderName::From => bump(&mut self.from),
            HeaderName::To => bump(&mut self.to),
            HeaderName::CallId => bump(&mut self.call_id),
            HeaderName::CSeq => bump(&mut self.cseq.get_or_insert((index, 0)).1),
            HeaderName::ContentLength => bump(&mut self.content_length.get_or_insert((index, 0)).1),
            _ => {}
        }
    }
}

pub(crate) fn parse_message(buf: Bytes, limits: &ParseLimits) -> Result<Message, ParseError> {
    // RFC 3261 §7.5: CRLF before the start line is ignored.
    let skip = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .ok_or_else(|| ParseError::new(ParseErrorKind::Empty))?;
    let data = &buf[skip..];
    let mut ends = [0; KEPT_LINE_ENDS];
    let ((head_end, body_start), lines) = match head_end_and_lines(data, &mut ends) {
        Some(e) => e,
        None if data.len() > limits.max_head => {
            return Err(ParseErrorKind::HeadTooLarge(limits.max_head).into())
        }
        None => return Err(ParseErrorKind::Unterminated.into()),
    };
    if head_end > limits.max_head {
        return Err(ParseErrorKind::HeadTooLarge(limits.max_head).into());
    }
    let head = ByteString::try_from(buf.slice(skip..skip + head_end))
        .map_err(|_| ParseError::new(ParseErrorKind::NotUtf8))?;
    let available = buf.len() - skip - body_start;

    let h: &str = &head;
    let bytes = h.as_bytes();
    // The LF ending line `n` (0 is the start line), kept by the scan or searched for again.
    let line_end = |n: usize, from: usize| match ends.get(n) {
        Some(&end) if n < lines => end,
        _ => memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i),
    };
    let first_end = line_end(0, 0);
    let start_line = h[..first_end].strip_suffix('\r').unwrap_or(&h[..first_end]);
    let (start, start_verbatim) = parse_start_line(&head, start_line).map_err(|e| e.at_line(1))?;
    // Whether printing the message gives back these very bytes (see `Response::wire`):
    // CRLF line ends, no CRLF before the start line, every header line `Name: value` with the
    // name as printing writes it, no folding, no list split. Checked line by line below.
    let mut verbatim =
        start_verbatim && skip == 0 && body_start - head_end == 2 && start_line.len() < first_end;

    // One slot per line (list headers with several values may still grow it): the header list
    // is then one allocation whatever the number of headers. Capped, so that a head of empty
    // names cannot make a large one.
    let mut headers = Headers::parsed(head.clone(), lines.min(limits.max_headers + 1));
    let mut seen = Seen::default();
    let mut pos = first_end + 1;
    let mut line_no: u32 = 1;
    while pos < bytes.len() {
        line_no += 1;
        let this_line = line_no;
        if bytes[pos] == b' ' || bytes[pos] == b'\t' {
            return Err(ParseError::new(ParseErrorKind::OrphanContinuation).at_line(this_line));
        }
        let mut end = line_end(line_no as usize - 1, pos);
        let mut folded = false;
        while end + 1 < bytes.len() && (bytes[end + 1] == b' ' || bytes[end + 1] == b'\t') {
            folded = true;
            line_no += 1;
            end = line_end(line_no as usize - 1, end + 1);
        }
        let raw = &h[pos..end];
        pos = end + 1;
        // The name is a token up to the colon on nearly every line: one pass finds both.
        let token_len = raw
            .bytes()
            .position(|b| !text::is_token_char(b))
            .unwrap_or(raw.len());
        let (colon, name) = if raw.as_bytes().get(token_len) == Some(&b':') && token_len > 0 {
            (token_len, &raw[..token_len])
        } else {
            let colon = memchr::memchr(b':', raw.as_bytes())
                .ok_or_else(|| ParseError::new(ParseErrorKind::MissingColon).at_line(this_line))?;
            let name = raw[..colon].trim_end_matches([' ', '\t']);
            if name.is_empty() || !name.bytes().all(text::is_token_char) {
                return Err(
                    ParseError::new(ParseErrorKind::HeaderName(name.to_owned())).at_line(this_line)
                );
            }
            (colon, name)
        };
        let after = &raw[colon + 1..];
        let a = after.as_bytes();
        // `: value\r`, the usual shape, needs no search for where the value starts and ends.
        let usual = a.len() >= 3
            && a[0] == b' '
            && !text::is_ws(a[1])
            && a[a.len() - 1] == b'\r'
            && !text::is_ws(a[a.len() - 2]);
        let value = if usual {
            &after[1..after.len() - 1]
        } else {
            text::trim(after)
        };
        let (hname, name_as_written) = HeaderName::parse_shared_as_written(&head, name);
        let compact = name.len() == 1;
        verbatim = verbatim
            && !folded
            && name_as_written
            && colon == name.len()
            && raw.len() == colon + 2 + value.len() + 1
            && raw.as_bytes()[colon + 1] == b' '
            && raw.as_bytes()[raw.len() - 1] == b'\r';
        if folded {
            let value = ByteString::from(unfold(value));
            push_value(
                &mut headers,
                &mut seen,
                &mut verbatim,
                hname,
                value.clone(),
                &value,
                compact,
                this_line,
            );
        } else {
            push_value(
                &mut headers,
                &mut seen,
                &mut verbatim,
                hname,
                ByteString::new(),
                value,
                compact,
                this_line,
            );
        }
        if headers.len() > limits.max_headers {
            return Err(
                ParseError::new(ParseErrorKind::TooManyHeaders(limits.max_headers))
                    .at_line(this_line),
            );
        }
    }

    check_once(seen.from, "From")?;
    check_once(seen.to, "To")?;
    check_once(seen.call_id, "Call-ID")?;
    let cseq_index = match seen.cseq {
        None => return Err(ParseErrorKind::MissingHeader("CSeq").into()),
        Some((_, n)) if n > 1 => return Err(ParseErrorKind::DuplicateHeader("CSeq").into()),
        Some((i, _)) => i,
    };
    if !seen.via {
        return Err(ParseErrorKind::MissingHeader("Via").into());
    }
    // (`let else`, not `ok_or`: building the error only to drop it costs a call per message.)
    let Some(cseq_header) = headers.iter().nth(cseq_index) else {
        return Err(ParseErrorKind::MissingHeader("CSeq").into());
    };
    let cseq_line = cseq_header.line().unwrap_or(0);
    let cseq = CSeq::parse_shared(headers.owner_of(cseq_header.value()), cseq_header.value())
        .map_err(|e| e.at_line(cseq_line).in_header("CSeq"))?;

    let body_len = match seen.content_length {
        Some((_, n)) if n > 1 => {
            return Err(ParseErrorKind::DuplicateHeader("Content-Length").into())
        }
        Some((i, _)) => {
            let Some(header) = headers.iter().nth(i) else {
                return Err(ParseErrorKind::MissingHeader("Content-Length").into());
            };
            let v = header.value();
            verbatim = verbatim && (v.len() == 1 || !v.starts_with('0'));
            let n = text::parse_decimal(v)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    ParseError::new(ParseErrorKind::ContentLength(v.to_string()))
                        .at_line(header.line().unwrap_or(0))
                        .in_header("Content-Length")
                })?;
            if n > limits.max_body {
                return Err(ParseErrorKind::BodyTooLarge(limits.max_body).into());
            }
            if n > available {
                return Err(ParseErrorKind::BodyTruncated {
                    declared: n,
                    available,
                }
                .into());
            }
            n
        }
        None if available > limits.max_body => {
            return Err(ParseErrorKind::BodyTooLarge(limits.max_body).into())
        }
        // Printing adds the Content-Length a message without one lacks.
        None => {
            verbatim = false;
            available
        }
    };
    let body_from = skip + body_start;
    let body = if body_len == 0 {
        Bytes::new()
    } else {
        buf.slice(body_from..body_from + body_len)
    };
    let wire = verbatim.then(|| {
        if buf.len() == body_from + body_len {
            // The datagram is the message: keep the handle itself, no reference count.
            buf
        } else {
            buf.slice(..body_from + body_len)
        }
    });

    Ok(match start {
        StartLine::Request(method, uri) => {
            if cseq.method() != &method {
                return Err(ParseError::new(ParseErrorKind::CSeqMethodMismatch {
                    cseq: cseq.method().to_string(),
                    method: method.to_string(),
                })
                .at_line(cseq_line)
                .in_header("CSeq"));
            }
            headers.cseq = Some(cseq);
            Message::Request(Request {
                method,
                uri,
                headers,
                body,
                wire,
            })
        }
        StartLine::Response(status, reason) => {
            headers.cseq = Some(cseq);
            Message::Response(Response {
                status,
                reason,
                headers,
                body,
                wire,
            })
        }
    })
}

/// Adds one header line's value (or its list elements) to `headers`. `owned` holds `value`
/// when the value is not a span of the head (an unfolded line), and is empty otherwise.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn push_value(
    headers: &mut Headers,
    seen: &mut Seen,
    verbatim: &mut bool,
    name: HeaderName,
    owned: ByteString,
    value: &str,
    compact: bool,
    line: u32,
) {
    if name.is_list() && memchr::memchr(b',', value.as_bytes()).is_some() {
        *verbatim = false;
        // Empty list elements are skipped (RFC 7230 §7); what is left is checked by the
        // header's own grammar.
        for v in text::split_outside_quotes(value, b',').filter(|v| !v.is_empty()) {
            seen.note(&name, headers.len());
            if owned.is_empty() {
                headers.push_span(name.clone(), v, compact, line);
            } else {
                headers.push_owned(name.clone(), text::sub(&owned, v), compact, line);
            }
        }
    } else {
        seen.note(&name, headers.len());
        if owned.is_empty() {
            headers.push_span(name, value, compact, line);
        } else {
            headers.push_owned(name, owned, compact, line);
        }
    }
}

fn check_once(count: u8, name: &'static str) -> Result<(), ParseError> {
    match count {
        0 => Err(ParseErrorKind::MissingHeader(name).into()),
        1 => Ok(()),
        _ => Err(ParseErrorKind::DuplicateHeader(name).into()),
    }
}

/// Replaces each line break of a folded value, with the whitespace around it, by one space
/// (RFC 3261 §7.3.1: folding is equivalent to a single SP).
fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, line) in value.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i == 0 {
            out.push_str(line.trim_end_matches([' ', '\t']));
        } else {
            out.push(' ');
            out.push_str(line.trim_matches([' ', '\t']));
        }
    }
    out
}

enum StartLine {
    Request(Method, Uri),
    Response(u16, ByteString),
}

fn is_sip_version(s: &str) -> Result<(), ParseError> {
    if s == "SIP/2.0" || s.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    // Compared as bytes: the text may hold UTF-8, and byte 4 need not be a char boundary.
    let looks_like_version = s.len() > 4
        && s.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/")
        && s.as_bytes()[4..]
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b'.');
    if looks_like_version {
        Err(ParseErrorKind::Version(s.to_owned()).into())
    } else {
        Err(ParseErrorKind::StartLine("the protocol is not SIP/2.0").into())
    }
}

/// The start line, and whether printing it gives back `line` as it is.
/// `s` split at its first space, as `str::split_once(' ')` does, searching bytes.
fn split_space(s: &str) -> Option<(&str, &str)> {
    let i = text::find_byte(s, b' ')?;
    Some((&s[..i], &s[i + 1..]))
}

fn parse_start_line(owner: &ByteString, line: &str) -> Result<(StartLine, bool), ParseError> {
    if line.len() >= 4 && line.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let (version, rest) = split_space(line)
            .ok_or(ParseErrorKind::StartLine("status line lacks a status code"))?;
        is_sip_version(version)?;
        let (code, reason, verbatim) = match split_space(rest) {
            Some((code, reason)) => (code, reason, version == "SIP/2.0"),
            None => (rest, "", false),
        };
        let status = (code.len() == 3)
            .then(|| text::parse_decimal(code))
            .flatten()
            .filter(|c| (100..=699).contains(c))
            .ok_or_else(|| ParseErrorKind::StatusCode(code.to_owned()))?;
        if reason.bytes().any(|b| b < b' ' && b != b'\t') {
            return Err(ParseErrorKind::StartLine("control character in the reason phrase").into());
        }
        return Ok((
            StartLine::Response(status as u16, text::sub(owner, reason)),
            verbatim,
        ));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP between elements
    // (RFC 4475 §3.1.2.9, §3.1.2.10).
    // The method is a short word: a byte loop finds the space before memchr is set up.
    let method_end = line.bytes().position(|b| b == b' ');
    let three = method_end.and_then(|i| {
        let (method, rest) = (&line[..i], &line[i + 1..]);
        let (uri, version) = split_space(rest)?;
        text::find_byte(version, b' ')
            .is_none()
            .then_some((method, uri, version))
    });
    let Some((method, uri, version)) = three else {
        return Err(ParseErrorKind::StartLine(
            "request line is not METHOD SP Request-URI SP SIP/2.0 with single spaces",
        )
        .into());
    };
    if method.is_empty() || uri.is_empty() {
        return Err(ParseErrorKind::StartLine("empty method or Request-URI").into());
    }
    let method = Method::parse_shared(owner, method)?;
    is_sip_version(version)?;
    let uri_text = uri;
    let uri = Uri::parse_shared(owner, uri)?;
    if uri.as_sip().is_some_and(|u| u.headers().is_some()) {
        // RFC 3261 §19.1.5: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
        return Err(ParseError::uri(
            &uri.to_string(),
            "a Request-URI must not hold ?headers",
        ));
    }
    let verbatim = version == "SIP/2.0" && uri.prints_as(uri_text);
    Ok((StartLine::Request(method, uri), verbatim))
}

#[cfg(test)]
mod tests;
