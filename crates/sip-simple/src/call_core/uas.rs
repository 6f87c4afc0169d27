//! The peer's requests: the INVITE that makes an incoming call (answered at once, after
//! ringing, or with early media; or refused), its ACK, re-INVITEs (hold, new media, offers
//! asked for), BYE and CANCEL; and DTMF in SIP INFO.

use std::time::Instant;

use sip_packet::{reason_phrase, Method};
use sip_sdp::{Direction, SessionDescription};

use super::{Action, AnswerMode, Body, CallCore, OfferOut, Role};
use crate::call_state::{CallEvent, CallState, EndReason};
use crate::negotiation;

impl CallCore {
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

    pub(super) fn send_200(&mut self, body: SessionDescription) {
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
