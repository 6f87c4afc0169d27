//! The non-INVITE client transaction (RFC 3261 §17.1.2).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_packet::{Request, Response};

use super::outbox::Outbox;
use super::timer::{Timer, TimerConfig, TimerTable};
use super::ClientEvent;

/// States of Figure 6 of RFC 3261.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNonInviteState {
    /// Sent, no response yet.
    Trying,
    /// A provisional response came.
    Proceeding,
    /// A final response came; absorbing its retransmissions until Timer K.
    Completed,
    /// Done.
    Terminated,
}

/// A non-INVITE client transaction: retransmits at T1, 2·T1, ... capped at T2 over unreliable
/// transports, times out at 64·T1 (Timer F), reports responses.
#[derive(Debug)]
pub struct ClientNonInviteTransaction {
    state: ClientNonInviteState,
    request: Request,
    wire: Bytes,
    reliable: bool,
    config: TimerConfig,
    timers: TimerTable,
    interval: Duration,
    out: Outbox<ClientEvent>,
}

impl ClientNonInviteTransaction {
    /// Starts the transaction at `now`: the request goes out at once.
    pub fn new(now: Instant, request: Request, reliable: bool, config: TimerConfig) -> Self {
        let wire = request.to_bytes();
        let mut t = Self {
            state: ClientNonInviteState::Trying,
            request,
            wire: wire.clone(),
            reliable,
            config,
            timers: TimerTable::default(),
            interval: config.t1,
            out: Outbox::default(),
        };
        t.out.send(wire);
        if !reliable {
            t.timers.set(Timer::E, now + config.t1);
        }
        t.timers.set(Timer::F, now + config.t1x64());
        t
    }

    /// The current state.
    pub fn state(&self) -> ClientNonInviteState {
        self.state
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether the transaction is over and can be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientNonInviteState::Terminated
    }

    /// A response matched to this transaction arrived.
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        use ClientNonInviteState::*;
        match (self.state, response.status()) {
            (Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                self.out.event(ClientEvent::Response(response));
            }
            (Trying | Proceeding, _) => {
                self.state = Completed;
                self.timers.clear_all();
                let k = if self.reliable {
                    Duration::ZERO
                } else {
                    self.config.t4
                };
                self.timers.set(Timer::K, now + k);
                self.out.event(ClientEvent::Response(response));
            }
            // Completed: retransmissions of the final response are absorbed.
            _ => {}
        }
    }

    /// Call when the deadline of [`poll_timeout`](Self::poll_timeout) has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ClientNonInviteState::*;
        while let Some(timer) = self.timers.pop_due(now) {
            match (timer, self.state) {
                (Timer::E, Trying) => {
                    self.out.send(self.wire.clone());
                    self.interval = (self.interval * 2).min(self.config.t2);
                    self.timers.set(Timer::E, now + self.interval);
                }
                (Timer::E, Proceeding) => {
                    // §17.1.2.2: in Proceeding, retransmit every T2.
                    self.out.send(self.wire.clone());
                    self.timers.set(Timer::E, now + self.config.t2);
                }
                (Timer::F, Trying | Proceeding) => {
                    self.out.event(ClientEvent::Timeout);
                    self.terminate();
                }
                (Timer::K, _) => self.terminate(),
                _ => {}
            }
        }
    }

    /// The transport could not send the request (§17.1.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if matches!(
            self.state,
            ClientNonInviteState::Trying | ClientNonInviteState::Proceeding
        ) {
            self.out.event(ClientEvent::TransportError);
            self.terminate();
        }
    }

    /// Bytes to send to the transaction's destination.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.poll_transmit()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.out.poll_event()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    fn terminate(&mut self) {
        self.state = ClientNonInviteState::Terminated;
        self.timers.clear_all();
        self.out.event(ClientEvent::Terminated);
    }
}
