//! What one stream sends, without IO: files frame by frame (repeated, converted to the
//! negotiated codec), silence, probes on the 20 ms clock; or answers to what arrives (echo,
//! a callback).

use std::time::Duration;

use bytes::Bytes;

use crate::audio::{PacketCallback, Source};
use crate::media::{AudioCodec, AudioFile, RtpPacket, SAMPLES_PER_PACKET};
use crate::probe::{ProbeStats, Prober};

/// What the 20 ms clock gets from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClockOutput {
    /// Send this payload.
    Payload(Bytes),
    /// Send this payload; it is silence after the last file frame, which went out before.
    FilesDone(Bytes),
    /// Nothing: the source answers what arrives instead.
    Nothing,
}

/// A stream's source with its position.
pub(crate) enum StreamSource {
    Files {
        files: Vec<AudioFile>,
        /// The files as payloads of `codec`.
        frames: Vec<Bytes>,
        codec: Option<AudioCodec>,
        position: usize,
        plays_left: Option<u32>,
        done: bool,
    },
    Silence,
    Echo,
    Callback(PacketCallback),
    Probe(Prober),
}

/// 20 ms of silence in `codec`.
pub(crate) fn silence(codec: AudioCodec) -> Bytes {
    Bytes::from(vec![codec.silence_byte(); SAMPLES_PER_PACKET])
}

impl StreamSource {
    pub(crate) fn new(source: Source) -> Self {
        match source {
            Source::Files { files, plays } => Self::Files {
                files,
                frames: Vec::new(),
                codec: None,
                position: 0,
                plays_left: plays,
                done: false,
            },
            Source::Silence => Self::Silence,
            Source::Echo => Self::Echo,
            Source::Callback(cb) => Self::Callback(cb),
            Source::Probe => Self::Probe(Prober::default()),
        }
    }

    /// Whether the source sends on the 20 ms clock (files, silence, probes) rather than in
    /// answer to what arrives (echo, a callback).
    pub(crate) fn is_paced(&self) -> bool {
        !matches!(self, Self::Echo | Self::Callback(_))
    }

    /// Whether the source sends files.
    pub(crate) fn has_files(&self) -> bool {
        matches!(self, Self::Files { .. })
    }

    /// What the probes showed (nothing for other sources).
    pub(crate) fn probe_stats(&self) -> ProbeStats {
        match self {
            Self::Probe(p) => p.stats(),
            _ => ProbeStats::default(),
        }
    }

    /// The payload for this tick of the clock, `since_start` after the stream began, in
    /// `codec`.
    pub(crate) fn on_clock(&mut self, codec: AudioCodec, since_start: Duration) -> ClockOutput {
        match self {
            Self::Files {
                files,
                frames,
                codec: built,
                position,
                plays_left,
                done,
            } => {
                if *built != Some(codec) {
                    // The position is in frames, the same in either codec.
                    *frames = files.iter().flat_map(|f| f.frames(codec)).collect();
                    *built = Some(codec);
                }
                let mut finished = false;
                if *position >= frames.len() && !*done {
                    let again = match plays_left {
                        None => !frames.is_empty(),
                        Some(n) => {
                            *n = n.saturating_sub(1);
                            *n > 0 && !frames.is_empty()
                        }
                    };
                    if again {
                        *position = 0;
                    } else {
                        *done = true;
                        finished = true;
                    }
                }
                match frames.get(*position) {
                    Some(f) if !*done => {
                        *position += 1;
                        ClockOutput::Payload(f.clone())
                    }
                    _ if finished => ClockOutput::FilesDone(silence(codec)),
                    _ => ClockOutput::Payload(silence(codec)),
                }
            }
            Self::Silence => ClockOutput::Payload(silence(codec)),
            Self::Probe(p) => {
                ClockOutput::Payload(p.next_payload(since_start, codec.silence_byte()))
            }
            Self::Echo | Self::Callback(_) => ClockOutput::Nothing,
        }
    }

    /// The answer to an audio packet that arrived `since_start` after the stream began (a
    /// probe's echo is read, not answered).
    pub(crate) fn on_packet(&mut self, packet: &RtpPacket, since_start: Duration) -> Option<Bytes> {
        match self {
            Self::Echo => Some(packet.payload.clone()),
            Self::Callback(cb) => cb(packet),
            Self::Probe(p) => {
                p.handle_echo(&packet.payload, since_start);
                None
            }
            Self::Files { .. } | Self::Silence => None,
        }
    }
}
