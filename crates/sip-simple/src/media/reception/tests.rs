//! Reception statistics tests: RFC 3550 A.3 loss, LSR/DLSR.

use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::Bytes;

use super::*;
use crate::media::{ntp_timestamp, RtpPacket, SenderInfo};

fn packet(sequence: u16) -> RtpPacket {
    RtpPacket {
        payload_type: 0,
        marker: false,
        sequence,
        timestamp: u32::from(sequence) * 160,
        ssrc: 77,
        csrc: Vec::new(),
        payload: Bytes::new(),
    }
}

#[test]
fn loss_from_the_jitter_buffer_per_interval() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(Duration::from_millis(60), 8000);
    // 100 expected (1000..=1099), every tenth missing: 90 received.
    for seq in (1000u16..1100).filter(|s| s % 10 != 5) {
        jb.push(packet(seq), t0);
    }
    let mut stats = ReceptionStats::new(77);
    stats.update_from(&jb);
    assert_eq!(stats.cumulative_lost(), 10);
    assert_eq!(stats.fraction_lost(), 25); // 10/100 · 256 = 25.6
    let block = stats.report_block(t0);
    assert_eq!(block.ssrc, 77);
    assert_eq!(block.fraction_lost, 25);
    assert_eq!(block.cumulative_lost, 10);
    assert_eq!(block.extended_highest_sequence, 1099);
    assert_eq!((block.last_sr, block.delay_since_last_sr), (0, 0));

    // The next interval: 50 more, all there.
    for seq in 1100u16..1150 {
        jb.push(packet(seq), t0);
    }
    stats.update_from(&jb);
    let block = stats.report_block(t0);
    assert_eq!(block.fraction_lost, 0);
    assert_eq!(block.cumulative_lost, 10);
    assert_eq!(block.extended_highest_sequence, 1149);
}

#[test]
fn duplicates_make_loss_negative_but_fraction_zero() {
    let mut stats = ReceptionStats::new(1);
    stats.update(1, 9, 10, 12, 3);
    assert_eq!(stats.cumulative_lost(), -2);
    assert_eq!(stats.fraction_lost(), 0);
    assert_eq!(stats.report_block(Instant::now()).jitter, 3);
}

#[test]
fn cumulative_loss_is_clamped_to_24_bits() {
    let mut stats = ReceptionStats::new(1);
    stats.update(1, 0, 1 << 30, 0, 0);
    assert_eq!(stats.cumulative_lost(), 0x7f_ffff);
    assert_eq!(stats.fraction_lost(), 255);
    stats.update(1, 0, 0, 1 << 30, 0);
    assert_eq!(stats.cumulative_lost(), -0x80_0000);
}

#[test]
fn lsr_and_dlsr_from_the_last_sender_report() {
    let t0 = Instant::now();
    let wallclock = UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(250);
    let sr = SenderReport {
        ssrc: 77,
        sender_info: SenderInfo::new(wallclock, 0, 0, 0),
        reports: Vec::new(),
    };
    let mut stats = ReceptionStats::new(77);
    stats.handle_sender_report(&sr, t0);
    // An SR from someone else changes nothing.
    let other = SenderReport {
        ssrc: 78,
        ..sr.clone()
    };
    stats.handle_sender_report(&other, t0 + Duration::from_secs(1));
    let block = stats.report_block(t0 + Duration::from_millis(1500));
    assert_eq!(block.last_sr, ntp_middle32(ntp_timestamp(wallclock)));
    assert_eq!(block.delay_since_last_sr, 98_304); // 1.5 · 65536
}

#[test]
fn restart_and_new_source_start_over() {
    let mut stats = ReceptionStats::new(1);
    stats.update(1, 100, 100, 50, 0);
    stats.report_block(Instant::now());
    // Sequence restart: expected fell; the interval restarts instead of underflowing.
    stats.update(1, 10, 10, 5, 0);
    assert_eq!(stats.fraction_lost(), 128);
    // A new SSRC: everything anew.
    stats.update(2, 10, 10, 10, 0);
    assert_eq!(stats.ssrc(), 2);
    assert_eq!((stats.cumulative_lost(), stats.fraction_lost()), (0, 0));
    // A buffer that saw nothing changes nothing.
    stats.update_from(&JitterBuffer::new(Duration::from_millis(60), 8000));
    assert_eq!(stats.ssrc(), 2);
}
