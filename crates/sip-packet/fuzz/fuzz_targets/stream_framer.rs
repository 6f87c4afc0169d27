//! Feed a byte stream to a `StreamFramer` in two reads split where the first input byte says,
//! and all at once; both must frame the same messages out of the same bytes.
//!
//! Checked: every frame is taken from the front of what was fed (a message frame is exactly
//! those bytes), nothing is made up or lost (frames + pending = bytes fed), and the split does
//! not change the messages, the keep-alive bytes or the error.
//!
//! Keep-alives are compared by the bytes they took, not frame by frame: a CRLFCRLF ping split
//! between two reads is seen as two CRLF pongs, since a framer cannot tell a lone pong from the
//! first half of a ping without waiting, and waiting would hold back real pongs (RFC 5626 §4.4.1).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_packet::{Frame, FramingError, ParseLimits, StreamFramer};

/// What a framer made of a stream.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    messages: Vec<Bytes>,
    keepalive_bytes: usize,
    error: Option<FramingError>,
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let split = usize::from(first) * (stream.len() + 1) / 256;
    let (a, b) = stream.split_at(split);
    let in_two = frame(stream, &[a, b]);
    let at_once = frame(stream, &[stream]);
    assert_eq!(in_two, at_once, "split at {split} changes the framing");
});

/// Feeds the reads one after the other, draining frames after each.
fn frame(stream: &[u8], reads: &[&[u8]]) -> Outcome {
    let mut framer = StreamFramer::new(ParseLimits::default());
    let mut out = Outcome {
        messages: Vec::new(),
        keepalive_bytes: 0,
        error: None,
    };
    let mut fed = 0;
    let mut taken = 0;
    'reads: for read in reads {
        framer.extend(read);
        fed += read.len();
        loop {
            let before = framer.pending();
            assert_eq!(taken + before, fed, "bytes were made up or lost");
            let frame = match framer.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    break 'reads;
                }
            };
            let used = before - framer.pending();
            assert!(used > 0, "a frame that takes no bytes: {frame:?}");
            let bytes = &stream[taken..taken + used];
            match frame {
                Frame::Message(m) => {
                    assert_eq!(&m[..], bytes, "a message frame is not the bytes it took");
                    out.messages.push(m);
                }
                Frame::Ping => {
                    assert_eq!(bytes, b"\r\n\r\n", "a ping that is not CRLFCRLF");
                    out.keepalive_bytes += used;
                }
                Frame::Pong => {
                    assert!(
                        bytes == b"\r\n" || bytes == b"\n",
                        "a pong that is not CRLF: {bytes:?}"
                    );
                    out.keepalive_bytes += used;
                }
                _ => out.keepalive_bytes += used,
            }
            taken += used;
            let framed: usize =
                out.messages.iter().map(Bytes::len).sum::<usize>() + out.keepalive_bytes;
            assert!(
                framed + framer.pending() <= stream.len(),
                "more bytes out than in"
            );
        }
    }
    out
}
