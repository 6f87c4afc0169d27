//! What a receiver reports about one source (RFC 3550 §6.4.1, Appendix A.3).

use std::time::Instant;

use super::{dlsr_units, ntp_middle32, JitterBuffer, ReportBlock, SenderReport};

/// The reception statistics of one source, filled from a [`JitterBuffer`] (or from counters
/// kept elsewhere) and turned into a [`ReportBlock`] per report interval.
///
/// The fraction lost covers the interval since the previous [`ReceptionStats::report_block`];
/// the cumulative loss is expected − received (A.3), which duplicates can make negative.
#[derive(Debug, Clone)]
pub struct ReceptionStats {
    ssrc: u32,
    extended_highest: u32,
    expected: u64,
    received: u64,
    jitter: u32,
    expected_prior: u64,
    received_prior: u64,
    /// LSR of the last SR from the source and when it arrived.
    last_sr: Option<(u32, Instant)>,
}

impl ReceptionStats {
    /// Statistics about source `ssrc`, nothing received yet.
    pub fn new(ssrc: u32) -> Self {
        Self {
            ssrc,
            extended_highest: 0,
            expected: 0,
            received: 0,
            jitter: 0,
            expected_prior: 0,
            received_prior: 0,
            last_sr: None,
        }
    }

    /// The source reported on.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Sets the counters: the highest extended sequence number, packets expected (highest −
    /// first + 1) and received (duplicates included), and the jitter in timestamp units.
    /// A new `ssrc` starts the statistics anew.
    pub fn update(
        &mut self,
        ssrc: u32,
        extended_highest: u32,
        expected: u64,
        received: u64,
        jitter: u32,
    ) {
        if ssrc != self.ssrc {
            *self = Self::new(ssrc);
        }
        if expected < self.expected_prior || received < self.received_prior {
            // The source restarted its sequence numbers: the interval starts anew.
            self.expected_prior = 0;
            self.received_prior = 0;
        }
        self.extended_highest = extended_highest;
        self.expected = expected;
        self.received = received;
        self.jitter = jitter;
    }

    /// Takes the counters of the source `buffer` follows (nothing if it has none yet).
    pub fn update_from(&mut self, buffer: &JitterBuffer) {
        let (Some(ssrc), Some(highest)) = (buffer.ssrc(), buffer.extended_highest_sequence())
        else {
            return;
        };
        let sequence = buffer.sequence();
        self.update(
            ssrc,
            highest,
            sequence.expected(),
            sequence.received(),
            buffer.jitter(),
        );
    }

    /// Notes an SR from the source that arrived at `now`, for the LSR/DLSR fields.
    pub fn handle_sender_report(&mut self, report: &SenderReport, now: Instant) {
        if report.ssrc == self.ssrc {
            self.last_sr = Some((ntp_middle32(report.sender_info.ntp_timestamp), now));
        }
    }

    /// Packets lost since the start: expected − received, within 24 signed bits.
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i128::from(self.expected) - i128::from(self.received);
        lost.clamp(-0x80_0000, 0x7f_ffff) as i32
    }

    /// The fraction lost since the previous report block, in 1/256 (A.3; 255 when all were
    /// lost); 0 when none were lost or duplicates outnumber losses.
    pub fn fraction_lost(&self) -> u8 {
        let expected = self.expected.saturating_sub(self.expected_prior);
        let received = self.received.saturating_sub(self.received_prior);
        if expected == 0 || received >= expected {
            return 0;
        }
        // All lost would be 256/256: the 8-bit field says 255.
        ((u128::from(expected - received) << 8) / u128::from(expected)).min(255) as u8
    }

    /// The report block for now; starts the next fraction-lost interval.
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, arrival)) => (lsr, dlsr_units(now.saturating_duration_since(arrival))),
            None => (0, 0),
        };
        let block = ReportBlock {
            ssrc: self.ssrc,
            fraction_lost: self.fraction_lost(),
            cumulative_lost: self.cumulative_lost(),
            extended_highest_sequence: self.extended_highest,
            jitter: self.jitter,
            last_sr,
            delay_since_last_sr,
        };
        self.expected_prior = self.expected;
        self.received_prior = self.received;
        block
    }
}

#[cfg(test)]
mod tests;
