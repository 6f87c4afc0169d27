//! Tone detector tests: every digit through G.711, silence, noise, speech, single tones.

use std::f64::consts::TAU;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::media::{AudioCodec, ToneGenerator, DTMF_DIGITS, SAMPLES_PER_PACKET};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Feeds `samples` in 20 ms packets, as a call does, and collects the digits.
fn detect(samples: &[i16]) -> String {
    let mut detector = ToneDetector::new();
    samples
        .chunks(SAMPLES_PER_PACKET)
        .flat_map(|chunk| detector.push(chunk))
        .collect()
}

/// The digits as tones of `on`, each followed by `off` of silence.
fn dial(digits: &str, on: Duration, off: Duration) -> Vec<i16> {
    let generator = ToneGenerator::new();
    let mut samples = Vec::new();
    for d in digits.chars() {
        samples.extend(generator.samples(d, on).unwrap());
        samples.extend(ToneGenerator::silence(off));
    }
    samples
}

/// `samples` after a trip through a G.711 codec.
fn through(codec: AudioCodec, samples: &[i16]) -> Vec<i16> {
    codec.decode(&codec.encode(samples))
}

fn sine(frequency: f64, amplitude: f64, duration: Duration) -> Vec<i16> {
    let n = (duration.as_secs_f64() * 8000.0) as usize;
    (0..n)
        .map(|i| (amplitude * (TAU * frequency * i as f64 / 8000.0).sin()) as i16)
        .collect()
}

#[test]
fn all_16_digits_through_pcmu_and_pcma() {
    let samples = dial(DTMF_DIGITS, ms(100), ms(60));
    assert_eq!(detect(&through(AudioCodec::Pcmu, &samples)), DTMF_DIGITS);
    assert_eq!(detect(&through(AudioCodec::Pcma, &samples)), DTMF_DIGITS);
    assert_eq!(detect(&samples), DTMF_DIGITS);
}

#[test]
fn repeated_digits_separated_by_silence_are_each_detected_once() {
    let samples = through(AudioCodec::Pcmu, &dial("11122#", ms(80), ms(50)));
    assert_eq!(detect(&samples), "11122#");
    // Long presses are still one digit each.
    let samples = through(AudioCodec::Pcmu, &dial("55", ms(1500), ms(100)));
    assert_eq!(detect(&samples), "55");
}

#[test]
fn a_lost_packet_inside_a_press_does_not_split_it() {
    let generator = ToneGenerator::new();
    let tone = generator.samples('6', ms(300)).unwrap();
    // 20 ms played as silence in the middle.
    let mut silenced = tone.clone();
    silenced[1200..1360].fill(0);
    assert_eq!(detect(&through(AudioCodec::Pcmu, &silenced)), "6");
    // 20 ms cut out: the phase jumps.
    let mut spliced = tone[..1200].to_vec();
    spliced.extend_from_slice(&tone[1360..]);
    assert_eq!(detect(&through(AudioCodec::Pcmu, &spliced)), "6");
    // A 40 ms pause is two presses.
    assert_eq!(detect(&dial("66", ms(100), ms(40))), "66");
}

#[test]
fn back_to_back_different_digits_are_both_detected() {
    let generator = ToneGenerator::new();
    let mut samples = generator.samples('3', ms(100)).unwrap();
    samples.extend(generator.samples('9', ms(100)).unwrap());
    assert_eq!(detect(&through(AudioCodec::Pcmu, &samples)), "39");
}

#[test]
fn presses_must_hold_40_ms() {
    assert_eq!(detect(&dial("7", ms(20), ms(100))), "");
    assert_eq!(detect(&dial("7", ms(25), ms(100))), "");
    assert_eq!(detect(&dial("7", ms(40), ms(100))), "7");
    assert_eq!(detect(&dial("7", ms(45), ms(100))), "7");
}

#[test]
fn silence_noise_and_single_tones_are_not_digits() {
    assert_eq!(detect(&vec![0; 16000]), "");
    let mut rng = StdRng::seed_from_u64(4733);
    for amplitude in [300, 3000, 20000] {
        let noise: Vec<i16> = (0..16000)
            .map(|_| rng.gen_range(-amplitude..=amplitude))
            .collect();
        assert_eq!(
            detect(&through(AudioCodec::Pcmu, &noise)),
            "",
            "noise ±{amplitude}"
        );
    }
    assert_eq!(
        detect(&through(AudioCodec::Pcmu, &sine(1000.0, 10000.0, ms(1000)))),
        ""
    );
    // One keypad frequency alone, row or column.
    for f in [697.0, 941.0, 1209.0, 1633.0] {
        assert_eq!(detect(&sine(f, 10000.0, ms(500))), "", "{f} Hz");
    }
}

#[test]
fn speech_like_signals_are_not_digits() {
    // A voiced sound: harmonics of a gliding 100-200 Hz pitch under two formants, with a
    // syllable-rate envelope, plus some breath noise.
    let mut rng = StdRng::seed_from_u64(3550);
    let mut phase = 0.0;
    let samples: Vec<i16> = (0..24000)
        .map(|n| {
            let t = n as f64 / 8000.0;
            let pitch = 150.0 + 50.0 * (TAU * 0.7 * t).sin();
            phase += TAU * pitch / 8000.0;
            let mut v = 0.0;
            for k in 1..=25 {
                let f = pitch * f64::from(k);
                let formants = (-((f - 700.0) / 300.0).powi(2)).exp()
                    + 0.6 * (-((f - 1250.0) / 350.0).powi(2)).exp()
                    + 0.05;
                v += formants * (f64::from(k) * phase).sin();
            }
            let envelope = 0.5 + 0.5 * (TAU * 4.0 * t).sin().abs();
            (5000.0 * envelope * v + rng.gen_range(-200.0..200.0)) as i16
        })
        .collect();
    assert_eq!(detect(&through(AudioCodec::Pcmu, &samples)), "");
}

#[test]
fn level_twist_and_noise_limits() {
    // Quiet but clear: detected.
    let quiet = ToneGenerator::new().with_amplitude(1000);
    let samples = quiet.samples('8', ms(100)).unwrap();
    assert_eq!(detect(&through(AudioCodec::Pcmu, &samples)), "8");
    // Below the level threshold: not.
    let faint = ToneGenerator::new().with_amplitude(100);
    assert_eq!(detect(&faint.samples('8', ms(100)).unwrap()), "");
    // 20 dB twist: not a digit.
    let low = sine(852.0, 8000.0, ms(100));
    let high = sine(1336.0, 800.0, ms(100));
    let twisted: Vec<i16> = low.iter().zip(&high).map(|(a, b)| a + b).collect();
    assert_eq!(detect(&twisted), "");
    // A digit in noise 20 dB below it is still found.
    let mut rng = StdRng::seed_from_u64(1);
    let noisy: Vec<i16> = dial("0", ms(100), ms(40))
        .into_iter()
        .map(|s| s.saturating_add(rng.gen_range(-1300..=1300)))
        .collect();
    assert_eq!(detect(&noisy), "0");
}

#[test]
fn chunking_does_not_matter() {
    let samples = through(AudioCodec::Pcmu, &dial("147*", ms(70), ms(50)));
    let mut detector = ToneDetector::new();
    let one_by_one: String = samples
        .iter()
        .flat_map(|s| detector.push(std::slice::from_ref(s)))
        .collect();
    assert_eq!(one_by_one, "147*");
    let mut detector = ToneDetector::new();
    assert_eq!(
        detector.push(&samples).into_iter().collect::<String>(),
        "147*"
    );
    assert!(detector.pending.len() < WINDOW + HOP);
}
