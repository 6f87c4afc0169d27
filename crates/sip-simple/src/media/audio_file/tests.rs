//! Audio file tests: raw G.711 by extension, WAV parsing, framing and transcoding, errors.

use super::*;

/// A WAV file from its chunks (id, body).
fn wav(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    file
}

fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    f.extend_from_slice(&block.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

fn err_text(name: &str, bytes: &[u8]) -> String {
    AudioFile::from_bytes(name, bytes).unwrap_err().to_string()
}

#[test]
fn raw_g711_by_extension() {
    for (name, codec) in [
        ("a.pcmu", AudioCodec::Pcmu),
        ("b.ULAW", AudioCodec::Pcmu),
        ("dir.x/c.ul", AudioCodec::Pcmu),
        ("d.pcma", AudioCodec::Pcma),
        ("e.alaw", AudioCodec::Pcma),
        ("f.al", AudioCodec::Pcma),
    ] {
        let file = AudioFile::from_bytes(name, &[1, 2, 3]).unwrap();
        assert_eq!(file.codec_hint(), Some(codec), "{name}");
        assert_eq!(file.name(), name);
        assert_eq!(file.samples_len(), 3);
    }
}

#[test]
fn frames_are_160_octets_padded_with_the_codecs_silence() {
    let codes: Vec<u8> = (0..400u32).map(|i| (i % 200) as u8).collect();
    let file = AudioFile::from_bytes("greeting.ulaw", &codes).unwrap();
    let frames = file.frames(AudioCodec::Pcmu);
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|f| f.len() == SAMPLES_PER_PACKET));
    assert_eq!(&frames[0][..], &codes[..160]);
    assert_eq!(&frames[2][..80], &codes[320..]);
    assert!(frames[2][80..].iter().all(|&c| c == 0xff));

    // The other law: transcoded sample by sample, padded with A-law silence.
    let alaw = file.frames(AudioCodec::Pcma);
    assert_eq!(
        &alaw[1][..],
        &AudioCodec::Pcmu.transcode(&codes[160..320], AudioCodec::Pcma)[..]
    );
    assert!(alaw[2][80..].iter().all(|&c| c == 0xd5));

    // Exactly one frame: no padding frame; nothing: no frame.
    let one = AudioFile::from_bytes("x.pcma", &[0x55; 160]).unwrap();
    assert_eq!(one.frames(AudioCodec::Pcma).len(), 1);
    assert!(AudioFile::from_bytes("x.pcma", &[])
        .unwrap()
        .frames(AudioCodec::Pcmu)
        .is_empty());
}

#[test]
fn wav_in_each_supported_format() {
    let ulaw = wav(&[
        (b"fmt ", fmt(7, 1, 8000, 8)),
        (b"data", vec![0x00, 0x80, 0xff]),
    ]);
    let file = AudioFile::from_bytes("u.wav", &ulaw).unwrap();
    assert_eq!(file.codec_hint(), Some(AudioCodec::Pcmu));
    assert_eq!(file.samples(), [-32124, 32124, 0]);

    let alaw = wav(&[(b"fmt ", fmt(6, 1, 8000, 8)), (b"data", vec![0xd5, 0xaa])]);
    let file = AudioFile::from_bytes("a.wav", &alaw).unwrap();
    assert_eq!(file.codec_hint(), Some(AudioCodec::Pcma));
    assert_eq!(file.samples(), [8, 32256]);

    let samples: [i16; 3] = [1000, -1000, 0];
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let pcm = wav(&[(b"fmt ", fmt(1, 1, 8000, 16)), (b"data", data)]);
    let file = AudioFile::from_bytes("p.wav", &pcm).unwrap();
    assert_eq!(file.codec_hint(), None);
    assert_eq!(file.samples(), samples);
    let frames = file.frames(AudioCodec::Pcmu);
    assert_eq!(&frames[0][..3], &[0xce, 0x4e, 0xff]);
    assert_eq!(frames[0].len(), 160);
}

#[test]
fn unknown_chunks_are_skipped_and_extensible_format_is_read() {
    // An odd-sized LIST chunk (with its pad octet) between fmt and data; fmt of 18 octets.
    let mut fmt18 = fmt(7, 1, 8000, 8);
    fmt18.extend_from_slice(&0u16.to_le_bytes());
    let file = wav(&[
        (b"fmt ", fmt18),
        (b"LIST", b"INFOISFT".iter().chain(b"x").copied().collect()),
        (b"fact", 2u32.to_le_bytes().to_vec()),
        (b"data", vec![0xff, 0xfe]),
    ]);
    let file = AudioFile::from_bytes("whatever.bin", &file).unwrap();
    assert_eq!(file.codec_hint(), Some(AudioCodec::Pcmu));
    assert_eq!(file.samples(), [0, 8]);

    // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real tag (6: A-law).
    let mut ext = fmt(0xfffe, 1, 8000, 8);
    ext.extend_from_slice(&22u16.to_le_bytes()); // cbSize
    ext.extend_from_slice(&8u16.to_le_bytes()); // valid bits
    ext.extend_from_slice(&4u32.to_le_bytes()); // channel mask
    ext.extend_from_slice(&[
        6, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
    ]);
    let file =
        AudioFile::from_bytes("e.wav", &wav(&[(b"fmt ", ext), (b"data", vec![0xd5])])).unwrap();
    assert_eq!(file.codec_hint(), Some(AudioCodec::Pcma));
}

#[test]
fn unsupported_wav_audio_is_named() {
    let data = (b"data", vec![0; 4]);
    let stereo = wav(&[(b"fmt ", fmt(7, 2, 8000, 8)), data.clone()]);
    assert_eq!(
        err_text("s.wav", &stereo),
        "s.wav: unsupported WAV audio: 2 channels (only 8000 Hz mono μ-law, A-law or 16-bit PCM)"
    );
    let wideband = wav(&[(b"fmt ", fmt(1, 1, 16000, 16)), data.clone()]);
    assert!(
        err_text("w.wav", &wideband).contains("w.wav: unsupported WAV audio: sample rate 16000 Hz")
    );
    let float = wav(&[(b"fmt ", fmt(3, 1, 8000, 32)), data.clone()]);
    assert!(err_text("f.wav", &float).contains("format tag 3"));
    let pcm8 = wav(&[(b"fmt ", fmt(1, 1, 8000, 8)), data.clone()]);
    assert!(err_text("8.wav", &pcm8).contains("8 bits per sample for format 1"));
    let ulaw16 = wav(&[(b"fmt ", fmt(7, 1, 8000, 16)), data]);
    assert!(matches!(
        AudioFile::from_bytes("u16.wav", &ulaw16),
        Err(AudioFileError::Unsupported { .. })
    ));
}

#[test]
fn malformed_wav_is_an_error_not_a_panic() {
    let good = wav(&[(b"fmt ", fmt(7, 1, 8000, 8)), (b"data", vec![1, 2, 3, 4])]);
    // Every truncation of a good file fails cleanly (or, cut inside data, is caught as such).
    for len in 0..good.len() {
        let r = AudioFile::from_bytes("t.wav", &good[..len]);
        assert!(
            matches!(r, Err(AudioFileError::Malformed { .. })),
            "{len}: {r:?}"
        );
    }
    assert!(err_text("n.wav", b"not a riff file")
        .contains("n.wav: malformed WAV file: no RIFF/WAVE header"));
    let data_first = wav(&[(b"data", vec![1]), (b"fmt ", fmt(7, 1, 8000, 8))]);
    assert!(err_text("d.wav", &data_first).contains("data chunk before the fmt chunk"));
    let no_data = wav(&[(b"fmt ", fmt(7, 1, 8000, 8))]);
    assert!(err_text("d.wav", &no_data).contains("no data chunk"));
    let no_fmt = wav(&[(b"LIST", vec![0; 4])]);
    assert!(err_text("d.wav", &no_fmt).contains("no fmt chunk"));
    let short_fmt = wav(&[(b"fmt ", vec![7, 0, 1, 0]), (b"data", vec![1])]);
    assert!(err_text("d.wav", &short_fmt).contains("fmt chunk of 4 octets"));
    let short_ext = wav(&[(b"fmt ", fmt(0xfffe, 1, 8000, 8)), (b"data", vec![1])]);
    assert!(err_text("d.wav", &short_ext).contains("WAVE_FORMAT_EXTENSIBLE"));
    // A chunk size past the end of the file (even u32::MAX).
    let mut huge = good.clone();
    let data_size_at = good.len() - 8;
    huge[data_size_at..data_size_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(err_text("h.wav", &huge).contains("declares 4294967295 octets, only 4 remain"));
}

#[test]
fn unknown_type_names_the_file() {
    assert_eq!(
        err_text("music.mp3", b"ID3"),
        "music.mp3: unknown audio file type (expected .wav, or raw G.711 as .pcmu/.ulaw/.ul or .pcma/.alaw/.al)"
    );
    assert!(matches!(
        AudioFile::from_bytes("noext", &[]),
        Err(AudioFileError::UnknownType { .. })
    ));
}

#[test]
fn read_from_disk_and_missing_file() {
    let dir = std::env::temp_dir().join(format!("netsip-audio-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.pcma");
    std::fs::write(&path, [0xd5; 200]).unwrap();
    let file = AudioFile::read(&path).unwrap();
    assert_eq!(file.codec_hint(), Some(AudioCodec::Pcma));
    assert_eq!(file.frames(AudioCodec::Pcma).len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();

    let err = AudioFile::read(dir.join("missing.wav")).unwrap_err();
    assert!(matches!(err, AudioFileError::Io { .. }));
    assert!(err.to_string().contains("missing.wav"), "{err}");
}

#[test]
fn from_samples_frames_like_a_pcm_file() {
    let file = AudioFile::from_samples("tone", vec![1000; 170]);
    assert_eq!(file.codec_hint(), None);
    let frames = file.frames(AudioCodec::Pcmu);
    assert_eq!(frames.len(), 2);
    assert!(frames[1][..10].iter().all(|&c| c == 0xce));
    assert!(frames[1][10..].iter().all(|&c| c == 0xff));
}
