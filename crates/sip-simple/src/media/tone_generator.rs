//! In-band DTMF: the two tones of a digit as 8 kHz samples (ITU-T Q.23).

use std::f64::consts::TAU;
use std::time::Duration;

use super::DtmfError;

/// Sample rate of the generated audio.
const SAMPLE_RATE: f64 = 8000.0;

/// The low ("row") frequencies of the keypad, in Hz.
pub(super) const ROW_FREQUENCIES: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// The high ("column") frequencies of the keypad, in Hz.
pub(super) const COLUMN_FREQUENCIES: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The keypad by row and column (ITU-T Q.23).
pub(super) const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Makes the audio of DTMF digits: the sum of the digit's row and column tones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToneGenerator {
    amplitude: i16,
}

impl Default for ToneGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl ToneGenerator {
    /// A generator whose two tones each have a peak of 8000 (about −12 dBFS; the sum stays
    /// below full scale).
    pub fn new() -> Self {
        Self { amplitude: 8000 }
    }

    /// The same generator with another peak per tone (at most 16383, so the sum cannot clip).
    pub fn with_amplitude(mut self, amplitude: i16) -> Self {
        self.amplitude = amplitude.clamp(0, 16383);
        self
    }

    /// The row and column frequency of a digit ("a".."d" count as "A".."D").
    pub fn frequencies(digit: char) -> Option<(f64, f64)> {
        let digit = digit.to_ascii_uppercase();
        KEYPAD.iter().enumerate().find_map(|(row, keys)| {
            keys.iter()
                .position(|&k| k == digit)
                .map(|col| (ROW_FREQUENCIES[row], COLUMN_FREQUENCIES[col]))
        })
    }

    /// `duration` of the digit's two tones at 8 kHz.
    ///
    /// Returns [`DtmfError::UnknownDigit`] for a character that is not 0-9, *, #, A-D.
    pub fn samples(&self, digit: char, duration: Duration) -> Result<Vec<i16>, DtmfError> {
        let (low, high) = Self::frequencies(digit).ok_or(DtmfError::UnknownDigit { digit })?;
        let count = (duration.as_secs_f64() * SAMPLE_RATE).round() as usize;
        let amplitude = f64::from(self.amplitude);
        Ok((0..count)
            .map(|n| {
                let t = n as f64 / SAMPLE_RATE;
                let v = amplitude * ((TAU * low * t).sin() + (TAU * high * t).sin());
                v.round() as i16
            })
            .collect())
    }

    /// `duration` of silence at 8 kHz, to put between digits.
    pub fn silence(duration: Duration) -> Vec<i16> {
        vec![0; (duration.as_secs_f64() * SAMPLE_RATE).round() as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strongest frequency among `candidates` by correlation over the whole signal.
    fn power_at(samples: &[i16], f: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &s) in samples.iter().enumerate() {
            let phase = TAU * f * n as f64 / SAMPLE_RATE;
            re += f64::from(s) * phase.cos();
            im += f64::from(s) * phase.sin();
        }
        (re * re + im * im).sqrt() / samples.len() as f64
    }

    #[test]
    fn digit_is_its_two_keypad_frequencies() {
        assert_eq!(ToneGenerator::frequencies('1'), Some((697.0, 1209.0)));
        assert_eq!(ToneGenerator::frequencies('0'), Some((941.0, 1336.0)));
        assert_eq!(ToneGenerator::frequencies('#'), Some((941.0, 1477.0)));
        assert_eq!(ToneGenerator::frequencies('d'), Some((941.0, 1633.0)));
        assert_eq!(ToneGenerator::frequencies('x'), None);

        let samples = ToneGenerator::new()
            .samples('5', Duration::from_millis(100))
            .unwrap();
        assert_eq!(samples.len(), 800);
        // A sine of peak A correlates to A/2 at its own frequency.
        assert!((power_at(&samples, 770.0) - 4000.0).abs() < 100.0);
        assert!((power_at(&samples, 1336.0) - 4000.0).abs() < 100.0);
        assert!(power_at(&samples, 697.0) < 400.0);
        assert!(power_at(&samples, 1209.0) < 400.0);
        assert!(samples.iter().all(|s| s.unsigned_abs() <= 16000));
    }

    #[test]
    fn amplitude_is_clamped_and_bad_digit_is_an_error() {
        let g = ToneGenerator::new().with_amplitude(i16::MAX);
        let samples = g.samples('D', Duration::from_millis(50)).unwrap();
        assert!(samples.iter().all(|s| s.unsigned_abs() <= 32766));
        assert_eq!(
            g.samples('?', Duration::from_millis(50)),
            Err(DtmfError::UnknownDigit { digit: '?' })
        );
        assert_eq!(
            ToneGenerator::silence(Duration::from_millis(20)),
            vec![0; 160]
        );
    }
}
