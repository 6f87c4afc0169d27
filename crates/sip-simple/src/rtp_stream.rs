//! One audio stream of a call, without IO (Net::SIP::Simple::RTP): what to send every 20 ms
//! (files, silence, DTMF), what to do with each packet that arrives (echo, callback, jitter
//! buffer, recording, DTMF detection), symmetric RTP, RTCP reports, and silence from the peer.
//!
//! [`RtpStream`] is fed datagrams and 20 ms ticks with the time, and hands out
//! [`Transmit`]s, [`StreamEvent`]s and frames to record; `stream_task.rs` owns its sockets.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::audio::{Media, Source};
use crate::dtmf_playout::{DtmfPlayout, DtmfTick};
use crate::error::CallError;
use crate::media::{
    goodbye, receiver_report, rtcp_interval, sender_report, AudioCodec, DtmfReceiver, JitterBuffer,
    MediaStats, Playout, ReceptionStats, RtcpPacket, RtpPacket, RtpSender, SenderInfo,
    ToneDetector, PACKET_DURATION, SAMPLES_PER_PACKET,
};
use crate::negotiation::StreamParams;
use crate::options::DtmfMode;
use crate::probe::ProbeStats;
use crate::recorder::Frame;
use crate::rtp_source::{ClockOutput, StreamSource};

/// Samples per packet as the RTP timestamp counts them.
const TICK_SAMPLES: u32 = SAMPLES_PER_PACKET as u32;
/// Outgoing items queued at most: a burst of received packets to echo cannot make the
/// queue grow without bound if the driver is slow to send.
const MAX_TRANSMITS: usize = 256;

/// What the stream is set up with.
#[derive(Debug, Clone)]
pub(crate) struct StreamSetup {
    /// Our SSRC, first sequence number and first timestamp (random, RFC 3550 §5.1).
    pub(crate) ssrc: u32,
    pub(crate) first_sequence: u16,
    pub(crate) first_timestamp: u32,
    /// The RTCP CNAME.
    pub(crate) cname: String,
    /// How long the jitter buffer waits for a missing packet.
    pub(crate) jitter_depth: Duration,
    /// Silence from the peer this long on a two-way stream is reported.
    pub(crate) rtp_timeout: Option<Duration>,
    /// Whether received audio is searched for DTMF tones; `None`: when the peer has no
    /// telephone-events.
    pub(crate) detect_inband_dtmf: Option<bool>,
    /// Seeds the RTCP interval randomization.
    pub(crate) seed: u64,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transmit {
    /// From the RTP socket.
    Rtp(SocketAddr, Bytes),
    /// From the RTCP socket.
    Rtcp(SocketAddr, Bytes),
}

/// What the stream tells its call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamEvent {
    /// The peer sent this DTMF digit.
    Dtmf(char),
    /// Every file was sent.
    SourceDone,
    /// Nothing arrived from the peer for the RTP timeout.
    RtpTimeout,
    /// The DTMF string of this request was sent.
    DtmfSent(u64),
}

/// One audio stream's RTP and RTCP logic.
pub(crate) struct RtpStream {
    setup: StreamSetup,
    params: Option<StreamParams>,
    source: StreamSource,
    rtp: RtpSender,
    jitter: JitterBuffer,
    reception: ReceptionStats,
    stats: MediaStats,
    /// Where RTP and RTCP came from first (symmetric RTP for peers behind NAT).
    latched_rtp: Option<SocketAddr>,
    latched_rtcp: Option<SocketAddr>,
    /// The clock origin and the wallclock at that instant: SR timestamps without reading the
    /// system clock.
    epoch: Instant,
    wall_epoch: SystemTime,
    /// When the last audio tick was sent, to notice missed ticks.
    last_tick: Option<Instant>,
    marker_next: bool,
    /// When the peer last sent RTP, or since when we expect it to.
    last_heard: Instant,
    timeout_reported: bool,
    rtcp_at: Instant,
    sent_since_report: bool,
    rng: StdRng,
    dtmf: DtmfPlayout,
    dtmf_receivers: Vec<DtmfReceiver>,
    detector: Option<ToneDetector>,
    recording: bool,
    malformed: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<StreamEvent>,
    frames: VecDeque<Frame>,
    closed: bool,
}

impl RtpStream {
    /// A stream doing `media` with `params` (`None`: negotiated off for now), starting `now`
    /// whose wallclock is `wallclock`.
    pub(crate) fn new(
        setup: StreamSetup,
        params: Option<StreamParams>,
        source: Source,
        now: Instant,
        wallclock: SystemTime,
    ) -> Self {
        let rng = StdRng::seed_from_u64(setup.seed);
        let rtp = RtpSender::new(
            0,
            8000,
            setup.ssrc,
            setup.first_sequence,
            setup.first_timestamp,
        );
        let jitter = JitterBuffer::new(setup.jitter_depth, 8000);
        let mut stream = Self {
            reception: ReceptionStats::new(0),
            rtp,
            jitter,
            stats: MediaStats::new(),
            latched_rtp: None,
            latched_rtcp: None,
            epoch: now,
            wall_epoch: wallclock,
            last_tick: None,
            marker_next: true,
            last_heard: now,
            timeout_reported: false,
            rtcp_at: now,
            sent_since_report: false,
            rng,
            dtmf: DtmfPlayout::default(),
            dtmf_receivers: Vec::new(),
            detector: None,
            recording: false,
            malformed: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            frames: VecDeque::new(),
            closed: false,
            source: StreamSource::new(source),
            params: None,
            setup,
        };
        stream.rtcp_at = now + stream.next_rtcp_interval();
        stream.update(now, params);
        stream
    }

    // ---- getters ----

    /// The counters of this stream.
    pub(crate) fn stats(&self) -> MediaStats {
        let mut s = self.stats;
        s.record_sender(&self.rtp);
        s.record_receiver(&self.jitter);
        s
    }

    /// What the probes showed (nothing unless the source is [`Media::probe`]).
    pub(crate) fn probe_stats(&self) -> ProbeStats {
        self.source.probe_stats()
    }

    /// The negotiated parameters.
    pub(crate) fn params(&self) -> Option<&StreamParams> {
        self.params.as_ref()
    }

    /// Datagrams that were not RTP.
    #[cfg(test)]
    pub(crate) fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Whether the stream needs its 20 ms clock now: it sends on the clock (files, silence,
    /// probes), has DTMF to send, or plays out what arrives to a recorder or a tone detector.
    /// Without any of these (an echo or a callback, say) it answers each packet as it
    /// arrives and needs [`handle_tick`](Self::handle_tick) only at
    /// [`next_deadline`](Self::next_deadline): fifty wake-ups a second fewer per stream.
    pub(crate) fn needs_clock(&self) -> bool {
        !self.closed && (self.source.is_paced() || !self.dtmf.is_idle() || self.plays_out())
    }

    /// Whether what arrives is played out on the clock, frame by frame, to a recorder or a
    /// tone detector. Otherwise the jitter buffer is emptied as packets arrive, for its
    /// statistics alone.
    fn plays_out(&self) -> bool {
        self.detector.is_some() || self.recording
    }

    /// When a stream that does not [need its clock](Self::needs_clock) next has work of its
    /// own: its next RTCP report, or the moment the peer's silence becomes an RTP timeout.
    pub(crate) fn next_deadline(&self) -> Instant {
        let timeout = match (self.setup.rtp_timeout, self.params.as_ref()) {
            (Some(t), Some(p)) if p.is_two_way() && !self.timeout_reported => {
                Some(self.last_heard + t)
            }
            _ => None,
        };
        timeout.map_or(self.rtcp_at, |t| t.min(self.rtcp_at))
    }

    /// Whether the source sends files (so that the call waits for its
    /// [`StreamEvent::SourceDone`]).
    pub(crate) fn has_files(&self) -> bool {
        self.source.has_files()
    }

    // ---- output ----

    /// The next datagram to send.
    #[must_use]
    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the call.
    #[must_use]
    pub(crate) fn poll_event(&mut self) -> Option<StreamEvent> {
        self.events.pop_front()
    }

    /// The next frame to record (only while [`set_recording`](Self::set_recording) is on).
    #[must_use]
    pub(crate) fn poll_frame(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    // ---- commands ----

    /// Whether frames are handed out for recording.
    pub(crate) fn set_recording(&mut self, on: bool) {
        self.recording = on;
        if !on {
            self.frames.clear();
        }
    }

    /// New parameters after an offer/answer; `None` turns the stream off (port 0).
    pub(crate) fn update(&mut self, now: Instant, params: Option<StreamParams>) {
        let old = self.params.take();
        if let Some(p) = &params {
            let moved = old.as_ref().map(|o| o.remote_rtp) != Some(p.remote_rtp);
            if moved {
                // The peer moved its media (or this is the first description): latch anew.
                self.latched_rtp = None;
                self.latched_rtcp = None;
            }
            let was_two_way = old.as_ref().is_some_and(StreamParams::is_two_way);
            if p.is_two_way() && !was_two_way {
                // Silence is counted from the moment the peer should start sending.
                self.last_heard = now;
                self.timeout_reported = false;
            }
            self.dtmf_receivers = p
                .dtmf_receive
                .iter()
                .map(|&pt| DtmfReceiver::new(pt))
                .collect();
            // A peer with telephone-events sends digits that way: tone detection, which costs
            // a Goertzel bank per packet, is for peers without.
            let detect = self
                .setup
                .detect_inband_dtmf
                .unwrap_or(p.dtmf_send.is_none());
            match (detect, self.detector.is_some()) {
                (true, false) => self.detector = Some(ToneDetector::new()),
                (false, true) => self.detector = None,
                _ => {}
            }
            if !p.send {
                self.marker_next = true;
                self.last_tick = None;
            }
        }
        self.params = params;
    }

    /// Does `media`'s source from now on (the recorder is the driver's business).
    pub(crate) fn set_source(&mut self, source: Source) {
        self.source = StreamSource::new(source);
        self.marker_next = true;
    }

    /// Queues a DTMF string (digits 0-9, A-D, *, #; `-` for a 100 ms pause) to be sent in
    /// `mode`; [`StreamEvent::DtmfSent`] with `id` tells when it is out.
    pub(crate) fn send_dtmf(
        &mut self,
        id: u64,
        digits: &str,
        mode: DtmfMode,
    ) -> Result<(), CallError> {
        let Some(params) = self.params.as_ref().filter(|p| p.send) else {
            return Err(CallError::WrongState {
                operation: "sending DTMF",
                state: "not sending media".to_owned(),
            });
        };
        let event_pt = match mode {
            DtmfMode::Rfc4733 => Some(params.dtmf_send.ok_or(CallError::DtmfNotNegotiated)?),
            DtmfMode::InBand => None,
            DtmfMode::Auto => params.dtmf_send,
        };
        self.dtmf.queue(id, digits, event_pt)
    }

    /// Leaves: what the jitter buffer holds is played out, an RTCP BYE goes to the peer.
    /// Nothing is sent afterwards.
    pub(crate) fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        // What arrived is played out (and recorded) before the end, gaps as losses.
        self.tick_playout(now + self.setup.jitter_depth + PACKET_DURATION);
        self.closed = true;
        if let Some(dst) = self.rtcp_destination() {
            let bye = goodbye(self.setup.ssrc, &self.setup.cname, Some("hang up"));
            self.transmits.push_back(Transmit::Rtcp(dst, bye));
        }
    }

    // ---- time ----

    fn wallclock(&self, now: Instant) -> SystemTime {
        self.wall_epoch + now.saturating_duration_since(self.epoch)
    }

    fn next_rtcp_interval(&mut self) -> Duration {
        rtcp_interval(self.rng.gen::<f64>())
    }

    fn rtp_destination(&self) -> Option<SocketAddr> {
        let p = self.params.as_ref()?;
        self.latched_rtp.or(p.remote_rtp)
    }

    fn rtcp_destination(&self) -> Option<SocketAddr> {
        let p = self.params.as_ref()?;
        // Symmetric RTCP: where the peer's RTCP comes from, else next to its latched RTP.
        self.latched_rtcp
            .or_else(|| {
                self.latched_rtp
                    .and_then(|a| Some(SocketAddr::new(a.ip(), a.port().checked_add(1)?)))
            })
            .or(p.remote_rtcp)
    }

    fn push_transmit(&mut self, t: Transmit) {
        if self.transmits.len() < MAX_TRANSMITS {
            self.transmits.push_back(t);
        }
    }

    /// Sends an audio payload of the negotiated codec as our next packet.
    fn send_audio(&mut self, payload: Bytes) {
        let (Some(dst), Some(pt)) = (
            self.rtp_destination(),
            self.params.as_ref().map(|p| p.payload_type),
        ) else {
            return;
        };
        let samples = u32::try_from(payload.len()).unwrap_or(TICK_SAMPLES);
        let ts = self.rtp.next_timestamp();
        let marker = std::mem::take(&mut self.marker_next);
        let packet = self.rtp.packet_at(pt, ts, payload, marker);
        self.rtp.skip(samples);
        self.sent_since_report = true;
        self.push_transmit(Transmit::Rtp(dst, packet.to_bytes()));
    }

    /// The 20 ms clock ticked: send the next packet, play out what arrived, check for
    /// silence from the peer, send an RTCP report when due.
    ///
    /// A stream that does not [need its clock](Self::needs_clock) sends nothing on a tick
    /// (and notes no missed ticks: its timestamps follow what it answers).
    pub(crate) fn handle_tick(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if self.needs_clock() {
            self.tick_send(now);
        } else {
            // Ticks are not counted while they are not needed: the first one counted again
            // must not look late.
            self.last_tick = None;
        }
        if self.plays_out() {
            self.tick_playout(now);
        }
        self.tick_timeout(now);
        self.tick_rtcp(now);
    }

    fn is_sending(&self) -> bool {
        self.params
            .as_ref()
            .is_some_and(|p| p.send && p.remote_rtp.is_some())
    }

    fn tick_send(&mut self, now: Instant) {
        if !self.is_sending() {
            return;
        }
        // A tick that came late: the sampling clock went on meanwhile, so the timestamps of
        // the missed packets are skipped (RFC 3550 §5.1) instead of sending them in a burst
        // the peer's jitter buffer could not take. What was to be sent is sent now.
        if let Some(last) = self.last_tick {
            let elapsed = now.saturating_duration_since(last);
            let periods = elapsed.as_micros() / PACKET_DURATION.as_micros();
            if periods >= 2 {
                // Timestamps wrap (RFC 3550 §5.1): so may the skip of a very long stall.
                let missed = u32::try_from(periods - 1).unwrap_or(u32::MAX);
                self.rtp.skip(TICK_SAMPLES.wrapping_mul(missed));
                self.marker_next = true;
            }
        }
        self.last_tick = Some(now);
        let Some(codec) = self.params.as_ref().map(|p| p.codec) else {
            return;
        };
        let mut done = Vec::new();
        if let Some(tick) = self.dtmf.next_tick(codec, &mut self.rtp, &mut done) {
            match tick {
                DtmfTick::Event(packet) => {
                    if let Some(dst) = self.rtp_destination() {
                        self.sent_since_report = true;
                        self.push_transmit(Transmit::Rtp(dst, packet.to_bytes()));
                    }
                }
                DtmfTick::Audio(payload) => self.send_audio(payload),
            }
            if !done.is_empty() {
                // Audio after DTMF starts a talkspurt.
                self.marker_next = true;
            }
            self.events
                .extend(done.into_iter().map(StreamEvent::DtmfSent));
            return;
        }
        self.events
            .extend(done.into_iter().map(StreamEvent::DtmfSent));
        let since_start = now.saturating_duration_since(self.epoch);
        match self.source.on_clock(codec, since_start) {
            ClockOutput::Payload(p) => self.send_audio(p),
            ClockOutput::FilesDone(p) => {
                self.events.push_back(StreamEvent::SourceDone);
                self.send_audio(p);
            }
            ClockOutput::Nothing => {}
        }
    }

    fn tick_playout(&mut self, now: Instant) {
        while let Some(playout) = self.jitter.pop(now) {
            let (codec, payload) = match playout {
                Playout::Packet(p) => {
                    let Some(codec) = self.codec_of(p.payload_type) else {
                        continue;
                    };
                    (codec, Some(p.payload))
                }
                Playout::Lost { .. } => match self.params.as_ref() {
                    Some(p) => (p.codec, None),
                    None => continue,
                },
            };
            if let Some(detector) = self.detector.as_mut() {
                let samples = match &payload {
                    Some(p) => codec.decode(p),
                    None => vec![0; SAMPLES_PER_PACKET],
                };
                for digit in detector.push(&samples) {
                    self.events.push_back(StreamEvent::Dtmf(digit));
                }
            }
            if self.recording {
                self.frames.push_back(match payload {
                    Some(p) => Frame::Audio(codec, p),
                    None => Frame::Lost(codec),
                });
            }
        }
    }

    fn tick_timeout(&mut self, now: Instant) {
        let (Some(timeout), Some(p)) = (self.setup.rtp_timeout, self.params.as_ref()) else {
            return;
        };
        if !p.is_two_way() || self.timeout_reported {
            return;
        }
        if now.saturating_duration_since(self.last_heard) >= timeout {
            self.timeout_reported = true;
            self.events.push_back(StreamEvent::RtpTimeout);
        }
    }

    fn tick_rtcp(&mut self, now: Instant) {
        if now < self.rtcp_at {
            return;
        }
        self.rtcp_at = now + self.next_rtcp_interval();
        let Some(dst) = self.rtcp_destination() else {
            return;
        };
        if !self.plays_out() {
            // Packets waiting behind a gap since the last arrival: the report counts the
            // gap as lost once the buffer's depth has passed.
            self.tick_playout(now);
        }
        self.reception.update_from(&self.jitter);
        let blocks: Vec<_> = match self.jitter.ssrc() {
            Some(_) => vec![self.reception.report_block(now)],
            None => Vec::new(),
        };
        // RFC 3550 §6.4: an SR while we send, an RR otherwise.
        let packet = if std::mem::take(&mut self.sent_since_report) {
            let info = SenderInfo::from_sender(&self.rtp, self.wallclock(now));
            sender_report(self.setup.ssrc, info, &blocks, &self.setup.cname)
        } else {
            receiver_report(self.setup.ssrc, &blocks, &self.setup.cname)
        };
        self.push_transmit(Transmit::Rtcp(dst, packet));
    }

    // ---- what arrives ----

    fn codec_of(&self, pt: u8) -> Option<AudioCodec> {
        self.params
            .as_ref()?
            .receive
            .iter()
            .find(|&&(p, _)| p == pt)
            .map(|&(_, c)| c)
    }

    /// A datagram arrived on the RTP socket from `from`.
    pub(crate) fn handle_rtp(&mut self, now: Instant, from: SocketAddr, datagram: &Bytes) {
        if self.closed || self.params.is_none() {
            return;
        }
        let packet = match RtpPacket::parse_bytes(datagram) {
            Ok(p) => p,
            Err(e) => {
                self.malformed += 1;
                tracing::trace!(%e, %from, "not an RTP packet");
                return;
            }
        };
        if self.latched_rtp.is_none() {
            tracing::debug!(%from, "RTP latched to the peer's source address");
            self.latched_rtp = Some(from);
        }
        self.last_heard = now;
        let is_event = self
            .params
            .as_ref()
            .is_some_and(|p| p.dtmf_receive.contains(&packet.payload_type));
        if is_event {
            for receiver in &mut self.dtmf_receivers {
                match receiver.handle_packet(&packet) {
                    Ok(Some(digit)) => self.events.push_back(StreamEvent::Dtmf(digit)),
                    Ok(None) => {}
                    Err(e) => tracing::debug!(%e, "bad telephone-event"),
                }
            }
            return;
        }
        let Some(codec) = self.codec_of(packet.payload_type) else {
            tracing::trace!(
                pt = packet.payload_type,
                "RTP of a payload type not negotiated"
            );
            return;
        };
        let since_start = now.saturating_duration_since(self.epoch);
        let answer = self.source.on_packet(&packet, since_start);
        // An answer goes out in the negotiated codec, and not in the middle of DTMF.
        if let (Some(payload), true) = (answer, !self.dtmf.is_playing() && self.is_sending()) {
            let send_codec = self.params.as_ref().map_or(codec, |p| p.codec);
            let payload = if send_codec == codec {
                payload
            } else {
                Bytes::from(codec.transcode(&payload, send_codec))
            };
            self.send_audio(payload);
        }
        self.jitter.push(packet, now);
        if !self.plays_out() {
            // Nobody takes frames on the clock: the statistics and the buffer's room are
            // kept as packets arrive, where the packet is still in the cache.
            self.tick_playout(now);
        }
    }

    /// A datagram arrived on the RTCP socket from `from`.
    pub(crate) fn handle_rtcp(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        if self.closed {
            return;
        }
        let packets = match RtcpPacket::parse_compound(datagram) {
            Ok(p) => p,
            Err(e) => {
                self.malformed += 1;
                tracing::trace!(%e, %from, "not an RTCP packet");
                return;
            }
        };
        if self.latched_rtcp.is_none() {
            self.latched_rtcp = Some(from);
        }
        let wallclock = self.wallclock(now);
        for packet in packets {
            let blocks = match &packet {
                RtcpPacket::SenderReport(sr) => {
                    // The reception statistics follow the source the jitter buffer follows.
                    self.reception.update_from(&self.jitter);
                    self.reception.handle_sender_report(sr, now);
                    sr.reports.clone()
                }
                RtcpPacket::ReceiverReport(rr) => rr.reports.clone(),
                RtcpPacket::Goodbye(_) => {
                    tracing::debug!(%from, "RTCP BYE from the peer");
                    Vec::new()
                }
                _ => Vec::new(),
            };
            for block in blocks.iter().filter(|b| b.ssrc == self.setup.ssrc) {
                self.stats.record_report(block, wallclock);
            }
        }
    }
}

/// What a new stream does with `media`: its source for the stream, its recorder for the
/// driver.
pub(crate) fn split_media(media: Media) -> (Source, Option<crate::recorder::Recorder>) {
    (media.source, media.recorder)
}

#[cfg(test)]
mod tests;
