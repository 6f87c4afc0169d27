//! A call as its user holds it (Net::SIP::Simple::Call): hang up, hold and resume, new media,
//! DTMF, the peer's SDP, state, events, statistics. The work happens on the call's task
//! (`call_driver.rs`); a [`Call`] sends it commands and reads what it publishes.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sip_endpoint::Context;
use sip_packet::NameAddr;
use sip_sdp::SessionDescription;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::audio::Media;
use crate::call_state::{CallEvent, CallState, EndReason};
use crate::error::CallError;
use crate::options::DtmfMode;
use crate::stats::CallStats;
use crate::stream_task::{lock as lock_snapshot, SharedSnapshot};

/// Events kept for a listener that falls behind (and for the first [`Call::events`]).
pub(crate) const EVENT_BUFFER: usize = 256;

/// What the call's task is asked to do.
pub(crate) enum CallInput {
    /// A response to a request of the call.
    Response(sip_packet::Response),
    /// A request of the call got no final response.
    Failed(String),
    /// A request of the peer.
    Request(sip_packet::Request),
    /// Hang up.
    Hangup,
    /// Hang up, the user agent shuts down.
    Shutdown,
    /// Re-INVITE: new media for the first stream and/or hold or resume.
    Reinvite {
        media: Option<Media>,
        hold: Option<bool>,
        done: oneshot::Sender<Result<(), CallError>>,
    },
    /// Send DTMF on the first stream that sends.
    SendDtmf {
        digits: String,
        mode: DtmfMode,
        done: oneshot::Sender<Result<(), CallError>>,
    },
}

/// What the call's task publishes for the handles.
#[derive(Debug, Default)]
pub(crate) struct CallInfo {
    pub(crate) peer_sdp: Option<SessionDescription>,
    pub(crate) local_sdp: Option<SessionDescription>,
    pub(crate) on_hold: bool,
    pub(crate) streams: Vec<SharedSnapshot>,
}

pub(crate) struct CallShared {
    pub(crate) ctx: Context,
    pub(crate) outgoing: bool,
    pub(crate) input: mpsc::UnboundedSender<CallInput>,
    pub(crate) state: watch::Receiver<CallState>,
    /// Set once the call was established: a watcher may only see the end of a short call.
    pub(crate) was_answered: AtomicBool,
    pub(crate) events: broadcast::Sender<CallEvent>,
    /// Subscribed when the call was made: the first `events()` gets every event since.
    pub(crate) first_events: Mutex<Option<broadcast::Receiver<CallEvent>>>,
    pub(crate) info: Mutex<CallInfo>,
}

/// A call, made ([`Simple::invite`](crate::Simple::invite)) or answered
/// ([`Simple::listen`](crate::Simple::listen)). Cheap to clone; every clone is the same call.
/// Dropping every handle does not hang up: the call goes on until either side ends it.
#[derive(Clone)]
pub struct Call {
    pub(crate) inner: Arc<CallShared>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("call_id", &self.call_id())
            .field("outgoing", &self.inner.outgoing)
            .field("state", &self.state())
            .finish()
    }
}

impl PartialEq for Call {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Call {}

impl Call {
    pub(crate) fn info(&self) -> MutexGuard<'_, CallInfo> {
        self.inner.info.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.inner.ctx.call_id()
    }

    /// Whether we made the call.
    pub fn is_outgoing(&self) -> bool {
        self.inner.outgoing
    }

    /// Our address in the call (with our tag).
    pub fn local(&self) -> NameAddr {
        self.inner.ctx.local()
    }

    /// The peer's address in the call.
    pub fn remote(&self) -> NameAddr {
        self.inner.ctx.remote()
    }

    /// The dialog context of the endpoint, for requests of one's own.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// Where the call is now.
    pub fn state(&self) -> CallState {
        self.inner.state.borrow().clone()
    }

    /// Whether the call is answered and not over.
    pub fn is_established(&self) -> bool {
        self.state().is_established()
    }

    /// Whether we hold the call ([`hold`](Self::hold)).
    pub fn is_on_hold(&self) -> bool {
        self.info().on_hold
    }

    /// The peer's last session description.
    pub fn peer_sdp(&self) -> Option<SessionDescription> {
        self.info().peer_sdp.clone()
    }

    /// Our last session description.
    pub fn local_sdp(&self) -> Option<SessionDescription> {
        self.info().local_sdp.clone()
    }

    /// Where our media streams receive RTP (RTCP on the next port each).
    pub fn media_addrs(&self) -> Vec<SocketAddr> {
        self.info()
            .streams
            .iter()
            .filter_map(|s| lock_snapshot(s).local)
            .collect()
    }

    /// The media counters so far.
    pub fn stats(&self) -> CallStats {
        let streams: Vec<_> = self
            .info()
            .streams
            .iter()
            .map(|s| {
                let s = lock_snapshot(s);
                (s.stats, s.probe)
            })
            .collect();
        CallStats::from_streams(&streams)
    }

    /// What happens in the call from now on. The first call of this gets every event since
    /// the call began (up to 256); later ones only what comes after.
    pub fn events(&self) -> broadcast::Receiver<CallEvent> {
        let first = self
            .inner
            .first_events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        first.unwrap_or_else(|| self.inner.events.subscribe())
    }

    /// Waits until the call is over; says why.
    pub async fn ended(&self) -> EndReason {
        let mut state = self.inner.state.clone();
        loop {
            if let CallState::Ended(why) = &*state.borrow_and_update() {
                return why.clone();
            }
            if state.changed().await.is_err() {
                // The task is gone without saying: it ended the call.
                return match &*state.borrow() {
                    CallState::Ended(why) => why.clone(),
                    _ => EndReason::Failed("the call's task stopped".to_owned()),
                };
            }
        }
    }

    /// Waits until the call is answered (outgoing: the 2xx came; incoming: the ACK came), or
    /// says why it never will be. A call answered and over already was answered.
    pub async fn answered(&self) -> Result<(), CallError> {
        let mut state = self.inner.state.clone();
        loop {
            let outcome = match &*state.borrow_and_update() {
                CallState::Established => Some(Ok(())),
                CallState::Ended(_) if self.inner.was_answered.load(Ordering::SeqCst) => {
                    Some(Ok(()))
                }
                CallState::Ended(why) => Some(Err(answer_error(why))),
                _ => None,
            };
            if let Some(outcome) = outcome {
                return outcome;
            }
            if state.changed().await.is_err() {
                return match &*state.borrow() {
                    CallState::Ended(why) if !self.inner.was_answered.load(Ordering::SeqCst) => {
                        Err(answer_error(why))
                    }
                    CallState::Ended(_) | CallState::Established => Ok(()),
                    _ => Err(CallError::Shutdown),
                };
            }
        }
    }

    /// Hangs up (BYE; CANCEL before the answer; a 480 to an incoming call not yet answered)
    /// and waits until the call is over. A call over already is left alone.
    pub async fn hangup(&self) -> Result<(), CallError> {
        if self.state().is_ended() {
            return Ok(());
        }
        let _ = self.inner.input.send(CallInput::Hangup);
        self.ended().await;
        Ok(())
    }

    /// Puts the call on hold: a re-INVITE making our streams `sendonly` (RFC 3264 §8.4); the
    /// peer stops sending and no RTP timeout applies. Returns when the peer agreed.
    pub async fn hold(&self) -> Result<(), CallError> {
        self.reinvite_with(None, Some(true)).await
    }

    /// Takes the call off hold: a re-INVITE making our streams `sendrecv` again.
    pub async fn resume(&self) -> Result<(), CallError> {
        self.reinvite_with(None, Some(false)).await
    }

    /// Does `media` on the first stream from now on and renegotiates with a re-INVITE.
    pub async fn reinvite(&self, media: Media) -> Result<(), CallError> {
        self.reinvite_with(Some(media), None).await
    }

    async fn reinvite_with(
        &self,
        media: Option<Media>,
        hold: Option<bool>,
    ) -> Result<(), CallError> {
        let (done, rx) = oneshot::channel();
        self.send_input(CallInput::Reinvite { media, hold, done })?;
        rx.await.map_err(|_| self.gone())?
    }

    /// Sends DTMF digits (0-9, A-D, *, #; `-` is a 100 ms pause) on the first stream that
    /// sends, each 100 ms long; returns when the last is out. [`DtmfMode::Rfc4733`] fails
    /// with [`CallError::DtmfNotNegotiated`] when the peer has no telephone-events.
    pub async fn send_dtmf(&self, digits: &str, mode: DtmfMode) -> Result<(), CallError> {
        let (done, rx) = oneshot::channel();
        self.send_input(CallInput::SendDtmf {
            digits: digits.to_owned(),
            mode,
            done,
        })?;
        rx.await.map_err(|_| self.gone())?
    }

    fn send_input(&self, input: CallInput) -> Result<(), CallError> {
        self.inner.input.send(input).map_err(|_| self.gone())
    }

    /// The error for a command to a call whose task is gone.
    fn gone(&self) -> CallError {
        match self.state() {
            CallState::Ended(why) => CallError::Ended(why),
            _ => CallError::Shutdown,
        }
    }
}

/// Why an INVITE was not answered, from why its call ended.
pub(crate) fn answer_error(why: &EndReason) -> CallError {
    match why {
        EndReason::Rejected { status, reason } => CallError::Rejected {
            status: *status,
            reason: reason.clone(),
        },
        EndReason::NoAnswer => CallError::NoAnswer,
        EndReason::LocalHangup => CallError::Cancelled,
        EndReason::Failed(detail) => CallError::Failed {
            method: "INVITE".to_owned(),
            detail: detail.clone(),
        },
        EndReason::Shutdown => CallError::Shutdown,
        other => CallError::Ended(other.clone()),
    }
}
