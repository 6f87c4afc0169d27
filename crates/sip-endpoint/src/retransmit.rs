//! The UAS's 2xx retransmission until the ACK comes (RFC 3261 §13.3.1.4): the transaction
//! layer is gone by then (the 2xx ends the INVITE server transaction), so the dialog's owner
//! does it. A plain schedule, driven by whoever owns the clock.

use std::time::{Duration, Instant};

use sip_dispatch::transaction::TimerConfig;

/// What to do when the schedule is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetransmitAction {
    /// Send the 2xx again; the next deadline is set.
    Resend,
    /// 64·T1 passed without an ACK: give up, confirm the dialog and end it with a BYE.
    GiveUp,
}

/// When a 2xx is sent again: at T1, then intervals doubling up to T2, until an ACK or 64·T1.
///
/// ```
/// use std::time::{Duration, Instant};
/// use sip_endpoint::{Retransmit2xx, RetransmitAction};
/// use sip_dispatch::transaction::TimerConfig;
/// let start = Instant::now();
/// let mut r = Retransmit2xx::new(start, TimerConfig::default(), false);
/// assert_eq!(r.poll_timeout(), Some(start + Duration::from_millis(500)));
/// assert_eq!(r.handle_timeout(start + Duration::from_millis(500)), Some(RetransmitAction::Resend));
/// assert_eq!(r.poll_timeout(), Some(start + Duration::from_millis(1500)));
/// ```
#[derive(Debug, Clone)]
pub struct Retransmit2xx {
    next: Option<Instant>,
    interval: Duration,
    give_up: Instant,
    t2: Duration,
}

impl Retransmit2xx {
    /// A schedule for a 2xx sent at `now`. Over a reliable transport nothing is resent, but
    /// the ACK is still awaited for 64·T1.
    pub fn new(now: Instant, timers: TimerConfig, reliable: bool) -> Self {
        let give_up = now + timers.t1x64();
        Self {
            next: Some(if reliable { give_up } else { now + timers.t1 }),
            interval: timers.t1,
            give_up,
            t2: timers.t2,
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next; `None` once over.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }

    /// The ACK came: nothing more to do.
    pub fn handle_ack(&mut self) {
        self.next = None;
    }

    /// Whether the schedule has ended (ACK or given up).
    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// The clock reached `now`: what to do, if anything is due.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<RetransmitAction> {
        let due = self.next?;
        if now < due {
            return None;
        }
        if now >= self.give_up {
            self.next = None;
            return Some(RetransmitAction::GiveUp);
        }
        self.interval = (self.interval * 2).min(self.t2);
        self.next = Some((now + self.interval).min(self.give_up));
        Some(RetransmitAction::Resend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_doubles_to_t2_and_gives_up_at_64_t1() {
        let t = TimerConfig::default();
        let start = Instant::now();
        let mut r = Retransmit2xx::new(start, t, false);
        let mut resends = Vec::new();
        while let Some(at) = r.poll_timeout() {
            match r.handle_timeout(at) {
                Some(RetransmitAction::Resend) => resends.push((at - start).as_millis()),
                Some(RetransmitAction::GiveUp) => {
                    assert_eq!(at - start, Duration::from_secs(32));
                    break;
                }
                None => panic!("due but nothing to do"),
            }
        }
        assert_eq!(
            resends,
            [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert!(r.is_done());
    }

    #[test]
    fn ack_stops_it_and_early_wakeups_do_nothing() {
        let start = Instant::now();
        let mut r = Retransmit2xx::new(start, TimerConfig::default(), false);
        assert_eq!(r.handle_timeout(start), None);
        r.handle_ack();
        assert!(r.is_done());
        assert_eq!(r.handle_timeout(start + Duration::from_secs(60)), None);
    }

    #[test]
    fn reliable_transport_only_waits_for_the_ack() {
        let start = Instant::now();
        let mut r = Retransmit2xx::new(start, TimerConfig::default(), true);
        assert_eq!(r.poll_timeout(), Some(start + Duration::from_secs(32)));
        assert_eq!(
            r.handle_timeout(start + Duration::from_secs(32)),
            Some(RetransmitAction::GiveUp)
        );
    }
}
