use std::time::UNIX_EPOCH;

use super::*;
use crate::media::{AudioFile, DtmfEvent, RtcpPacket};

const A: &str = "127.0.0.1:30000";
const B: &str = "127.0.0.1:40000";
const TICK: Duration = PACKET_DURATION;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn rtcp_of(s: &str) -> SocketAddr {
    let a = addr(s);
    SocketAddr::new(a.ip(), a.port() + 1)
}

fn setup(ssrc: u32) -> StreamSetup {
    StreamSetup {
        ssrc,
        first_sequence: 65530,
        first_timestamp: 1000,
        cname: format!("test{ssrc}@127.0.0.1"),
        jitter_depth: Duration::from_millis(60),
        rtp_timeout: Some(Duration::from_secs(10)),
        detect_inband_dtmf: Some(true),
        seed: u64::from(ssrc),
    }
}

fn params(remote: &str) -> StreamParams {
    StreamParams {
        index: 0,
        codec: AudioCodec::Pcmu,
        payload_type: 0,
        receive: vec![(0, AudioCodec::Pcmu), (8, AudioCodec::Pcma)],
        dtmf_send: Some(101),
        dtmf_receive: vec![101],
        remote_rtp: Some(addr(remote)),
        remote_rtcp: Some(rtcp_of(remote)),
        send: true,
        receive_audio: true,
    }
}

fn stream(ssrc: u32, remote: &str, source: Source, now: Instant) -> RtpStream {
    RtpStream::new(
        setup(ssrc),
        Some(params(remote)),
        source,
        now,
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    )
}

fn rtp_out(s: &mut RtpStream) -> Vec<(SocketAddr, RtpPacket)> {
    let mut out = Vec::new();
    while let Some(t) = s.poll_transmit() {
        if let Transmit::Rtp(dst, bytes) = t {
            out.push((dst, RtpPacket::parse(&bytes).unwrap()));
        }
    }
    out
}

fn events(s: &mut RtpStream) -> Vec<StreamEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn packet(seq: u16, ts: u32, pt: u8, payload: &[u8]) -> Bytes {
    RtpPacket {
        payload_type: pt,
        marker: false,
        sequence: seq,
        timestamp: ts,
        ssrc: 77,
        csrc: Vec::new(),
        payload: Bytes::copy_from_slice(payload),
    }
    .to_bytes()
}

/// Two streams wired back to back on a virtual clock: every 20 ms both tick and what each
/// sends reaches the other at once.
struct Pair {
    a: RtpStream,
    b: RtpStream,
    now: Instant,
    a_events: Vec<StreamEvent>,
    b_events: Vec<StreamEvent>,
}

impl Pair {
    fn new(a: Source, b: Source) -> Self {
        let now = Instant::now();
        Self {
            a: stream(1, B, a, now),
            b: stream(2, A, b, now),
            now,
            a_events: Vec::new(),
            b_events: Vec::new(),
        }
    }

    fn deliver(from: &mut RtpStream, from_addr: &str, to: &mut RtpStream, now: Instant) {
        while let Some(t) = from.poll_transmit() {
            match t {
                Transmit::Rtp(_, bytes) => to.handle_rtp(now, addr(from_addr), &bytes),
                Transmit::Rtcp(_, bytes) => to.handle_rtcp(now, rtcp_of(from_addr), &bytes),
            }
        }
    }

    fn step(&mut self) {
        self.now += TICK;
        self.a.handle_tick(self.now);
        self.b.handle_tick(self.now);
        // Echoes go out while receiving: deliver until quiet.
        for _ in 0..4 {
            Self::deliver(&mut self.a, A, &mut self.b, self.now);
            Self::deliver(&mut self.b, B, &mut self.a, self.now);
        }
        self.a_events.extend(events(&mut self.a));
        self.b_events.extend(events(&mut self.b));
    }

    fn run(&mut self, ticks: usize) {
        for _ in 0..ticks {
            self.step();
        }
    }
}

/// Frames of a file whose frame i is filled with the byte i + 1.
fn numbered_file(frames: usize) -> AudioFile {
    let codes: Vec<u8> = (0..frames)
        .flat_map(|i| std::iter::repeat((i + 1) as u8).take(SAMPLES_PER_PACKET))
        .collect();
    AudioFile::from_bytes("n.pcmu", &codes).unwrap()
}

#[test]
fn files_go_out_every_tick_with_numbering_then_silence() {
    let now = Instant::now();
    let mut s = stream(
        9,
        B,
        Source::Files {
            files: vec![numbered_file(3)],
            plays: Some(1),
        },
        now,
    );
    let mut sent = Vec::new();
    for i in 1..=5 {
        s.handle_tick(now + TICK * i);
        sent.extend(rtp_out(&mut s));
    }
    assert_eq!(sent.len(), 5);
    let seqs: Vec<u16> = sent.iter().map(|(_, p)| p.sequence).collect();
    assert_eq!(seqs, [65530, 65531, 65532, 65533, 65534]);
    let ts: Vec<u32> = sent.iter().map(|(_, p)| p.timestamp).collect();
    assert_eq!(ts, [1000, 1160, 1320, 1480, 1640]);
    assert!(sent[0].1.marker && !sent[1].1.marker);
    assert!(sent
        .iter()
        .all(|(dst, p)| *dst == addr(B) && p.ssrc == 9 && p.payload_type == 0));
    assert_eq!(sent[0].1.payload[..], [1; 160]);
    assert_eq!(sent[2].1.payload[..], [3; 160]);
    assert_eq!(sent[3].1.payload[..], [0xff; 160]);
    assert_eq!(events(&mut s), [StreamEvent::SourceDone]);
}

#[test]
fn files_repeat_and_convert_to_the_negotiated_codec() {
    let now = Instant::now();
    let mut p = params(B);
    p.codec = AudioCodec::Pcma;
    p.payload_type = 8;
    let mut s = RtpStream::new(
        setup(9),
        Some(p),
        Source::Files {
            files: vec![AudioFile::from_bytes("s.pcmu", &[0xff; 160]).unwrap()],
            plays: Some(2),
        },
        now,
        UNIX_EPOCH,
    );
    for i in 1..=3 {
        s.handle_tick(now + TICK * i);
    }
    let sent = rtp_out(&mut s);
    assert!(sent
        .iter()
        .all(|(_, p)| p.payload_type == 8 && p.payload[..] == [0xd5; 160]));
    assert_eq!(events(&mut s), [StreamEvent::SourceDone]);
}

#[test]
fn a_late_tick_skips_timestamps_instead_of_bursting() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.handle_tick(now + TICK);
    // Three periods late: one packet, the timestamp of the missed two skipped, marker set.
    s.handle_tick(now + TICK * 4);
    s.handle_tick(now + TICK * 5);
    let sent = rtp_out(&mut s);
    assert_eq!(sent.len(), 3);
    let ts: Vec<u32> = sent.iter().map(|(_, p)| p.timestamp).collect();
    assert_eq!(ts, [1000, 1000 + 3 * 160, 1000 + 4 * 160]);
    let seq: Vec<u16> = sent.iter().map(|(_, p)| p.sequence).collect();
    assert_eq!(seq, [65530, 65531, 65532]);
    assert!(sent[1].1.marker && !sent[2].1.marker);
}

#[test]
fn echo_sends_back_under_our_numbers_in_our_codec_and_latches_the_source() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Echo, now);
    // Nothing on ticks.
    s.handle_tick(now + TICK);
    assert!(rtp_out(&mut s).is_empty());
    let nat = addr("127.0.0.1:45678");
    s.handle_rtp(now + TICK, nat, &packet(100, 5000, 0, &[7; 160]));
    s.handle_rtp(now + TICK * 2, nat, &packet(101, 5160, 8, &[0xd5; 160]));
    let sent = rtp_out(&mut s);
    assert_eq!(sent.len(), 2);
    // Symmetric RTP: back to where it came from, not to the SDP's address.
    assert!(sent.iter().all(|(dst, _)| *dst == nat));
    assert_eq!(
        (sent[0].1.ssrc, sent[0].1.sequence, sent[0].1.timestamp),
        (9, 65530, 1000)
    );
    assert_eq!((sent[1].1.sequence, sent[1].1.timestamp), (65531, 1160));
    assert_eq!(sent[0].1.payload[..], [7; 160]);
    // PCMA came, PCMU goes.
    let converted = AudioCodec::Pcma.transcode(&[0xd5; 160], AudioCodec::Pcmu);
    assert_eq!(
        (sent[1].1.payload_type, &sent[1].1.payload[..]),
        (0, &converted[..])
    );
}

#[test]
fn callback_answers_each_packet() {
    let now = Instant::now();
    let mut s = stream(
        9,
        B,
        Source::Callback(std::sync::Arc::new(|p: &RtpPacket| {
            (p.sequence % 2 == 0).then(|| Bytes::from(vec![1u8; 160]))
        })),
        now,
    );
    for seq in 0..4 {
        s.handle_rtp(
            now,
            addr(B),
            &packet(seq, u32::from(seq) * 160, 0, &[0; 160]),
        );
    }
    assert_eq!(rtp_out(&mut s).len(), 2);
}

#[test]
fn recording_plays_out_in_order_and_fills_gaps_with_silence() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.set_recording(true);
    s.handle_rtp(now, addr(B), &packet(10, 0, 0, &[1; 160]));
    s.handle_rtp(now, addr(B), &packet(12, 320, 0, &[3; 160]));
    s.handle_rtp(now, addr(B), &packet(11, 160, 0, &[2; 160]));
    // 13 never comes; 14 does.
    s.handle_rtp(now, addr(B), &packet(14, 640, 8, &[0xd5; 160]));
    for i in 1..=10 {
        s.handle_tick(now + TICK * i);
    }
    let frames: Vec<Frame> = std::iter::from_fn(|| s.poll_frame()).collect();
    assert_eq!(
        frames,
        [
            Frame::Audio(AudioCodec::Pcmu, Bytes::from(vec![1; 160])),
            Frame::Audio(AudioCodec::Pcmu, Bytes::from(vec![2; 160])),
            Frame::Audio(AudioCodec::Pcmu, Bytes::from(vec![3; 160])),
            Frame::Lost(AudioCodec::Pcmu),
            Frame::Audio(AudioCodec::Pcma, Bytes::from(vec![0xd5; 160])),
        ]
    );
    let stats = s.stats();
    assert_eq!((stats.packets_received, stats.packets_lost), (4, 1));
}

#[test]
fn silence_from_the_peer_times_out_once_but_not_on_hold() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.handle_tick(now + Duration::from_secs(5));
    s.handle_rtp(
        now + Duration::from_secs(5),
        addr(B),
        &packet(1, 0, 0, &[0; 160]),
    );
    s.handle_tick(now + Duration::from_millis(14_990));
    assert!(events(&mut s).is_empty());
    s.handle_tick(now + Duration::from_secs(15));
    assert_eq!(events(&mut s), [StreamEvent::RtpTimeout]);
    s.handle_tick(now + Duration::from_secs(30));
    assert!(events(&mut s).is_empty());

    // On hold (the peer sends nothing by agreement): never.
    let mut held = params(B);
    held.receive_audio = false;
    let mut s = RtpStream::new(
        setup(9),
        Some(held.clone()),
        Source::Silence,
        now,
        UNIX_EPOCH,
    );
    s.handle_tick(now + Duration::from_secs(60));
    assert!(events(&mut s).is_empty());
    // Resumed: counted from the resume.
    s.update(now + Duration::from_secs(60), Some(params(B)));
    s.handle_tick(now + Duration::from_secs(69));
    assert!(events(&mut s).is_empty());
    s.handle_tick(now + Duration::from_secs(70));
    assert_eq!(events(&mut s), [StreamEvent::RtpTimeout]);
}

#[test]
fn rfc4733_digits_replace_audio_and_are_reported_once_each() {
    let mut pair = Pair::new(Source::Silence, Source::Silence);
    pair.a.send_dtmf(7, "15#", DtmfMode::Rfc4733).unwrap();
    pair.run(60);
    let digits: Vec<char> = pair
        .b_events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Dtmf(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert_eq!(digits, ['1', '5', '#']);
    assert!(pair.a_events.contains(&StreamEvent::DtmfSent(7)));
}

#[test]
fn rfc4733_packets_share_the_event_timestamp_and_end_three_times() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.send_dtmf(1, "9", DtmfMode::Auto).unwrap();
    for i in 1..=8 {
        s.handle_tick(now + TICK * i);
    }
    let sent = rtp_out(&mut s);
    assert_eq!(sent.len(), 8);
    // 100 ms: four updates and the end three times, one per tick.
    let (events, gap) = sent.split_at(7);
    assert!(events
        .iter()
        .all(|(_, p)| p.payload_type == 101 && p.timestamp == 1000));
    assert!(events[0].1.marker && !events[1].1.marker);
    let ev: Vec<DtmfEvent> = events
        .iter()
        .map(|(_, p)| DtmfEvent::parse(&p.payload).unwrap())
        .collect();
    assert!(ev.iter().all(|e| e.event == 9));
    assert_eq!(ev.iter().filter(|e| e.end).count(), 3);
    assert_eq!(ev[6].duration, 800);
    // Then the gap, as audio stamped after the event.
    assert_eq!(
        (gap[0].1.payload_type, gap[0].1.timestamp),
        (0, 1000 + 7 * 160)
    );
}

#[test]
fn in_band_digits_are_tones_the_peer_detects() {
    let mut pair = Pair::new(Source::Silence, Source::Silence);
    pair.a.send_dtmf(3, "7*", DtmfMode::InBand).unwrap();
    pair.run(60);
    let digits: Vec<char> = pair
        .b_events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Dtmf(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert_eq!(digits, ['7', '*']);
    assert!(pair.a_events.contains(&StreamEvent::DtmfSent(3)));
}

#[test]
fn dtmf_errors() {
    let now = Instant::now();
    let mut no_events = params(B);
    no_events.dtmf_send = None;
    let mut s = RtpStream::new(setup(9), Some(no_events), Source::Silence, now, UNIX_EPOCH);
    assert_eq!(
        s.send_dtmf(1, "1", DtmfMode::Rfc4733),
        Err(CallError::DtmfNotNegotiated)
    );
    assert_eq!(
        s.send_dtmf(1, "1x", DtmfMode::InBand),
        Err(CallError::BadDtmfDigit('x'))
    );
    // Auto falls back to tones.
    s.send_dtmf(1, "1", DtmfMode::Auto).unwrap();
    s.handle_tick(now + TICK);
    assert_eq!(rtp_out(&mut s)[0].1.payload_type, 0);
    let long = "1".repeat(crate::dtmf_playout::MAX_DTMF_DIGITS + 1);
    assert!(matches!(
        s.send_dtmf(2, &long, DtmfMode::InBand),
        Err(CallError::WrongState { .. })
    ));
    let mut off = RtpStream::new(setup(9), None, Source::Silence, now, UNIX_EPOCH);
    assert!(matches!(
        off.send_dtmf(1, "1", DtmfMode::Auto),
        Err(CallError::WrongState { .. })
    ));
}

#[test]
fn probes_echoed_give_loss_and_delay() {
    let mut pair = Pair::new(Source::Probe, Source::Echo);
    pair.run(50);
    let p = pair.a.probe_stats();
    assert_eq!(p.sent, 50);
    assert_eq!((p.received, p.lost), (50, 0));
    // Echoed within the same tick on the virtual wire.
    assert_eq!(p.delay_max, Some(Duration::ZERO));
}

#[test]
fn rtcp_reports_flow_and_give_the_round_trip() {
    let mut pair = Pair::new(Source::Silence, Source::Silence);
    // Two report intervals at most 7.5 s each.
    pair.run(800);
    let a = pair.a.stats();
    assert_eq!(a.packets_sent, 800);
    assert_eq!(a.packets_received, 800);
    assert_eq!(a.packets_lost, 0);
    // The peer's SR/RR carry LSR/DLSR of our SR: a round trip of 0 on the virtual wire.
    // (The NTP middle 32 bits round to 1/65536 s.)
    assert!(
        a.round_trip
            .is_some_and(|rtt| rtt < Duration::from_millis(1)),
        "{:?}",
        a.round_trip
    );
    assert_eq!(a.remote_fraction_lost, Some(0.0));
}

#[test]
fn rtcp_goes_to_the_rtcp_port_sr_while_sending_rr_otherwise() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    let mut kinds = Vec::new();
    for i in 1..=400 {
        s.handle_tick(now + TICK * i);
        while let Some(t) = s.poll_transmit() {
            if let Transmit::Rtcp(dst, bytes) = t {
                assert_eq!(dst, rtcp_of(B));
                let first = RtcpPacket::parse_compound(&bytes).unwrap().remove(0);
                kinds.push(matches!(first, RtcpPacket::SenderReport(_)));
            }
        }
    }
    assert!(!kinds.is_empty() && kinds.iter().all(|&sr| sr), "{kinds:?}");
    let mut quiet = params(B);
    quiet.send = false;
    let mut s = RtpStream::new(setup(9), Some(quiet), Source::Silence, now, UNIX_EPOCH);
    let mut kinds = Vec::new();
    for i in 1..=400 {
        s.handle_tick(now + TICK * i);
        while let Some(t) = s.poll_transmit() {
            match t {
                Transmit::Rtcp(_, bytes) => {
                    let first = RtcpPacket::parse_compound(&bytes).unwrap().remove(0);
                    kinds.push(matches!(first, RtcpPacket::ReceiverReport(_)));
                }
                Transmit::Rtp(..) => panic!("RTP sent on a receive-only stream"),
            }
        }
    }
    assert!(!kinds.is_empty() && kinds.iter().all(|&rr| rr));
}

#[test]
fn close_sends_an_rtcp_bye_and_then_nothing() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.close(now);
    let Some(Transmit::Rtcp(dst, bytes)) = s.poll_transmit() else {
        panic!("no RTCP BYE")
    };
    assert_eq!(dst, rtcp_of(B));
    let packets = RtcpPacket::parse_compound(&bytes).unwrap();
    assert!(matches!(packets.last(), Some(RtcpPacket::Goodbye(g)) if g.sources == [9]));
    s.handle_tick(now + TICK);
    assert!(s.poll_transmit().is_none());
}

#[test]
fn garbage_is_counted_not_fatal() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Echo, now);
    s.handle_rtp(now, addr(B), &Bytes::from_static(b"\x00\x01"));
    s.handle_rtcp(now, addr(B), b"\x80");
    // A payload type we never negotiated is ignored.
    s.handle_rtp(now, addr(B), &packet(1, 0, 18, &[0; 20]));
    assert_eq!(s.malformed(), 2);
    assert!(rtp_out(&mut s).is_empty());
    // A short telephone-event is dropped.
    s.handle_rtp(now, addr(B), &packet(2, 0, 101, &[1]));
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_stream_turned_off_sends_and_takes_nothing() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.update(now, None);
    s.handle_tick(now + TICK);
    s.handle_rtp(now, addr(B), &packet(1, 0, 0, &[0; 160]));
    assert!(s.poll_transmit().is_none());
    assert_eq!(s.stats().packets_received, 0);
}

#[test]
fn close_plays_out_what_the_jitter_buffer_holds() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.set_recording(true);
    s.handle_rtp(now, addr(B), &packet(1, 0, 0, &[1; 160]));
    s.handle_rtp(now, addr(B), &packet(2, 160, 0, &[2; 160]));
    // The first packet waits for the jitter depth; the call ends before.
    s.close(now);
    let frames: Vec<Frame> = std::iter::from_fn(|| s.poll_frame()).collect();
    assert_eq!(frames.len(), 2);
}

#[test]
fn tones_are_looked_for_by_default_only_when_the_peer_has_no_telephone_events() {
    let mut pair = Pair::new(Source::Silence, Source::Silence);
    let mut auto = setup(2);
    auto.detect_inband_dtmf = None;
    pair.b = RtpStream::new(auto, Some(params(A)), Source::Silence, pair.now, UNIX_EPOCH);
    pair.a.send_dtmf(1, "4", DtmfMode::InBand).unwrap();
    pair.run(30);
    assert!(!pair
        .b_events
        .iter()
        .any(|e| matches!(e, StreamEvent::Dtmf(_))));
    // The peer without telephone-events (after a re-INVITE, say): its tones count.
    let mut no_events = params(A);
    no_events.dtmf_send = None;
    pair.b.update(pair.now, Some(no_events));
    pair.a.send_dtmf(2, "4", DtmfMode::InBand).unwrap();
    pair.run(30);
    assert!(pair.b_events.contains(&StreamEvent::Dtmf('4')));
}

#[test]
fn a_stall_of_days_skips_without_overflow() {
    let now = Instant::now();
    let mut s = stream(9, B, Source::Silence, now);
    s.handle_tick(now + TICK);
    s.handle_tick(now + Duration::from_secs(10 * 24 * 3600));
    let sent = rtp_out(&mut s);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].1.sequence, sent[0].1.sequence.wrapping_add(1));
    assert!(sent[1].1.marker);
}

/// An echo without tone detection, recording or DTMF: a stream that needs no clock.
fn plain_echo(now: Instant) -> RtpStream {
    let mut quiet = setup(5);
    quiet.detect_inband_dtmf = Some(false);
    RtpStream::new(quiet, Some(params(B)), Source::Echo, now, UNIX_EPOCH)
}

#[test]
fn only_what_sends_or_plays_out_on_the_clock_needs_it() {
    let now = Instant::now();
    let mut echo = plain_echo(now);
    assert!(!echo.needs_clock());
    // A detector or a recorder plays out every 20 ms.
    assert!(stream(1, B, Source::Echo, now).needs_clock());
    echo.set_recording(true);
    assert!(echo.needs_clock());
    echo.set_recording(false);
    // Sources that send on the clock.
    for source in [Source::Silence, Source::Probe] {
        let mut s = plain_echo(now);
        s.set_source(source);
        assert!(s.needs_clock());
    }
    // DTMF to send needs the clock until the last digit is out, then no more.
    echo.send_dtmf(1, "1", DtmfMode::Rfc4733).unwrap();
    assert!(echo.needs_clock());
    let mut t = now;
    while !events(&mut echo).contains(&StreamEvent::DtmfSent(1)) {
        t += TICK;
        echo.handle_tick(t);
        assert!(t < now + Duration::from_secs(2), "DTMF never finished");
    }
    assert!(!echo.needs_clock());
    echo.close(t);
    assert!(!echo.needs_clock());
}

#[test]
fn without_a_clock_the_next_deadline_is_the_report_or_the_timeout() {
    let now = Instant::now();
    let mut echo = plain_echo(now);
    // The first report is due within 7.5 s (RFC 3550 §6.2: 5 s, randomised, halved at
    // first), well before the 10 s RTP timeout.
    let first = echo.next_deadline();
    assert!(
        first > now && first <= now + Duration::from_millis(7_500),
        "{first:?}"
    );
    echo.handle_tick(first);
    let second = echo.next_deadline();
    assert!(second > first, "a report moves the deadline on");
    // Heard nothing since `now`: the timeout comes before a report that is far enough off.
    while echo.next_deadline() < now + Duration::from_secs(10) {
        echo.handle_tick(echo.next_deadline());
    }
    assert_eq!(echo.next_deadline(), now + Duration::from_secs(10));
    echo.handle_tick(now + Duration::from_secs(10));
    assert!(events(&mut echo)
        .iter()
        .any(|e| matches!(e, StreamEvent::RtpTimeout)));
    // Once reported, only the reports are left.
    assert!(echo.next_deadline() > now + Duration::from_secs(10));
}

#[test]
fn an_echo_without_a_clock_answers_counts_and_keeps_its_timestamps() {
    let now = Instant::now();
    let mut echo = plain_echo(now);
    let mut t = now;
    let mut out = Vec::new();
    // More packets than the jitter buffer holds, and not a tick among them.
    for i in 0..300u16 {
        t += TICK;
        echo.handle_rtp(
            t,
            addr(B),
            &packet(i, u32::from(i) * 160, 0, &[i as u8; 160]),
        );
        out.extend(rtp_out(&mut echo));
    }
    assert_eq!(out.len(), 300);
    assert!(out.iter().all(|(dst, _)| *dst == addr(B)));
    let stats = echo.stats();
    // Played out as they came (the last few wait for the buffer's depth), none dropped.
    assert!(stats.packets_received >= 296, "{stats:?}");
    assert_eq!(stats.packets_lost, 0, "{stats:?}");
    // A tick at a deadline much later, then one more packet: its timestamp follows the
    // last echo's, as if no tick had been missed, and it starts no new talkspurt.
    echo.handle_tick(t + Duration::from_secs(5));
    t += Duration::from_secs(5);
    echo.handle_rtp(t, addr(B), &packet(300, 300 * 160, 0, &[7; 160]));
    let last = rtp_out(&mut echo).pop().unwrap().1;
    let before = &out[299].1;
    assert_eq!(last.timestamp, before.timestamp.wrapping_add(160));
    assert_eq!(last.sequence, before.sequence.wrapping_add(1));
    assert!(!last.marker);
}

#[test]
fn without_a_recorder_what_arrives_is_counted_on_arrival_and_gaps_by_the_report() {
    let now = Instant::now();
    let mut quiet = setup(6);
    quiet.detect_inband_dtmf = Some(false);
    let mut s = RtpStream::new(quiet, Some(params(B)), Source::Silence, now, UNIX_EPOCH);
    assert!(s.needs_clock(), "silence goes out on the clock");
    let mut t = now;
    // Packets 0 to 9, then 12 and 13 (10 and 11 are missing), no tick in between.
    for i in (0..10u16).chain(12..14) {
        t += TICK;
        s.handle_rtp(t, addr(B), &packet(i, u32::from(i) * 160, 0, &[1; 160]));
    }
    // Played out as they came, all but those the buffer's depth still holds.
    let early = s.stats();
    assert!(early.packets_received >= 8, "{early:?}");
    assert_eq!(early.packets_lost, 0);
    // Frames go to nobody, so none are kept.
    assert!(s.poll_frame().is_none());
    // At the next report the depth has long passed: 10 and 11 are lost.
    s.handle_tick(s.next_deadline());
    let later = s.stats();
    assert_eq!(
        (later.packets_received, later.packets_lost),
        (12, 2),
        "{later:?}"
    );
}

#[test]
fn a_closed_stream_needs_nothing_and_its_deadline_stands_still() {
    // The stream task stops waking for such a deadline instead of spinning on it.
    let now = Instant::now();
    let mut echo = plain_echo(now);
    echo.close(now);
    assert!(!echo.needs_clock());
    let due = echo.next_deadline();
    echo.handle_tick(due);
    assert_eq!(echo.next_deadline(), due);
    assert!(rtp_out(&mut echo).is_empty());
}
