//! Answering calls (Net::SIP::Simple's `listen`): [`ListenOptions`] with a hook for each
//! stage, the [`IncomingCall`] the hooks see, and the [`Answer`] to an INVITE.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sip_packet::{NameAddr, Request};
use sip_sdp::SessionDescription;

use crate::audio::Media;
use crate::call::Call;
use crate::call_state::EndReason;
use crate::media::AudioCodec;
use crate::options::AudioSettings;

/// What to do with an incoming call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// Answer at once (200).
    Accept,
    /// Refuse with this status (486 Busy Here, 603 Decline, ...).
    Reject(u16),
    /// Ring (180) for this long, then answer.
    Ring(Duration),
    /// Send a 183 with our SDP and start media at once (early media), answer after this long.
    EarlyMedia(Duration),
}

/// An incoming call as the hooks see it.
#[derive(Debug, Clone)]
pub struct IncomingCall {
    pub(crate) call: Call,
    pub(crate) request: Request,
    pub(crate) from: Option<NameAddr>,
    pub(crate) to: Option<NameAddr>,
    pub(crate) source: SocketAddr,
    pub(crate) offer: Option<SessionDescription>,
    pub(crate) stream: usize,
}

impl IncomingCall {
    /// The call.
    pub fn call(&self) -> &Call {
        &self.call
    }

    /// The INVITE.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Who calls (the From header).
    pub fn from(&self) -> Option<&NameAddr> {
        self.from.as_ref()
    }

    /// Whom the call is for (the To header).
    pub fn to(&self) -> Option<&NameAddr> {
        self.to.as_ref()
    }

    /// Where the INVITE came from.
    pub fn source(&self) -> SocketAddr {
        self.source
    }

    /// The caller's SDP offer, if the INVITE had one.
    pub fn offer(&self) -> Option<&SessionDescription> {
        self.offer.as_ref()
    }

    /// For the [`ListenOptions::media`] hook: the index of the `m=` line whose media is asked
    /// for (0 for the first audio stream; the hook is called once per accepted stream).
    pub fn stream_index(&self) -> usize {
        self.stream
    }
}

type MediaHook = Arc<dyn Fn(&IncomingCall) -> Media + Send + Sync>;
type NewCallHook = Arc<dyn Fn(&IncomingCall) -> Answer + Send + Sync>;
type CallHook = Arc<dyn Fn(&Call) + Send + Sync>;
type DtmfHook = Arc<dyn Fn(&Call, char) + Send + Sync>;
type HangupHook = Arc<dyn Fn(&Call, &EndReason) + Send + Sync>;

/// How incoming calls are answered ([`Simple::listen`](crate::Simple::listen)). Every hook
/// runs on the call's task: it must not block (hand long work to a task of its own).
///
/// ```
/// use std::time::Duration;
/// use sip_simple::{Answer, ListenOptions, Media};
/// let options = ListenOptions::new()
///     .media(|_| Media::echo())
///     .on_new_call(|c| if c.from().is_some() { Answer::Ring(Duration::from_secs(1)) } else { Answer::Reject(403) })
///     .on_dtmf(|_, digit| println!("pressed {digit}"));
/// # let _ = options;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ListenOptions {
    pub(crate) media: Option<MediaHook>,
    pub(crate) on_new_call: Option<NewCallHook>,
    pub(crate) on_established: Option<CallHook>,
    pub(crate) on_dtmf: Option<DtmfHook>,
    pub(crate) on_hangup: Option<HangupHook>,
    pub(crate) audio: AudioSettings,
}

impl fmt::Debug for ListenOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenOptions")
            .field("media", &self.media.is_some())
            .field("on_new_call", &self.on_new_call.is_some())
            .field("on_established", &self.on_established.is_some())
            .field("on_dtmf", &self.on_dtmf.is_some())
            .field("on_hangup", &self.on_hangup.is_some())
            .field("audio", &self.audio)
            .finish()
    }
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ListenOptions {
    /// Accepts every call at once, sending silence; PCMU and PCMA; telephone-events on 101.
    pub fn new() -> Self {
        Self {
            media: None,
            on_new_call: None,
            on_established: None,
            on_dtmf: None,
            on_hangup: None,
            audio: AudioSettings::default(),
        }
    }

    /// What each accepted audio stream of a call does (called once per stream, see
    /// [`IncomingCall::stream_index`]); silence without this hook.
    #[must_use]
    pub fn media(mut self, hook: impl Fn(&IncomingCall) -> Media + Send + Sync + 'static) -> Self {
        self.media = Some(Arc::new(hook));
        self
    }

    /// Decides how each new call is answered; [`Answer::Accept`] without this hook.
    #[must_use]
    pub fn on_new_call(
        mut self,
        hook: impl Fn(&IncomingCall) -> Answer + Send + Sync + 'static,
    ) -> Self {
        self.on_new_call = Some(Arc::new(hook));
        self
    }

    /// Told when a call is established (the ACK came).
    #[must_use]
    pub fn on_established(mut self, hook: impl Fn(&Call) + Send + Sync + 'static) -> Self {
        self.on_established = Some(Arc::new(hook));
        self
    }

    /// Told about each DTMF digit the caller sends.
    #[must_use]
    pub fn on_dtmf(mut self, hook: impl Fn(&Call, char) + Send + Sync + 'static) -> Self {
        self.on_dtmf = Some(Arc::new(hook));
        self
    }

    /// Told when a call ends, and why.
    #[must_use]
    pub fn on_hangup(mut self, hook: impl Fn(&Call, &EndReason) + Send + Sync + 'static) -> Self {
        self.on_hangup = Some(Arc::new(hook));
        self
    }

    /// The codecs accepted, most preferred first (the caller's order decides among them).
    #[must_use]
    pub fn codecs(mut self, codecs: Vec<AudioCodec>) -> Self {
        self.audio.set_codecs(codecs);
        self
    }

    /// Accepts RFC 4733 telephone-events (default; the caller's payload type is used).
    #[must_use]
    pub fn dtmf_payload_type(mut self, payload_type: u8) -> Self {
        self.audio.dtmf_payload_type = Some(payload_type & 0x7f);
        self
    }

    /// Accepts no telephone-events: DTMF must come in-band.
    #[must_use]
    pub fn no_dtmf_events(mut self) -> Self {
        self.audio.dtmf_payload_type = None;
        self
    }

    /// Whether tones in the received audio are reported as DTMF. By default they are when
    /// the caller did not negotiate telephone-events (it then has no other way to send
    /// digits); the detector costs CPU on every received packet.
    #[must_use]
    pub fn detect_inband_dtmf(mut self, on: bool) -> Self {
        self.audio.detect_inband_dtmf = Some(on);
        self
    }

    /// Hangs up once every audio file of a call's media was sent (an announcement).
    #[must_use]
    pub fn hangup_when_done(mut self, on: bool) -> Self {
        self.audio.hangup_when_done = on;
        self
    }
}
