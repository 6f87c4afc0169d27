//! Jitter buffer tests: order, loss, wrap, duplicates, late packets, bounds, jitter.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;

const DEPTH: Duration = Duration::from_millis(60);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn packet(sequence: u16) -> RtpPacket {
    RtpPacket {
        payload_type: 0,
        marker: false,
        sequence,
        timestamp: u32::from(sequence).wrapping_mul(160),
        ssrc: 0x5555,
        csrc: Vec::new(),
        payload: Bytes::copy_from_slice(&sequence.to_be_bytes()),
    }
}

/// Everything `pop` gives at `now`, as sequence numbers (lost ones negated minus one).
fn drain(jb: &mut JitterBuffer, now: Instant) -> Vec<String> {
    std::iter::from_fn(|| jb.pop(now))
        .map(|p| match p {
            Playout::Packet(p) => p.sequence.to_string(),
            Playout::Lost { sequence } => format!("lost {sequence}"),
        })
        .collect()
}

#[test]
fn first_packet_waits_depth_then_in_order_ones_flow() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    assert_eq!(jb.pop(t0), None);
    assert_eq!(jb.poll_timeout(), None);
    jb.push(packet(10), t0);
    assert_eq!(jb.pop(t0 + ms(59)), None);
    assert_eq!(jb.poll_timeout(), Some(t0 + DEPTH));
    assert_eq!(drain(&mut jb, t0 + DEPTH), ["10"]);
    // From now on the next packet is given at once.
    jb.push(packet(11), t0 + ms(80));
    assert_eq!(jb.poll_timeout(), Some(t0 + ms(80)));
    assert_eq!(drain(&mut jb, t0 + ms(80)), ["11"]);
    assert!(jb.is_empty());
    assert_eq!(
        (jb.received(), jb.lost(), jb.late(), jb.duplicates()),
        (2, 0, 0, 0)
    );
    assert_eq!(jb.ssrc(), Some(0x5555));
}

#[test]
fn reordered_packets_come_out_in_order() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    for (i, seq) in [1u16, 3, 2, 5, 4].into_iter().enumerate() {
        jb.push(packet(seq), t0 + ms(5 * i as u64));
    }
    assert_eq!(jb.len(), 5);
    assert_eq!(drain(&mut jb, t0 + DEPTH), ["1", "2", "3", "4", "5"]);
    assert_eq!(jb.lost(), 0);
}

#[test]
fn a_missing_packet_is_lost_once_the_next_is_depth_old() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(1), t0);
    assert_eq!(drain(&mut jb, t0 + DEPTH), ["1"]);
    jb.push(packet(2), t0 + ms(70));
    jb.push(packet(4), t0 + ms(100));
    jb.push(packet(5), t0 + ms(120));
    assert_eq!(drain(&mut jb, t0 + ms(100)), ["2"]);
    // 3 may still come until 4 is 60 ms old.
    assert_eq!(jb.poll_timeout(), Some(t0 + ms(160)));
    assert_eq!(drain(&mut jb, t0 + ms(159)), Vec::<String>::new());
    assert_eq!(drain(&mut jb, t0 + ms(160)), ["lost 3", "4", "5"]);
    assert_eq!(jb.lost(), 1);
    // 3 arriving now is late, and dropped.
    jb.push(packet(3), t0 + ms(170));
    assert_eq!(jb.late(), 1);
    assert!(jb.is_empty());
}

#[test]
fn a_gap_filled_in_time_loses_nothing() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(1), t0);
    drain(&mut jb, t0 + DEPTH);
    jb.push(packet(3), t0 + ms(100));
    assert_eq!(drain(&mut jb, t0 + ms(150)), Vec::<String>::new());
    jb.push(packet(2), t0 + ms(155));
    assert_eq!(drain(&mut jb, t0 + ms(155)), ["2", "3"]);
    assert_eq!((jb.lost(), jb.late()), (0, 0));
}

#[test]
fn sequence_numbers_wrap() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    for seq in [65534u16, 65535, 1, 0, 2] {
        jb.push(packet(seq), t0);
    }
    assert_eq!(
        drain(&mut jb, t0 + DEPTH),
        ["65534", "65535", "0", "1", "2"]
    );
    assert_eq!(jb.extended_highest_sequence(), Some(0x0001_0002));
    assert_eq!(jb.sequence().expected(), 5);
}

#[test]
fn packets_scrambled_with_duplicates_anywhere_in_the_queue_come_out_once_in_order() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    // Front, middle and back of the queue get a duplicate; inserts land everywhere.
    let order = [
        20u16, 12, 17, 10, 19, 12, 11, 15, 20, 13, 18, 14, 16, 17, 10,
    ];
    for (i, seq) in order.into_iter().enumerate() {
        jb.push(packet(seq), t0 + ms(i as u64));
    }
    assert_eq!((jb.len(), jb.duplicates()), (11, 4));
    let expected: Vec<String> = (10..=20).map(|s: u16| s.to_string()).collect();
    // The first waits `depth` from its arrival (the fourth).
    assert_eq!(drain(&mut jb, t0 + ms(3) + DEPTH), expected);
    assert!(jb.is_empty());
}

#[test]
fn duplicates_queued_or_played_are_counted_not_played() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(7), t0);
    jb.push(packet(7), t0 + ms(1));
    assert_eq!(jb.duplicates(), 1);
    assert_eq!(drain(&mut jb, t0 + DEPTH), ["7"]);
    jb.push(packet(7), t0 + ms(90));
    assert_eq!((jb.duplicates(), jb.late()), (2, 0));
    assert!(jb.is_empty());
    assert_eq!(jb.received(), 3);
}

#[test]
fn the_buffer_is_bounded() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000).with_capacity(3);
    // 1 missing: nothing can be given before DEPTH, and only 3 fit.
    jb.push(packet(0), t0);
    drain(&mut jb, t0 + DEPTH);
    for seq in 2..10 {
        jb.push(packet(seq), t0 + DEPTH);
    }
    assert_eq!(jb.len(), 3);
    assert_eq!(jb.overflows(), 5);
    assert_eq!(
        drain(&mut jb, t0 + 2 * DEPTH),
        ["lost 1", "2", "3", "4", "lost 5", "lost 6", "lost 7", "lost 8", "lost 9"][..4]
    );
    // The default is bounded too.
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(0), t0);
    for seq in 2..2000 {
        jb.push(packet(seq), t0);
    }
    assert_eq!(jb.len(), DEFAULT_JITTER_CAPACITY);
}

#[test]
fn a_long_gap_is_one_loss_report() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(100), t0);
    drain(&mut jb, t0 + DEPTH);
    jb.push(packet(1101), t0 + ms(100));
    assert_eq!(drain(&mut jb, t0 + ms(160)), ["lost 101", "1101"]);
    assert_eq!(jb.lost(), 1000);
    // A packet from inside the gap is late, not a duplicate.
    jb.push(packet(1100), t0 + ms(170));
    assert_eq!((jb.late(), jb.duplicates()), (1, 0));
}

#[test]
fn a_new_ssrc_starts_over() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(1), t0);
    jb.push(packet(3), t0);
    let mut other = packet(40_000);
    other.ssrc = 0x6666;
    jb.push(other, t0 + ms(10));
    assert_eq!(jb.ssrc(), Some(0x6666));
    assert_eq!((jb.received(), jb.len()), (1, 1));
    assert_eq!(drain(&mut jb, t0 + ms(70)), ["40000"]);
}

#[test]
fn a_confirmed_sequence_jump_restarts_playout() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(1), t0);
    drain(&mut jb, t0 + DEPTH);
    jb.push(packet(2), t0 + ms(70));
    // A jump of 20000 is dropped...
    jb.push(packet(20_002), t0 + ms(80));
    assert_eq!(jb.discarded(), 1);
    assert_eq!(drain(&mut jb, t0 + ms(80)), ["2"]);
    // ...unless the next packet follows it: the stream restarted.
    jb.push(packet(20_003), t0 + ms(100));
    jb.push(packet(20_004), t0 + ms(120));
    assert_eq!(drain(&mut jb, t0 + ms(159)), Vec::<String>::new());
    assert_eq!(drain(&mut jb, t0 + ms(160)), ["20003", "20004"]);
    assert_eq!(jb.lost(), 0);
    assert_eq!(jb.sequence().expected(), 2);
}

#[test]
fn jitter_follows_rfc_3550_a8() {
    let t0 = Instant::now();
    // Constant spacing: no jitter.
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    for seq in 0..50u16 {
        jb.push(packet(seq), t0 + ms(20 * u64::from(seq)));
    }
    assert_eq!(jb.jitter(), 0);

    // One packet 20 ms late: |D| = 160, J = 160/16 = 10.
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    jb.push(packet(0), t0);
    jb.push(packet(1), t0 + ms(40));
    assert_eq!(jb.jitter(), 10);
    assert_eq!(jb.jitter_duration(), Duration::from_micros(1250));

    // Arrivals alternately on time and 10 ms late: |D| = 80 always, J converges to 80.
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    for seq in 0..400u16 {
        let late = if seq % 2 == 1 { 10 } else { 0 };
        jb.push(packet(seq), t0 + ms(20 * u64::from(seq) + late));
    }
    assert!((78..=80).contains(&jb.jitter()), "{}", jb.jitter());
}

#[test]
fn telephone_events_do_not_inflate_jitter() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(DEPTH, 8000);
    for seq in 0..10u16 {
        let mut p = packet(seq);
        if seq >= 5 {
            // Events of one digit: one timestamp, 20 ms apart.
            p.payload_type = 101;
            p.timestamp = 800;
        }
        jb.push(p, t0 + ms(20 * u64::from(seq)));
    }
    assert_eq!(jb.jitter(), 0);
}
