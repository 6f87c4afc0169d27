//! The rules of one call above the dialog, without IO: which SDP goes in which message
//! (RFC 3264 offer/answer in INVITE, 18x, 2xx and ACK), what each answer does to the media,
//! ringing and early media, ring timeout and CANCEL, hold, hang-up. [`CallCore`] takes what
//! happened and the time, and hands out [`Action`]s for its driver (`call_driver.rs`) to carry
//! out.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use sip_sdp::{Direction, Origin, SessionDescription};

use crate::call_state::{CallEvent, CallState, EndReason};
use crate::error::CallError;
use crate::negotiation::{self, AudioProfile, StreamParams};

/// A session description found in a message: none, one, or one that does not parse.
pub(crate) type Body = Option<Result<SessionDescription, String>>;

/// Who made the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// We sent the INVITE.
    Outgoing,
    /// The peer sent it.
    Incoming,
}

/// How an incoming call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerMode {
    /// 200 at once.
    Now,
    /// 180, then 200 after this long.
    Ring(Duration),
    /// 183 with our SDP and media at once, then 200 after this long.
    Early(Duration),
}

/// What the driver is to do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Send an INVITE (the first of the call, or a re-INVITE) with this offer.
    SendInvite(SessionDescription),
    /// Cancel our unanswered INVITE.
    Cancel,
    /// End the dialog with a BYE.
    Bye,
    /// Answer the INVITE being served (the first or a re-INVITE).
    Respond {
        /// The status.
        status: u16,
        /// The body, if any.
        sdp: Option<SessionDescription>,
    },
    /// Run the streams with these parameters (`None`: the stream is off or paused), one per
    /// `m=` line.
    Media(Vec<Option<StreamParams>>),
    /// Stop every stream (RTCP BYE, ports released).
    StopMedia,
    /// Tell the listeners.
    Event(CallEvent),
    /// The call's state changed.
    State(CallState),
    /// Our re-INVITE is over.
    ReinviteDone(Result<(), CallError>),
}

/// What a call starts from.
#[derive(Debug, Clone)]
pub(crate) struct CoreConfig {
    pub(crate) profile: AudioProfile,
    /// The media address of our SDP.
    pub(crate) ip: IpAddr,
    /// The `o=` session id.
    pub(crate) session_id: u64,
    pub(crate) early_media: bool,
    pub(crate) ring_timeout: Option<Duration>,
    pub(crate) hangup_when_done: bool,
}

/// Where our offer waits for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfferOut {
    /// Sent in an INVITE: the answer comes in a response.
    InInvite,
    /// Sent in a 2xx (the INVITE had no offer): the answer comes in the ACK.
    InResponse,
}

/// One call's offer/answer and signalling state.
#[derive(Debug)]
pub(crate) struct CallCore {
    role: Role,
    config: CoreConfig,
    state: CallState,
    /// Our RTP port per `m=` line (0: none).
    ports: Vec<u16>,
    /// The last description we sent: the base of the next one's version (RFC 3264 §8).
    last_sent: Option<SessionDescription>,
    /// Our side of the last completed offer/answer.
    agreed_local: Option<SessionDescription>,
    /// The peer's last description (offer or answer).
    remote: Option<SessionDescription>,
    /// A description from a 18x, used when the 2xx has none.
    early_remote: Option<SessionDescription>,
    offer_out: Option<OfferOut>,
    /// Our re-INVITE waits for its final response.
    reinvite_pending: bool,
    /// The hold state the pending re-INVITE asks for.
    hold_asked: bool,
    local_hold: bool,
    remote_hold: bool,
    media_running: bool,
    ring_deadline: Option<Instant>,
    /// An incoming call is answered (200) at this time.
    answer_at: Option<Instant>,
    /// The answer that goes into the 200 of an incoming call.
    pending_answer: Option<SessionDescription>,
    /// We answered the incoming INVITE finally.
    answered: bool,
    /// CANCEL sent: the reason the call ends with.
    cancelling: Option<EndReason>,
    /// BYE sent: the reason the call ends with.
    leaving: Option<EndReason>,
    actions: VecDeque<Action>,
}

impl CallCore {
    fn new(role: Role, config: CoreConfig) -> Self {
        Self {
            role,
            config,
            state: CallState::Calling,
            ports: Vec::new(),
            last_sent: None,
            agreed_local: None,
            remote: None,
            early_remote: None,
            offer_out: None,
            reinvite_pending: false,
            hold_asked: false,
            local_hold: false,
            remote_hold: false,
            media_running: false,
            ring_deadline: None,
            answer_at: None,
            pending_answer: None,
            answered: false,
            cancelling: None,
            leaving: None,
            actions: VecDeque::new(),
        }
    }

    /// A call we make: the INVITE with an offer of one stream per port goes out at once.
    pub(crate) fn outgoing(config: CoreConfig, ports: Vec<u16>, now: Instant) -> Self {
        let mut core = Self::new(Role::Outgoing, config);
        core.ports = ports;
        // A timeout too far out to be an Instant is no timeout.
        core.ring_deadline = core.config.ring_timeout.and_then(|t| now.checked_add(t));
        let offer = core.offer(Direction::SendRecv);
        core.last_sent = Some(offer.clone());
        core.offer_out = Some(OfferOut::InInvite);
        core.actions.push_back(Action::SendInvite(offer));
        core
    }

    /// A call the peer makes, with the offer of its INVITE (if it had one). Nothing is
    /// answered until [`accept`](Self::accept) or [`reject`](Self::reject).
    pub(crate) fn incoming(config: CoreConfig, offer: Option<SessionDescription>) -> Self {
        let mut core = Self::new(Role::Incoming, config);
        core.remote = offer;
        core
    }

    // ---- getters ----

    /// Where the call is.
    pub(crate) fn state(&self) -> &CallState {
        &self.state
    }

    /// The peer's last session description.
    pub(crate) fn remote_sdp(&self) -> Option<&SessionDescription> {
        self.remote.as_ref()
    }

    /// Our last session description.
    pub(crate) fn local_sdp(&self) -> Option<&SessionDescription> {
        self.last_sent.as_ref()
    }

    /// Whether we hold the call.
    pub(crate) fn is_on_hold(&self) -> bool {
        self.local_hold
    }

    /// The streams of an incoming offer that need ports: those we can accept; one stream
    /// when the INVITE had no offer (we offer in the 2xx).
    pub(crate) fn streams_to_open(&self) -> Vec<usize> {
        match &self.remote {
            Some(offer) => negotiation::acceptable_streams(&self.config.profile, offer),
            None => vec![0],
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) wants to be called.
    #[must_use]
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.state.is_ended() {
            return None;
        }
        match (self.ring_deadline, self.answer_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing to do.
    #[must_use]
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    // ---- helpers ----

    fn origin(&self) -> Origin {
        Origin::new("-", self.config.session_id, 1, self.config.ip)
    }

    /// Our offer for all our ports, as the next version of what we sent before.
    fn offer(&self, direction: Direction) -> SessionDescription {
        let mut offer = negotiation::offer(
            &self.config.profile,
            self.origin(),
            self.config.ip,
            &self.ports,
            direction,
        );
        if let Some(previous) = &self.last_sent {
            offer.revise_from(previous);
        }
        offer
    }

    fn our_direction(&self) -> Direction {
        if self.local_hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        }
    }

    fn set_state(&mut self, state: CallState) {
        if self.state != state && !self.state.is_ended() {
            self.state = state.clone();
            self.actions.push_back(Action::State(state));
        }
    }

    fn event(&mut self, event: CallEvent) {
        self.actions.push_back(Action::Event(event));
    }

    fn start_media(&mut self, params: Vec<Option<StreamParams>>) {
        self.media_running = true;
        self.actions.push_back(Action::Media(params));
    }

    /// Ends the call once; later calls do nothing.
    fn end(&mut self, reason: EndReason) {
        if self.state.is_ended() {
            return;
        }
        tracing::debug!(%reason, "call ended");
        self.actions.push_back(Action::StopMedia);
        self.media_running = false;
        self.ring_deadline = None;
        self.answer_at = None;
        if self.reinvite_pending {
            self.reinvite_pending = false;
            self.actions
                .push_back(Action::ReinviteDone(Err(CallError::Ended(reason.clone()))));
        }
        self.state = CallState::Ended(reason.clone());
        self.actions
            .push_back(Action::State(CallState::Ended(reason.clone())));
        self.event(CallEvent::Ended(reason));
    }

    fn establish(&mut self) {
        if self.state != CallState::Established && !self.state.is_ended() {
            self.ring_deadline = None;
            self.set_state(CallState::Established);
            self.event(CallEvent::Established);
        }
    }

    /// Notes whether the peer's description holds the call, telling the listeners on change.
    fn note_remote_hold(&mut self, remote: &SessionDescription) {
        let held = remote.is_on_hold();
        if held != self.remote_hold {
            self.remote_hold = held;
            self.event(CallEvent::RemoteHold(held));
        }
    }

    /// The stream parameters of our last description against `remote`.
    fn params_with(&self, remote: &SessionDescription) -> Vec<Option<StreamParams>> {
        match &self.last_sent {
            Some(local) => negotiation::streams(local, remote),
            None => Vec::new(),
        }
    }

    // ---- what arrives (also in `uac`, responses, and `uas`, requests) ----

    /// A media stream reported that the peer sent nothing for the RTP timeout.
    pub(crate) fn handle_rtp_timeout(&mut self, _now: Instant) {
        if self.state == CallState::Established && self.leaving.is_none() {
            self.leave(EndReason::RtpTimeout);
        }
    }

    /// Every audio file of the call has been sent.
    pub(crate) fn handle_media_done(&mut self, now: Instant) {
        if self.state.is_ended() {
            return;
        }
        self.event(CallEvent::MediaDone);
        if self.config.hangup_when_done {
            self.hangup(now);
        }
    }

    /// A DTMF digit came from the peer (in RTP or in a SIP INFO).
    pub(crate) fn handle_dtmf(&mut self, digit: char) {
        if !self.state.is_ended() {
            self.event(CallEvent::Dtmf(digit));
        }
    }

    /// Fires the ring timeout or the delayed answer when their time has come.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.state.is_ended() {
            return;
        }
        if self.ring_deadline.is_some_and(|t| t <= now) {
            self.ring_deadline = None;
            if self.role == Role::Outgoing && !self.answered && self.cancelling.is_none() {
                tracing::info!("no answer within the ring timeout; CANCEL");
                self.cancelling = Some(EndReason::NoAnswer);
                self.actions.push_back(Action::Cancel);
            }
        }
        if self.answer_at.is_some_and(|t| t <= now) {
            self.answer_at = None;
            if let Some(body) = self.pending_answer.take() {
                if !self.media_running && self.offer_out.is_none() {
                    if let Some(offer) = &self.remote {
                        let params = negotiation::streams(&body, offer);
                        self.start_media(params);
                    }
                }
                self.send_200(body);
            }
        }
    }

    // ---- commands ----

    fn leave(&mut self, reason: EndReason) {
        self.leaving = Some(reason);
        self.actions.push_back(Action::Bye);
        // No more media while the BYE is on its way.
        self.actions.push_back(Action::StopMedia);
        self.media_running = false;
    }

    /// Hangs up: CANCEL before the answer, BYE after, a 480 to an incoming call not yet
    /// answered. The call ends when that is through.
    pub(crate) fn hangup(&mut self, now: Instant) {
        self.hangup_with(now, EndReason::LocalHangup);
    }

    /// Hangs up because the user agent shuts down.
    pub(crate) fn shutdown(&mut self, now: Instant) {
        self.hangup_with(now, EndReason::Shutdown);
    }

    fn hangup_with(&mut self, _now: Instant, reason: EndReason) {
        if self.state.is_ended() || self.leaving.is_some() {
            return;
        }
        match self.role {
            Role::Outgoing if !self.answered => {
                if self.cancelling.is_none() {
                    self.cancelling = Some(reason);
                    self.actions.push_back(Action::Cancel);
                }
            }
            Role::Incoming if !self.answered => {
                self.answered = true;
                self.actions.push_back(Action::Respond {
                    status: 480,
                    sdp: None,
                });
                self.end(reason);
            }
            _ => self.leave(reason),
        }
    }

    /// Sends a re-INVITE: with `hold` `Some(true)` our streams become `sendonly` (RFC 3264
    /// §8.4 hold), `Some(false)` `sendrecv` again, `None` keeps them. The outcome comes as
    /// [`Action::ReinviteDone`].
    pub(crate) fn reinvite(&mut self, _now: Instant, hold: Option<bool>) -> Result<(), CallError> {
        if self.state != CallState::Established || self.leaving.is_some() {
            return Err(CallError::WrongState {
                operation: "a re-INVITE",
                state: self.state.to_string(),
            });
        }
        if self.reinvite_pending || self.offer_out.is_some() {
            return Err(CallError::WrongState {
                operation: "a re-INVITE",
                state: "renegotiating media".to_owned(),
            });
        }
        self.hold_asked = hold.unwrap_or(self.local_hold);
        let direction = if self.hold_asked {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        let offer = self.offer(direction);
        self.last_sent = Some(offer.clone());
        self.offer_out = Some(OfferOut::InInvite);
        self.reinvite_pending = true;
        self.actions.push_back(Action::SendInvite(offer));
        Ok(())
    }
}

mod uac;
mod uas;

pub(crate) use uas::info_dtmf;

#[cfg(test)]
mod tests;
