//! Where received audio goes: a WAV file, a raw G.711 file, memory or a callback
//! ([`Recorder`]); and how file writes stay off the RTP task ([`RecorderPump`]).

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::media::{AudioCodec, AudioFileError, WavFormat, WavWriter, SAMPLES_PER_PACKET};

/// Frames a file recorder collects before handing them to a blocking thread: one second of
/// audio, so a call costs one small write a second.
const BATCH_FRAMES: usize = 50;

/// Frames held back at most while the previous batch is still being written (a slow disk):
/// a minute of audio; beyond it frames are dropped and counted, so memory stays bounded.
const MAX_PENDING_FRAMES: usize = 3000;

/// Frames a memory recording keeps at most: half an hour of 20 ms frames.
const MEMORY_LIMIT_FRAMES: usize = 90_000;

/// One 20 ms frame to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A payload of `codec` as it arrived.
    Audio(AudioCodec, Bytes),
    /// A frame that never came: silence.
    Lost(AudioCodec),
}

impl Frame {
    /// The frame's payload in its codec, silence for a lost one.
    fn payload(&self) -> (AudioCodec, Bytes) {
        match self {
            Self::Audio(c, p) => (*c, p.clone()),
            Self::Lost(c) => (*c, Bytes::from(vec![c.silence_byte(); SAMPLES_PER_PACKET])),
        }
    }
}

type RecordCallback = Box<dyn FnMut(AudioCodec, &[u8]) + Send>;

/// Where the audio a stream receives is recorded (Net::SIP's OUTPUT of `media_recv_echo` and
/// `media_send_recv`): after the jitter buffer, lost frames as silence.
pub struct Recorder {
    sink: Sink,
}

enum Sink {
    File(FileSink),
    Memory(Recording),
    Callback(RecordCallback),
}

enum FileSink {
    Wav(WavWriter<BufWriter<File>>),
    Raw {
        out: BufWriter<File>,
        codec: AudioCodec,
        path: PathBuf,
    },
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sink {
            Sink::File(FileSink::Wav(w)) => write!(f, "Recorder::Wav({:?})", w.format()),
            Sink::File(FileSink::Raw { path, codec, .. }) => {
                write!(f, "Recorder::Raw({}, {codec:?})", path.display())
            }
            Sink::Memory(_) => f.write_str("Recorder::Memory"),
            Sink::Callback(_) => f.write_str("Recorder::Callback"),
        }
    }
}

impl Recorder {
    /// Records to a WAV file of 16-bit PCM at 8 kHz (plays everywhere), created now.
    pub fn wav(path: impl AsRef<Path>) -> Result<Self, AudioFileError> {
        Self::wav_format(path, WavFormat::Pcm16)
    }

    /// Records to a WAV file in `format` (μ-law, A-law or 16-bit PCM), created now; payloads
    /// of the other law are converted.
    pub fn wav_format(path: impl AsRef<Path>, format: WavFormat) -> Result<Self, AudioFileError> {
        Ok(Self {
            sink: Sink::File(FileSink::Wav(WavWriter::create(path, format)?)),
        })
    }

    /// Records raw G.711 codes of `codec` (no header, as Net::SIP writes), created now;
    /// payloads of the other law are converted.
    pub fn raw(path: impl AsRef<Path>, codec: AudioCodec) -> Result<Self, AudioFileError> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path).map_err(|source| AudioFileError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            sink: Sink::File(FileSink::Raw {
                out: BufWriter::new(file),
                codec,
                path,
            }),
        })
    }

    /// Records into memory (at most half an hour); the [`Recording`] reads it.
    pub fn memory() -> (Self, Recording) {
        let recording = Recording::default();
        (
            Self {
                sink: Sink::Memory(recording.clone()),
            },
            recording,
        )
    }

    /// Hands each frame (its codec and 160 codes) to `callback`, on the stream's task: it
    /// must not block.
    pub fn callback(callback: impl FnMut(AudioCodec, &[u8]) + Send + 'static) -> Self {
        Self {
            sink: Sink::Callback(Box::new(callback)),
        }
    }
}

impl FileSink {
    fn write(&mut self, frames: &[Frame]) -> Result<(), AudioFileError> {
        for frame in frames {
            match (&mut *self, frame) {
                (Self::Wav(w), Frame::Audio(codec, payload)) => w.write_payload(*codec, payload)?,
                (Self::Wav(w), Frame::Lost(_)) => w.write_silence(SAMPLES_PER_PACKET)?,
                (Self::Raw { out, codec, path }, frame) => {
                    let (from, payload) = frame.payload();
                    let codes = from.transcode(&payload, *codec);
                    out.write_all(&codes).map_err(|source| AudioFileError::Io {
                        path: path.clone(),
                        source,
                    })?;
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<(), AudioFileError> {
        match self {
            Self::Wav(w) => w.finish().map(drop),
            Self::Raw { mut out, path, .. } => out
                .flush()
                .map_err(|source| AudioFileError::Io { path, source }),
        }
    }
}

/// What a memory [`Recorder`] recorded, readable while the call goes on.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    inner: Arc<Mutex<RecordingState>>,
}

#[derive(Debug, Default)]
struct RecordingState {
    frames: Vec<(AudioCodec, Bytes)>,
    dropped: u64,
}

impl Recording {
    fn lock(&self) -> MutexGuard<'_, RecordingState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, frame: &Frame) {
        let mut st = self.lock();
        if st.frames.len() < MEMORY_LIMIT_FRAMES {
            st.frames.push(frame.payload());
        } else {
            st.dropped += 1;
        }
    }

    /// The payloads recorded so far, one per 20 ms frame, in the codec each arrived in
    /// (lost frames are that codec's silence).
    pub fn frames(&self) -> Vec<Bytes> {
        self.lock().frames.iter().map(|(_, p)| p.clone()).collect()
    }

    /// The frames with their codecs.
    pub fn frames_with_codec(&self) -> Vec<(AudioCodec, Bytes)> {
        self.lock().frames.clone()
    }

    /// How many frames were recorded.
    pub fn len(&self) -> usize {
        self.lock().frames.len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The recording as 16-bit linear samples.
    pub fn samples(&self) -> Vec<i16> {
        self.lock()
            .frames
            .iter()
            .flat_map(|(c, p)| c.decode(p))
            .collect()
    }

    /// Frames not kept because the recording reached its limit (half an hour).
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }
}

/// Feeds a [`Recorder`] from the RTP task without blocking it: memory and callback sinks
/// take each frame at once; a file sink gets batches written on tokio's blocking threads, one
/// batch at a time so that the file stays in order.
pub(crate) struct RecorderPump {
    state: PumpState,
    pending: Vec<Frame>,
    /// Frames dropped because the disk did not keep up.
    overrun: u64,
}

enum PumpState {
    Direct(Sink),
    /// The file sink, here or on a blocking thread writing a batch.
    File {
        sink: Option<FileSink>,
        /// The sink comes back through this once its batch is written.
        writing: Option<oneshot::Receiver<Result<FileSink, AudioFileError>>>,
    },
    /// Writing failed; nothing more is recorded.
    Failed,
}

impl RecorderPump {
    pub(crate) fn new(recorder: Recorder) -> Self {
        let state = match recorder.sink {
            Sink::File(f) => PumpState::File {
                sink: Some(f),
                writing: None,
            },
            other => PumpState::Direct(other),
        };
        Self {
            state,
            pending: Vec::new(),
            overrun: 0,
        }
    }

    /// Records one frame (file sinks: queued for the next batch).
    pub(crate) fn push(&mut self, frame: Frame) {
        match &mut self.state {
            PumpState::Direct(Sink::Memory(r)) => r.push(&frame),
            PumpState::Direct(Sink::Callback(cb)) => {
                let (codec, payload) = frame.payload();
                cb(codec, &payload);
            }
            PumpState::Direct(Sink::File(_)) | PumpState::Failed => {}
            PumpState::File { .. } => {
                if self.pending.len() < MAX_PENDING_FRAMES {
                    self.pending.push(frame);
                } else {
                    self.overrun += 1;
                }
                self.flush();
            }
        }
    }

    /// Starts writing the pending frames when a batch is full and no write is in flight.
    /// Never waits.
    fn flush(&mut self) {
        let PumpState::File { sink, writing } = &mut self.state else {
            return;
        };
        if let Some(rx) = writing.as_mut() {
            match rx.try_recv() {
                Err(oneshot::error::TryRecvError::Empty) => return,
                Ok(Ok(back)) => *sink = Some(back),
                Ok(Err(e)) => return self.fail(&e.to_string()),
                Err(oneshot::error::TryRecvError::Closed) => {
                    return self.fail("the writing thread is gone")
                }
            }
            *writing = None;
        }
        if self.pending.len() < BATCH_FRAMES {
            return;
        }
        let Some(mut file) = sink.take() else {
            return;
        };
        let batch = std::mem::take(&mut self.pending);
        let (tx, rx) = oneshot::channel();
        *writing = Some(rx);
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(file.write(&batch).map(|()| file));
        });
    }

    fn fail(&mut self, why: &str) {
        tracing::warn!(%why, "recording stopped");
        self.state = PumpState::Failed;
        self.pending.clear();
    }

    /// Writes what is left and closes the file (the WAV sizes are written then).
    pub(crate) async fn finish(mut self) {
        if self.overrun > 0 {
            tracing::warn!(
                frames = self.overrun,
                "recording dropped frames: disk too slow"
            );
        }
        let PumpState::File { sink, writing } = &mut self.state else {
            return;
        };
        let mut file = match writing.take() {
            Some(rx) => match rx.await {
                Ok(Ok(f)) => f,
                Ok(Err(e)) => return tracing::warn!(%e, "recording failed"),
                Err(_) => return tracing::warn!("recording failed: the writing thread is gone"),
            },
            None => match sink.take() {
                Some(f) => f,
                None => return,
            },
        };
        let batch = std::mem::take(&mut self.pending);
        let done = tokio::task::spawn_blocking(move || {
            file.write(&batch)?;
            file.finish()
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(%e, "recording failed"),
            Err(e) => tracing::warn!(%e, "recording failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u8) -> Frame {
        Frame::Audio(AudioCodec::Pcmu, Bytes::from(vec![n; SAMPLES_PER_PACKET]))
    }

    #[tokio::test]
    async fn memory_keeps_frames_and_turns_lost_ones_into_silence() {
        let (rec, recording) = Recorder::memory();
        let mut pump = RecorderPump::new(rec);
        pump.push(frame(1));
        pump.push(Frame::Lost(AudioCodec::Pcma));
        pump.push(frame(3));
        pump.finish().await;
        let frames = recording.frames();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0][..], [1; 160]);
        assert_eq!(frames[1][..], [0xd5; 160]);
        assert_eq!(recording.samples().len(), 480);
    }

    #[tokio::test]
    async fn wav_file_gets_every_frame_in_order() {
        let dir = std::env::temp_dir().join(format!("sip-simple-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rec.wav");
        let mut pump = RecorderPump::new(Recorder::wav_format(&path, WavFormat::Ulaw).unwrap());
        for i in 0..(BATCH_FRAMES * 2 + 7) {
            pump.push(frame((i % 200) as u8));
            tokio::task::yield_now().await;
        }
        pump.push(Frame::Lost(AudioCodec::Pcmu));
        pump.finish().await;
        let file = crate::media::AudioFile::read(&path).unwrap();
        let frames = file.frames(AudioCodec::Pcmu);
        assert_eq!(frames.len(), BATCH_FRAMES * 2 + 8);
        for (i, f) in frames.iter().take(BATCH_FRAMES * 2 + 7).enumerate() {
            assert_eq!(f[..], [(i % 200) as u8; 160], "frame {i}");
        }
        assert_eq!(frames.last().unwrap()[..], [0xff; 160]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn raw_file_is_converted_to_its_law() {
        let dir = std::env::temp_dir().join(format!("sip-simple-raw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rec.pcma");
        let mut pump = RecorderPump::new(Recorder::raw(&path, AudioCodec::Pcma).unwrap());
        pump.push(Frame::Audio(AudioCodec::Pcmu, Bytes::from(vec![0xff; 160])));
        pump.finish().await;
        assert_eq!(std::fs::read(&path).unwrap(), vec![0xd5; 160]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn unwritable_path_is_an_error_at_once() {
        let e = Recorder::wav("/nonexistent-dir/x.wav").unwrap_err();
        assert!(e.to_string().contains("/nonexistent-dir/x.wav"), "{e}");
    }

    #[test]
    fn callback_sees_each_frame() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut pump = RecorderPump::new(Recorder::callback(move |c, p| {
            s.lock().unwrap().push((c, p.len()));
        }));
        pump.push(frame(1));
        pump.push(Frame::Lost(AudioCodec::Pcma));
        assert_eq!(
            *seen.lock().unwrap(),
            [(AudioCodec::Pcmu, 160), (AudioCodec::Pcma, 160)]
        );
    }
}
