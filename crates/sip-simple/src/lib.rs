//! Calls with RTP audio and DTMF in a few lines (Net::SIP::Simple, Simple::Call,
//! Simple::RTP and Net::SIP::DTMF): register, call, answer; send audio files, record what
//! comes back, echo, send and receive DTMF; hold, resume, hang up. Everything is async under
//! tokio.
//!
//! A caller that plays a file, records the answer and hangs up when the file is done:
//!
//! ```no_run
//! use sip_simple::{CallOptions, Media, Recorder, Simple, SimpleConfig};
//! use sip_simple::media::AudioFile;
//! # async fn caller() -> Result<(), Box<dyn std::error::Error>> {
//! let simple = Simple::new(SimpleConfig::new("sip:alice@127.0.0.1")
//!     .listen("udp:127.0.0.1:5070".parse()?)).await?;
//! let media = Media::send_recv(vec![AudioFile::read("hello.wav")?], Some(Recorder::wav("reply.wav")?));
//! let call = simple.invite("sip:bob@127.0.0.1:5080",
//!     CallOptions::new().media(media).hangup_when_done(true)).await?;
//! println!("call ended: {}", call.ended().await);
//! # Ok(()) }
//! ```
//!
//! An answering machine that greets, records, and logs the keys pressed:
//!
//! ```no_run
//! use std::time::Duration;
//! use sip_simple::{Answer, ListenOptions, Media, Recorder, Simple, SimpleConfig};
//! use sip_simple::media::AudioFile;
//! # async fn answering_machine() -> Result<(), Box<dyn std::error::Error>> {
//! let simple = Simple::new(SimpleConfig::new("sip:box@127.0.0.1")
//!     .listen("udp:127.0.0.1:5080".parse()?)).await?;
//! let greeting = AudioFile::read("greeting.wav")?;
//! simple.listen(ListenOptions::new()
//!     .on_new_call(|_| Answer::Ring(Duration::from_secs(2)))
//!     .media(move |c| {
//!         let out = format!("{}.wav", c.call().call_id());
//!         Media::send_recv(vec![greeting.clone()], Recorder::wav(out).ok())
//!     })
//!     .on_dtmf(|call, digit| println!("{}: {digit}", call.call_id())));
//! tokio::time::sleep(Duration::from_secs(3600)).await; // an hour of answering
//! simple.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Map of the crate:
//! - [`Simple`], [`SimpleConfig`]: the user agent (`simple`, `config`); [`CallOptions`],
//!   [`DtmfMode`] (`options`); [`ListenOptions`], [`Answer`], [`IncomingCall`] (`listen`).
//! - [`Call`] (`call`), its task (`call_driver`) and its rules without IO (`call_core`);
//!   [`CallState`], [`CallEvent`], [`EndReason`] (`call_state`).
//! - [`Media`] (`audio`), [`Recorder`], [`Recording`] (`recorder`): what a stream does.
//! - One audio stream: its rules without IO (`rtp_stream`, with what it sends in
//!   `rtp_source` and its DTMF in `dtmf_playout`), its task and sockets (`stream_task`,
//!   reading into `datagram_buffer`, told by a `wake_flag` when commands came), its ports (`ports`), SDP offer/answer (`negotiation`), probes ([`ProbeStats`], `probe`),
//!   [`CallStats`] (`stats`).
//! - [`media`]: RTP, RTCP, G.711, audio files, jitter buffer, DTMF, without IO.
//! - Errors: [`SimpleError`], [`RegisterError`], [`CallError`], [`PortError`].

#![forbid(unsafe_code)]

mod audio;
mod call;
mod call_core;
mod call_driver;
mod call_state;
mod config;
mod datagram_buffer;
mod dtmf_playout;
mod error;
mod listen;
pub mod media;
mod negotiation;
mod options;
mod ports;
mod probe;
mod recorder;
mod rtp_source;
mod rtp_stream;
mod simple;
mod stats;
mod stream_task;
mod wake_flag;

pub use audio::{Media, PacketCallback};
pub use call::Call;
pub use call_state::{CallEvent, CallState, EndReason};
pub use config::SimpleConfig;
pub use error::{CallError, PortError, RegisterError, SimpleError};
pub use listen::{Answer, IncomingCall, ListenOptions};
pub use options::{CallOptions, DtmfMode};
pub use probe::ProbeStats;
pub use recorder::{Recorder, Recording};
pub use simple::Simple;
pub use stats::CallStats;
