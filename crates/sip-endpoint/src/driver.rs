//! The endpoint's task: everything that arrives (requests, responses, delivery outcomes) goes
//! through one channel to it, so that the dispatcher's task never waits on the endpoint's
//! locks and the application is always called from one place, with no lock held; and the
//! timer table (2xx retransmissions, registration refreshes) it sleeps on.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use sip_dispatch::{DeliveryEvent, Receiver};
use sip_packet::Message;
use sip_transport::Leg;
use tokio::sync::mpsc;

use crate::application::{CallEvent, ContextCallback};
use crate::context::{CallState, Context};
use crate::endpoint::{Endpoint, Inner};

/// What the endpoint's task is fed.
#[allow(clippy::large_enum_variant)] // one per message: boxing would cost an allocation each
pub(crate) enum Input {
    /// A message the dispatcher handed over.
    Message(Message, Leg, SocketAddr),
    /// An outcome of a request of ours: the context, our id of the request, the event.
    Delivery(Context, u64, DeliveryEvent),
    /// The timer table changed, or the endpoint went away.
    Wake,
}

/// What a timer of the endpoint is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TimerKind {
    /// Resend the 2xx to the INVITE with this CSeq, or give up on its ACK.
    Retransmit(u32),
    /// Refresh (or retry) the registration.
    Register,
}

/// Locks a mutex; a panic elsewhere while it was held leaves the data as it was.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The clock: tokio's, so that paused-time tests control it.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Callbacks to call once no lock is held.
#[derive(Default)]
pub(crate) struct Effects {
    events: Vec<(Arc<dyn ContextCallback>, Context, CallEvent)>,
}

impl Effects {
    /// Tells the context's callback, if it has one.
    pub(crate) fn emit(&mut self, ctx: &Context, st: &CallState, event: CallEvent) {
        if let Some(cb) = &st.callback {
            self.events.push((cb.clone(), ctx.clone(), event));
        }
    }

    pub(crate) fn run(self, endpoint: &Endpoint) {
        for (cb, ctx, ev) in self.events {
            cb.event(endpoint, &ctx, &ev);
        }
    }
}

/// What the dispatcher calls: everything goes to the endpoint's task.
pub(crate) struct EndpointReceiver {
    pub(crate) input: mpsc::UnboundedSender<Input>,
}

impl Receiver for EndpointReceiver {
    fn receive(&self, packet: &Message, leg: &Leg, from: SocketAddr) -> bool {
        self.input
            .send(Input::Message(packet.clone(), leg.clone(), from))
            .is_ok()
    }
}

pub(crate) async fn run(weak: Weak<Inner>, mut input: mpsc::UnboundedReceiver<Input>) {
    loop {
        let deadline = match weak.upgrade() {
            Some(inner) => inner.next_deadline(),
            None => return,
        };
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        let got = tokio::select! {
            i = input.recv() => match i {
                Some(i) => Some(i),
                None => return,
            },
            () = sleep => None,
        };
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let endpoint = Endpoint { inner };
        if let Some(i) = got {
            endpoint.handle_input(i);
        }
        endpoint.fire_timers(now());
    }
}

impl Inner {
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        lock(&self.timers).first_key_value().map(|(k, _)| k.0)
    }
}

impl Endpoint {
    pub(crate) fn add_timer(&self, at: Instant, ctx: &Context, kind: TimerKind) {
        let n = self.next_id();
        lock(&self.inner.timers).insert((at, n), (ctx.clone(), kind));
        let _ = self.inner.input.send(Input::Wake);
    }

    pub(crate) fn handle_input(&self, input: Input) {
        match input {
            Input::Message(Message::Request(r), leg, from) => self.handle_request(r, &leg, from),
            Input::Message(Message::Response(r), _, _) => self.handle_stray_response(r),
            Input::Delivery(ctx, id, DeliveryEvent::Response(r)) => {
                self.handle_response(&ctx, Some(id), r)
            }
            Input::Delivery(ctx, id, DeliveryEvent::Failed(e)) => {
                self.handle_delivery_failure(&ctx, id, e)
            }
            Input::Delivery(..) | Input::Wake => {}
        }
    }

    pub(crate) fn fire_timers(&self, now: Instant) {
        loop {
            let due = {
                let mut timers = lock(&self.inner.timers);
                match timers.first_key_value() {
                    Some((k, _)) if k.0 <= now => {
                        let k = *k;
                        timers.remove(&k)
                    }
                    _ => None,
                }
            };
            let Some((ctx, kind)) = due else {
                return;
            };
            match kind {
                TimerKind::Retransmit(cseq) => self.handle_retransmit_timer(&ctx, cseq, now),
                TimerKind::Register => self.handle_register_timer(&ctx, now),
            }
        }
    }
}
