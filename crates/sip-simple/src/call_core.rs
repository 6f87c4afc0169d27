//! The rules of one call above the dialog, without IO: which SDP goes in which message
//! (RFC 3264 offer/answer in INVITE, 18x, 2xx and ACK), what each answer does to the media,
//! ringing and early media, ring timeout and CANCEL, hold, hang-up. [`CallCore`] takes what
//! happened and the time, and hands out [`Action`]s for its driver (`call_driver.rs`) to carry
//! out.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use sip_packet::{reason_phrase, Method};
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

    // ---- an incoming call ----

    /// Answers the incoming INVITE: `ports[i]` is our RTP port for stream `i` (0: declined).
    pub(crate) fn accept(&mut self, now: Instant, ports: Vec<u16>, mode: AnswerMode) {
        if self.role != Role::Incoming || self.answered || self.state.is_ended() {
            return;
        }
        self.ports = ports;
        let body = match self.remote.clone() {
            Some(offer) => {
                let ports = self.ports.clone();
                let answer = negotiation::answer(
                    &self.config.profile,
                    &offer,
                    self.origin(),
                    self.config.ip,
                    Direction::SendRecv,
                    |i| ports.get(i).copied().filter(|&p| p != 0),
                );
                let params = negotiation::streams(&answer, &offer);
                if params.iter().all(Option::is_none) {
                    return self.reject(488);
                }
                self.note_remote_hold(&offer);
                // Media starts with the 200 or the 183; after a 180 it waits for the 200.
                if !matches!(mode, AnswerMode::Ring(_)) {
                    self.start_media(params);
                }
                self.agreed_local = Some(answer.clone());
                answer
            }
            None => {
                // No offer in the INVITE: ours goes in the 2xx, the answer comes in the ACK.
                self.ports.truncate(1);
                let offer = self.offer(Direction::SendRecv);
                self.offer_out = Some(OfferOut::InResponse);
                offer
            }
        };
        self.last_sent = Some(body.clone());
        match mode {
            AnswerMode::Now => self.send_200(body),
            AnswerMode::Ring(after) => {
                self.pending_answer = Some(body);
                self.answer_at = now.checked_add(after);
                self.actions.push_back(Action::Respond {
                    status: 180,
                    sdp: None,
                });
                self.set_state(CallState::Ringing);
                self.event(CallEvent::Ringing);
            }
            AnswerMode::Early(after) => {
                let early = self.offer_out.is_none().then(|| body.clone());
                self.pending_answer = Some(body);
                self.answer_at = now.checked_add(after);
                self.actions.push_back(Action::Respond {
                    status: 183,
                    sdp: early,
                });
                self.set_state(CallState::EarlyMedia);
                self.event(CallEvent::EarlyMedia);
            }
        }
    }

    fn send_200(&mut self, body: SessionDescription) {
        self.answered = true;
        self.answer_at = None;
        self.actions.push_back(Action::Respond {
            status: 200,
            sdp: Some(body),
        });
    }

    /// Refuses the incoming INVITE with `status` (4xx-6xx); the call ends.
    pub(crate) fn reject(&mut self, status: u16) {
        if self.role != Role::Incoming || self.answered || self.state.is_ended() {
            return;
        }
        let status = if (300..700).contains(&status) {
            status
        } else {
            603
        };
        self.answered = true;
        self.actions
            .push_back(Action::Respond { status, sdp: None });
        self.end(EndReason::Rejected {
            status,
            reason: reason_phrase(status).to_owned(),
        });
    }

    // ---- what arrives ----

    /// A response to a request of ours.
    pub(crate) fn handle_response(
        &mut self,
        _now: Instant,
        method: &Method,
        status: u16,
        reason: &str,
        sdp: Body,
    ) {
        if self.state.is_ended() {
            return;
        }
        match method {
            Method::Invite if self.role == Role::Outgoing && !self.answered => {
                self.on_initial_response(status, reason, sdp)
            }
            Method::Invite => self.on_reinvite_response(status, reason, sdp),
            Method::Bye if status >= 200 => {
                let reason = self.leaving.take().unwrap_or(EndReason::LocalHangup);
                self.end(reason);
            }
            _ => {}
        }
    }

    fn on_initial_response(&mut self, status: u16, reason: &str, sdp: Body) {
        match status {
            100 => {}
            101..=199 => {
                if self.state == CallState::Calling {
                    self.set_state(CallState::Ringing);
                    self.event(CallEvent::Ringing);
                }
                let Some(Ok(sdp)) = sdp else {
                    return;
                };
                self.early_remote = Some(sdp.clone());
                if self.config.early_media && self.state != CallState::EarlyMedia {
                    let params = self.params_with(&sdp);
                    if params.iter().any(Option::is_some) {
                        self.remote = Some(sdp);
                        self.start_media(params);
                        self.set_state(CallState::EarlyMedia);
                        self.event(CallEvent::EarlyMedia);
                    }
                }
            }
            200..=299 => {
                self.answered = true;
                self.offer_out = None;
                if let Some(why) = self.cancelling.take() {
                    // The 2xx won the race against our CANCEL: the endpoint ACKs and sends
                    // the BYE itself (RFC 3261 §9.1); the call is over for us.
                    return self.end(why);
                }
                let sdp = match sdp {
                    Some(Ok(sdp)) => Some(sdp),
                    _ => self.early_remote.clone(),
                };
                let Some(sdp) = sdp else {
                    self.actions.push_back(Action::Bye);
                    return self.end(EndReason::Failed(
                        "the 2xx to our INVITE has no usable SDP answer".to_owned(),
                    ));
                };
                let params = self.params_with(&sdp);
                if params.iter().all(Option::is_none) {
                    self.actions.push_back(Action::Bye);
                    return self.end(EndReason::Failed(
                        "the SDP answer accepts none of our streams".to_owned(),
                    ));
                }
                self.note_remote_hold(&sdp);
                self.remote = Some(sdp);
                self.agreed_local.clone_from(&self.last_sent);
                self.start_media(params);
                self.establish();
            }
            _ => {
                self.answered = true;
                let why = self.cancelling.take().unwrap_or(EndReason::Rejected {
                    status,
                    reason: reason.to_owned(),
                });
                self.end(why);
            }
        }
    }

    /// The stream parameters of our last description against `remote`.
    fn params_with(&self, remote: &SessionDescription) -> Vec<Option<StreamParams>> {
        match &self.last_sent {
            Some(local) => negotiation::streams(local, remote),
            None => Vec::new(),
        }
    }

    fn on_reinvite_response(&mut self, status: u16, reason: &str, sdp: Body) {
        if !self.reinvite_pending || status < 200 {
            return;
        }
        self.reinvite_pending = false;
        self.offer_out = None;
        match (status, sdp) {
            (200..=299, Some(Ok(sdp))) => {
                let params = self.params_with(&sdp);
                self.local_hold = self.hold_asked;
                self.note_remote_hold(&sdp);
                self.remote = Some(sdp);
                self.agreed_local.clone_from(&self.last_sent);
                self.start_media(params);
                self.actions.push_back(Action::ReinviteDone(Ok(())));
            }
            (200..=299, _) => {
                self.actions
                    .push_back(Action::ReinviteDone(Err(CallError::BadSdp(
                        "the 2xx to our re-INVITE has no usable SDP answer".to_owned(),
                    ))));
            }
            _ => {
                self.actions
                    .push_back(Action::ReinviteDone(Err(CallError::ReinviteRejected {
                        status,
                        reason: reason.to_owned(),
                    })));
                if matches!(status, 408 | 481) {
                    // The dialog is gone at the peer (RFC 3261 §12.2.1.2).
                    self.end(EndReason::Failed(format!(
                        "re-INVITE answered {status} {reason}"
                    )));
                }
            }
        }
    }

    /// A request of ours got no final response at all (`detail` says why).
    pub(crate) fn handle_failure(&mut self, _now: Instant, detail: &str) {
        if self.state.is_ended() {
            return;
        }
        if self.role == Role::Outgoing && !self.answered {
            let why = self
                .cancelling
                .take()
                .unwrap_or_else(|| EndReason::Failed(format!("INVITE: {detail}")));
            return self.end(why);
        }
        if let Some(why) = self.leaving.take() {
            return self.end(why);
        }
        // A request inside the dialog timed out: the peer is gone (§12.2.1.2).
        self.end(EndReason::Failed(detail.to_owned()))
    }

    /// A request of the peer: the endpoint answered BYE and CANCEL already; an INVITE (the
    /// first is given to [`incoming`](Self::incoming)) is a re-INVITE we must answer.
    pub(crate) fn handle_request(&mut self, _now: Instant, method: &Method, sdp: Body) {
        match method {
            Method::Ack => self.on_ack(sdp),
            Method::Bye => {
                let why = self.leaving.take().unwrap_or(EndReason::RemoteHangup);
                self.end(why);
            }
            Method::Cancel => self.end(EndReason::RemoteCancel),
            Method::Invite => self.on_reinvite(sdp),
            _ => {}
        }
    }

    fn on_ack(&mut self, sdp: Body) {
        if self.state.is_ended() {
            return;
        }
        if self.offer_out == Some(OfferOut::InResponse) {
            self.offer_out = None;
            match sdp {
                Some(Ok(answer)) => {
                    let params = self.params_with(&answer);
                    self.note_remote_hold(&answer);
                    self.remote = Some(answer);
                    self.agreed_local.clone_from(&self.last_sent);
                    self.start_media(params);
                }
                _ => {
                    tracing::info!("ACK without the SDP answer to our offer; hanging up");
                    self.leaving = Some(EndReason::Failed(
                        "the ACK has no SDP answer to our offer".to_owned(),
                    ));
                    self.actions.push_back(Action::Bye);
                    self.actions.push_back(Action::StopMedia);
                    return;
                }
            }
        }
        if self.role == Role::Incoming {
            self.establish();
        }
    }

    fn on_reinvite(&mut self, sdp: Body) {
        if self.state.is_ended() {
            return;
        }
        match sdp {
            Some(Ok(offer)) => {
                let ports = self.ports.clone();
                let mut answer = negotiation::answer(
                    &self.config.profile,
                    &offer,
                    self.origin(),
                    self.config.ip,
                    self.our_direction(),
                    // Streams we never had are declined: their ports would need a new
                    // media source nobody asked for.
                    |i| ports.get(i).copied().filter(|&p| p != 0),
                );
                if let Some(previous) = &self.last_sent {
                    answer.revise_from(previous);
                }
                let params = negotiation::streams(&answer, &offer);
                if params.iter().all(Option::is_none)
                    && !offer.media.iter().all(|m| m.is_disabled())
                {
                    self.actions.push_back(Action::Respond {
                        status: 488,
                        sdp: None,
                    });
                    return;
                }
                self.note_remote_hold(&offer);
                self.remote = Some(offer);
                self.last_sent = Some(answer.clone());
                self.agreed_local = Some(answer.clone());
                self.start_media(params);
                self.actions.push_back(Action::Respond {
                    status: 200,
                    sdp: Some(answer),
                });
            }
            Some(Err(why)) => {
                tracing::info!(%why, "re-INVITE with an unreadable SDP; 488");
                self.actions.push_back(Action::Respond {
                    status: 488,
                    sdp: None,
                });
            }
            None => {
                // The peer asks for our offer (RFC 3261 §14.2); its answer comes in the ACK.
                let offer = self.offer(self.our_direction());
                self.last_sent = Some(offer.clone());
                self.offer_out = Some(OfferOut::InResponse);
                self.actions.push_back(Action::Respond {
                    status: 200,
                    sdp: Some(offer),
                });
            }
        }
    }

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

/// The DTMF digit of a SIP INFO body of type `application/dtmf-relay` (`Signal=5`), as
/// phones send when they do not do RFC 4733.
pub(crate) fn info_dtmf(body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("signal") {
            return None;
        }
        let v = value.trim();
        let mut chars = v.chars();
        let c = chars.next()?.to_ascii_uppercase();
        let digit = match (c, chars.next()) {
            ('0'..='9' | '*' | '#' | 'A'..='D', None) => c,
            // Some phones write the event number (10 is *, 11 is #).
            _ => match v {
                "10" => '*',
                "11" => '#',
                _ => return None,
            },
        };
        Some(digit)
    })
}

#[cfg(test)]
mod tests;
