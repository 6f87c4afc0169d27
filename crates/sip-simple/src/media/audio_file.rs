//! Audio files to send: raw G.711 and WAV (Net::SIP::Simple's `media_send`), as 20 ms payloads.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use thiserror::Error;

use super::{AudioCodec, SAMPLES_PER_PACKET};

/// WAVE format tag of 16-bit linear PCM.
pub(super) const WAVE_FORMAT_PCM: u16 = 1;
/// WAVE format tag of A-law.
pub(super) const WAVE_FORMAT_ALAW: u16 = 6;
/// WAVE format tag of μ-law.
pub(super) const WAVE_FORMAT_MULAW: u16 = 7;
/// WAVE_FORMAT_EXTENSIBLE: the real format tag is the start of the sub-format GUID.
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;

/// An audio file read into memory, in the form it was stored in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFile {
    name: String,
    audio: Stored,
}

/// The audio as the file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stored {
    /// G.711 codes of one law.
    G711(AudioCodec, Vec<u8>),
    /// 16-bit linear samples.
    Pcm16(Vec<i16>),
}

/// Why an audio file cannot be read or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AudioFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The name has no extension that says how the audio is stored.
    #[error("{name}: unknown audio file type (expected .wav, or raw G.711 as .pcmu/.ulaw/.ul or .pcma/.alaw/.al)")]
    UnknownType {
        /// The file name.
        name: String,
    },
    /// The WAV file is damaged: a header or a chunk is missing or runs past the end.
    #[error("{name}: malformed WAV file: {what}")]
    Malformed {
        /// The file name.
        name: String,
        /// What is wrong.
        what: String,
    },
    /// The WAV file is well-formed but holds audio that cannot be sent as G.711.
    #[error(
        "{name}: unsupported WAV audio: {what} (only 8000 Hz mono μ-law, A-law or 16-bit PCM)"
    )]
    Unsupported {
        /// The file name.
        name: String,
        /// What is unsupported.
        what: String,
    },
    /// A WAV file being written would exceed the 4 GiB that RIFF sizes can express.
    #[error("{name}: WAV file would exceed 4 GiB")]
    TooLarge {
        /// The file name.
        name: String,
    },
}

impl AudioFile {
    /// Reads the file at `path`; its name says how the audio is stored (see
    /// [`AudioFile::from_bytes`]).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, AudioFileError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| AudioFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&path.to_string_lossy(), &bytes)
    }

    /// Reads audio held in memory. Data that starts as a RIFF/WAVE file is a WAV file;
    /// otherwise `name_hint`'s extension decides: `.wav` (which must then be a WAV file),
    /// `.pcmu`/`.ulaw`/`.ul` (raw μ-law) or `.pcma`/`.alaw`/`.al` (raw A-law).
    ///
    /// A WAV file must be 8000 Hz mono μ-law (format 7), A-law (6) or 16-bit PCM (1); chunks
    /// other than `fmt ` and `data` are skipped. Anything else is an [`AudioFileError`] that
    /// names the file and what is wrong with it.
    pub fn from_bytes(name_hint: &str, bytes: &[u8]) -> Result<Self, AudioFileError> {
        let extension = Path::new(name_hint)
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let is_riff = bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE";
        let audio = match extension.as_deref() {
            _ if is_riff => parse_wav(name_hint, bytes)?,
            Some("wav" | "wave") => parse_wav(name_hint, bytes)?,
            Some("pcmu" | "ulaw" | "ul" | "mulaw" | "u") => {
                Stored::G711(AudioCodec::Pcmu, bytes.to_vec())
            }
            Some("pcma" | "alaw" | "al") => Stored::G711(AudioCodec::Pcma, bytes.to_vec()),
            _ => {
                return Err(AudioFileError::UnknownType {
                    name: name_hint.to_owned(),
                })
            }
        };
        Ok(Self {
            name: name_hint.to_owned(),
            audio,
        })
    }

    /// Audio from 16-bit linear samples at 8 kHz (e.g. a [`ToneGenerator`](super::ToneGenerator)'s).
    pub fn from_samples(name: &str, samples: Vec<i16>) -> Self {
        Self {
            name: name.to_owned(),
            audio: Stored::Pcm16(samples),
        }
    }

    /// The name the audio was read under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The G.711 law the audio is stored in; `None` for linear PCM.
    pub fn codec_hint(&self) -> Option<AudioCodec> {
        match &self.audio {
            Stored::G711(codec, _) => Some(*codec),
            Stored::Pcm16(_) => None,
        }
    }

    /// The number of samples (at 8 kHz).
    pub fn samples_len(&self) -> usize {
        match &self.audio {
            Stored::G711(_, codes) => codes.len(),
            Stored::Pcm16(samples) => samples.len(),
        }
    }

    /// The audio as 16-bit linear samples.
    pub fn samples(&self) -> Vec<i16> {
        match &self.audio {
            Stored::G711(codec, codes) => codec.decode(codes),
            Stored::Pcm16(samples) => samples.clone(),
        }
    }

    /// The audio as RTP payloads of [`SAMPLES_PER_PACKET`] codes of `codec`, transcoded
    /// through linear PCM when stored in the other law; the last payload is padded with the
    /// codec's silence. Empty audio gives no payload.
    pub fn frames(&self, codec: AudioCodec) -> Vec<Bytes> {
        let mut codes = match &self.audio {
            Stored::G711(stored, codes) => stored.transcode(codes, codec),
            Stored::Pcm16(samples) => codec.encode(samples),
        };
        let padded = codes.len().div_ceil(SAMPLES_PER_PACKET) * SAMPLES_PER_PACKET;
        codes.resize(padded, codec.silence_byte());
        let all = Bytes::from(codes);
        (0..padded)
            .step_by(SAMPLES_PER_PACKET)
            .map(|start| all.slice(start..start + SAMPLES_PER_PACKET))
            .collect()
    }
}

/// A little-endian u16 at `at` (the caller checked the length).
fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// A little-endian u32 at `at` (the caller checked the length).
fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// What the `fmt ` chunk says.
struct Format {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

/// Parses a RIFF/WAVE file: the `fmt ` chunk, then the `data` chunk; other chunks skipped.
fn parse_wav(name: &str, bytes: &[u8]) -> Result<Stored, AudioFileError> {
    let malformed = |what: String| AudioFileError::Malformed {
        name: name.to_owned(),
        what,
    };
    let unsupported = |what: String| AudioFileError::Unsupported {
        name: name.to_owned(),
        what,
    };
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(malformed("no RIFF/WAVE header".to_owned()));
    }
    let mut format = None;
    let mut at = 12;
    while at < bytes.len() {
        if bytes.len() - at < 8 {
            return Err(malformed(format!(
                "chunk header at offset {at} cut short by the end of the file"
            )));
        }
        let id = &bytes[at..at + 4];
        let size = le32(bytes, at + 4) as usize;
        let body_start = at + 8;
        let Some(body_end) = body_start.checked_add(size).filter(|&e| e <= bytes.len()) else {
            return Err(malformed(format!(
                "chunk '{}' at offset {at} declares {size} octets, only {} remain",
                String::from_utf8_lossy(id).escape_debug(),
                bytes.len() - body_start
            )));
        };
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err(malformed(format!(
                        "fmt chunk of {} octets (at least 16 needed)",
                        body.len()
                    )));
                }
                let mut tag = le16(body, 0);
                if tag == WAVE_FORMAT_EXTENSIBLE {
                    // cbSize(2) valid bits(2) channel mask(4), then the GUID whose first
                    // two octets are the format tag.
                    if body.len() < 26 {
                        return Err(malformed(
                            "WAVE_FORMAT_EXTENSIBLE fmt chunk without its sub-format".to_owned(),
                        ));
                    }
                    tag = le16(body, 24);
                }
                format = Some(Format {
                    tag,
                    channels: le16(body, 2),
                    rate: le32(body, 4),
                    bits: le16(body, 14),
                });
            }
            b"data" => {
                let Some(format) = &format else {
                    return Err(malformed("data chunk before the fmt chunk".to_owned()));
                };
                return decode_data(format, body).map_err(unsupported);
            }
            _ => {}
        }
        // Chunks are padded to an even length (the pad octet is not counted in the size).
        at = body_end + (size & 1);
    }
    Err(malformed(if format.is_some() {
        "no data chunk".to_owned()
    } else {
        "no fmt chunk".to_owned()
    }))
}

/// The samples of a `data` chunk in `format`, or what about the format is unsupported.
fn decode_data(format: &Format, data: &[u8]) -> Result<Stored, String> {
    if format.channels != 1 {
        return Err(format!("{} channels", format.channels));
    }
    if format.rate != 8000 {
        return Err(format!("sample rate {} Hz", format.rate));
    }
    match (format.tag, format.bits) {
        (WAVE_FORMAT_MULAW, 8) => Ok(Stored::G711(AudioCodec::Pcmu, data.to_vec())),
        (WAVE_FORMAT_ALAW, 8) => Ok(Stored::G711(AudioCodec::Pcma, data.to_vec())),
        (WAVE_FORMAT_PCM, 16) => Ok(Stored::Pcm16(
            data.chunks_exact(2)
                .map(|s| i16::from_le_bytes([s[0], s[1]]))
                .collect(),
        )),
        (WAVE_FORMAT_MULAW | WAVE_FORMAT_ALAW | WAVE_FORMAT_PCM, bits) => {
            Err(format!("{bits} bits per sample for format {}", format.tag))
        }
        (tag, _) => Err(format!("format tag {tag}")),
    }
}

#[cfg(test)]
mod tests;
