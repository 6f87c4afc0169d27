//! Audio for the call scenarios: a test signal to send, the files our programs and the Perl
//! peers write, and the check that what came back is what was sent.
//!
//! "Intact" means: the received samples are one contiguous stretch of the sent ones, sample
//! for sample, missing at most [`Bounds::lead`] samples at the start (the first packets race
//! the 200 OK and the recorder's start) and [`Bounds::trail`] at the end (the echo of the
//! last packets is still in flight when the caller hangs up). A lost, repeated, reordered or
//! altered packet in the middle breaks the stretch and fails the check; so does audio in the
//! recording that was never sent (anything louder than silence outside the stretch).

use std::fmt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Samples in one 20 ms G.711 packet at 8 kHz.
pub(super) const FRAME: usize = 160;

/// Samples no louder than this count as silence (A-law's quietest code decodes to ±8).
const SILENCE: i16 = 16;

/// G.711 companding law of a file or stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Law {
    /// μ-law (PCMU, payload type 0).
    Ulaw,
    /// A-law (PCMA, payload type 8).
    Alaw,
}

impl Law {
    fn decode(self, code: u8) -> i16 {
        match self {
            Self::Ulaw => ulaw_decode(code),
            Self::Alaw => alaw_decode(code),
        }
    }

    /// Decodes a whole buffer of codes.
    pub(super) fn decode_all(self, codes: &[u8]) -> Vec<i16> {
        codes.iter().map(|&c| self.decode(c)).collect()
    }
}

/// ITU-T G.711 μ-law expansion: the code is stored inverted; 3 exponent bits, 4 mantissa
/// bits, a bias of 132 taken off again.
fn ulaw_decode(code: u8) -> i16 {
    let c = !code;
    let exponent = (c >> 4) & 0x07;
    let mantissa = i32::from(c & 0x0f);
    let magnitude = (((mantissa << 3) + 132) << exponent) - 132;
    let v = if c & 0x80 != 0 { -magnitude } else { magnitude };
    v as i16
}

/// ITU-T G.711 A-law expansion: even bits inverted (XOR 0x55); the sign bit set means
/// positive.
fn alaw_decode(code: u8) -> i16 {
    let c = code ^ 0x55;
    let exponent = (c >> 4) & 0x07;
    let mantissa = i32::from(c & 0x0f);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    let v = if c & 0x80 != 0 { magnitude } else { -magnitude };
    v as i16
}

/// `frames` packets of μ-law codes that no two places of the signal share: noise from a
/// seeded xorshift, so that any received stretch can be found in it at exactly one offset.
pub(super) fn test_signal(frames: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..frames * FRAME)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Keep clear of the codes near zero, so that no stretch looks like silence.
            let code = (state >> 24) as u8;
            if ulaw_decode(code).unsigned_abs() <= SILENCE.unsigned_abs() {
                code ^ 0x40
            } else {
                code
            }
        })
        .collect()
}

/// Writes `codes` as an 8 kHz mono μ-law WAV file (format tag 7, with the `fact` chunk a
/// non-PCM WAV carries).
pub(super) fn write_ulaw_wav(path: &Path, codes: &[u8]) -> Result<()> {
    let data_len = u32::try_from(codes.len()).context("test signal too long for a WAV file")?;
    let mut w = Vec::with_capacity(codes.len() + 58);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(4 + 26 + 12 + 8 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&18u32.to_le_bytes());
    w.extend_from_slice(&7u16.to_le_bytes()); // WAVE_FORMAT_MULAW
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes()); // bytes per second
    w.extend_from_slice(&1u16.to_le_bytes()); // block align
    w.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    w.extend_from_slice(&0u16.to_le_bytes()); // no extension
    w.extend_from_slice(b"fact");
    w.extend_from_slice(&4u32.to_le_bytes());
    w.extend_from_slice(&data_len.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    w.extend_from_slice(codes);
    std::fs::write(path, w).with_context(|| format!("cannot write {}", path.display()))
}

/// The samples of a recording: a WAV file (16-bit PCM, A-law or μ-law, 8 kHz mono), or raw
/// G.711 codes in `law` when the file has no RIFF header (what Net::SIP writes).
pub(super) fn read_samples(path: &Path, raw_law: Law) -> Result<Vec<i16>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !bytes.starts_with(b"RIFF") {
        return Ok(raw_law.decode_all(&bytes));
    }
    parse_wav(&bytes).with_context(|| format!("{} is not a WAV file we can read", path.display()))
}

/// The samples of a WAV file held in `bytes`.
fn parse_wav(bytes: &[u8]) -> Result<Vec<i16>> {
    if bytes.len() < 12 || &bytes[8..12] != b"WAVE" {
        bail!("no RIFF/WAVE header");
    }
    let mut at = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let body_start = at + 8;
        let body_end = body_start.saturating_add(len).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    bail!("fmt chunk of {} bytes", body.len());
                }
                let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                format = Some((u16_at(0), u16_at(2), rate, u16_at(14)));
            }
            b"data" => {
                let Some((tag, channels, rate, bits)) = format else {
                    bail!("data chunk before the fmt chunk");
                };
                if channels != 1 || rate != 8000 {
                    bail!("{channels} channels at {rate} Hz, expected mono 8000 Hz");
                }
                return match (tag, bits) {
                    (1, 16) => Ok(body
                        .chunks_exact(2)
                        .map(|s| i16::from_le_bytes([s[0], s[1]]))
                        .collect()),
                    (6, 8) => Ok(Law::Alaw.decode_all(body)),
                    (7, 8) => Ok(Law::Ulaw.decode_all(body)),
                    _ => bail!("format tag {tag} with {bits} bits per sample"),
                };
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = body_start.saturating_add(len).saturating_add(len & 1);
    }
    bail!("no data chunk")
}

/// The RTP payloads of the one audio stream (payload type `pt`) in a capture file, in
/// order, read with tshark (decoding every UDP port as RTP).
pub(super) fn pcap_payloads(pcap: &Path, pt: u8) -> Result<Vec<u8>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-d", "udp.port==1-65535,rtp"])
        .args(["-Y", &format!("rtp.p_type == {pt}")])
        .args(["-T", "fields", "-e", "rtp.payload"])
        .output()
        .context("cannot run tshark")?;
    if !out.status.success() {
        bail!(
            "tshark -r {} failed: {}",
            pcap.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut codes = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let hex: String = line.chars().filter(char::is_ascii_hexdigit).collect();
        for pair in hex.as_bytes().chunks_exact(2) {
            let s = std::str::from_utf8(pair).unwrap_or("00");
            codes.push(u8::from_str_radix(s, 16).context("tshark printed a bad payload")?);
        }
    }
    if codes.is_empty() {
        bail!("no RTP payload of type {pt} in {}", pcap.display());
    }
    Ok(codes)
}

/// How much may be missing at either end, in samples.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    /// At the start of what was sent.
    pub(super) lead: usize,
    /// At the end of what was sent.
    pub(super) trail: usize,
}

/// Where the received audio sits in the sent audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Alignment {
    /// Samples sent.
    pub(super) sent: usize,
    /// Samples in the recording.
    pub(super) received: usize,
    /// Sent samples missing before the stretch that came back.
    pub(super) lead: usize,
    /// Sent samples missing after it.
    pub(super) trail: usize,
    /// Sent samples that came back identical (the stretch, less any mismatches).
    pub(super) matched: usize,
    /// Sample index (in what was sent) of the first mismatch inside the stretch.
    pub(super) first_mismatch: Option<usize>,
    /// Samples louder than silence in the recording outside the stretch.
    pub(super) extra: usize,
}

impl Alignment {
    /// Why it is not intact within `bounds`; `None` when it is.
    pub(super) fn problem(&self, bounds: Bounds) -> Option<String> {
        if let Some(at) = self.first_mismatch {
            return Some(format!(
                "audio altered or lost in the middle: first difference at sample {at} \
                 ({:.3} s, packet {}); {self}",
                at as f64 / 8000.0,
                at / FRAME
            ));
        }
        if self.lead > bounds.lead {
            return Some(format!(
                "{} ms missing at the start (at most {} ms allowed); {self}",
                self.lead / 8,
                bounds.lead / 8
            ));
        }
        if self.trail > bounds.trail {
            return Some(format!(
                "{} ms missing at the end (at most {} ms allowed); {self}",
                self.trail / 8,
                bounds.trail / 8
            ));
        }
        if self.extra > 0 {
            return Some(format!(
                "{} samples of audio in the recording that were never sent; {self}",
                self.extra
            ));
        }
        None
    }
}

impl fmt::Display for Alignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} samples sent came back intact ({} ms lost at the start, {} ms at the \
             end; {} samples recorded)",
            self.matched,
            self.sent,
            self.lead / 8,
            self.trail / 8,
            self.received
        )
    }
}

/// Finds the received samples in the sent ones and measures the match; fails when no
/// stretch of the recording occurs in what was sent at all.
pub(super) fn align(sent: &[i16], got: &[i16]) -> Result<Alignment> {
    let offset = find_offset(sent, got).with_context(|| {
        format!(
            "none of the {} recorded samples matches the {} sent (nothing or something else \
             came back)",
            got.len(),
            sent.len()
        )
    })?;
    // got[j] corresponds to sent[j + offset] (offset may be negative: leading junk in got).
    let mut first: Option<usize> = None;
    let mut last = 0;
    let mut matched = 0;
    let mut first_mismatch = None;
    let mut extra = 0;
    for (j, &g) in got.iter().enumerate() {
        let i = j as isize + offset;
        if i < 0 || i as usize >= sent.len() {
            if g.abs() > SILENCE {
                extra += 1;
            }
            continue;
        }
        let i = i as usize;
        if sent[i] == g {
            matched += 1;
            first.get_or_insert(i);
            last = i;
        } else if first.is_some() && first_mismatch.is_none() {
            first_mismatch = Some(i);
        } else if first.is_none() && g.abs() > SILENCE {
            // Audio before the stretch that is not what was sent there.
            extra += 1;
        }
    }
    let start = first.unwrap_or(0);
    // A mismatch after the last matching sample is trailing junk, not a gap in the middle.
    let first_mismatch = first_mismatch.filter(|&m| m < last);
    let trailing_junk = got
        .iter()
        .enumerate()
        .filter(|(j, g)| {
            let i = *j as isize + offset;
            i > last as isize && (i as usize) < sent.len() && g.abs() > SILENCE && {
                sent[i as usize] != **g
            }
        })
        .count();
    Ok(Alignment {
        sent: sent.len(),
        received: got.len(),
        lead: start,
        trail: sent.len() - (last + 1),
        matched,
        first_mismatch,
        extra: extra + trailing_junk,
    })
}

/// The offset `sent index - got index` at which the first loud packet-sized window of `got`
/// occurs in `sent` exactly once.
fn find_offset(sent: &[i16], got: &[i16]) -> Option<isize> {
    let window = FRAME.min(got.len());
    if window == 0 || sent.len() < window {
        return None;
    }
    let mut j = 0;
    while j + window <= got.len() {
        let w = &got[j..j + window];
        let loud = w.iter().filter(|s| s.abs() > SILENCE).count();
        if loud * 2 > window {
            let mut hits = sent
                .windows(window)
                .enumerate()
                .filter(|(_, s)| *s == w)
                .map(|(i, _)| i);
            if let (Some(i), None) = (hits.next(), hits.next()) {
                return Some(i as isize - j as isize);
            }
        }
        j += window / 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(frames: usize) -> Vec<i16> {
        Law::Ulaw.decode_all(&test_signal(frames, 7))
    }

    const BOUNDS: Bounds = Bounds {
        lead: 5 * FRAME,
        trail: 10 * FRAME,
    };

    #[test]
    fn g711_decoders_match_the_standard_tables() {
        // μ-law: 0xff and 0x7f are zero, 0x00 is the most negative, 0x80 the most positive.
        assert_eq!(ulaw_decode(0xff), 0);
        assert_eq!(ulaw_decode(0x7f), 0);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0x80), 32124);
        // A-law: 0xd5 is the smallest positive value, 0x2a the most negative.
        assert_eq!(alaw_decode(0xd5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xaa), 32256);
        assert_eq!(alaw_decode(0x2a), -32256);
    }

    #[test]
    fn an_identical_recording_is_intact() {
        let s = signal(50);
        let a = align(&s, &s).unwrap();
        assert_eq!((a.lead, a.trail, a.matched), (0, 0, s.len()));
        assert_eq!(a.problem(BOUNDS), None);
    }

    #[test]
    fn loss_at_the_ends_within_bounds_passes_and_beyond_fails() {
        let s = signal(50);
        let got: Vec<i16> = std::iter::repeat_n(0, 300)
            .chain(s[2 * FRAME..45 * FRAME].iter().copied())
            .chain(std::iter::repeat_n(0, 100))
            .collect();
        let a = align(&s, &got).unwrap();
        assert_eq!((a.lead, a.trail), (2 * FRAME, 5 * FRAME));
        assert_eq!(a.problem(BOUNDS), None);

        let late = &s[8 * FRAME..];
        let p = align(&s, late).unwrap().problem(BOUNDS).unwrap();
        assert!(p.contains("missing at the start"), "{p}");
        let early = &s[..30 * FRAME];
        let p = align(&s, early).unwrap().problem(BOUNDS).unwrap();
        assert!(p.contains("missing at the end"), "{p}");
    }

    #[test]
    fn a_packet_lost_in_the_middle_fails() {
        let s = signal(50);
        // Dropped outright: the rest shifts by a packet.
        let mut got = s[..20 * FRAME].to_vec();
        got.extend_from_slice(&s[21 * FRAME..]);
        let p = align(&s, &got).unwrap().problem(BOUNDS).unwrap();
        assert!(p.contains("packet 20"), "{p}");
        // Replaced by silence: the timing stays, the packet is gone.
        let mut got = s.clone();
        got[30 * FRAME..31 * FRAME].fill(0);
        let p = align(&s, &got).unwrap().problem(BOUNDS).unwrap();
        assert!(p.contains("packet 30"), "{p}");
    }

    #[test]
    fn one_altered_sample_fails() {
        let s = signal(20);
        let mut got = s.clone();
        got[1000] = got[1000].wrapping_add(8);
        let p = align(&s, &got).unwrap().problem(BOUNDS).unwrap();
        assert!(p.contains("sample 1000"), "{p}");
    }

    #[test]
    fn audio_that_was_never_sent_fails() {
        let s = signal(20);
        let other = Law::Ulaw.decode_all(&test_signal(2, 99));
        let mut got = other.clone();
        got.extend_from_slice(&s);
        let p = align(&s, &got).unwrap().problem(BOUNDS).unwrap();
        assert!(p.contains("never sent"), "{p}");
        assert!(align(&s, &other).is_err());
        assert!(align(&s, &[]).is_err());
    }

    #[test]
    fn wav_files_round_trip_and_raw_files_read_as_codes() {
        let dir = std::env::temp_dir().join(format!("xtask-audio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let codes = test_signal(3, 1);
        let wav = dir.join("s.wav");
        write_ulaw_wav(&wav, &codes).unwrap();
        assert_eq!(
            read_samples(&wav, Law::Alaw).unwrap(),
            Law::Ulaw.decode_all(&codes)
        );
        let raw = dir.join("s.pcmu");
        std::fs::write(&raw, &codes).unwrap();
        assert_eq!(
            read_samples(&raw, Law::Ulaw).unwrap(),
            Law::Ulaw.decode_all(&codes)
        );
        std::fs::write(&wav, b"RIFF\0\0\0\0WAVEdata\x04\0\0\0abcd").unwrap();
        assert!(read_samples(&wav, Law::Ulaw).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pcm16_wav_is_read() {
        let mut w = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        w.extend_from_slice(&1u16.to_le_bytes());
        w.extend_from_slice(&1u16.to_le_bytes());
        w.extend_from_slice(&8000u32.to_le_bytes());
        w.extend_from_slice(&16000u32.to_le_bytes());
        w.extend_from_slice(&2u16.to_le_bytes());
        w.extend_from_slice(&16u16.to_le_bytes());
        w.extend_from_slice(b"data\x04\0\0\0");
        w.extend_from_slice(&(-5i16).to_le_bytes());
        w.extend_from_slice(&300i16.to_le_bytes());
        assert_eq!(parse_wav(&w).unwrap(), vec![-5, 300]);
    }
}
