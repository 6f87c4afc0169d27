//! RTP media without IO (Net::SIP::Simple::RTP and Net::SIP::DTMF): everything a call needs to
//! send and receive G.711 audio and DTMF, as plain types that are handed bytes and an
//! `Instant` (or a tick count) and never touch a socket or read a clock.
//!
//! Map of the module:
//! - [`RtpPacket`], [`RtpError`]: RFC 3550 §5.1 packets, parse and print ([`rtp`]).
//! - [`RtpSender`]: sequence numbers, timestamps and SR counters of one outgoing stream.
//! - [`AudioCodec`], [`SAMPLES_PER_PACKET`]: G.711 μ-law and A-law (ITU-T G.711).
//! - [`AudioFile`], [`AudioFileError`]: raw G.711 and WAV files as 20 ms RTP payloads;
//!   [`WavWriter`], [`WavFormat`]: recording what arrives.
//! - [`SequenceTracker`]: RFC 3550 A.1 extended sequence numbers and source restarts.
//! - [`JitterBuffer`], [`Playout`]: reordering, loss, late and duplicate packets, interarrival
//!   jitter (RFC 3550 A.8).
//! - [`RtcpPacket`] and its parts, [`sender_report`], [`receiver_report`], [`goodbye`],
//!   [`ReceptionStats`], [`rtcp_interval`]: RFC 3550 §6 control packets.
//! - [`DtmfEvent`], [`DtmfSender`], [`DtmfReceiver`]: RFC 4733 telephone-events;
//!   [`ToneGenerator`], [`ToneDetector`]: in-band DTMF tones (Goertzel).
//! - [`MediaStats`]: packets sent, received, lost, jitter and round-trip time of a call.
//!
//! A tone sent as PCMU, carried through a jitter buffer that sees one packet lost, and
//! recognized at the other end:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sip_simple::media::{
//!     AudioCodec, AudioFile, JitterBuffer, Playout, RtpPacket, RtpSender, ToneDetector,
//!     ToneGenerator, SAMPLES_PER_PACKET,
//! };
//!
//! let tone = ToneGenerator::new().samples('5', Duration::from_millis(200)).unwrap();
//! let frames = AudioFile::from_samples("tone", tone).frames(AudioCodec::Pcmu);
//! let mut sender = RtpSender::new(AudioCodec::Pcmu.payload_type(), 8000, 0x1234, 100, 0);
//! let mut buffer = JitterBuffer::new(Duration::from_millis(60), 8000);
//! let mut detector = ToneDetector::new();
//! let (start, mut digits, mut lost) = (Instant::now(), String::new(), 0);
//! for (i, frame) in frames.into_iter().enumerate() {
//!     let now = start + Duration::from_millis(20 * i as u64);
//!     let datagram = sender.packet(frame, SAMPLES_PER_PACKET as u32, i == 0).to_bytes();
//!     if i == 3 {
//!         continue; // lost on the way
//!     }
//!     buffer.push(RtpPacket::parse(&datagram).unwrap(), now);
//!     while let Some(playout) = buffer.pop(now + Duration::from_millis(60)) {
//!         match playout {
//!             Playout::Packet(p) => {
//!                 digits.extend(detector.push(&AudioCodec::Pcmu.decode(&p.payload)));
//!             }
//!             Playout::Lost { .. } => {
//!                 lost += 1;
//!                 digits.extend(detector.push(&[0; SAMPLES_PER_PACKET]));
//!             }
//!         }
//!     }
//! }
//! assert_eq!((digits.as_str(), lost), ("5", 1));
//! ```

mod audio_file;
mod dtmf;
mod dtmf_receiver;
mod dtmf_sender;
mod g711;
mod jitter;
mod ntp;
mod reception;
mod rtcp;
mod rtcp_build;
mod rtcp_wire;
mod rtp;
mod rtp_sender;
mod sequence;
mod stats;
mod tone_detector;
mod tone_generator;
mod wav_writer;

pub use audio_file::{AudioFile, AudioFileError};
pub use dtmf::{digit_to_event, event_to_digit, DtmfError, DtmfEvent, DTMF_DIGITS};
pub use dtmf_receiver::DtmfReceiver;
pub use dtmf_sender::{DtmfSender, DEFAULT_DTMF_DURATION};
pub use g711::{
    alaw_decode, alaw_encode, ulaw_decode, ulaw_encode, AudioCodec, PACKET_DURATION,
    SAMPLES_PER_PACKET,
};
pub use jitter::{JitterBuffer, Playout, DEFAULT_JITTER_CAPACITY};
pub use ntp::{dlsr_units, ntp_middle32, ntp_timestamp};
pub use reception::ReceptionStats;
pub use rtcp::{
    is_rtcp, Goodbye, ReceiverReport, ReportBlock, RtcpError, RtcpPacket, SdesChunk, SdesItem,
    SenderInfo, SenderReport, SourceDescription, SDES_CNAME,
};
pub use rtcp_build::{
    compound, goodbye, receiver_report, rtcp_interval, sender_report, RTCP_INTERVAL,
};
pub use rtp::{RtpError, RtpPacket};
pub use rtp_sender::RtpSender;
pub use sequence::{SequenceCheck, SequenceTracker};
pub use stats::{round_trip_time, MediaStats};
pub use tone_detector::ToneDetector;
pub use tone_generator::ToneGenerator;
pub use wav_writer::{WavFormat, WavWriter};
