//! The client side of a call (RFC 3261 §8.1, §13.2, §14.1, §15): what the responses to our
//! requests do to the context. ACK for 2xx, CANCEL, answers to challenges, redirects, forks,
//! and the REGISTER client's bookkeeping.

use sip_dispatch::{DeliverOptions, DeliveryError};
use sip_packet::{CSeq, HeaderName, Method, NameAddr, Request, Response};

use crate::application::CallEvent;
use crate::context::{CallState, CancelState, ClientTx, Context, SentAck};
use crate::dialog::{Dialog, DialogState};
use crate::driver::Effects;
use crate::endpoint::Endpoint;
use crate::error::RequestError;
use crate::redirect::{redirect_target, Redirect};

/// Whether a request of ours was sent inside a dialog (its To has a tag).
fn in_dialog(request: &Request) -> bool {
    request
        .headers()
        .to()
        .is_ok_and(|t| t.tag().is_some_and(|t| !t.is_empty()))
}

fn to_tag(response: &Response) -> Option<String> {
    response
        .headers()
        .to()
        .ok()
        .and_then(|t| t.tag().map(str::to_owned))
}

impl Endpoint {
    /// Cancels the most recent INVITE of `ctx` that has no final response (Net::SIP's
    /// `cancel_invite`). The CANCEL goes out once a provisional response has come (§9.1:
    /// never before); if the INVITE is answered 2xx first, the endpoint ACKs and sends a BYE.
    /// Returns whether there was an INVITE to cancel.
    pub fn cancel_invite(&self, ctx: &Context) -> bool {
        let mut st = ctx.lock();
        let Some(tx) = st.client.iter_mut().rev().find(|t| {
            t.request.method() == &Method::Invite && !t.answered && t.cancel == CancelState::None
        }) else {
            return false;
        };
        if tx.provisional {
            self.send_cancel(tx);
        } else {
            tx.cancel = CancelState::Requested;
        }
        true
    }

    fn send_cancel(&self, tx: &mut ClientTx) {
        tx.cancel = CancelState::Sent;
        // The CANCEL's own 200 says nothing the INVITE's 487 does not.
        self.inner
            .dispatcher
            .cancel_invite(tx.delivery, DeliverOptions::new().callback(|_| {}));
    }

    /// A response the dispatcher had no delivery for (a 2xx retransmission after the INVITE
    /// transaction ended): matched to its context by Call-ID, to its request by CSeq.
    pub(crate) fn handle_stray_response(&self, response: Response) {
        let Ok(call_id) = response.headers().call_id() else {
            return;
        };
        if let Some(ctx) = self.lookup(call_id) {
            self.handle_response(&ctx, None, response);
        }
    }

    /// A response to a request of ours: `id` names the request when the dispatcher's
    /// delivery reported it.
    pub(crate) fn handle_response(&self, ctx: &Context, id: Option<u64>, response: Response) {
        let mut fx = Effects::default();
        {
            let mut st = ctx.lock();
            let Ok(cseq) = response.headers().cseq() else {
                return;
            };
            if cseq.method() == &Method::Invite && response.is_success() {
                // A retransmitted 2xx: its ACK again (§13.2.2.4).
                if let Some(tag) = to_tag(&response) {
                    if let Some(a) = st
                        .acks
                        .iter()
                        .find(|a| a.cseq == cseq.seq() && a.remote_tag == tag)
                    {
                        self.send_plain(a.ack.clone());
                        return;
                    }
                }
            }
            let idx = st.client.iter().position(|t| match id {
                Some(id) => t.id == id,
                None => t
                    .request
                    .headers()
                    .cseq()
                    .is_ok_and(|c| c.seq() == cseq.seq() && c.method() == cseq.method()),
            });
            let Some(idx) = idx else {
                return;
            };
            match response.status() {
                100..=199 => self.on_provisional(ctx, &mut st, idx, response, &mut fx),
                200..=299 => self.on_success(ctx, &mut st, idx, response, &mut fx),
                _ => self.on_final_error(ctx, &mut st, idx, response, &mut fx),
            }
        }
        fx.run(self);
    }

    fn on_provisional(
        &self,
        ctx: &Context,
        st: &mut CallState,
        idx: usize,
        response: Response,
        fx: &mut Effects,
    ) {
        let tx = &mut st.client[idx];
        let internal = tx.internal;
        if tx.request.method() == &Method::Invite {
            tx.provisional = true;
            if tx.cancel == CancelState::Requested {
                self.send_cancel(tx);
            }
            let request = tx.request.clone();
            let early_ok = st
                .dialog
                .as_ref()
                .map_or(true, |d| d.state() == DialogState::Early);
            if response.status() > 100 && early_ok && !in_dialog(&request) {
                if let Ok(d) = Dialog::uac(&request, &response) {
                    st.dialog = Some(d);
                }
            }
        }
        if !internal {
            fx.emit(ctx, st, CallEvent::Response(response));
        }
    }

    fn on_success(
        &self,
        ctx: &Context,
        st: &mut CallState,
        idx: usize,
        response: Response,
        fx: &mut Effects,
    ) {
        let method = st.client[idx].request.method().clone();
        match method {
            Method::Invite => self.on_invite_success(ctx, st, idx, response, fx),
            Method::Register => self.on_register_success(ctx, st, idx, response, fx),
            _ => {
                let tx = st.client.remove(idx);
                if method == Method::Bye {
                    self.on_bye_done(ctx, st, &tx.request);
                } else if method == Method::Update {
                    if let Some(d) = st.dialog.as_mut() {
                        d.handle_target_refresh(response.headers());
                    }
                }
                if !tx.internal {
                    fx.emit(ctx, st, CallEvent::Response(response));
                }
            }
        }
    }

    fn on_invite_success(
        &self,
        ctx: &Context,
        st: &mut CallState,
        idx: usize,
        response: Response,
        fx: &mut Effects,
    ) {
        let Some(tag) = to_tag(&response) else {
            // A 2xx without a To tag can make no dialog and cannot be acknowledged properly.
            fx.emit(
                ctx,
                st,
                CallEvent::Failed(RequestError::Dialog(crate::DialogError::MissingTag("To"))),
            );
            return;
        };
        let tx = &mut st.client[idx];
        let request = tx.request.clone();
        let first = !tx.answered;
        let cancelled = tx.cancel != CancelState::None;
        let internal = tx.internal;
        tx.answered = true;
        let Ok(cseq) = request.headers().cseq().map(|c| c.seq()) else {
            return;
        };
        if in_dialog(&request) {
            // A re-INVITE answered: the remote target may move (§12.2.1.2).
            let Some(d) = st.dialog.as_mut().filter(|d| d.remote_tag() == tag) else {
                return;
            };
            d.handle_target_refresh(response.headers());
            let d = d.clone();
            self.send_ack(st, &d, &request, cseq);
            if !internal {
                fx.emit(ctx, st, CallEvent::Response(response));
            }
            return;
        }
        let same_dialog = st
            .dialog
            .as_ref()
            .is_some_and(|d| d.state() == DialogState::Confirmed && d.remote_tag() == tag);
        if first || same_dialog {
            let d = match Dialog::uac(&request, &response) {
                Ok(d) => d,
                Err(e) => {
                    fx.emit(ctx, st, CallEvent::Failed(e.into()));
                    return;
                }
            };
            st.dialog = Some(d.clone());
            self.send_ack(st, &d, &request, cseq);
            if !internal {
                fx.emit(ctx, st, CallEvent::Response(response));
            }
            if cancelled {
                // The 2xx won the race against our CANCEL (§9.1): the call is not wanted.
                self.send_bye(ctx, st, None);
            }
            return;
        }
        // Another callee of a forked INVITE answered (§13.2.2.4): a dialog of its own, ACKed
        // and ended at once; the call stays with the first answer.
        match Dialog::uac(&request, &response) {
            Ok(d) => {
                self.send_ack(st, &d, &request, cseq);
                st.forks.push(d);
                let bye_tag = tag.clone();
                self.send_bye(ctx, st, Some(&bye_tag));
                fx.emit(ctx, st, CallEvent::ForkReleased(response));
            }
            Err(e) => fx.emit(ctx, st, CallEvent::Failed(e.into())),
        }
    }

    /// The ACK for a 2xx (§13.2.2.4): a request of the dialog with the INVITE's CSeq number
    /// and its credentials; remembered for the 2xx's retransmissions.
    fn send_ack(&self, st: &mut CallState, dialog: &Dialog, invite: &Request, cseq: u32) {
        let mut ack = dialog.create_ack(cseq);
        for name in [HeaderName::Authorization, HeaderName::ProxyAuthorization] {
            for v in invite.headers().get_all(name.clone()) {
                ack.headers_mut()
                    .add(name.clone(), invite.headers().share(v));
            }
        }
        if let Some(ua) = &self.inner.config.user_agent {
            ack.headers_mut().add(HeaderName::UserAgent, ua.clone());
        }
        self.send_plain(ack.clone());
        // Keep the ACKs of the last few INVITEs only: older 2xx are not retransmitted any more.
        if st.acks.len() >= 8 {
            st.acks.remove(0);
        }
        st.acks.push(SentAck {
            cseq,
            remote_tag: dialog.remote_tag().to_owned(),
            ack,
        });
    }

    /// Ends the call's dialog (or, with `fork_tag`, the fork with that remote tag) with a BYE
    /// of the endpoint's own.
    pub(crate) fn send_bye(&self, ctx: &Context, st: &mut CallState, fork_tag: Option<&str>) {
        let dialog = match fork_tag {
            Some(tag) => st.forks.iter_mut().find(|d| d.remote_tag() == tag),
            None => st.dialog.as_mut(),
        };
        let Some(d) = dialog else {
            return;
        };
        let bye = d.create_request(Method::Bye);
        if fork_tag.is_none() {
            d.terminate();
        }
        let mut bye = bye;
        if let Some(ua) = &self.inner.config.user_agent {
            bye.headers_mut().add(HeaderName::UserAgent, ua.clone());
        }
        self.send_client(ctx, st, bye, None, true);
    }

    /// A BYE of ours got its final response (or none): the dialog it ended is gone.
    fn on_bye_done(&self, ctx: &Context, st: &mut CallState, bye: &Request) {
        let tag = bye
            .headers()
            .to()
            .ok()
            .and_then(|t| t.tag().map(str::to_owned))
            .unwrap_or_default();
        if st.dialog.as_ref().is_some_and(|d| d.remote_tag() == tag) {
            self.close_locked(ctx, st);
        } else {
            st.forks.retain(|d| d.remote_tag() != tag);
        }
    }

    fn on_final_error(
        &self,
        ctx: &Context,
        st: &mut CallState,
        idx: usize,
        response: Response,
        fx: &mut Effects,
    ) {
        let status = response.status();
        let tx = &st.client[idx];
        let method = tx.request.method().clone();
        let dialog_request = in_dialog(&tx.request);
        if matches!(status, 401 | 407) && tx.cancel == CancelState::None {
            if let Some(request) = self.answer_challenge(st, idx, &response) {
                let old = st.client.remove(idx);
                self.send_client(ctx, st, request, Some(old), false);
                return;
            }
        }
        if (300..400).contains(&status) && st.follow_redirects && !dialog_request {
            if let Some(request) = self.follow_redirect(st, idx, &response) {
                let old = st.client.remove(idx);
                self.send_client(ctx, st, request, Some(old), false);
                return;
            }
        }
        if method == Method::Register && status == 423 {
            if let Some(min) = response.headers().min_expires().ok().flatten() {
                if let Some(reg) = st.registration.as_mut().filter(|r| !r.raised) {
                    // Interval Too Brief (§10.2.8): ask again for what the registrar allows.
                    reg.raised = true;
                    reg.expires = min;
                    if self.send_register(ctx, st).is_ok() {
                        return;
                    }
                }
            }
        }
        let tx = st.client.remove(idx);
        match method {
            // The call failed; early dialogs end with it (§13.2.2.3).
            Method::Invite if !dialog_request && !st.is_confirmed() => self.close_locked(ctx, st),
            Method::Invite if !dialog_request => {}
            Method::Register => self.on_register_failed(ctx, st),
            Method::Bye => self.on_bye_done(ctx, st, &tx.request),
            _ if dialog_request && matches!(status, 481 | 408) => {
                // The dialog is gone at the peer (§12.2.1.2).
                self.close_locked(ctx, st);
            }
            _ => {}
        }
        if !tx.internal {
            fx.emit(ctx, st, CallEvent::Response(response));
        }
    }

    /// The request of `st.client[idx]` again, answering the challenge of `response`, with the
    /// next CSeq; `None` when it cannot or must not be answered.
    fn answer_challenge(
        &self,
        st: &mut CallState,
        idx: usize,
        response: &Response,
    ) -> Option<Request> {
        let cnonce = self.cnonce();
        let dialog_request = in_dialog(&st.client[idx].request);
        let cseq = match st.dialog.as_ref() {
            Some(d) if dialog_request => d.local_cseq().unwrap_or(0).wrapping_add(1),
            _ => st.local_cseq.wrapping_add(1),
        };
        let auth = st.auth.clone();
        let tx = &mut st.client[idx];
        let mut request = tx.request.clone();
        match tx
            .auth
            .authorize(&mut request, response, auth.as_ref(), &cnonce, cseq)
        {
            Ok(()) => {}
            Err(e) => {
                tracing::info!(%e, status = response.status(), "challenge not answered");
                return None;
            }
        }
        match st.dialog.as_mut() {
            Some(d) if dialog_request => {
                d.next_cseq();
            }
            _ => st.local_cseq = cseq,
        }
        Some(request)
    }

    /// The request of `st.client[idx]` again, to where the 3xx `response` points, with the
    /// next CSeq (§8.1.3.4); `None` when there is nowhere (new) to go.
    fn follow_redirect(
        &self,
        st: &mut CallState,
        idx: usize,
        response: &Response,
    ) -> Option<Request> {
        let max = self.inner.config.max_redirects;
        let tx = &mut st.client[idx];
        if tx.tried.len() >= max {
            return None;
        }
        let mut request = tx.request.clone();
        match redirect_target(response, &tx.tried)? {
            Redirect::Target(uri) => {
                tx.tried.push(uri.clone());
                request.set_uri(uri);
            }
            Redirect::Proxy(mut uri) => {
                tx.tried.push(uri.clone());
                if let Some(sip) = uri.as_sip_mut() {
                    sip.params_mut().set("lr", None);
                }
                request
                    .headers_mut()
                    .insert_at_top(HeaderName::Route, NameAddr::new(uri).to_string());
            }
        }
        st.local_cseq = st.local_cseq.wrapping_add(1);
        let method = request.method().clone();
        request.headers_mut().set(
            HeaderName::CSeq,
            CSeq::new(st.local_cseq, method).to_string(),
        );
        Some(request)
    }

    /// A request of ours got no final response at all.
    pub(crate) fn handle_delivery_failure(&self, ctx: &Context, id: u64, error: DeliveryError) {
        let mut fx = Effects::default();
        {
            let mut st = ctx.lock();
            let Some(idx) = st.client.iter().position(|t| t.id == id) else {
                return;
            };
            let tx = st.client.remove(idx);
            let dialog_request = in_dialog(&tx.request);
            match tx.request.method() {
                Method::Invite if !dialog_request && !st.is_confirmed() => {
                    self.close_locked(ctx, &mut st)
                }
                Method::Invite if !dialog_request => {}
                Method::Register => self.on_register_failed(ctx, &mut st),
                Method::Bye => self.on_bye_done(ctx, &mut st, &tx.request),
                // No answer in the dialog: the peer is gone (§12.2.1.2).
                _ if dialog_request => self.close_locked(ctx, &mut st),
                _ => {}
            }
            if !tx.internal {
                fx.emit(ctx, &st, CallEvent::Failed(RequestError::Delivery(error)));
            }
        }
        fx.run(self);
    }
}
