//! The INVITE server transaction (RFC 3261 §17.2.1, with RFC 6026's Accepted state).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_packet::{Method, Request, Response};

use super::outbox::Outbox;
use super::timer::{Timer, TimerConfig, TimerTable};
use super::{ServerEvent, TransactionError};

/// States of Figure 7 of RFC 3261, with Accepted from RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// The INVITE is with the user; provisional responses may have been sent.
    Proceeding,
    /// A non-2xx final was sent; retransmitting it (Timer G) until the ACK or Timer H.
    Completed,
    /// The ACK came; absorbing ACK retransmissions until Timer I.
    Confirmed,
    /// A 2xx was sent; the user retransmits it and gets the ACK; until Timer L (RFC 6026).
    Accepted,
    /// Done.
    Terminated,
}

/// An INVITE server transaction: absorbs retransmitted INVITEs (resending the last response),
/// retransmits a non-2xx final response until it is ACKed, and hands the ACK of a 2xx to the
/// user.
#[derive(Debug)]
pub struct ServerInviteTransaction {
    state: ServerInviteState,
    request: Request,
    last_response: Option<Bytes>,
    reliable: bool,
    config: TimerConfig,
    timers: TimerTable,
    interval: Duration,
    out: Outbox<ServerEvent>,
}

impl ServerInviteTransaction {
    /// A transaction for an INVITE that just arrived; the user is to answer it.
    pub fn new(_now: Instant, request: Request, reliable: bool, config: TimerConfig) -> Self {
        Self {
            state: ServerInviteState::Proceeding,
            request,
            last_response: None,
            reliable,
            config,
            timers: TimerTable::default(),
            interval: config.t1,
            out: Outbox::default(),
        }
    }

    /// The current state.
    pub fn state(&self) -> ServerInviteState {
        self.state
    }

    /// The INVITE.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether the transaction is over and can be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerInviteState::Terminated
    }

    /// A request matched to this transaction arrived: a retransmitted INVITE or an ACK.
    pub fn handle_request(&mut self, now: Instant, request: Request) {
        use ServerInviteState::*;
        match (self.state, request.method()) {
            (Proceeding | Completed, Method::Invite) => {
                if let Some(r) = &self.last_response {
                    self.out.send(r.clone());
                }
            }
            (Completed, Method::Ack) => {
                self.state = Confirmed;
                self.timers.clear_all();
                let i = if self.reliable {
                    Duration::ZERO
                } else {
                    self.config.t4
                };
                self.timers.set(Timer::I, now + i);
            }
            // RFC 6026 §7.1: the ACK for a 2xx goes to the user.
            (Accepted, Method::Ack) => self.out.event(ServerEvent::Ack(request)),
            // Retransmitted INVITEs in Accepted, ACKs in Confirmed: absorbed.
            _ => {}
        }
    }

    /// The user's response to the INVITE. A 2xx is sent once: retransmitting it until the ACK
    /// is the user's job (§13.3.1.4), resending it through here is allowed in Accepted.
    pub fn send_response(
        &mut self,
        now: Instant,
        response: Response,
    ) -> Result<(), TransactionError> {
        use ServerInviteState::*;
        let status = response.status();
        match (self.state, status) {
            (Proceeding, 100..=199) => {
                let wire = response.to_bytes();
                self.out.send(wire.clone());
                self.last_response = Some(wire);
            }
            (Proceeding | Accepted, 200..=299) => {
                self.out.send(response.to_bytes());
                if self.state == Proceeding {
                    self.state = Accepted;
                    self.timers.set(Timer::L, now + self.config.t1x64());
                }
            }
            (Proceeding, 300..=699) => {
                let wire = response.to_bytes();
                self.out.send(wire.clone());
                self.last_response = Some(wire);
                self.state = Completed;
                if !self.reliable {
                    self.timers.set(Timer::G, now + self.config.t1);
                }
                self.timers.set(Timer::H, now + self.config.t1x64());
            }
            (state, status) => {
                return Err(TransactionError::ResponseInWrongState {
                    status,
                    state: format!("{state:?}"),
                })
            }
        }
        Ok(())
    }

    /// Call when the deadline of [`poll_timeout`](Self::poll_timeout) has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        use ServerInviteState::*;
        while let Some(timer) = self.timers.pop_due(now) {
            match (timer, self.state) {
                (Timer::G, Completed) => {
                    if let Some(r) = &self.last_response {
                        self.out.send(r.clone());
                    }
                    self.interval = (self.interval * 2).min(self.config.t2);
                    self.timers.set(Timer::G, now + self.interval);
                }
                (Timer::H, Completed) => {
                    self.out.event(ServerEvent::Timeout);
                    self.terminate();
                }
                (Timer::I, Confirmed) | (Timer::L, Accepted) => self.terminate(),
                _ => {}
            }
        }
    }

    /// The transport could not send a response (§17.2.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if self.state != ServerInviteState::Terminated {
            self.out.event(ServerEvent::TransportError);
            self.terminate();
        }
    }

    /// Bytes to send to where responses go.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.poll_transmit()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.out.poll_event()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    fn terminate(&mut self) {
        self.state = ServerInviteState::Terminated;
        self.timers.clear_all();
        self.out.event(ServerEvent::Terminated);
    }
}
