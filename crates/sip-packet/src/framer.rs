//! Pulling whole messages out of a stream (TCP, TLS) by Content-Length (RFC 3261 §18.3),
//! with CRLF keep-alives (RFC 5626 §3.5.1) recognized between messages.

use bytes::{Buf, Bytes, BytesMut};

use crate::parse::{find_head_end, ParseLimits};
use crate::text;

/// What the stream held next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// One whole message, to give to [`Message::parse`](crate::Message::parse).
    Message(Bytes),
    /// A double-CRLF keep-alive ping: answer it with a single CRLF (RFC 5626 §4.4.1).
    Ping,
    /// A single-CRLF pong.
    Pong,
}

/// Why the stream cannot be read further: the connection is to be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// No end of the header section within the limit.
    #[error("header section larger than the limit of {0} bytes")]
    HeadTooLarge(usize),
    /// Content-Length over the limit.
    #[error("Content-Length {declared} over the body limit of {limit} bytes")]
    BodyTooLarge {
        /// The declared length.
        declared: usize,
        /// The limit.
        limit: usize,
    },
    /// Content-Length missing the number it must hold: the next message cannot be found.
    #[error("Content-Length {0:?} is not a number; the stream cannot be framed")]
    BadContentLength(String),
}

/// A buffer that a connection's bytes go into and whole messages come out of.
///
/// ```
/// use sip_packet::{StreamFramer, Frame, ParseLimits};
/// let mut f = StreamFramer::new(ParseLimits::default());
/// f.extend(b"\r\n\r\nOPTIONS sip:a SIP/2.0\r\nContent-Length: 2\r\n\r\nhi");
/// assert_eq!(f.next_frame().unwrap(), Some(Frame::Ping));
/// assert!(matches!(f.next_frame().unwrap(), Some(Frame::Message(m)) if m.ends_with(b"hi")));
/// assert_eq!(f.next_frame().unwrap(), None);
/// ```
#[derive(Debug)]
pub struct StreamFramer {
    buf: BytesMut,
    limits: ParseLimits,
}

impl StreamFramer {
    /// An empty framer with these limits.
    pub fn new(limits: ParseLimits) -> Self {
        Self {
            buf: BytesMut::with_capacity(4096),
            limits,
        }
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The buffer to read into directly (e.g. with `AsyncReadExt::read_buf`).
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// How many bytes wait that are not yet a whole frame; non-zero when a connection closes
    /// means a half-sent message.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next whole frame, `None` when more bytes are needed, or an error after which the
    /// stream cannot be framed any more.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FramingError> {
        if self.buf.starts_with(b"\r\n\r\n") {
            self.buf.advance(4);
            return Ok(Some(Frame::Ping));
        }
        if self.buf.starts_with(b"\r\n") {
            self.buf.advance(2);
            return Ok(Some(Frame::Pong));
        }
        if self.buf.starts_with(b"\n") {
            self.buf.advance(1);
            return Ok(Some(Frame::Pong));
        }
        let Some((head_end, body_start)) = find_head_end(&self.buf) else {
            if self.buf.len() > self.limits.max_head {
                return Err(FramingError::HeadTooLarge(self.limits.max_head));
            }
            return Ok(None);
        };
        if head_end > self.limits.max_head {
            return Err(FramingError::HeadTooLarge(self.limits.max_head));
        }
        let body_len = content_length(&self.buf[..head_end])?;
        if body_len > self.limits.max_body {
            return Err(FramingError::BodyTooLarge {
                declared: body_len,
                limit: self.limits.max_body,
            });
        }
        let total = body_start + body_len;
        if self.buf.len() < total {
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        Ok(Some(Frame::Message(self.buf.split_to(total).freeze())))
    }
}

/// The Content-Length of a header section; 0 when absent (lenient: RFC 3261 §18.3 requires
/// it on streams, but a message without a body is still framed right without it).
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line[..colon].trim_ascii_end();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let value = String::from_utf8_lossy(line[colon + 1..].trim_ascii());
            return text::parse_decimal(&value)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(FramingError::BadContentLength(value.into_owned()));
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"MESSAGE sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhello";

    #[test]
    fn byte_by_byte_feeds_give_the_same_messages() {
        let mut stream = Vec::new();
        for _ in 0..3 {
            stream.extend_from_slice(MSG);
            stream.extend_from_slice(b"\r\n\r\n");
        }
        let mut f = StreamFramer::new(ParseLimits::default());
        let mut frames = Vec::new();
        for b in &stream {
            f.extend(std::slice::from_ref(b));
            while let Some(fr) = f.next_frame().unwrap() {
                frames.push(fr);
            }
        }
        let messages = frames
            .iter()
            .filter(|f| matches!(f, Frame::Message(m) if m == MSG))
            .count();
        assert_eq!(messages, 3);
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn pong_and_partial_body() {
        let mut f = StreamFramer::new(ParseLimits::default());
        f.extend(b"\r\nMESSAGE sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhel");
        assert_eq!(f.next_frame().unwrap(), Some(Frame::Pong));
        assert_eq!(f.next_frame().unwrap(), None);
        assert!(f.pending() > 0);
        f.extend(b"lo");
        assert_eq!(
            f.next_frame().unwrap(),
            Some(Frame::Message(Bytes::from_static(MSG)))
        );
    }

    #[test]
    fn limits_and_bad_lengths_are_errors() {
        let mut f = StreamFramer::new(ParseLimits::default());
        f.extend(&vec![b'a'; 17 * 1024]);
        assert_eq!(f.next_frame(), Err(FramingError::HeadTooLarge(16 * 1024)));

        let mut f = StreamFramer::new(ParseLimits::default());
        f.extend(b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 999999999\r\n\r\n");
        assert!(matches!(
            f.next_frame(),
            Err(FramingError::BodyTooLarge { .. })
        ));

        let mut f = StreamFramer::new(ParseLimits::default());
        f.extend(b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n");
        assert_eq!(
            f.next_frame(),
            Err(FramingError::BadContentLength("-1".into()))
        );
    }
}
