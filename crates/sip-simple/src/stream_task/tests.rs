use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::UdpSocket;

use super::*;
use crate::audio::Source;
use crate::media::{AudioCodec, RtcpPacket, RtpPacket};
use crate::ports::PortPool;
use crate::rtp_stream::StreamSetup;

/// Long enough for loopback on a loaded machine; only a guard against hanging.
const GUARD: Duration = Duration::from_secs(10);

fn params(peer: SocketAddr) -> StreamParams {
    StreamParams {
        index: 0,
        codec: AudioCodec::Pcmu,
        payload_type: 0,
        receive: vec![(0, AudioCodec::Pcmu)],
        dtmf_send: None,
        dtmf_receive: Vec::new(),
        remote_rtp: Some(peer),
        remote_rtcp: Some(SocketAddr::new(peer.ip(), peer.port() + 1)),
        send: true,
        receive_audio: true,
    }
}

/// An echo stream on fresh loopback ports, sending to `peer`.
fn echo_stream(
    peer: SocketAddr,
) -> (
    StreamHandle,
    SocketAddr,
    mpsc::UnboundedReceiver<StreamReport>,
) {
    echo_stream_with_timeout(peer, None)
}

/// An echo stream that reports the peer's silence after `rtp_timeout`.
fn echo_stream_with_timeout(
    peer: SocketAddr,
    rtp_timeout: Option<Duration>,
) -> (
    StreamHandle,
    SocketAddr,
    mpsc::UnboundedReceiver<StreamReport>,
) {
    let pool = PortPool::new(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
    let ports = pool.allocate().unwrap();
    let local = ports.rtp_addr();
    let setup = StreamSetup {
        ssrc: 0x1234_5678,
        first_sequence: 100,
        first_timestamp: 8000,
        cname: "echo@127.0.0.1".to_owned(),
        jitter_depth: Duration::from_millis(60),
        rtp_timeout,
        detect_inband_dtmf: Some(false),
        seed: 7,
    };
    let core = RtpStream::new(setup, Some(params(peer)), Source::Echo, now(), wallclock());
    let (tx, rx) = mpsc::unbounded_channel();
    (spawn(0, ports, core, None, tx), local, rx)
}

fn audio(sequence: u16, fill: u8) -> Bytes {
    RtpPacket {
        payload_type: 0,
        marker: false,
        sequence,
        timestamp: u32::from(sequence) * 160,
        ssrc: 0xabcd,
        csrc: Vec::new(),
        payload: Bytes::from(vec![fill; 160]),
    }
    .to_bytes()
}

/// The next RTP packet that arrives at `socket` (RTCP on the same socket is skipped).
async fn next_rtp(socket: &UdpSocket) -> RtpPacket {
    let mut buf = [0u8; 2048];
    loop {
        let (n, _) = tokio::time::timeout(GUARD, socket.recv_from(&mut buf))
            .await
            .expect("nothing came back")
            .unwrap();
        if let Ok(p) = RtpPacket::parse(&buf[..n]) {
            if p.payload_type == 0 {
                return p;
            }
        }
    }
}

#[tokio::test]
async fn a_burst_waiting_in_the_socket_is_echoed_whole_and_in_order() {
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (handle, local, _reports) = echo_stream(peer.local_addr().unwrap());
    // More than one turn's batch, sent before the task reads anything; garbage in between
    // is counted as malformed and does not stop the reading.
    let count = u16::try_from(RECV_BATCH * 2 + 10).unwrap();
    for seq in 0..count {
        peer.send_to(&audio(seq, (seq % 200) as u8), local)
            .await
            .unwrap();
        if seq == 5 {
            peer.send_to(b"not RTP", local).await.unwrap();
        }
    }
    let mut sequences = Vec::new();
    for i in 0..count {
        let p = next_rtp(&peer).await;
        // Our SSRC and numbering, the caller's payload.
        assert_eq!(p.ssrc, 0x1234_5678);
        assert_eq!(&p.payload[..], &[(i % 200) as u8; 160][..]);
        sequences.push(p.sequence);
    }
    let expected: Vec<u16> = (100..100 + count).collect();
    assert_eq!(sequences, expected);
    let snapshot = handle.snapshot.clone();
    handle.stop().await;
    let s = lock(&snapshot);
    assert!(!s.running);
    assert_eq!(s.stats.packets_received, u64::from(count));
    assert_eq!(s.stats.packets_sent, u64::from(count));
}

#[tokio::test]
async fn stopping_the_stream_sends_an_rtcp_bye_and_ends_the_task() {
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // RTCP goes to the port after the peer's RTP port: listen there.
    let peer_addr = peer.local_addr().unwrap();
    let rtcp = match UdpSocket::bind(SocketAddr::new(peer_addr.ip(), peer_addr.port() + 1)).await {
        Ok(s) => s,
        // The next port is taken by someone else: nothing to observe this time.
        Err(_) => return,
    };
    let (handle, local, _reports) = echo_stream(peer_addr);
    peer.send_to(&audio(1, 9), local).await.unwrap();
    assert_eq!(next_rtp(&peer).await.payload[0], 9);
    handle.stop().await;
    let mut buf = [0u8; 2048];
    loop {
        let (n, _) = tokio::time::timeout(GUARD, rtcp.recv_from(&mut buf))
            .await
            .expect("no RTCP BYE")
            .unwrap();
        let packets = RtcpPacket::parse_compound(&buf[..n]).unwrap();
        if packets.iter().any(|p| matches!(p, RtcpPacket::Goodbye(_))) {
            break;
        }
    }
}

#[tokio::test]
async fn an_echo_publishes_its_counters_as_packets_arrive_without_a_clock() {
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (handle, local, _reports) = echo_stream(peer.local_addr().unwrap());
    for seq in 0..2 {
        peer.send_to(&audio(seq, 3), local).await.unwrap();
        next_rtp(&peer).await;
    }
    // The first packet's counters were published in the turn that echoed it, before the
    // second packet was read: no tick of a clock was needed for that.
    let echoed = lock(&handle.snapshot).stats.packets_sent;
    assert!(echoed >= 1, "{echoed}");
    handle.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_echo_without_a_clock_still_reports_the_peers_silence() {
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let started = tokio::time::Instant::now();
    let (handle, _local, mut reports) =
        echo_stream_with_timeout(peer.local_addr().unwrap(), Some(Duration::from_secs(10)));
    // The paused clock runs on to each deadline the stream sets: its reports, then the
    // timeout, with no 20 ms ticks in between.
    loop {
        let (index, event) = reports.recv().await.expect("the stream ended");
        assert_eq!(index, 0);
        if matches!(event, StreamEvent::RtpTimeout) {
            break;
        }
    }
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    handle.stop().await;
}
