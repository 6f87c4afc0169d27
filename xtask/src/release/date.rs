//! The release date of a CHANGELOG heading: a civil (proleptic Gregorian) date in UTC.
//!
//! The date is computed once in `cargo xtask release` and passed in, so that the changelog
//! logic and its tests never read a clock.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar day, printed `YYYY-MM-DD` as Keep a Changelog writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Date {
    /// The year.
    pub(crate) year: i64,
    /// 1 to 12.
    pub(crate) month: u32,
    /// 1 to 31.
    pub(crate) day: u32,
}

impl Date {
    /// Today in UTC (1970-01-01 if the clock is set before 1970).
    pub(crate) fn today() -> Self {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self::from_unix_days(i64::try_from(seconds / 86_400).unwrap_or(0))
    }

    /// The day `days` after 1970-01-01.
    ///
    /// Counts in 400-year eras (146 097 days each) of years that start on 1 March, so that
    /// the leap day is the last day of a year and needs no special case.
    pub(crate) fn from_unix_days(days: i64) -> Self {
        // 719 468 days from 0000-03-01 to 1970-01-01.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        // Months counted from March: 0 is March, 11 is February.
        let march_month = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * march_month + 2) / 5 + 1;
        let month = if march_month < 10 {
            march_month + 3
        } else {
            march_month - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self {
            year,
            // Both are within 1..=12 and 1..=31 by construction.
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(year: i64, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn known_days() {
        assert_eq!(Date::from_unix_days(0), ymd(1970, 1, 1));
        assert_eq!(Date::from_unix_days(-1), ymd(1969, 12, 31));
        assert_eq!(Date::from_unix_days(59), ymd(1970, 3, 1));
        // 2000 is a leap year (divisible by 400), 2100 is not.
        assert_eq!(Date::from_unix_days(11_016), ymd(2000, 2, 29));
        assert_eq!(Date::from_unix_days(11_017), ymd(2000, 3, 1));
        assert_eq!(Date::from_unix_days(47_540), ymd(2100, 2, 28));
        assert_eq!(Date::from_unix_days(47_541), ymd(2100, 3, 1));
        assert_eq!(Date::from_unix_days(19_782), ymd(2024, 2, 29));
        assert_eq!(Date::from_unix_days(20_088), ymd(2024, 12, 31));
    }

    #[test]
    fn consecutive_days_walk_the_calendar() {
        // Every day from 1970 to 2100 follows the one before it by exactly one calendar day.
        let mut previous = Date::from_unix_days(0);
        for days in 1..47_541 {
            let d = Date::from_unix_days(days);
            let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_len = match previous.month {
                2 if leap(previous.year) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expected = if previous.day < month_len {
                ymd(previous.year, previous.month, previous.day + 1)
            } else if previous.month < 12 {
                ymd(previous.year, previous.month + 1, 1)
            } else {
                ymd(previous.year + 1, 1, 1)
            };
            assert_eq!(d, expected, "day {days}");
            previous = d;
        }
    }

    #[test]
    fn prints_as_keep_a_changelog_does() {
        assert_eq!(ymd(2026, 5, 3).to_string(), "2026-05-03");
    }
}
