//! Recording received audio as a WAV file (Net::SIP::Simple's `media_recv`).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::audio_file::{WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW, WAVE_FORMAT_PCM};
use super::{AudioCodec, AudioFileError};

/// How a [`WavWriter`] stores samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WavFormat {
    /// μ-law, 8 bits per sample (WAVE format 7): a PCMU stream is stored unchanged.
    Ulaw,
    /// A-law, 8 bits per sample (WAVE format 6): a PCMA stream is stored unchanged.
    Alaw,
    /// 16-bit linear PCM (WAVE format 1): plays everywhere.
    Pcm16,
}

impl WavFormat {
    /// The format that stores `codec`'s payloads unchanged.
    pub fn for_codec(codec: AudioCodec) -> Self {
        match codec {
            AudioCodec::Pcmu => Self::Ulaw,
            AudioCodec::Pcma => Self::Alaw,
        }
    }

    fn tag(self) -> u16 {
        match self {
            Self::Ulaw => WAVE_FORMAT_MULAW,
            Self::Alaw => WAVE_FORMAT_ALAW,
            Self::Pcm16 => WAVE_FORMAT_PCM,
        }
    }

    fn bytes_per_sample(self) -> u16 {
        match self {
            Self::Ulaw | Self::Alaw => 1,
            Self::Pcm16 => 2,
        }
    }

    fn codec(self) -> Option<AudioCodec> {
        match self {
            Self::Ulaw => Some(AudioCodec::Pcmu),
            Self::Alaw => Some(AudioCodec::Pcma),
            Self::Pcm16 => None,
        }
    }
}

/// Offset of the RIFF size field.
const RIFF_SIZE_AT: u64 = 4;

/// Writes 8 kHz mono audio as a WAV file: the header goes out first with zero sizes,
/// [`WavWriter::finish`] seeks back and writes the real ones.
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    out: W,
    name: String,
    format: WavFormat,
    /// Offset of the RIFF header in `out`.
    start: u64,
    /// Offset of the `fact` chunk's sample count (G.711 formats only).
    fact_at: Option<u64>,
    /// Offset of the `data` chunk's size field.
    data_size_at: u64,
    /// Octets of audio written so far.
    data_len: u64,
}

impl WavWriter<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` and writes the WAV header.
    pub fn create(path: impl AsRef<Path>, format: WavFormat) -> Result<Self, AudioFileError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|source| AudioFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::with_name(BufWriter::new(file), format, &path.to_string_lossy())
    }
}

impl<W: Write + Seek> WavWriter<W> {
    /// Writes a WAV file to `out` (e.g. a `Cursor<Vec<u8>>`), starting with the header.
    pub fn new(out: W, format: WavFormat) -> Result<Self, AudioFileError> {
        Self::with_name(out, format, "<memory>")
    }

    /// Like [`WavWriter::new`], naming the output `name` in errors.
    pub fn with_name(mut out: W, format: WavFormat, name: &str) -> Result<Self, AudioFileError> {
        let io = |source| AudioFileError::Io {
            path: PathBuf::from(name),
            source,
        };
        let start = out.stream_position().map_err(io)?;
        let bytes_per_sample = format.bytes_per_sample();
        let mut header = Vec::with_capacity(58);
        header.extend_from_slice(b"RIFF\0\0\0\0WAVE");
        header.extend_from_slice(b"fmt ");
        // Non-PCM formats carry cbSize (0) in an 18-octet fmt chunk.
        let fmt_len: u32 = if format == WavFormat::Pcm16 { 16 } else { 18 };
        header.extend_from_slice(&fmt_len.to_le_bytes());
        header.extend_from_slice(&format.tag().to_le_bytes());
        header.extend_from_slice(&1u16.to_le_bytes()); // mono
        header.extend_from_slice(&8000u32.to_le_bytes());
        header.extend_from_slice(&(8000 * u32::from(bytes_per_sample)).to_le_bytes());
        header.extend_from_slice(&bytes_per_sample.to_le_bytes()); // block align
        header.extend_from_slice(&(8 * bytes_per_sample).to_le_bytes());
        let mut fact_at = None;
        if format != WavFormat::Pcm16 {
            header.extend_from_slice(&0u16.to_le_bytes()); // cbSize
                                                           // Every non-PCM WAV carries a fact chunk with the sample count.
            header.extend_from_slice(b"fact");
            header.extend_from_slice(&4u32.to_le_bytes());
            fact_at = Some(start + header.len() as u64);
            header.extend_from_slice(&0u32.to_le_bytes());
        }
        header.extend_from_slice(b"data");
        let data_size_at = start + header.len() as u64;
        header.extend_from_slice(&0u32.to_le_bytes());
        out.write_all(&header).map_err(io)?;
        Ok(Self {
            out,
            name: name.to_owned(),
            format,
            start,
            fact_at,
            data_size_at,
            data_len: 0,
        })
    }

    /// The format samples are stored in.
    pub fn format(&self) -> WavFormat {
        self.format
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.data_len / u64::from(self.format.bytes_per_sample())
    }

    /// Appends one RTP payload of `codec`, transcoded when the file stores another law or PCM.
    pub fn write_payload(
        &mut self,
        codec: AudioCodec,
        payload: &[u8],
    ) -> Result<(), AudioFileError> {
        match self.format.codec() {
            Some(stored) if stored == codec => self.write_raw(payload),
            Some(stored) => self.write_raw(&codec.transcode(payload, stored)),
            None => self.write_samples(&codec.decode(payload)),
        }
    }

    /// Appends 16-bit linear samples, encoded to the file's format.
    pub fn write_samples(&mut self, samples: &[i16]) -> Result<(), AudioFileError> {
        match self.format.codec() {
            Some(codec) => self.write_raw(&codec.encode(samples)),
            None => {
                let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
                self.write_raw(&bytes)
            }
        }
    }

    /// Appends `samples` samples of silence (e.g. for a lost packet).
    pub fn write_silence(&mut self, samples: usize) -> Result<(), AudioFileError> {
        match self.format.codec() {
            Some(codec) => self.write_raw(&vec![codec.silence_byte(); samples]),
            None => self.write_raw(&vec![0; 2 * samples]),
        }
    }

    fn io_error(&self, source: std::io::Error) -> AudioFileError {
        AudioFileError::Io {
            path: PathBuf::from(&self.name),
            source,
        }
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), AudioFileError> {
        let len = self.data_len + bytes.len() as u64;
        // The RIFF size counts everything after its own field; keep it within 32 bits.
        if self.data_size_at + 4 - self.start - 8 + len + (len & 1) > u64::from(u32::MAX) {
            return Err(AudioFileError::TooLarge {
                name: self.name.clone(),
            });
        }
        self.out.write_all(bytes).map_err(|e| self.io_error(e))?;
        self.data_len = len;
        Ok(())
    }

    /// Pads the data chunk to an even length, writes the RIFF, fact and data sizes and
    /// flushes; gives the writer back, positioned at the end of the file.
    pub fn finish(mut self) -> Result<W, AudioFileError> {
        let result = self.write_sizes();
        result.map_err(|e| self.io_error(e))?;
        Ok(self.out)
    }

    fn write_sizes(&mut self) -> std::io::Result<()> {
        if self.data_len & 1 == 1 {
            self.out.write_all(&[0])?;
        }
        let end = self.out.stream_position()?;
        // write_raw kept both within 32 bits.
        let riff_len = u32::try_from(end - self.start - 8).unwrap_or(u32::MAX);
        let data_len = u32::try_from(self.data_len).unwrap_or(u32::MAX);
        self.out.seek(SeekFrom::Start(self.start + RIFF_SIZE_AT))?;
        self.out.write_all(&riff_len.to_le_bytes())?;
        if let Some(fact_at) = self.fact_at {
            self.out.seek(SeekFrom::Start(fact_at))?;
            let samples = u32::try_from(self.samples_written()).unwrap_or(u32::MAX);
            self.out.write_all(&samples.to_le_bytes())?;
        }
        self.out.seek(SeekFrom::Start(self.data_size_at))?;
        self.out.write_all(&data_len.to_le_bytes())?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests;
