//! The server side of a call (RFC 3261 §8.2, §12.2.2, §13.3, §14.2, §15.1.2): incoming
//! requests matched to their context and handed to the application, and the application's
//! responses with the dialog bookkeeping they imply.

use std::net::SocketAddr;
use std::time::Instant;

use sip_packet::{HeaderName, Method, NameAddr, Request, Response};
use sip_transport::Leg;

use crate::application::CallEvent;
use crate::context::{AwaitAck, CallState, Context, ServerInvite};
use crate::dialog::{Dialog, DialogState};
use crate::driver::{now, Effects, TimerKind};
use crate::endpoint::Endpoint;
use crate::error::{EndpointError, RequestError};
use crate::response::ResponseSpec;
use crate::retransmit::{Retransmit2xx, RetransmitAction};

/// Methods that only make sense inside a dialog: outside one they get 481.
fn needs_dialog(method: &Method) -> bool {
    matches!(
        method,
        Method::Bye | Method::Update | Method::Prack | Method::Info
    )
}

fn branch_of(request: &Request) -> String {
    request
        .headers()
        .top_via()
        .ok()
        .and_then(|v| v.branch().map(str::to_owned))
        .unwrap_or_default()
}

fn is_reliable(request: &Request) -> bool {
    request
        .headers()
        .top_via()
        .is_ok_and(|v| v.transport().is_reliable())
}

impl Endpoint {
    /// Answers `request` of `ctx` (Net::SIP's `new_response`): with a status (the response is
    /// built from the request) or a response of the application's. The endpoint adds our To
    /// tag, a Contact to a 2xx to INVITE that has none, and keeps the dialog: a 1xx to INVITE
    /// makes it early, a 2xx confirms it and is retransmitted until the ACK comes
    /// (§13.3.1.4), an error ends the call.
    pub fn new_response(
        &self,
        ctx: &Context,
        response: impl Into<ResponseSpec>,
        request: &Request,
    ) -> Result<(), EndpointError> {
        let method = request.method().clone();
        let mut response = match response.into() {
            ResponseSpec::Status(s, reason) => {
                Response::from_request(request, s, reason.as_deref())
            }
            ResponseSpec::Response(r) => r,
        };
        let status = response.status();
        if method == Method::Ack || !(100..700).contains(&status) {
            return Err(EndpointError::BadResponse {
                status,
                method: method.to_string(),
            });
        }
        let cseq = request.headers().cseq()?.seq();
        let mut st = ctx.lock();
        if status > 100 {
            let tag = st.local_tag().to_owned();
            response.set_to_tag(&tag)?;
        }
        if method == Method::Invite {
            let pending = st.server_invite.as_ref().is_some_and(|si| si.cseq == cseq);
            if !pending {
                return Err(EndpointError::NotAwaitingResponse {
                    cseq,
                    method: method.to_string(),
                    call_id: ctx.call_id().to_owned(),
                });
            }
            let initial = request.headers().to()?.tag().is_none();
            if (200..300).contains(&status) && response.headers().get(HeaderName::Contact).is_none()
            {
                let contact = self.contact_for(&st)?;
                response
                    .headers_mut()
                    .add(HeaderName::Contact, contact.to_string());
            }
            let tag = st.local_tag().to_owned();
            match status {
                101..=199 if initial && st.dialog.is_none() => {
                    st.dialog = Dialog::uas(request, &tag, DialogState::Early).ok();
                }
                200..=299 => {
                    if initial {
                        match st.dialog.as_mut() {
                            Some(d) => d.confirm(),
                            None => {
                                st.dialog = Dialog::uas(request, &tag, DialogState::Confirmed).ok()
                            }
                        }
                    }
                    st.server_invite = None;
                    let schedule =
                        Retransmit2xx::new(now(), self.inner.config.timers, is_reliable(request));
                    if let Some(at) = schedule.poll_timeout() {
                        self.add_timer(at, ctx, TimerKind::Retransmit(cseq));
                    }
                    st.awaiting_ack.retain(|a| a.cseq != cseq);
                    st.awaiting_ack.push(AwaitAck {
                        cseq,
                        response: response.clone(),
                        schedule,
                    });
                }
                300.. => {
                    st.server_invite = None;
                    if initial {
                        self.close_locked(ctx, &mut st);
                    }
                }
                _ => {}
            }
        }
        drop(st);
        self.send_plain(response);
        Ok(())
    }

    /// A 2xx's retransmission timer fired.
    pub(crate) fn handle_retransmit_timer(&self, ctx: &Context, cseq: u32, now: Instant) {
        let mut fx = Effects::default();
        {
            let mut st = ctx.lock();
            let Some(i) = st.awaiting_ack.iter().position(|a| a.cseq == cseq) else {
                return;
            };
            let wait = &mut st.awaiting_ack[i];
            match wait.schedule.handle_timeout(now) {
                Some(RetransmitAction::Resend) => {
                    self.send_plain(wait.response.clone());
                    if let Some(at) = wait.schedule.poll_timeout() {
                        self.add_timer(at, ctx, TimerKind::Retransmit(cseq));
                    }
                }
                Some(RetransmitAction::GiveUp) => {
                    st.awaiting_ack.remove(i);
                    tracing::info!(call_id = ctx.call_id(), cseq, "no ACK for our 2xx; BYE");
                    if let Some(d) = st.dialog.as_mut() {
                        d.confirm();
                    }
                    self.send_bye(ctx, &mut st, None);
                    fx.emit(ctx, &st, CallEvent::Failed(RequestError::NoAck(cseq)));
                }
                None => {
                    if let Some(at) = wait.schedule.poll_timeout() {
                        self.add_timer(at, ctx, TimerKind::Retransmit(cseq));
                    }
                }
            }
        }
        fx.run(self);
    }

    /// Answers `request` without the application (481, 482, 491, 500, ...) with a tag of
    /// its own.
    fn reply(&self, request: &Request, status: u16, tag: Option<&str>) {
        let mut r = Response::from_request(request, status, None);
        let tag = tag.map_or_else(|| self.random_tag(), str::to_owned);
        let _ = r.set_to_tag(&tag);
        if status == 500 {
            r.headers_mut().add(HeaderName::RetryAfter, "1");
        }
        self.send_plain(r);
    }

    /// A request the dispatcher handed over: to its context and the application.
    pub(crate) fn handle_request(&self, request: Request, leg: &Leg, from: SocketAddr) {
        let h = request.headers();
        let (Ok(call_id), Ok(from_h), Ok(to_h), Ok(cseq)) =
            (h.call_id(), h.from(), h.to(), h.cseq())
        else {
            tracing::debug!("request without Call-ID, From, To or CSeq dropped");
            return;
        };
        let call_id = call_id.to_string();
        let from_tag = from_h.tag().unwrap_or_default().to_owned();
        let to_tag = to_h.tag().map(str::to_owned);
        let seq = cseq.seq();
        let ctx = self.lookup(&call_id);
        match (request.method(), to_tag) {
            (Method::Ack, _) => self.on_ack(ctx, &request, seq, leg, from),
            (Method::Cancel, _) => self.on_cancel(ctx, &request, seq, leg, from),
            (_, Some(tag)) => {
                self.on_in_dialog(ctx, &request, &call_id, &tag, &from_tag, seq, leg, from)
            }
            (_, None) => self.on_out_of_dialog(ctx, request, call_id, seq, leg, from),
        }
    }

    fn call_app(&self, ctx: &Context, request: &Request, leg: &Leg, from: SocketAddr) -> bool {
        match self.app() {
            Some(app) => app.receive(self, ctx, request, leg, from),
            None => false,
        }
    }

    /// What the endpoint answers when the application does not: OPTIONS 200 with what we
    /// allow and accept, INVITE 480 (488 inside a dialog), anything else 501.
    fn answer_unhandled(&self, ctx: &Context, request: &Request) {
        let status = match request.method() {
            Method::Options => 200,
            Method::Invite if request.headers().to().is_ok_and(|t| t.tag().is_some()) => 488,
            Method::Invite => 480,
            _ => 501,
        };
        let mut r = Response::from_request(request, status, None);
        if matches!(status, 200 | 501) {
            let allow: Vec<&str> = self.inner.config.allow.iter().map(Method::as_str).collect();
            r.headers_mut().add(HeaderName::Allow, allow.join(", "));
        }
        if status == 200 {
            r.headers_mut()
                .add(HeaderName::Accept, self.inner.config.accept.join(", "));
        }
        if let Err(e) = self.new_response(ctx, r, request) {
            tracing::debug!(%e, "default answer not sent");
        }
    }

    fn on_ack(
        &self,
        ctx: Option<Context>,
        request: &Request,
        seq: u32,
        leg: &Leg,
        from: SocketAddr,
    ) {
        let Some(ctx) = ctx else {
            return;
        };
        let acked = {
            let mut st = ctx.lock();
            match st.awaiting_ack.iter().position(|a| a.cseq == seq) {
                Some(i) => {
                    st.awaiting_ack[i].schedule.handle_ack();
                    st.awaiting_ack.remove(i);
                    if let Some(d) = st.dialog.as_mut() {
                        d.confirm();
                    }
                    true
                }
                // A retransmitted ACK, or one for a 2xx we gave up on.
                None => false,
            }
        };
        if acked {
            self.call_app(&ctx, request, leg, from);
        }
    }

    fn on_cancel(
        &self,
        ctx: Option<Context>,
        request: &Request,
        seq: u32,
        leg: &Leg,
        from: SocketAddr,
    ) {
        let Some(ctx) = ctx else {
            self.reply(request, 481, None);
            return;
        };
        let branch = branch_of(request);
        let cancelled = {
            let mut st = ctx.lock();
            let tag = st.local_tag().to_owned();
            let hit = st
                .server_invite
                .as_ref()
                .is_some_and(|si| si.cseq == seq && si.branch == branch);
            if hit {
                // §9.2: 200 to the CANCEL, 487 to the INVITE.
                self.reply(request, 200, Some(&tag));
                if let Some(si) = st.server_invite.take() {
                    let mut terminated = Response::from_request(&si.request, 487, None);
                    let _ = terminated.set_to_tag(&tag);
                    self.send_plain(terminated);
                }
                let confirmed = st
                    .dialog
                    .as_ref()
                    .is_some_and(|d| d.state() == DialogState::Confirmed);
                if !confirmed {
                    self.close_locked(&ctx, &mut st);
                }
            } else {
                // The INVITE was answered already: the CANCEL has no effect (§9.2).
                self.reply(request, 200, Some(&tag));
            }
            hit
        };
        if cancelled {
            self.call_app(&ctx, request, leg, from);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_in_dialog(
        &self,
        ctx: Option<Context>,
        request: &Request,
        call_id: &str,
        to_tag: &str,
        from_tag: &str,
        seq: u32,
        leg: &Leg,
        from: SocketAddr,
    ) {
        let Some(ctx) = ctx else {
            self.reply(request, 481, Some(to_tag));
            return;
        };
        let method = request.method().clone();
        {
            let mut st = ctx.lock();
            let pending_invite = st.has_pending_invite();
            let answering = st.server_invite.is_some();
            let Some(d) = st.dialog_for(call_id, to_tag, from_tag) else {
                drop(st);
                self.reply(request, 481, Some(to_tag));
                return;
            };
            if let Err(e) = d.handle_remote_cseq(seq) {
                tracing::info!(%e, "request out of order; 500");
                drop(st);
                self.reply(request, 500, Some(to_tag));
                return;
            }
            match method {
                Method::Bye => {
                    drop(st);
                    self.reply(request, 200, Some(to_tag));
                    let mut st = ctx.lock();
                    if let Some(si) = st.server_invite.take() {
                        // A re-INVITE still unanswered ends with the dialog (§15.1.2).
                        let mut r = Response::from_request(&si.request, 487, None);
                        let _ = r.set_to_tag(to_tag);
                        self.send_plain(r);
                    }
                    self.close_locked(&ctx, &mut st);
                }
                Method::Invite if pending_invite => {
                    // Glare: our own re-INVITE is in progress (§14.2).
                    drop(st);
                    self.reply(request, 491, Some(to_tag));
                    return;
                }
                Method::Invite if answering => {
                    // A second INVITE while the first is unanswered (§14.2).
                    drop(st);
                    self.reply(request, 500, Some(to_tag));
                    return;
                }
                Method::Invite => {
                    d.handle_target_refresh(request.headers());
                    st.server_invite = Some(ServerInvite {
                        request: request.clone(),
                        branch: branch_of(request),
                        cseq: seq,
                    });
                }
                Method::Update => d.handle_target_refresh(request.headers()),
                _ => {}
            }
        }
        let handled = self.call_app(&ctx, request, leg, from);
        if !handled && method != Method::Bye {
            self.answer_unhandled(&ctx, request);
        }
    }

    fn on_out_of_dialog(
        &self,
        existing: Option<Context>,
        request: Request,
        call_id: String,
        seq: u32,
        leg: &Leg,
        from: SocketAddr,
    ) {
        let method = request.method().clone();
        if needs_dialog(&method) {
            self.reply(&request, 481, None);
            return;
        }
        if method == Method::Invite && existing.is_some() {
            // Same Call-ID, no To tag: a merged request or a loop (§8.2.2.2).
            self.reply(&request, 482, None);
            return;
        }
        let Ok(ctx) = self.incoming_context(&request, call_id) else {
            self.reply(&request, 400, None);
            return;
        };
        if method == Method::Invite {
            ctx.lock().server_invite = Some(ServerInvite {
                request: request.clone(),
                branch: branch_of(&request),
                cseq: seq,
            });
            self.manage(&ctx);
        }
        if !self.call_app(&ctx, &request, leg, from) {
            self.answer_unhandled(&ctx, &request);
        }
    }

    /// The context for a request that starts something: we are its To, with a new tag.
    fn incoming_context(
        &self,
        request: &Request,
        call_id: String,
    ) -> Result<Context, sip_packet::ParseError> {
        let h = request.headers();
        let mut local = h.to()?;
        local.set_tag(&self.random_tag());
        let mut remote: NameAddr = h.from()?;
        remote.params_mut().remove("tag");
        let target = crate::dialog::first_contact(h).unwrap_or_else(|| remote.uri().clone());
        Ok(Context::new(call_id, CallState::new(local, remote, target)))
    }
}
