//! The non-INVITE server transaction (RFC 3261 §17.2.2).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_packet::{Request, Response};

use super::outbox::Outbox;
use super::timer::{Timer, TimerConfig, TimerTable};
use super::{ServerEvent, TransactionError};

/// States of Figure 8 of RFC 3261.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerNonInviteState {
    /// The request is with the user, nothing sent yet.
    Trying,
    /// A provisional response was sent.
    Proceeding,
    /// The final response was sent; resending it for retransmitted requests until Timer J.
    Completed,
    /// Done.
    Terminated,
}

/// A non-INVITE server transaction: absorbs retransmitted requests and resends the last
/// response for them.
#[derive(Debug)]
pub struct ServerNonInviteTransaction {
    state: ServerNonInviteState,
    request: Request,
    last_response: Option<Bytes>,
    reliable: bool,
    config: TimerConfig,
    timers: TimerTable,
    out: Outbox<ServerEvent>,
}

impl ServerNonInviteTransaction {
    /// A transaction for a request that just arrived; the user is to answer it.
    pub fn new(_now: Instant, request: Request, reliable: bool, config: TimerConfig) -> Self {
        Self {
            state: ServerNonInviteState::Trying,
            request,
            last_response: None,
            reliable,
            config,
            timers: TimerTable::default(),
            out: Outbox::default(),
        }
    }

    /// The current state.
    pub fn state(&self) -> ServerNonInviteState {
        self.state
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether the transaction is over and can be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerNonInviteState::Terminated
    }

    /// A retransmission of the request arrived.
    pub fn handle_request(&mut self, _now: Instant, _request: Request) {
        if matches!(
            self.state,
            ServerNonInviteState::Proceeding | ServerNonInviteState::Completed
        ) {
            if let Some(r) = &self.last_response {
                self.out.send(r.clone());
            }
        }
    }

    /// The user's response.
    pub fn send_response(
        &mut self,
        now: Instant,
        response: Response,
    ) -> Result<(), TransactionError> {
        use ServerNonInviteState::*;
        let status = response.status();
        match (self.state, status) {
            (Trying | Proceeding, 100..=199) => self.state = Proceeding,
            (Trying | Proceeding, 200..=699) => {
                self.state = Completed;
                let j = if self.reliable {
                    Duration::ZERO
                } else {
                    self.config.t1x64()
                };
                self.timers.set(Timer::J, now + j);
            }
            (state, status) => {
                return Err(TransactionError::ResponseInWrongState {
                    status,
                    state: format!("{state:?}"),
                })
            }
        }
        let wire = response.to_bytes();
        self.out.send(wire.clone());
        self.last_response = Some(wire);
        Ok(())
    }

    /// Call when the deadline of [`poll_timeout`](Self::poll_timeout) has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            if timer == Timer::J {
                self.terminate();
            }
        }
    }

    /// The transport could not send a response (§17.2.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if self.state != ServerNonInviteState::Terminated {
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
        self.state = ServerNonInviteState::Terminated;
        self.timers.clear_all();
        self.out.event(ServerEvent::Terminated);
    }
}
