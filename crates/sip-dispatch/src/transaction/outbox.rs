//! What a transaction has to say to its driver: bytes to send and events for its user.

use std::collections::VecDeque;

use bytes::Bytes;

/// Queues of transmits and events, drained by `poll_transmit` and `poll_event`.
#[derive(Debug)]
pub(crate) struct Outbox<E> {
    transmits: VecDeque<Bytes>,
    events: VecDeque<E>,
}

impl<E> Default for Outbox<E> {
    fn default() -> Self {
        Self {
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }
}

impl<E> Outbox<E> {
    pub(crate) fn send(&mut self, bytes: Bytes) {
        self.transmits.push_back(bytes);
    }

    pub(crate) fn event(&mut self, e: E) {
        self.events.push_back(e);
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    pub(crate) fn poll_event(&mut self) -> Option<E> {
        self.events.pop_front()
    }
}
