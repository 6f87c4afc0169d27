//! In-band DTMF detection: Goertzel filters at the eight keypad frequencies.

use std::f64::consts::TAU;

use super::tone_generator::{COLUMN_FREQUENCIES, KEYPAD, ROW_FREQUENCIES};

/// Samples per analysis window: 205 at 8 kHz (25.6 ms) separates the keypad frequencies
/// (the classic choice for Goertzel DTMF detectors).
const WINDOW: usize = 205;
/// Samples between the starts of two windows (5 ms): windows overlap, so a press is seen
/// whatever its alignment.
const HOP: usize = 40;
/// Consecutive detecting windows a press needs: 205 + 3·40 = 325 samples ≥ 40 ms.
const MIN_WINDOWS: u32 = 4;
/// Consecutive windows without the digit that end a press. A window fails once more than 20 %
/// of it is silence, so a silent gap of G samples fails about (G + 123) / 40 windows: 9 need a
/// pause of about 30 ms. A lost 20 ms packet played as silence (7 windows) or spliced out
/// (up to 5) does not split a press in two; the 40 ms pause between dialled digits does.
const RELEASE_WINDOWS: u32 = 9;
/// Each tone's mean power must reach this (a sine of peak 200, about −44 dBFS).
const MIN_TONE_POWER: f64 = 200.0 * 200.0 / 2.0;
/// Row and column tones may differ by at most 8 dB ("twist", ITU-T Q.24 allows 4-8 dB).
const MAX_TWIST: f64 = 6.31; // 10^(8/10)
/// The strongest tone of a group must beat the others of its group by 8 dB.
const MIN_GROUP_MARGIN: f64 = 6.31;
/// The two tones must hold this share of the window's power: speech and noise spread theirs.
const MIN_TONE_SHARE: f64 = 0.8;

/// The Goertzel coefficient 2·cos(2πf/8000) of each row, then each column frequency.
fn coefficients() -> [f64; 8] {
    let mut c = [0.0; 8];
    for (i, f) in ROW_FREQUENCIES
        .iter()
        .chain(&COLUMN_FREQUENCIES)
        .enumerate()
    {
        c[i] = 2.0 * (TAU * f / 8000.0).cos();
    }
    c
}

/// Finds DTMF digits in 8 kHz audio (e.g. decoded G.711), each press once.
///
/// The audio is cut into overlapping 205-sample windows; in each, Goertzel filters measure
/// the eight keypad frequencies. A window shows a digit when its strongest row and column
/// tones are loud enough, within 8 dB of each other, 8 dB above the other tones of their
/// group, and together hold 80 % of the window's power: silence, noise, speech and single
/// tones fail one of these. A digit is reported once it held for 40 ms, and again only after
/// a pause of about 30 ms or another digit: a packet lost in the middle of a press does not
/// make it two.
#[derive(Debug, Clone)]
pub struct ToneDetector {
    coefficients: [f64; 8],
    pending: Vec<i16>,
    current: Option<char>,
    run: u32,
    misses: u32,
    reported: bool,
}

impl Default for ToneDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl ToneDetector {
    /// A detector that has heard nothing.
    pub fn new() -> Self {
        Self {
            coefficients: coefficients(),
            pending: Vec::with_capacity(2 * WINDOW),
            current: None,
            run: 0,
            misses: 0,
            reported: false,
        }
    }

    /// Takes the next samples (any number) and gives the digits whose press was recognized in
    /// them, in order.
    pub fn push(&mut self, samples: &[i16]) -> Vec<char> {
        let mut digits = Vec::new();
        self.pending.extend_from_slice(samples);
        let mut start = 0;
        while self.pending.len() - start >= WINDOW {
            let detected = self.analyze(start);
            if let Some(digit) = self.track(detected) {
                digits.push(digit);
            }
            start += HOP;
        }
        // Keep only what the next windows need: the buffer stays below WINDOW + HOP samples.
        self.pending.drain(..start);
        digits
    }

    /// The digit the window starting at `start` shows, if any.
    fn analyze(&self, start: usize) -> Option<char> {
        let window = &self.pending[start..start + WINDOW];
        let energy: f64 = window.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let mean_power = energy / WINDOW as f64;
        if mean_power < MIN_TONE_POWER {
            return None;
        }
        let mut power = [0.0; 8];
        for (p, &coefficient) in power.iter_mut().zip(&self.coefficients) {
            let (mut s1, mut s2) = (0.0, 0.0);
            for &x in window {
                let s0 = f64::from(x) + coefficient * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            // |X(f)|² of the window; a sine of peak A gives (A·N/2)², mean power A²/2.
            let magnitude2 = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
            *p = 2.0 * magnitude2 / (WINDOW * WINDOW) as f64;
        }
        let (row, row_power) = strongest(&power[..4])?;
        let (column, column_power) = strongest(&power[4..])?;
        let loud = row_power >= MIN_TONE_POWER && column_power >= MIN_TONE_POWER;
        let twist_ok =
            row_power <= column_power * MAX_TWIST && column_power <= row_power * MAX_TWIST;
        let share_ok = row_power + column_power >= MIN_TONE_SHARE * mean_power;
        (loud && twist_ok && share_ok).then(|| KEYPAD[row][column])
    }

    /// Follows presses across windows; the digit when a press has just lasted long enough.
    fn track(&mut self, detected: Option<char>) -> Option<char> {
        match detected {
            Some(digit) if self.current == Some(digit) => {
                self.run += 1;
                self.misses = 0;
            }
            Some(digit) => {
                self.current = Some(digit);
                self.run = 1;
                self.misses = 0;
                self.reported = false;
            }
            None => {
                self.misses += 1;
                if self.misses >= RELEASE_WINDOWS {
                    self.current = None;
                    self.run = 0;
                    self.reported = false;
                }
                return None;
            }
        }
        if !self.reported && self.run >= MIN_WINDOWS {
            self.reported = true;
            return self.current;
        }
        None
    }
}

/// Index and power of the strongest of a group, if it beats each other by the group margin.
fn strongest(group: &[f64]) -> Option<(usize, f64)> {
    let (best, &power) = group.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let clear = group
        .iter()
        .enumerate()
        .all(|(i, &p)| i == best || p * MIN_GROUP_MARGIN <= power);
    clear.then_some((best, power))
}

#[cfg(test)]
mod tests;
