//! The REGISTER client's side of the endpoint (RFC 3261 §10.2): sending REGISTER, reading
//! the granted time from the 2xx, refreshing before it runs out, retrying after failures,
//! unregistering.

use std::time::{Duration, Instant};

use sip_packet::{HeaderName, Method, Response};

use crate::application::CallEvent;
use crate::context::{CallParams, CallState, Context};
use crate::driver::{now, Effects, TimerKind};
use crate::endpoint::Endpoint;
use crate::error::EndpointError;
use crate::registration::{granted_expires, refresh_at, RegState, RegisterParams, Registration};

impl Endpoint {
    /// Registers at a registrar and keeps the registration alive (Net::SIP's `register`):
    /// refreshed after a fraction of each granted time, retried after failures, undone when
    /// the returned handle is dropped or [`shutdown`](Self::shutdown) is called. Responses and
    /// failures go to the callback of `params`.
    pub fn register(&self, params: RegisterParams) -> Result<Registration, EndpointError> {
        let mut call = CallParams::new(params.from.clone(), params.from)
            .request_uri(params.registrar)
            .contact(params.contact.clone());
        call.auth = params.auth;
        let ctx = self.context(call);
        {
            let mut st = ctx.lock();
            st.callback = params.callback;
            st.registration = Some(RegState {
                contact: params.contact,
                expires: params.expires,
                headers: params.headers,
                granted: None,
                next_at: None,
                unregistering: false,
                raised: false,
            });
            self.send_register(&ctx, &mut st)?;
        }
        Ok(Registration::new(self.clone(), ctx))
    }

    /// Sends the REGISTER the context's registration needs now (a refresh, a retry, or
    /// `Expires: 0` when unregistering); replaces one still in flight.
    pub(crate) fn send_register(
        &self,
        ctx: &Context,
        st: &mut CallState,
    ) -> Result<(), EndpointError> {
        let Some(reg) = st.registration.as_ref() else {
            return Ok(());
        };
        let expires = if reg.unregistering { 0 } else { reg.expires };
        let mut contact = reg.contact.clone();
        let headers = reg.headers.clone();
        if reg.unregistering {
            contact.params_mut().set("expires", Some("0"));
        }
        for old in st
            .client
            .iter()
            .filter(|t| t.request.method() == &Method::Register)
        {
            self.inner.dispatcher.cancel_delivery(old.delivery);
        }
        st.client
            .retain(|t| t.request.method() != &Method::Register);
        let mut request = self.initial_request(ctx, st, Method::Register);
        request
            .headers_mut()
            .add(HeaderName::Contact, contact.to_string());
        request
            .headers_mut()
            .add(HeaderName::Expires, expires.to_string());
        self.finish_request(st, &mut request, &headers)?;
        self.send_client(ctx, st, request, None, false);
        Ok(())
    }

    /// Ends a registration's refreshes; with `unregister`, sends `Expires: 0` first.
    pub(crate) fn stop_registration(&self, ctx: &Context, unregister: bool) {
        let mut st = ctx.lock();
        let closed = st.closed;
        let Some(reg) = st.registration.as_mut() else {
            return;
        };
        reg.next_at = None;
        if unregister && !closed {
            reg.unregistering = true;
            if let Err(e) = self.send_register(ctx, &mut st) {
                tracing::info!(%e, "cannot unregister");
                self.close_locked(ctx, &mut st);
            }
        } else {
            self.close_locked(ctx, &mut st);
        }
    }

    pub(crate) fn handle_register_timer(&self, ctx: &Context, now: Instant) {
        let mut st = ctx.lock();
        let due = st
            .registration
            .as_ref()
            .is_some_and(|r| !r.unregistering && r.next_at.is_some_and(|t| t <= now));
        if due {
            if let Some(r) = st.registration.as_mut() {
                r.next_at = None;
            }
            if let Err(e) = self.send_register(ctx, &mut st) {
                tracing::warn!(%e, "cannot refresh the registration");
            }
        }
    }

    pub(crate) fn on_register_success(
        &self,
        ctx: &Context,
        st: &mut CallState,
        idx: usize,
        response: Response,
        fx: &mut Effects,
    ) {
        st.client.remove(idx);
        let fraction = self.inner.config.refresh_fraction;
        let mut next = None;
        let mut done = false;
        if let Some(reg) = st.registration.as_mut() {
            if reg.unregistering {
                done = true;
            } else {
                reg.raised = false;
                let granted = granted_expires(&response, &reg.contact, reg.expires);
                let granted = Duration::from_secs(u64::from(granted));
                reg.granted = Some(granted);
                let at = refresh_at(now(), granted, fraction);
                reg.next_at = Some(at);
                next = Some(at);
            }
        }
        fx.emit(ctx, st, CallEvent::Response(response));
        if done {
            self.close_locked(ctx, st);
        }
        if let Some(at) = next {
            self.add_timer(at, ctx, TimerKind::Register);
        }
    }

    pub(crate) fn on_register_failed(&self, ctx: &Context, st: &mut CallState) {
        let retry = self.inner.config.register_retry;
        let Some(reg) = st.registration.as_mut() else {
            return;
        };
        if reg.unregistering {
            self.close_locked(ctx, st);
            return;
        }
        reg.raised = false;
        let at = now() + retry;
        reg.next_at = Some(at);
        self.add_timer(at, ctx, TimerKind::Register);
    }
}
