//! A redirect server (Net::SIP::Redirect): where a registered address can be reached.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_dispatch::{DeliverOptions, Dispatcher, Receiver};
use sip_packet::{HeaderName, Message, Method, Request, Response};
use sip_transport::Leg;

use crate::aor::Aor;
use crate::receiver::now;
use crate::registrar::{Lookup, Registrar};

/// What a [`Redirect`] does with a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
// One per request, handed back at once: boxing the response would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum RedirectAction {
    /// Not for the redirect server (a REGISTER, a response, an address outside the
    /// registrar's domains): the next member of the chain may take it.
    Pass,
    /// Swallowed without an answer: an ACK, which is never answered (the transaction layer
    /// has matched the ACKs of our own error responses already).
    Absorb,
    /// Send this response.
    Respond(Response),
}

/// Answers requests for registered addresses from a [`Registrar`]'s bindings (RFC 3261 §8.3,
/// §21.3.3): 302 Moved Temporarily with a Contact for each live binding, highest `q` first;
/// 404 Not Found for an address the registrar does not know; 480 Temporarily Unavailable for
/// one it knows without a live binding (see [`RegistrarConfig::remember_for`]). A CANCEL gets
/// 200: its INVITE has been answered already (§9.2).
///
/// [`RegistrarConfig::remember_for`]: crate::RegistrarConfig::remember_for
#[derive(Debug)]
pub struct Redirect {
    registrar: Arc<Registrar>,
    rng: Mutex<StdRng>,
}

impl Redirect {
    /// A redirect server for the bindings of `registrar`.
    pub fn new(registrar: Arc<Registrar>) -> Self {
        let rng = match registrar.config().seed {
            // Not the registrar's sequence: the two take tags independently.
            Some(s) => StdRng::seed_from_u64(s ^ 0x5245_4449_5245_4354),
            None => StdRng::from_entropy(),
        };
        Self {
            registrar,
            rng: Mutex::new(rng),
        }
    }

    /// What to do with `request`, arriving at `now`.
    pub fn handle_request(&self, now: Instant, request: &Request) -> RedirectAction {
        match request.method() {
            Method::Register => return RedirectAction::Pass,
            Method::Ack => return RedirectAction::Absorb,
            Method::Cancel => return RedirectAction::Respond(self.response(request, 200)),
            _ => {}
        }
        let Some(aor) = Aor::from_uri(request.uri()) else {
            return RedirectAction::Respond(self.response(request, 416));
        };
        if !self.registrar.serves(&aor) {
            return RedirectAction::Pass;
        }
        RedirectAction::Respond(match self.registrar.lookup(now, &aor) {
            Lookup::Contacts(bindings) => {
                let mut r = self.response(request, 302);
                for b in &bindings {
                    r.headers_mut()
                        .add(HeaderName::Contact, b.to_contact_value(now));
                }
                r
            }
            Lookup::Unavailable => self.response(request, 480),
            Lookup::Unknown => self.response(request, 404),
        })
    }

    fn response(&self, request: &Request, status: u16) -> Response {
        let mut r = Response::from_request(request, status, None);
        let tag = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            sip_packet::random::tag(&mut *rng)
        };
        let _ = r.set_to_tag(&tag);
        r
    }
}

/// A [`Redirect`] as a [`Receiver`], answering through a dispatcher; put it after the
/// [`RegistrarReceiver`](crate::RegistrarReceiver) in a
/// [`ReceiveChain`](sip_dispatch::ReceiveChain).
#[derive(Debug)]
pub struct RedirectReceiver {
    redirect: Redirect,
    dispatcher: Dispatcher,
}

impl RedirectReceiver {
    /// `redirect` answering through `dispatcher`.
    pub fn new(redirect: Redirect, dispatcher: Dispatcher) -> Self {
        Self {
            redirect,
            dispatcher,
        }
    }
}

impl Receiver for RedirectReceiver {
    fn receive(&self, packet: &Message, _leg: &Leg, from: SocketAddr) -> bool {
        let Message::Request(request) = packet else {
            return false;
        };
        match self.redirect.handle_request(now(), request) {
            RedirectAction::Pass => false,
            RedirectAction::Absorb => true,
            RedirectAction::Respond(response) => {
                tracing::debug!(%from, method = %request.method(), status = response.status(), "redirect answered");
                self.dispatcher.deliver(response, DeliverOptions::new());
                true
            }
        }
    }
}
