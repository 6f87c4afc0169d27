//! NTP timestamps of RTCP sender reports (RFC 3550 §4).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from 1900-01-01 (NTP's epoch) to 1970-01-01 (Unix's).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// `wallclock` as a 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, the
/// fraction of a second in the low 32. A time before 1970 gives 1970's timestamp.
pub fn ntp_timestamp(wallclock: SystemTime) -> u64 {
    let since_unix = wallclock
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    // Wraps in 2036 as NTP era 0 does; RFC 3550 only uses differences of the middle bits.
    let seconds = (since_unix.as_secs() + NTP_UNIX_OFFSET) & 0xffff_ffff;
    let fraction = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds << 32) | fraction
}

/// The middle 32 bits of an NTP timestamp: the LSR field of a report block (§6.4.1) and the
/// unit of round-trip computations (1/65536 s).
pub fn ntp_middle32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A duration in units of 1/65536 s, as the DLSR field carries it (saturating).
pub fn dlsr_units(delay: Duration) -> u32 {
    let units = delay.as_nanos() * 65536 / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_of_known_instants() {
        assert_eq!(ntp_timestamp(UNIX_EPOCH), NTP_UNIX_OFFSET << 32);
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(
            ntp_timestamp(t),
            ((NTP_UNIX_OFFSET + 1) << 32) | 0x8000_0000
        );
        // Before 1970 is clamped, not a panic.
        assert_eq!(
            ntp_timestamp(UNIX_EPOCH - Duration::from_secs(5)),
            NTP_UNIX_OFFSET << 32
        );
        assert_eq!(ntp_middle32(0x1122_3344_5566_7788), 0x3344_5566);
    }

    #[test]
    fn dlsr_is_in_65536ths() {
        assert_eq!(dlsr_units(Duration::from_secs(1)), 65536);
        assert_eq!(dlsr_units(Duration::from_millis(500)), 32768);
        assert_eq!(dlsr_units(Duration::from_secs(1 << 20)), u32::MAX);
    }
}
