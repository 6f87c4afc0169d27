//! The INVITE client transaction (RFC 3261 §17.1.1, with RFC 6026's Accepted state).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_packet::{Request, Response};

use super::outbox::Outbox;
use super::timer::{Timer, TimerConfig, TimerTable};
use super::ClientEvent;

/// States of Figure 5 of RFC 3261, with Accepted from RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInviteState {
    /// Sent, no response yet; retransmitting over UDP (Timer A) until Timer B.
    Calling,
    /// A provisional response came; waiting for the final one.
    Proceeding,
    /// A non-2xx final came and was ACKed; absorbing its retransmissions until Timer D.
    Completed,
    /// A 2xx came; further 2xx go to the user (who ACKs them) until Timer M (RFC 6026).
    Accepted,
    /// Done.
    Terminated,
}

/// An INVITE client transaction: sends the INVITE, retransmits it over unreliable transports,
/// ACKs non-2xx final responses itself and reports every response the user must see.
///
/// Sans-IO: it takes the time and the responses, and hands back bytes to send
/// ([`poll_transmit`](Self::poll_transmit)), events ([`poll_event`](Self::poll_event)) and its
/// next deadline ([`poll_timeout`](Self::poll_timeout)).
#[derive(Debug)]
pub struct ClientInviteTransaction {
    state: ClientInviteState,
    request: Request,
    wire: Bytes,
    ack: Option<Bytes>,
    reliable: bool,
    config: TimerConfig,
    timers: TimerTable,
    interval: Duration,
    out: Outbox<ClientEvent>,
}

impl ClientInviteTransaction {
    /// Starts the transaction at `now`: the INVITE goes out at once.
    pub fn new(now: Instant, request: Request, reliable: bool, config: TimerConfig) -> Self {
        let wire = request.to_bytes();
        let mut t = Self {
            state: ClientInviteState::Calling,
            request,
            wire: wire.clone(),
            ack: None,
            reliable,
            config,
            timers: TimerTable::default(),
            interval: config.t1,
            out: Outbox::default(),
        };
        t.out.send(wire);
        if !reliable {
            t.timers.set(Timer::A, now + config.t1);
        }
        t.timers.set(Timer::B, now + config.t1x64());
        t
    }

    /// The current state.
    pub fn state(&self) -> ClientInviteState {
        self.state
    }

    /// The INVITE.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether the transaction is over and can be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientInviteState::Terminated
    }

    /// A response matched to this transaction arrived.
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        use ClientInviteState::*;
        let status = response.status();
        match (self.state, status) {
            (Calling | Proceeding, 100..=199) => {
                self.state = Proceeding;
                // No more retransmissions; Timer B only guards Calling (§17.1.1.2).
                self.timers.clear(Timer::A);
                self.timers.clear(Timer::B);
                self.out.event(ClientEvent::Response(response));
            }
            (Calling | Proceeding, 200..=299) => {
                self.state = Accepted;
                self.timers.clear_all();
                self.timers.set(Timer::M, now + self.config.t1x64());
                self.out.event(ClientEvent::Response(response));
            }
            (Calling | Proceeding, _) => {
                self.state = Completed;
                self.timers.clear_all();
                match self.request.create_ack(&response) {
                    Ok(ack) => {
                        let wire = ack.to_bytes();
                        self.out.send(wire.clone());
                        self.ack = Some(wire);
                    }
                    Err(e) => tracing::warn!(%e, "cannot build the ACK for a {status} response"),
                }
                let d = if self.reliable {
                    Duration::ZERO
                } else {
                    Duration::from_secs(32).max(self.config.t1x64())
                };
                self.timers.set(Timer::D, now + d);
                self.out.event(ClientEvent::Response(response));
            }
            (Completed, 300..=699) => {
                // A retransmitted final response: ACK again, the user has seen it.
                if let Some(ack) = &self.ack {
                    self.out.send(ack.clone());
                }
            }
            (Accepted, 200..=299) => self.out.event(ClientEvent::Response(response)),
            _ => {}
        }
    }

    /// Call when the deadline of [`poll_timeout`](Self::poll_timeout) has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::A if self.state == ClientInviteState::Calling => {
                    self.out.send(self.wire.clone());
                    // INVITE retransmissions double without the T2 cap (§17.1.1.2).
                    self.interval *= 2;
                    self.timers.set(Timer::A, now + self.interval);
                }
                Timer::B if self.state == ClientInviteState::Calling => {
                    self.terminate(ClientEvent::Timeout);
                }
                Timer::D | Timer::M => self.terminate_quietly(),
                _ => {}
            }
        }
    }

    /// The transport could not send the request (§17.1.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if matches!(
            self.state,
            ClientInviteState::Calling | ClientInviteState::Proceeding
        ) {
            self.terminate(ClientEvent::TransportError);
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

    fn terminate(&mut self, why: ClientEvent) {
        self.out.event(why);
        self.terminate_quietly();
    }

    fn terminate_quietly(&mut self) {
        self.state = ClientInviteState::Terminated;
        self.timers.clear_all();
        self.out.event(ClientEvent::Terminated);
    }
}
