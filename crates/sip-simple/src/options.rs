//! How one outgoing call is made ([`CallOptions`]) and how DTMF is sent ([`DtmfMode`]).

use std::time::Duration;

use crate::audio::Media;
use crate::media::AudioCodec;
use crate::negotiation::AudioProfile;

/// How DTMF digits are sent ([`Call::send_dtmf`](crate::Call::send_dtmf)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DtmfMode {
    /// RFC 4733 telephone-events; an error if the peer did not negotiate them.
    Rfc4733,
    /// Tones in the audio (as a keypad makes them).
    InBand,
    /// RFC 4733 when negotiated, else in-band (Net::SIP's `rfc2833,audio`).
    #[default]
    Auto,
}

/// The audio side of a call, shared by [`CallOptions`] and
/// [`ListenOptions`](crate::ListenOptions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AudioSettings {
    pub(crate) codecs: Vec<AudioCodec>,
    pub(crate) dtmf_payload_type: Option<u8>,
    /// `None`: only when the peer has no telephone-events.
    pub(crate) detect_inband_dtmf: Option<bool>,
    pub(crate) hangup_when_done: bool,
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            codecs: vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            dtmf_payload_type: Some(101),
            detect_inband_dtmf: None,
            hangup_when_done: false,
        }
    }
}

impl AudioSettings {
    pub(crate) fn profile(&self) -> AudioProfile {
        AudioProfile {
            codecs: self.codecs.clone(),
            dtmf_payload_type: self.dtmf_payload_type,
        }
    }

    pub(crate) fn set_codecs(&mut self, codecs: Vec<AudioCodec>) {
        if !codecs.is_empty() {
            let mut unique = Vec::new();
            for c in codecs {
                if !unique.contains(&c) {
                    unique.push(c);
                }
            }
            self.codecs = unique;
        }
    }
}

/// How an outgoing call is made ([`Simple::invite`](crate::Simple::invite),
/// [`Simple::call`](crate::Simple::call)).
///
/// ```
/// use std::time::Duration;
/// use sip_simple::{CallOptions, Media};
/// use sip_simple::media::AudioCodec;
/// let options = CallOptions::new()
///     .media(Media::echo())
///     .codecs(vec![AudioCodec::Pcma])
///     .dtmf_payload_type(101)
///     .early_media(true)
///     .ring_timeout(Some(Duration::from_secs(20)));
/// # let _ = options;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct CallOptions {
    pub(crate) media: Vec<Media>,
    pub(crate) audio: AudioSettings,
    pub(crate) early_media: bool,
    pub(crate) ring_timeout: Option<Option<Duration>>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl CallOptions {
    /// One audio stream sending silence; PCMU then PCMA; telephone-events on payload type
    /// 101; no early media; the user agent's ring timeout.
    pub fn new() -> Self {
        Self {
            media: Vec::new(),
            audio: AudioSettings::default(),
            early_media: false,
            ring_timeout: None,
            headers: Vec::new(),
        }
    }

    /// What the (first) audio stream does.
    #[must_use]
    pub fn media(mut self, media: Media) -> Self {
        if self.media.is_empty() {
            self.media.push(media);
        } else {
            self.media[0] = media;
        }
        self
    }

    /// Adds another audio stream (an `m=audio` line with its own RTP/RTCP ports) doing
    /// `media`.
    #[must_use]
    pub fn add_stream(mut self, media: Media) -> Self {
        if self.media.is_empty() {
            self.media.push(Media::silence());
        }
        self.media.push(media);
        self
    }

    /// The codecs offered, most preferred first (an empty list keeps the default).
    #[must_use]
    pub fn codecs(mut self, codecs: Vec<AudioCodec>) -> Self {
        self.audio.set_codecs(codecs);
        self
    }

    /// Offers RFC 4733 telephone-events under this payload type (default 101).
    #[must_use]
    pub fn dtmf_payload_type(mut self, payload_type: u8) -> Self {
        self.audio.dtmf_payload_type = Some(payload_type & 0x7f);
        self
    }

    /// Offers no telephone-events: DTMF goes in-band.
    #[must_use]
    pub fn no_dtmf_events(mut self) -> Self {
        self.audio.dtmf_payload_type = None;
        self
    }

    /// Whether tones in the received audio are reported as DTMF. By default they are when
    /// the peer did not negotiate telephone-events (it then has no other way to send
    /// digits); the detector costs CPU on every received packet.
    #[must_use]
    pub fn detect_inband_dtmf(mut self, on: bool) -> Self {
        self.audio.detect_inband_dtmf = Some(on);
        self
    }

    /// Starts media on a provisional answer with SDP (a 183), before the call is answered.
    #[must_use]
    pub fn early_media(mut self, on: bool) -> Self {
        self.early_media = on;
        self
    }

    /// Cancels the call when it is not answered within `timeout` (`None`: waits as long as
    /// the peer rings), instead of the user agent's setting.
    #[must_use]
    pub fn ring_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.ring_timeout = Some(timeout);
        self
    }

    /// Hangs up once every audio file of the media was sent (Net::SIP's default for
    /// `media_send_recv` without `cb_rtp_done`).
    #[must_use]
    pub fn hangup_when_done(mut self, on: bool) -> Self {
        self.audio.hangup_when_done = on;
        self
    }

    /// Adds a header to the INVITE.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}
