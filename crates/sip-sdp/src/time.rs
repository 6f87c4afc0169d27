//! The `t=`, `r=` and `z=` lines: when a session is active (RFC 8866 §5.9 to §5.11).
//!
//! SIP sessions almost always say `t=0 0` (unbounded); the other forms are read and printed so
//! that descriptions from elsewhere survive a pass through a proxy.

use std::fmt;

use crate::grammar::{parse_i64, parse_u64, FieldError, Fields};

/// The unit letter of a typed time (`d`, `h`, `m`, `s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `d`: 86 400 seconds.
    Days,
    /// `h`: 3 600 seconds.
    Hours,
    /// `m`: 60 seconds.
    Minutes,
    /// `s`: seconds.
    Seconds,
}

impl TimeUnit {
    fn seconds(self) -> i64 {
        match self {
            Self::Days => 86_400,
            Self::Hours => 3_600,
            Self::Minutes => 60,
            Self::Seconds => 1,
        }
    }

    fn letter(self) -> char {
        match self {
            Self::Days => 'd',
            Self::Hours => 'h',
            Self::Minutes => 'm',
            Self::Seconds => 's',
        }
    }
}

/// A time in seconds, or with a unit letter: `7d`, `-1h`, `3600`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TypedTime {
    /// The number as written.
    pub value: i64,
    /// The unit letter, if one was written.
    pub unit: Option<TimeUnit>,
}

impl TypedTime {
    /// A time in plain seconds.
    pub fn seconds(value: i64) -> Self {
        Self { value, unit: None }
    }

    /// A time with a unit letter.
    pub fn with_unit(value: i64, unit: TimeUnit) -> Self {
        Self {
            value,
            unit: Some(unit),
        }
    }

    /// The time in seconds (saturating at the bounds of `i64`).
    pub fn as_seconds(&self) -> i64 {
        self.value
            .saturating_mul(self.unit.map_or(1, TimeUnit::seconds))
    }

    pub(crate) fn parse_token(field: &'static str, token: &str) -> Result<Self, FieldError> {
        let units = [
            ('d', TimeUnit::Days),
            ('h', TimeUnit::Hours),
            ('m', TimeUnit::Minutes),
            ('s', TimeUnit::Seconds),
        ];
        let (digits, unit) = units
            .into_iter()
            .find_map(|(letter, unit)| token.strip_suffix(letter).map(|d| (d, Some(unit))))
            .unwrap_or((token, None));
        let value = parse_i64(digits).ok_or_else(|| {
            FieldError::new(
                field,
                token,
                "expected a number optionally followed by d, h, m or s",
            )
        })?;
        Ok(Self { value, unit })
    }
}

impl fmt::Display for TypedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)?;
        if let Some(unit) = self.unit {
            write!(f, "{}", unit.letter())?;
        }
        Ok(())
    }
}

/// A repeat line, `r=<interval> <active duration> <offsets>...`, belonging to a `t=` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Repeat {
    /// How often the session repeats.
    pub interval: TypedTime,
    /// How long each repetition lasts.
    pub duration: TypedTime,
    /// Offsets of the repetitions from the start time.
    pub offsets: Vec<TypedTime>,
}

impl Repeat {
    /// A repeat line.
    pub fn new(interval: TypedTime, duration: TypedTime, offsets: Vec<TypedTime>) -> Self {
        Self {
            interval,
            duration,
            offsets,
        }
    }

    pub(crate) fn parse_value(value: &str) -> Result<Self, FieldError> {
        let mut fields = Fields::new(value);
        let interval = fields.token(
            "repeat-interval",
            "expected an interval, a duration and offsets",
        )?;
        let interval = TypedTime::parse_token("repeat-interval", interval)?;
        let duration = fields.token("active-duration", "expected a duration after the interval")?;
        let duration = TypedTime::parse_token("active-duration", duration)?;
        let mut offsets = Vec::new();
        while let Some(token) = fields.next_token() {
            offsets.push(TypedTime::parse_token("offset", token)?);
        }
        Ok(Self {
            interval,
            duration,
            offsets,
        })
    }
}

impl fmt::Display for Repeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.interval, self.duration)?;
        for offset in &self.offsets {
            write!(f, " {offset}")?;
        }
        Ok(())
    }
}

/// A timing line, `t=<start> <stop>` in NTP seconds, with the `r=` lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Timing {
    /// Start time (NTP seconds), 0 for "now / unbounded".
    pub start: u64,
    /// Stop time (NTP seconds), 0 for "unbounded".
    pub stop: u64,
    /// The `r=` lines repeating this time.
    pub repeats: Vec<Repeat>,
}

impl Timing {
    /// `t=start stop` without repeats; `Timing::new(0, 0)` is what SIP sessions use.
    pub fn new(start: u64, stop: u64) -> Self {
        Self {
            start,
            stop,
            repeats: Vec::new(),
        }
    }

    pub(crate) fn parse_value(value: &str) -> Result<Self, FieldError> {
        let mut fields = Fields::new(value);
        let start = fields.token("start-time", "expected a start and a stop time")?;
        let start = parse_u64(start)
            .ok_or_else(|| FieldError::new("start-time", start, "expected a decimal NTP time"))?;
        let stop = fields.token("stop-time", "expected a stop time after the start time")?;
        let stop = parse_u64(stop)
            .ok_or_else(|| FieldError::new("stop-time", stop, "expected a decimal NTP time"))?;
        fields.finish("stop-time")?;
        Ok(Self::new(start, stop))
    }
}

/// One adjustment of a `z=` line: from `time` on, add `offset` to the repeat times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TimeZoneAdjustment {
    /// When the adjustment takes effect (NTP seconds).
    pub time: u64,
    /// The offset to apply from then on.
    pub offset: TypedTime,
}

impl TimeZoneAdjustment {
    /// An adjustment of `offset` from `time` on.
    pub fn new(time: u64, offset: TypedTime) -> Self {
        Self { time, offset }
    }

    /// Reads the value of a `z=` line: one or more `<time> <offset>` pairs.
    pub(crate) fn parse_list(value: &str) -> Result<Vec<Self>, FieldError> {
        let mut fields = Fields::new(value);
        let mut list = Vec::new();
        while let Some(time) = fields.next_token() {
            let time = parse_u64(time).ok_or_else(|| {
                FieldError::new("adjustment-time", time, "expected a decimal NTP time")
            })?;
            let offset = fields.token("offset", "each adjustment time needs an offset after it")?;
            let offset = TypedTime::parse_token("offset", offset)?;
            list.push(Self { time, offset });
        }
        if list.is_empty() {
            return Err(FieldError::new(
                "adjustment-time",
                "",
                "a z= line holds at least one adjustment time and offset",
            ));
        }
        Ok(list)
    }
}

/// Prints the value of a `z=` line.
pub(crate) struct ZoneList<'a>(pub(crate) &'a [TimeZoneAdjustment]);

impl fmt::Display for ZoneList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, adjustment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{} {}", adjustment.time, adjustment.offset)?;
        }
        Ok(())
    }
}

impl fmt::Display for Timing {
    /// Prints the `t=` value only; the `r=` lines are separate lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.start, self.stop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing() {
        let t = Timing::parse_value("3034423619 3042462419").unwrap();
        assert_eq!((t.start, t.stop), (3_034_423_619, 3_042_462_419));
        assert_eq!(t.to_string(), "3034423619 3042462419");
        assert_eq!(Timing::parse_value("0").unwrap_err().field, "stop-time");
        assert_eq!(Timing::parse_value("0 x").unwrap_err().found, "x");
    }

    #[test]
    fn repeat_with_units() {
        // RFC 8866 §5.10
        let r = Repeat::parse_value("7d 1h 0 25h").unwrap();
        assert_eq!(r.interval.as_seconds(), 604_800);
        assert_eq!(r.duration.as_seconds(), 3_600);
        assert_eq!(r.offsets.len(), 2);
        assert_eq!(r.offsets[1].as_seconds(), 90_000);
        assert_eq!(r.to_string(), "7d 1h 0 25h");
        let r = Repeat::parse_value("604800 3600 0 90000").unwrap();
        assert_eq!(r.to_string(), "604800 3600 0 90000");
        assert!(Repeat::parse_value("7x 1h").is_err());
        assert_eq!(
            Repeat::parse_value("7d").unwrap_err().field,
            "active-duration"
        );
    }

    #[test]
    fn zone_adjustments() {
        // RFC 8866 §5.11
        let z = TimeZoneAdjustment::parse_list("3730928400 -1h 3749680800 0").unwrap();
        assert_eq!(z.len(), 2);
        assert_eq!(z[0].offset.as_seconds(), -3_600);
        assert_eq!(ZoneList(&z).to_string(), "3730928400 -1h 3749680800 0");
        assert!(TimeZoneAdjustment::parse_list("").is_err());
        assert_eq!(
            TimeZoneAdjustment::parse_list("3730928400")
                .unwrap_err()
                .field,
            "offset"
        );
    }

    #[test]
    fn unit_letters_on_multibyte_input_do_not_panic() {
        assert!(TypedTime::parse_token("x", "é").is_err());
        assert!(TypedTime::parse_token("x", "éd").is_err());
        assert!(TypedTime::parse_token("x", "d").is_err());
    }
}
