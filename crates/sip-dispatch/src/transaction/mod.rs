//! The four transaction state machines of RFC 3261 §17, as plain types: they take the time and
//! what arrives, and return what to send, what to tell the user, and when to wake them next.
//! Nothing here touches a socket or reads a clock.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sip_dispatch::transaction::{ClientNonInviteTransaction, ClientEvent, TimerConfig};
//! # let raw = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\
//! # From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
//! # let sip_packet::Message::Request(options) = sip_packet::Message::parse(raw.into()).unwrap() else { unreachable!() };
//! let t0 = Instant::now();
//! let mut tx = ClientNonInviteTransaction::new(t0, options, false, TimerConfig::default());
//! assert!(tx.poll_transmit().is_some()); // sent at once
//! assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(500))); // Timer E
//! tx.handle_timeout(t0 + Duration::from_millis(500));
//! assert!(tx.poll_transmit().is_some()); // retransmitted
//! tx.handle_timeout(t0 + Duration::from_secs(32)); // Timer F
//! assert!(std::iter::from_fn(|| tx.poll_event()).any(|e| e == ClientEvent::Timeout));
//! ```

mod client_invite;
mod client_non_invite;
mod key;
mod outbox;
mod server_invite;
mod server_non_invite;
mod timer;

pub use client_invite::{ClientInviteState, ClientInviteTransaction};
pub use client_non_invite::{ClientNonInviteState, ClientNonInviteTransaction};
pub use key::{ClientKey, ServerKey};
pub use server_invite::{ServerInviteState, ServerInviteTransaction};
pub use server_non_invite::{ServerNonInviteState, ServerNonInviteTransaction};
pub use timer::{Timer, TimerConfig};

use std::time::Instant;

use bytes::Bytes;
use sip_packet::{Method, Request, Response};

/// What a client transaction tells its user.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum ClientEvent {
    /// A response the user must see (retransmissions the transaction absorbs never show up).
    Response(Response),
    /// No final response in time (Timer B or F): the request failed, as if a 408 came.
    Timeout,
    /// The transport could not send the request.
    TransportError,
    /// The transaction is over; drop it.
    Terminated,
}

/// What a server transaction tells its user.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // rare events; boxing the ACK would cost more than it saves
pub enum ServerEvent {
    /// The ACK for a 2xx (RFC 6026): it belongs to the dialog, not to the transaction.
    Ack(Request),
    /// The ACK for a non-2xx final response never came (Timer H).
    Timeout,
    /// The transport could not send a response.
    TransportError,
    /// The transaction is over; drop it.
    Terminated,
}

/// A call into a transaction that its state does not allow (API misuse, not peer misbehaviour).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// A response the transaction cannot send in its state (e.g. a second final response).
    #[error("a {status} response cannot be sent by a server transaction in state {state}")]
    ResponseInWrongState {
        /// The status of the response.
        status: u16,
        /// The transaction's state.
        state: String,
    },
}

/// A client transaction of either kind.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ClientTransaction {
    /// For an INVITE.
    Invite(ClientInviteTransaction),
    /// For any other request but ACK.
    NonInvite(ClientNonInviteTransaction),
}

impl ClientTransaction {
    /// The transaction for `request`: INVITE or non-INVITE by its method.
    pub fn new(now: Instant, request: Request, reliable: bool, config: TimerConfig) -> Self {
        if request.method() == &Method::Invite {
            Self::Invite(ClientInviteTransaction::new(now, request, reliable, config))
        } else {
            Self::NonInvite(ClientNonInviteTransaction::new(
                now, request, reliable, config,
            ))
        }
    }

    /// The request.
    pub fn request(&self) -> &Request {
        match self {
            Self::Invite(t) => t.request(),
            Self::NonInvite(t) => t.request(),
        }
    }

    /// See [`ClientInviteTransaction::handle_response`].
    pub fn handle_response(&mut self, now: Instant, response: Response) {
        match self {
            Self::Invite(t) => t.handle_response(now, response),
            Self::NonInvite(t) => t.handle_response(now, response),
        }
    }

    /// See [`ClientInviteTransaction::handle_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::Invite(t) => t.handle_timeout(now),
            Self::NonInvite(t) => t.handle_timeout(now),
        }
    }

    /// See [`ClientInviteTransaction::handle_transport_error`].
    pub fn handle_transport_error(&mut self, now: Instant) {
        match self {
            Self::Invite(t) => t.handle_transport_error(now),
            Self::NonInvite(t) => t.handle_transport_error(now),
        }
    }

    /// Bytes to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        match self {
            Self::Invite(t) => t.poll_transmit(),
            Self::NonInvite(t) => t.poll_transmit(),
        }
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        match self {
            Self::Invite(t) => t.poll_event(),
            Self::NonInvite(t) => t.poll_event(),
        }
    }

    /// The next deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Self::Invite(t) => t.poll_timeout(),
            Self::NonInvite(t) => t.poll_timeout(),
        }
    }

    /// Whether the transaction is over.
    pub fn is_terminated(&self) -> bool {
        match self {
            Self::Invite(t) => t.is_terminated(),
            Self::NonInvite(t) => t.is_terminated(),
        }
    }
}

/// A server transaction of either kind.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ServerTransaction {
    /// For an INVITE.
    Invite(ServerInviteTransaction),
    /// For any other request but ACK.
    NonInvite(ServerNonInviteTransaction),
}

impl ServerTransaction {
    /// The transaction for a request that arrived: INVITE or non-INVITE by its method.
    pub fn new(now: Instant, request: Request, reliable: bool, config: TimerConfig) -> Self {
        if request.method() == &Method::Invite {
            Self::Invite(ServerInviteTransaction::new(now, request, reliable, config))
        } else {
            Self::NonInvite(ServerNonInviteTransaction::new(
                now, request, reliable, config,
            ))
        }
    }

    /// The request.
    pub fn request(&self) -> &Request {
        match self {
            Self::Invite(t) => t.request(),
            Self::NonInvite(t) => t.request(),
        }
    }

    /// A retransmission (or, for INVITE, an ACK) arrived.
    pub fn handle_request(&mut self, now: Instant, request: Request) {
        match self {
            Self::Invite(t) => t.handle_request(now, request),
            Self::NonInvite(t) => t.handle_request(now, request),
        }
    }

    /// The user's response.
    pub fn send_response(
        &mut self,
        now: Instant,
        response: Response,
    ) -> Result<(), TransactionError> {
        match self {
            Self::Invite(t) => t.send_response(now, response),
            Self::NonInvite(t) => t.send_response(now, response),
        }
    }

    /// See [`ServerInviteTransaction::handle_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::Invite(t) => t.handle_timeout(now),
            Self::NonInvite(t) => t.handle_timeout(now),
        }
    }

    /// See [`ServerInviteTransaction::handle_transport_error`].
    pub fn handle_transport_error(&mut self, now: Instant) {
        match self {
            Self::Invite(t) => t.handle_transport_error(now),
            Self::NonInvite(t) => t.handle_transport_error(now),
        }
    }

    /// Bytes to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        match self {
            Self::Invite(t) => t.poll_transmit(),
            Self::NonInvite(t) => t.poll_transmit(),
        }
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        match self {
            Self::Invite(t) => t.poll_event(),
            Self::NonInvite(t) => t.poll_event(),
        }
    }

    /// The next deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Self::Invite(t) => t.poll_timeout(),
            Self::NonInvite(t) => t.poll_timeout(),
        }
    }

    /// Whether the transaction is over.
    pub fn is_terminated(&self) -> bool {
        match self {
            Self::Invite(t) => t.is_terminated(),
            Self::NonInvite(t) => t.is_terminated(),
        }
    }
}

#[cfg(test)]
mod tests;
