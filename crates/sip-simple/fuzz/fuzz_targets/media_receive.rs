//! The receive side of a call fed with whatever arrives: the input is a series of datagrams,
//! each prefixed by one octet of milliseconds since the previous one and two octets of length.
//! RTP goes through the jitter buffer, telephone-events to the DTMF receiver, decoded audio to
//! the tone detector; RTCP updates the reception statistics. Nothing may panic, and the
//! counters must stay consistent.

#![no_main]

use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use sip_simple::media::{
    is_rtcp, AudioCodec, DtmfReceiver, JitterBuffer, MediaStats, Playout, ReceptionStats,
    RtcpPacket, RtpPacket, ToneDetector,
};

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut now = start;
    let mut buffer = JitterBuffer::new(Duration::from_millis(60), 8000).with_capacity(32);
    let mut dtmf = DtmfReceiver::new(101);
    let mut tones = ToneDetector::new();
    let mut reception = ReceptionStats::new(0);
    let mut stats = MediaStats::new();
    let mut played = 0u64;
    let mut rest = data;
    while let [gap, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        now += Duration::from_millis(u64::from(*gap));
        if is_rtcp(datagram) {
            if let Ok(packets) = RtcpPacket::parse_compound(datagram) {
                for p in packets {
                    match p {
                        RtcpPacket::SenderReport(sr) => reception.handle_sender_report(&sr, now),
                        RtcpPacket::ReceiverReport(rr) => {
                            for block in &rr.reports {
                                stats.record_report(block, SystemTime::UNIX_EPOCH);
                            }
                        }
                        _ => {}
                    }
                }
            }
            continue;
        }
        let Ok(packet) = RtpPacket::parse(datagram) else {
            continue;
        };
        let _ = dtmf.handle_packet(&packet);
        buffer.push(packet, now);
        while let Some(out) = buffer.pop(now) {
            played += 1;
            if let Playout::Packet(p) = out {
                if let Some(codec) = AudioCodec::from_payload_type(p.payload_type) {
                    let _ = tones.push(&codec.decode(&p.payload));
                }
            }
        }
        assert!(buffer.len() <= 32);
        reception.update_from(&buffer);
        let block = reception.report_block(now);
        let _ = block.fraction_lost;
    }
    stats.record_receiver(&buffer);
    assert!(stats.loss_ratio() >= 0.0 && stats.loss_ratio() <= 1.0);
    // Every packet given out was received, duplicates and late ones were not given out.
    assert!(buffer.received() >= buffer.duplicates() + buffer.late());
    let _ = played;
});
