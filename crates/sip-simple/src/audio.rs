//! What a call does with its audio (Net::SIP::Simple::RTP's `media_send_recv`,
//! `media_recv_echo` and callbacks): [`Media`].

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::media::{AudioFile, RtpPacket};
use crate::recorder::Recorder;

/// A user callback that answers each received RTP packet with a payload to send back (or
/// nothing). Called on the stream's task: it must not block.
pub type PacketCallback = Arc<dyn Fn(&RtpPacket) -> Option<Bytes> + Send + Sync>;

/// What we send.
#[derive(Clone)]
pub(crate) enum Source {
    /// These files one after the other, `plays` times (`None`: until the call ends), then
    /// silence.
    Files {
        files: Vec<AudioFile>,
        plays: Option<u32>,
    },
    /// Silence, every 20 ms.
    Silence,
    /// Each received audio payload, sent back at once under our SSRC, sequence numbers and
    /// timestamps.
    Echo,
    /// What the callback answers to each received packet.
    Callback(PacketCallback),
    /// Numbered, time-stamped payloads whose echo tells loss and round-trip delay.
    Probe,
}

/// What a call does with one audio stream: what it sends, and where what arrives goes.
///
/// ```no_run
/// use sip_simple::{Media, Recorder};
/// use sip_simple::media::AudioFile;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Play a greeting, record the answer (Net::SIP's media_send_recv).
/// let greet = Media::send_recv(vec![AudioFile::read("hello.wav")?], Some(Recorder::wav("answer.wav")?));
/// // Send back what comes (media_recv_echo), recording it too.
/// let echo = Media::echo().record(Recorder::wav("echo.wav")?);
/// // Answer each packet with a payload of our own.
/// let cb = Media::callback(|pkt| Some(pkt.payload.clone()));
/// # let _ = (greet, echo, cb); Ok(()) }
/// ```
pub struct Media {
    pub(crate) source: Source,
    pub(crate) recorder: Option<Recorder>,
}

impl fmt::Debug for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Files { files, plays } => format!(
                "files {:?} x {}",
                files.iter().map(AudioFile::name).collect::<Vec<_>>(),
                plays.map_or_else(|| "forever".to_owned(), |n| n.to_string())
            ),
            Source::Silence => "silence".to_owned(),
            Source::Echo => "echo".to_owned(),
            Source::Callback(_) => "callback".to_owned(),
            Source::Probe => "probe".to_owned(),
        };
        f.debug_struct("Media")
            .field("source", &source)
            .field("recorder", &self.recorder)
            .finish()
    }
}

impl Default for Media {
    /// Silence, nothing recorded.
    fn default() -> Self {
        Self::silence()
    }
}

impl Media {
    /// Sends `files` one after the other (converted to the negotiated codec), then silence;
    /// [`CallEvent::MediaDone`](crate::CallEvent::MediaDone) tells when the last frame is out.
    /// What arrives goes to `recorder`.
    pub fn send_recv(files: Vec<AudioFile>, recorder: Option<Recorder>) -> Self {
        Self {
            source: Source::Files {
                files,
                plays: Some(1),
            },
            recorder,
        }
    }

    /// Sends back each audio payload that arrives, at once, as our own RTP (our SSRC,
    /// sequence numbers and timestamps).
    pub fn echo() -> Self {
        Self {
            source: Source::Echo,
            recorder: None,
        }
    }

    /// Sends silence every 20 ms, so that the peer hears the line is alive.
    pub fn silence() -> Self {
        Self {
            source: Source::Silence,
            recorder: None,
        }
    }

    /// Calls `callback` for each audio packet that arrives and sends what it returns.
    pub fn callback(
        callback: impl Fn(&RtpPacket) -> Option<Bytes> + Send + Sync + 'static,
    ) -> Self {
        Self {
            source: Source::Callback(Arc::new(callback)),
            recorder: None,
        }
    }

    /// Sends numbered, time-stamped payloads (as Net::SIP's bench does) to a peer that echoes
    /// them: [`CallStats`](crate::CallStats) then tells how many came back, how many were
    /// lost and the round-trip delay.
    pub fn probe() -> Self {
        Self {
            source: Source::Probe,
            recorder: None,
        }
    }

    /// Records what arrives with `recorder` (after the jitter buffer; lost frames become
    /// silence).
    #[must_use]
    pub fn record(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// Plays the files `plays` times in all (at least once) before falling silent; no effect
    /// on other media.
    #[must_use]
    pub fn repeat(mut self, plays: u32) -> Self {
        if let Source::Files { plays: p, .. } = &mut self.source {
            *p = Some(plays.max(1));
        }
        self
    }

    /// Plays the files again and again until the call ends; no effect on other media.
    #[must_use]
    pub fn forever(mut self) -> Self {
        if let Source::Files { plays, .. } = &mut self.source {
            *plays = None;
        }
        self
    }
}
