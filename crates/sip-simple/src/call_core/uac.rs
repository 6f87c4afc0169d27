//! The responses to our requests: the INVITE that makes the call (ringing, early media,
//! the answer, rejection, the 2xx racing a CANCEL), re-INVITEs, BYE, and requests that got
//! no answer.

use std::time::Instant;

use sip_packet::Method;

use super::{Action, Body, CallCore, Role};
use crate::call_state::{CallEvent, CallState, EndReason};
use crate::error::CallError;

impl CallCore {
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
}
