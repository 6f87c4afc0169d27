//! G.711 tests: known table values, round trips of all codes, quantization error bounds.

use super::*;

#[test]
fn ulaw_known_values() {
    // Values of the ITU-T G.191 reference expansion.
    let known = [
        (0x00, -32124),
        (0x01, -31100),
        (0x0f, -16764),
        (0x10, -15996),
        (0x7e, -8),
        (0x7f, 0),
        (0x80, 32124),
        (0xce, 988),
        (0xfe, 8),
        (0xff, 0),
    ];
    for (code, linear) in known {
        assert_eq!(ulaw_decode(code), linear, "code {code:#04x}");
    }
    let encoded = [
        (0, 0xff),
        (-1, 0x7f),
        (1, 0xff),
        (8, 0xfe),
        (-8, 0x7e),
        (1000, 0xce),
        (-1000, 0x4e),
        (32767, 0x80),
        (-32768, 0x00),
        (32124, 0x80),
        (-32124, 0x00),
    ];
    for (linear, code) in encoded {
        assert_eq!(ulaw_encode(linear), code, "sample {linear}");
    }
}

#[test]
fn alaw_known_values() {
    let known = [
        (0x00, -5504),
        (0x01, -5248),
        (0x02, -6016),
        (0x2a, -32256),
        (0x55, -8),
        (0x80, 5504),
        (0xaa, 32256),
        (0xd5, 8),
        (0xfa, 1008),
    ];
    for (code, linear) in known {
        assert_eq!(alaw_decode(code), linear, "code {code:#04x}");
    }
    let encoded = [
        (0, 0xd5),
        (-1, 0x55),
        (15, 0xd5),
        (16, 0xd4),
        (1000, 0xfa),
        (32767, 0xaa),
        (-32768, 0x2a),
    ];
    for (linear, code) in encoded {
        assert_eq!(alaw_encode(linear), code, "sample {linear}");
    }
}

#[test]
fn all_256_codes_round_trip() {
    for code in 0..=255u8 {
        let expected_ulaw = if code == 0x7f { 0xff } else { code };
        assert_eq!(
            ulaw_encode(ulaw_decode(code)),
            expected_ulaw,
            "μ-law {code:#04x}"
        );
        assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
    }
}

#[test]
fn decoding_is_monotonic_in_magnitude() {
    // Within a sign, a larger (de-inverted) code is a larger magnitude.
    for code in 0..0x7fu8 {
        // μ-law: 0x80..0xff positive, magnitudes fall as the code rises.
        assert!(ulaw_decode(0x80 + code) > ulaw_decode(0x80 + code + 1));
        assert!(ulaw_decode(code) < ulaw_decode(code + 1));
    }
    let mut alaw: Vec<i16> = (0..=255u8).map(alaw_decode).collect();
    alaw.sort_unstable();
    alaw.dedup();
    assert_eq!(alaw.len(), 256, "every A-law code is a distinct level");
}

#[test]
fn quantization_error_is_bounded_for_every_sample() {
    for x in i16::MIN..=i16::MAX {
        let bound = (i32::from(x).abs() / 16).max(16);
        let u = i32::from(ulaw_decode(ulaw_encode(x))) - i32::from(x);
        let a = i32::from(alaw_decode(alaw_encode(x))) - i32::from(x);
        assert!(u.abs() <= bound, "μ-law {x}: error {u}");
        assert!(a.abs() <= bound, "A-law {x}: error {a}");
    }
}

#[test]
fn codec_metadata_and_slices() {
    assert_eq!(AudioCodec::Pcmu.payload_type(), 0);
    assert_eq!(AudioCodec::Pcma.payload_type(), 8);
    assert_eq!(AudioCodec::from_payload_type(8), Some(AudioCodec::Pcma));
    assert_eq!(AudioCodec::from_payload_type(3), None);
    assert_eq!(AudioCodec::Pcmu.name(), "PCMU");
    assert_eq!(AudioCodec::from_name("pcma"), Some(AudioCodec::Pcma));
    assert_eq!(AudioCodec::from_name("G729"), None);
    assert_eq!(AudioCodec::Pcma.clock_rate(), 8000);
    assert_eq!(AudioCodec::Pcmu.silence_byte(), 0xff);
    assert_eq!(AudioCodec::Pcma.silence_byte(), 0xd5);
    assert_eq!(ulaw_decode(0xff), 0);
    assert_eq!(
        alaw_decode(0xd5),
        8,
        "A-law has no zero level; 0xd5 is the smallest"
    );
    assert_eq!(SAMPLES_PER_PACKET, 160);

    let samples = [0i16, 1000, -1000, 32767, -32768];
    assert_eq!(
        AudioCodec::Pcmu.encode(&samples),
        [0xff, 0xce, 0x4e, 0x80, 0x00]
    );
    assert_eq!(AudioCodec::Pcmu.decode(&[0xff, 0xce, 0x4e]), [0, 988, -988]);
    let ulaw = AudioCodec::Pcmu.encode(&samples);
    assert_eq!(
        AudioCodec::Pcmu.transcode(&ulaw, AudioCodec::Pcma),
        AudioCodec::Pcma.encode(&AudioCodec::Pcmu.decode(&ulaw))
    );
    assert_eq!(
        AudioCodec::Pcma.transcode(&[1, 2, 3], AudioCodec::Pcma),
        [1, 2, 3]
    );
    assert!(AudioCodec::Pcma.encode(&[]).is_empty());
}
