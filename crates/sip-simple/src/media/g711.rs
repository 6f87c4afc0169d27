//! G.711 (ITU-T G.711) μ-law and A-law: the two codecs every SIP phone speaks.
//!
//! Encoding follows the ITU-T reference (G.191 software tools): μ-law works on the top 14
//! bits of a sample, A-law on the top 13, and a negative sample is taken by its one's
//! complement, so -1 encodes as "negative zero". Decoding gives the 16-bit value in the middle
//! of each quantization interval, so `encode(decode(code)) == code` for every code but μ-law's
//! negative zero (0x7f decodes to 0, which encodes as 0xff).

use std::time::Duration;

/// Samples in one 20 ms packet at 8 kHz, the usual G.711 packetization (RFC 3551 §4.5).
pub const SAMPLES_PER_PACKET: usize = 160;

/// The duration of one packet of [`SAMPLES_PER_PACKET`] samples.
pub const PACKET_DURATION: Duration = Duration::from_millis(20);

/// A G.711 audio codec (RFC 3551 static payload types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// μ-law, payload type 0.
    Pcmu,
    /// A-law, payload type 8.
    Pcma,
}

impl AudioCodec {
    /// The static RTP payload type: 0 for PCMU, 8 for PCMA.
    pub fn payload_type(self) -> u8 {
        match self {
            Self::Pcmu => 0,
            Self::Pcma => 8,
        }
    }

    /// The codec of a static payload type, if it is 0 or 8.
    pub fn from_payload_type(payload_type: u8) -> Option<Self> {
        match payload_type {
            0 => Some(Self::Pcmu),
            8 => Some(Self::Pcma),
            _ => None,
        }
    }

    /// The encoding name of SDP's `a=rtpmap` ("PCMU", "PCMA").
    pub fn name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
        }
    }

    /// The codec with this SDP encoding name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Self::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Self::Pcma)
        } else {
            None
        }
    }

    /// The RTP clock rate: 8000 Hz for both.
    pub fn clock_rate(self) -> u32 {
        8000
    }

    /// The code of a zero sample: 0xff for μ-law, 0xd5 for A-law.
    pub fn silence_byte(self) -> u8 {
        match self {
            Self::Pcmu => 0xff,
            Self::Pcma => 0xd5,
        }
    }

    /// Encodes 16-bit linear samples, one code per sample.
    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        let f = match self {
            Self::Pcmu => ulaw_encode,
            Self::Pcma => alaw_encode,
        };
        samples.iter().map(|&s| f(s)).collect()
    }

    /// Decodes codes to 16-bit linear samples, one sample per code.
    pub fn decode(self, codes: &[u8]) -> Vec<i16> {
        let table = match self {
            Self::Pcmu => &ULAW_TO_LINEAR,
            Self::Pcma => &ALAW_TO_LINEAR,
        };
        codes.iter().map(|&c| table[usize::from(c)]).collect()
    }

    /// Re-encodes codes of this codec as codes of `to` through linear PCM (a copy if equal).
    pub fn transcode(self, codes: &[u8], to: Self) -> Vec<u8> {
        if self == to {
            codes.to_vec()
        } else {
            to.encode(&self.decode(codes))
        }
    }
}

/// Magnitude of a sample as G.191 takes it: the one's complement of a negative sample, so that
/// -32768 maps to 32767 and -1 to 0.
fn magnitude(sample: i16) -> u16 {
    // For negative values !sample is in 0..=32767.
    (if sample < 0 { !sample } else { sample }) as u16
}

/// Encodes one 16-bit linear sample as μ-law (ITU-T G.711 §2, the G.191 `ulaw_compress`).
pub fn ulaw_encode(sample: i16) -> u8 {
    // 14-bit magnitude plus the bias of 33 that makes every segment start at a power of two;
    // clipped to the largest value of segment 7.
    let biased = ((magnitude(sample) >> 2) + 33).min(0x1fff);
    // Segment s (0..=7) holds biased values in [2^(s+5), 2^(s+6)).
    let segment = (15 - biased.leading_zeros()).saturating_sub(5) as u16;
    let step = (biased >> (segment + 1)) & 0x0f;
    let code = (segment << 4) | step;
    // Codes are sent inverted; the sign bit is 1 for positive samples.
    let sign = if sample >= 0 { 0x80 } else { 0x00 };
    (!(code as u8) & 0x7f) | sign
}

/// Decodes one μ-law code to a 16-bit linear sample.
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// Encodes one 16-bit linear sample as A-law (ITU-T G.711 §3, the G.191 `alaw_compress`).
pub fn alaw_encode(sample: i16) -> u8 {
    // 12-bit magnitude: segment 0 and 1 are linear (step 1 in 12 bits), each later segment
    // doubles the step.
    let mut value = magnitude(sample) >> 4;
    let code = if value < 16 {
        value
    } else {
        let mut segment = 1u16;
        while value > 31 {
            value >>= 1;
            segment += 1;
        }
        (segment << 4) | (value - 16)
    };
    let sign = if sample >= 0 { 0x80 } else { 0x00 };
    // Even bits are inverted on the line (G.711 §3, "alternate digit inversion").
    ((code as u8) | sign) ^ 0x55
}

/// Decodes one A-law code to a 16-bit linear sample.
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

/// μ-law code → linear sample, built at compile time.
static ULAW_TO_LINEAR: [i16; 256] = build_ulaw_table();
/// A-law code → linear sample, built at compile time.
static ALAW_TO_LINEAR: [i16; 256] = build_alaw_table();

const fn build_ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let inverted = !(code as u8);
        let segment = ((inverted >> 4) & 0x07) as i32;
        let step = (inverted & 0x0f) as i32;
        // Middle of the interval in 14-bit units, with the bias of 33 removed, times 4.
        let value = (((step << 1) + 33) << (segment + 2)) - 132;
        table[code] = if inverted & 0x80 != 0 {
            -value as i16
        } else {
            value as i16
        };
        code += 1;
    }
    table
}

const fn build_alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let raw = (code as u8) ^ 0x55;
        let segment = ((raw >> 4) & 0x07) as i32;
        let step = (raw & 0x0f) as i32;
        // Middle of the interval in 13-bit units times 8 (i.e. 16 bits).
        let value = if segment == 0 {
            (step << 4) + 8
        } else {
            ((step << 4) + 0x108) << (segment - 1)
        };
        table[code] = if raw & 0x80 != 0 {
            value as i16
        } else {
            -value as i16
        };
        code += 1;
    }
    table
}

#[cfg(test)]
mod tests;
