//! The proxy's side of the NAT helper (Net::SIP::StatelessProxy's `do_nat`): which forwarded
//! messages need it, what to ask, and the SDP rewrite once the relay answered.
//!
//! | message | the helper is asked to |
//! | --- | --- |
//! | INVITE, UPDATE, ACK with SDP; PRACK with SDP (keyed by its RAck's CSeq) | allocate on the `from` side, then activate |
//! | 1xx/2xx to INVITE or UPDATE with SDP | allocate on the `to` side, then activate |
//! | 2xx to INVITE or UPDATE without SDP, ACK without SDP | activate |
//! | 3xx-6xx to INVITE or UPDATE, CANCEL | close that transaction's session |
//! | BYE | close every session between the two parties |
//!
//! The SDP is rewritten on the way out so that each relayed stream names the relay socket
//! on the leg the message leaves on; streams with port 0 (disabled) or address 0.0.0.0 (on
//! hold) are left as they are.

use std::net::{IpAddr, SocketAddr};

use sip_dispatch::resolve::Target;
use sip_packet::{Headers, Message, Method, Request, Response};

use crate::core::ProxyCore;
use crate::decision::Decision;
use crate::legs::LegInfo;
use crate::nat::allocate::AllocateRequest;
use crate::nat::error::NatError;
use crate::nat::helper::NatHelper;
use crate::nat::key::{CloseRequest, PartyId, SessionKey, Side};
use crate::nat::sdp::{sdp_of, PlannedSdp};

/// Which calls a proxy relays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NatScope {
    /// Every call through the proxy, also between parties on the same leg (clients behind
    /// NAT that reach the proxy on one address): `netsip proxy --nat`.
    #[default]
    EveryCall,
    /// Only calls whose messages change legs (Net::SIP's rule).
    BetweenLegs,
}

/// What is left to do after the SDP is rewritten (or when there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatFollowUp {
    /// Start relaying for this transaction, if both sides have sockets.
    Activate(SessionKey),
    /// Close sessions.
    Close(CloseRequest),
}

impl NatFollowUp {
    /// Asks `helper` to do it; failures are logged, not fatal: the message is forwarded
    /// anyway (an activation before the answer is normal, a close of a closed session too).
    pub async fn run(self, helper: &dyn NatHelper) {
        match self {
            Self::Activate(key) => match helper.activate(key).await {
                Ok(a) if !a.existing => {
                    tracing::debug!(session = a.session.id, call_id = %a.session.call_id, "NAT session active")
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "NAT session not activated"),
            },
            Self::Close(request) => match helper.close(request).await {
                Ok(closed) => {
                    for s in closed {
                        tracing::debug!(
                            session = s.id,
                            call_id = %s.call_id,
                            bytes_from = s.bytes_from,
                            bytes_to = s.bytes_to,
                            "NAT session closed"
                        );
                    }
                }
                Err(e) => tracing::debug!(error = %e, "NAT close failed"),
            },
        }
    }
}

/// A message that waits for the NAT helper ([`Decision::Nat`]): ask it for
/// [`NatPending::allocation`] (when there is one), give the answer to
/// [`ProxyCore::handle_nat`], run the follow-up it returns, then do the decision.
#[derive(Debug, Clone)]
pub struct NatPending {
    message: Message,
    leg: usize,
    target: Target,
    /// For a request that can be answered: the answer when no relay can be had, its leg and
    /// where it goes.
    refusal: Option<(Response, usize, Target)>,
    sdp: Option<PlannedSdp>,
    allocation: Option<AllocateRequest>,
    follow_up: Option<NatFollowUp>,
}

impl NatPending {
    /// The sockets to ask for, when the message carries an SDP body to rewrite.
    pub fn allocation(&self) -> Option<&AllocateRequest> {
        self.allocation.as_ref()
    }

    /// What to ask the helper after the allocation.
    pub fn follow_up(&self) -> Option<&NatFollowUp> {
        self.follow_up.as_ref()
    }

    /// The message, ready for the wire but for its SDP.
    pub fn message(&self) -> &Message {
        &self.message
    }
}

/// What a forwarded message needs from the NAT helper.
#[derive(Debug)]
pub(crate) struct NatWork {
    sdp: Option<PlannedSdp>,
    allocation: Option<AllocateRequest>,
    follow_up: Option<NatFollowUp>,
}

/// Why the proxy cannot relay a message's media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NatPlanError {
    /// The SDP body does not parse.
    MalformedSdp,
    /// The outgoing leg is bound to a wildcard address and its sent-by is a name: no
    /// address to give the relay.
    NoRelayAddress,
}

impl NatPlanError {
    /// The status and reason that answer a request with this problem.
    pub(crate) fn status(&self) -> (u16, &'static str) {
        match self {
            Self::MalformedSdp => (400, "Malformed SDP Body"),
            Self::NoRelayAddress => (500, "No Media Relay Address"),
        }
    }
}

/// Call-ID, CSeq and the two parties of a message; `None` when a header does not parse
/// (then the message goes on without NAT, as the proxy forwards what it can).
struct Ids {
    call_id: String,
    cseq: u32,
    method: Method,
    from: PartyId,
    to: PartyId,
}

impl Ids {
    fn of(headers: &Headers, from_leg: SocketAddr, to_leg: SocketAddr) -> Option<Self> {
        let cseq = headers.cseq().ok()?;
        Some(Self {
            call_id: headers.call_id().ok()?.to_string(),
            cseq: cseq.seq(),
            method: cseq.method().clone(),
            from: PartyId::of(&headers.from().ok()?, from_leg),
            to: PartyId::of(&headers.to().ok()?, to_leg),
        })
    }

    fn key(&self, cseq: u32) -> SessionKey {
        SessionKey::new(
            self.call_id.clone(),
            cseq,
            self.from.clone(),
            self.to.clone(),
        )
    }

    fn close(&self, cseq: Option<u32>) -> CloseRequest {
        CloseRequest::new(
            self.call_id.clone(),
            cseq,
            self.from.clone(),
            self.to.clone(),
        )
    }
}

/// The address relay sockets facing a leg are bound on: the leg's own, or its sent-by when
/// it listens on a wildcard address.
fn relay_address(leg: &LegInfo) -> Result<IpAddr, NatPlanError> {
    let ip = leg.local_addr.ip();
    if !ip.is_unspecified() {
        return Ok(ip);
    }
    leg.sent_by.0.ip().ok_or(NatPlanError::NoRelayAddress)
}

impl ProxyCore {
    fn nat_enabled(&self, in_leg: usize, out_leg: usize) -> bool {
        let c = self.config();
        c.nat.is_some() && (c.nat_scope == NatScope::EveryCall || in_leg != out_leg)
    }

    /// What a request forwarded from leg `in_leg` to leg `out_leg` needs from the NAT
    /// helper; `None` when nothing (no helper, or a request it has no business with).
    pub(crate) fn nat_for_request(
        &self,
        request: &Request,
        in_leg: usize,
        out_leg: usize,
    ) -> Result<Option<NatWork>, NatPlanError> {
        if !self.nat_enabled(in_leg, out_leg) {
            return Ok(None);
        }
        let (Some(inl), Some(outl)) = (self.legs().get(in_leg), self.legs().get(out_leg)) else {
            return Ok(None);
        };
        let Some(ids) = Ids::of(request.headers(), inl.local_addr, outl.local_addr) else {
            return Ok(None);
        };
        let method = request.method();
        let close = |cseq| {
            Ok(Some(NatWork {
                sdp: None,
                allocation: None,
                follow_up: Some(NatFollowUp::Close(ids.close(cseq))),
            }))
        };
        match method {
            // A CANCEL ends its INVITE transaction; a BYE the whole call between the two.
            Method::Cancel => return close(Some(ids.cseq)),
            Method::Bye => return close(None),
            Method::Invite | Method::Update | Method::Ack | Method::Prack => {}
            _ => return Ok(None),
        }
        // A PRACK's SDP answers an offer in a reliable provisional response: it belongs to
        // the INVITE transaction its RAck names (RFC 3262 §7.2).
        let cseq = if *method == Method::Prack {
            match request
                .headers()
                .get("RAck")
                .and_then(|r| r.split_whitespace().nth(1)?.parse::<u32>().ok())
            {
                Some(c) => c,
                None => return Ok(None),
            }
        } else {
            ids.cseq
        };
        let key = ids.key(cseq);
        match sdp_of(request.headers(), request.body()).map_err(|_| NatPlanError::MalformedSdp)? {
            Some((sdp, content_type)) => {
                let relay = relay_address(outl)?;
                let (planned, streams) = PlannedSdp::plan(sdp, content_type, relay);
                Ok(Some(NatWork {
                    sdp: Some(planned),
                    allocation: Some(AllocateRequest::new(
                        key.clone(),
                        Side::From,
                        relay,
                        streams,
                    )),
                    follow_up: Some(NatFollowUp::Activate(key)),
                }))
            }
            None if *method == Method::Ack => Ok(Some(NatWork {
                sdp: None,
                allocation: None,
                follow_up: Some(NatFollowUp::Activate(key)),
            })),
            None => Ok(None),
        }
    }

    /// What a response forwarded from leg `in_leg` to leg `out_leg` needs from the NAT
    /// helper.
    pub(crate) fn nat_for_response(
        &self,
        response: &Response,
        in_leg: usize,
        out_leg: usize,
    ) -> Result<Option<NatWork>, NatPlanError> {
        if !self.nat_enabled(in_leg, out_leg) {
            return Ok(None);
        }
        let (Some(inl), Some(outl)) = (self.legs().get(in_leg), self.legs().get(out_leg)) else {
            return Ok(None);
        };
        // The request's sender is where the response goes.
        let Some(ids) = Ids::of(response.headers(), outl.local_addr, inl.local_addr) else {
            return Ok(None);
        };
        if !matches!(ids.method, Method::Invite | Method::Update) || response.status() == 100 {
            return Ok(None);
        }
        if response.status() >= 300 {
            return Ok(Some(NatWork {
                sdp: None,
                allocation: None,
                follow_up: Some(NatFollowUp::Close(ids.close(Some(ids.cseq)))),
            }));
        }
        let key = ids.key(ids.cseq);
        match sdp_of(response.headers(), response.body()).map_err(|_| NatPlanError::MalformedSdp)? {
            Some((sdp, content_type)) => {
                let relay = relay_address(outl)?;
                let (planned, streams) = PlannedSdp::plan(sdp, content_type, relay);
                Ok(Some(NatWork {
                    sdp: Some(planned),
                    allocation: Some(AllocateRequest::new(key.clone(), Side::To, relay, streams)),
                    follow_up: Some(NatFollowUp::Activate(key)),
                }))
            }
            None if response.is_success() => Ok(Some(NatWork {
                sdp: None,
                allocation: None,
                follow_up: Some(NatFollowUp::Activate(key)),
            })),
            None => Ok(None),
        }
    }

    /// The message's NAT work: sent on `leg` to `target` once done. `refusal` answers a
    /// request whose relay cannot be had.
    pub(crate) fn nat_decision(
        message: Message,
        leg: usize,
        target: Target,
        work: NatWork,
        refusal: Option<(Response, usize, Target)>,
    ) -> Decision {
        Decision::Nat(Box::new(NatPending {
            message,
            leg,
            target,
            refusal,
            sdp: work.sdp,
            allocation: work.allocation,
            follow_up: work.follow_up,
        }))
    }

    /// Finishes a [`Decision::Nat`]: `relay` is the helper's answer to
    /// [`NatPending::allocation`] (`None` when there was none to ask). The SDP is rewritten
    /// to the relay addresses and the message forwarded; what to ask the helper next comes
    /// with it. When the relay failed, a request is answered 503 (an ACK or a response is
    /// dropped, as Net::SIP does: the sender's retransmission may find room).
    pub fn handle_nat(
        &self,
        pending: Box<NatPending>,
        relay: Option<Result<Vec<Option<SocketAddr>>, NatError>>,
    ) -> (Option<NatFollowUp>, Decision) {
        let NatPending {
            mut message,
            leg,
            target,
            refusal,
            sdp,
            allocation,
            follow_up,
        } = *pending;
        let failed = |why: String| {
            tracing::warn!(reason = %why, "no media relay: message not forwarded");
            let decision = match refusal.clone() {
                Some((response, leg, target)) => Decision::Respond {
                    response,
                    leg,
                    target,
                },
                None => Decision::Drop("no media relay"),
            };
            (None, decision)
        };
        if let (Some(plan), Some(_)) = (sdp, allocation) {
            let media = match relay {
                Some(Ok(media)) => media,
                Some(Err(e)) => return failed(e.to_string()),
                None => return failed("the NAT helper was not asked".to_owned()),
            };
            let (content_type, body) = match plan.rewrite(&media) {
                Ok(rewritten) => rewritten,
                Err(e) => return failed(e.to_string()),
            };
            match &mut message {
                Message::Request(r) => r.set_body(Some(&content_type), body),
                Message::Response(r) => r.set_body(Some(&content_type), body),
            }
        }
        (
            follow_up,
            Decision::Forward {
                message,
                leg,
                target,
            },
        )
    }
}

#[cfg(test)]
mod tests;
