//! What a call's media did, summed over its streams ([`CallStats`]).

use std::time::Duration;

use crate::media::MediaStats;
use crate::probe::ProbeStats;

/// A call's media counters ([`Call::stats`](crate::Call::stats)): the sums over its audio
/// streams, and the round-trip delay when it could be measured (probes echoed by the peer,
/// see [`Media::probe`](crate::Media::probe); else RTCP's round trip).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CallStats {
    /// RTP packets sent (DTMF events included).
    pub packets_sent: u64,
    /// RTP audio packets received.
    pub packets_received: u64,
    /// Packets that never arrived in time to be played.
    pub packets_lost: u64,
    /// Packets that arrived after their turn.
    pub packets_late: u64,
    /// Packets that arrived twice.
    pub duplicates: u64,
    /// The largest interarrival jitter of the streams.
    pub jitter: Duration,
    /// Shortest round trip measured.
    pub delay_min: Option<Duration>,
    /// Mean round trip measured.
    pub delay_avg: Option<Duration>,
    /// Longest round trip measured.
    pub delay_max: Option<Duration>,
    /// What the probes showed (all zero unless a stream sends probes).
    pub probes: ProbeStats,
    /// Each stream's counters, in `m=` line order (streams never started are left out).
    pub streams: Vec<MediaStats>,
}

impl CallStats {
    /// The sums of `streams` and their probes.
    pub(crate) fn from_streams(streams: &[(MediaStats, ProbeStats)]) -> Self {
        let mut s = Self::default();
        let mut probes = ProbeStats::default();
        let mut rtt: Vec<Duration> = Vec::new();
        for (m, p) in streams {
            s.packets_sent += m.packets_sent;
            s.packets_received += m.packets_received;
            s.packets_lost += m.packets_lost;
            s.packets_late += m.packets_late;
            s.duplicates += m.duplicates;
            s.jitter = s.jitter.max(m.jitter);
            rtt.extend(m.round_trip);
            probes.merge(p);
            s.streams.push(*m);
        }
        if probes.received > 0 {
            s.delay_min = probes.delay_min;
            s.delay_avg = probes.delay_avg();
            s.delay_max = probes.delay_max;
        } else if !rtt.is_empty() {
            s.delay_min = rtt.iter().min().copied();
            s.delay_max = rtt.iter().max().copied();
            let n = u32::try_from(rtt.len()).unwrap_or(u32::MAX);
            s.delay_avg = Some(rtt.iter().sum::<Duration>() / n);
        }
        s.probes = probes;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_rtcp_delay_without_probes() {
        let mut a = MediaStats::new();
        a.packets_sent = 10;
        a.packets_received = 9;
        a.packets_lost = 1;
        a.jitter = Duration::from_millis(3);
        a.round_trip = Some(Duration::from_millis(4));
        let mut b = MediaStats::new();
        b.packets_sent = 5;
        b.jitter = Duration::from_millis(7);
        b.round_trip = Some(Duration::from_millis(8));
        let s = CallStats::from_streams(&[(a, ProbeStats::default()), (b, ProbeStats::default())]);
        assert_eq!(
            (s.packets_sent, s.packets_received, s.packets_lost),
            (15, 9, 1)
        );
        assert_eq!(s.jitter, Duration::from_millis(7));
        assert_eq!(s.delay_min, Some(Duration::from_millis(4)));
        assert_eq!(s.delay_avg, Some(Duration::from_millis(6)));
        assert_eq!(s.delay_max, Some(Duration::from_millis(8)));
        assert_eq!(s.streams.len(), 2);
        assert_eq!(CallStats::from_streams(&[]).delay_avg, None);
    }
}
