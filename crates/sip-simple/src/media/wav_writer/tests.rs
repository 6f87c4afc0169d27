//! WAV writer tests: what we write reads back identically; sizes; errors.

use std::io::{Cursor, Seek, SeekFrom, Write};

use super::*;
use crate::media::AudioFile;

fn written(format: WavFormat, f: impl FnOnce(&mut WavWriter<Cursor<Vec<u8>>>)) -> Vec<u8> {
    let mut w = WavWriter::new(Cursor::new(Vec::new()), format).unwrap();
    f(&mut w);
    w.finish().unwrap().into_inner()
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[test]
fn ulaw_payloads_read_back_identically() {
    let payloads: Vec<Vec<u8>> = (0..3u8)
        .map(|p| {
            (0..160)
                .map(|i| (i as u8).wrapping_mul(7).wrapping_add(p))
                .collect()
        })
        .collect();
    let bytes = written(WavFormat::Ulaw, |w| {
        for p in &payloads {
            w.write_payload(AudioCodec::Pcmu, p).unwrap();
        }
        assert_eq!(w.samples_written(), 480);
    });
    // Header: RIFF size, fmt 18 with format 7, fact with the sample count, data size.
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(le32(&bytes, 4) as usize, bytes.len() - 8);
    assert_eq!(&bytes[20..22], &7u16.to_le_bytes());
    assert_eq!(&bytes[38..42], b"fact");
    assert_eq!(le32(&bytes, 46), 480);
    assert_eq!(&bytes[50..54], b"data");
    assert_eq!(le32(&bytes, 54), 480);
    assert_eq!(bytes.len(), 58 + 480);

    let file = AudioFile::from_bytes("rec.wav", &bytes).unwrap();
    assert_eq!(file.codec_hint(), Some(AudioCodec::Pcmu));
    let frames = file.frames(AudioCodec::Pcmu);
    assert_eq!(frames.len(), 3);
    for (frame, p) in frames.iter().zip(&payloads) {
        assert_eq!(&frame[..], &p[..]);
    }
}

#[test]
fn pcm16_stores_decoded_samples_and_silence() {
    let payload: Vec<u8> = (0..=255u8).collect();
    let bytes = written(WavFormat::Pcm16, |w| {
        w.write_payload(AudioCodec::Pcma, &payload).unwrap();
        w.write_silence(4).unwrap();
        w.write_samples(&[-5, 5]).unwrap();
    });
    assert_eq!(le32(&bytes, 16), 16, "PCM has a 16-octet fmt chunk");
    assert_eq!(le32(&bytes, 40), 2 * (256 + 4 + 2));
    let file = AudioFile::from_bytes("rec.wav", &bytes).unwrap();
    assert_eq!(file.codec_hint(), None);
    let mut expected = AudioCodec::Pcma.decode(&payload);
    expected.extend([0, 0, 0, 0, -5, 5]);
    assert_eq!(file.samples(), expected);
}

#[test]
fn other_law_is_transcoded_and_odd_data_is_padded() {
    let bytes = written(WavFormat::Alaw, |w| {
        w.write_payload(AudioCodec::Pcmu, &[0xce, 0x4e, 0xff])
            .unwrap();
    });
    // 3 octets of data, one pad octet; the data size says 3, the RIFF size counts the pad.
    assert_eq!(le32(&bytes, 54), 3);
    assert_eq!(bytes.len(), 58 + 4);
    assert_eq!(le32(&bytes, 4) as usize, bytes.len() - 8);
    let file = AudioFile::from_bytes("rec.wav", &bytes).unwrap();
    assert_eq!(file.codec_hint(), Some(AudioCodec::Pcma));
    assert_eq!(
        file.samples(),
        AudioCodec::Pcma.decode(&AudioCodec::Pcmu.transcode(&[0xce, 0x4e, 0xff], AudioCodec::Pcma))
    );
    assert_eq!(WavFormat::for_codec(AudioCodec::Pcma), WavFormat::Alaw);
}

#[test]
fn empty_recording_is_a_valid_wav() {
    let bytes = written(WavFormat::Ulaw, |_| {});
    let file = AudioFile::from_bytes("empty.wav", &bytes).unwrap();
    assert_eq!(file.samples_len(), 0);
}

#[test]
fn writes_after_existing_content_of_the_output() {
    let mut out = Cursor::new(Vec::new());
    out.write_all(b"prefix").unwrap();
    let mut w = WavWriter::new(out, WavFormat::Ulaw).unwrap();
    w.write_payload(AudioCodec::Pcmu, &[1, 2]).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let file = AudioFile::from_bytes("x.wav", &bytes[6..]).unwrap();
    assert_eq!(file.frames(AudioCodec::Pcmu)[0][..2], [1, 2]);
}

#[test]
fn create_writes_a_file_and_reports_bad_paths() {
    let dir = std::env::temp_dir().join(format!("netsip-wav-writer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rec.wav");
    let mut w = WavWriter::create(&path, WavFormat::Pcm16).unwrap();
    assert_eq!(w.format(), WavFormat::Pcm16);
    w.write_samples(&[1, 2, 3]).unwrap();
    w.finish().unwrap();
    assert_eq!(AudioFile::read(&path).unwrap().samples(), [1, 2, 3]);
    std::fs::remove_dir_all(&dir).unwrap();

    let err = WavWriter::create(dir.join("no/such/dir.wav"), WavFormat::Ulaw).unwrap_err();
    assert!(matches!(err, AudioFileError::Io { .. }));
    assert!(err.to_string().contains("dir.wav"), "{err}");
}

/// A sink that fails every write after `budget` octets.
#[derive(Debug)]
struct Failing {
    budget: usize,
    position: u64,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.budget {
            return Err(std::io::Error::other("disk full"));
        }
        self.budget -= buf.len();
        self.position += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for Failing {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        if let SeekFrom::Start(p) = pos {
            self.position = p;
        }
        Ok(self.position)
    }
}

#[test]
fn write_errors_are_reported() {
    let err = WavWriter::new(
        Failing {
            budget: 10,
            position: 0,
        },
        WavFormat::Ulaw,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "<memory>: disk full");
    let mut w = WavWriter::with_name(
        Failing {
            budget: 60,
            position: 0,
        },
        WavFormat::Ulaw,
        "rec.wav",
    )
    .unwrap();
    let err = w.write_payload(AudioCodec::Pcmu, &[0; 160]).unwrap_err();
    assert_eq!(err.to_string(), "rec.wav: disk full");
    // Failed writes do not count.
    assert_eq!(w.samples_written(), 0);
}
