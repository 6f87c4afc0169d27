//! Semantic versions (semver.org 2.0.0) as crates.io understands them: `MAJOR.MINOR.PATCH`,
//! an optional `-pre.release` and an optional `+build` that does not take part in ordering.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A version written `MAJOR.MINOR.PATCH[-PRE][+BUILD]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    /// Incompatible API changes.
    pub(crate) major: u64,
    /// Compatible additions.
    pub(crate) minor: u64,
    /// Compatible fixes.
    pub(crate) patch: u64,
    /// Pre-release identifiers (`alpha.1` is `[Alpha("alpha"), Numeric(1)]`).
    pre: Vec<Identifier>,
    /// Build metadata, kept for printing only.
    build: String,
}

/// One dot-separated pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    /// Digits only: compared as numbers.
    Numeric(u64),
    /// Anything else: compared as ASCII text, and above every numeric identifier.
    Alpha(String),
}

/// Why a text is not a version.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum VersionError {
    /// Nothing was given.
    #[error("empty version: write MAJOR.MINOR.PATCH, e.g. 0.2.0")]
    Empty,
    /// A leading `v`, which belongs to the tag, not the version.
    #[error("version {0:?} starts with `v`: write it without (the tag gets the `v`)")]
    LeadingV(String),
    /// Not three dot-separated numbers before any `-` or `+`.
    #[error("version {0:?} is not MAJOR.MINOR.PATCH")]
    Shape(String),
    /// One of the three numbers is not a number, or has a leading zero.
    #[error("version {text:?}: {part} {value:?} is not a number without leading zeros")]
    Number {
        /// The whole text.
        text: String,
        /// `major`, `minor` or `patch`.
        part: &'static str,
        /// What was there.
        value: String,
    },
    /// An empty or badly formed pre-release or build identifier.
    #[error("version {text:?}: {what} identifier {value:?} is empty, has a leading zero or a character other than [0-9A-Za-z-]")]
    Identifier {
        /// The whole text.
        text: String,
        /// `pre-release` or `build`.
        what: &'static str,
        /// The identifier.
        value: String,
    },
}

impl Version {
    /// semver precedence: numbers first; a pre-release is below its release; pre-release
    /// identifiers compare pairwise (numbers numerically and below text), the longer list
    /// winning a tie; build metadata is ignored (semver.org §11).
    pub(crate) fn precedence(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_pre(&self.pre, &other.pre),
            })
    }

    /// The git tag of this version: `v1.2.3`.
    pub(crate) fn tag(&self) -> String {
        format!("v{self}")
    }
}

/// Pairwise comparison of pre-release identifiers.
fn compare_pre(a: &[Identifier], b: &[Identifier]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x, y) {
            (Identifier::Numeric(x), Identifier::Numeric(y)) => x.cmp(y),
            (Identifier::Numeric(_), Identifier::Alpha(_)) => Ordering::Less,
            (Identifier::Alpha(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alpha(x), Identifier::Alpha(y)) => x.as_bytes().cmp(y.as_bytes()),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        if text.starts_with(['v', 'V']) {
            return Err(VersionError::LeadingV(text.to_owned()));
        }
        let (rest, build) = match text.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (text, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (rest, None),
        };
        let mut parts = core.split('.');
        let (Some(major), Some(minor), Some(patch), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VersionError::Shape(text.to_owned()));
        };
        let number = |part: &'static str, value: &str| {
            numeric(value).ok_or_else(|| VersionError::Number {
                text: text.to_owned(),
                part,
                value: value.to_owned(),
            })
        };
        let identifier_error = |what: &'static str, value: &str| VersionError::Identifier {
            text: text.to_owned(),
            what,
            value: value.to_owned(),
        };

        let mut pre_ids = Vec::new();
        if let Some(pre) = pre {
            for id in pre.split('.') {
                if !is_identifier(id) {
                    return Err(identifier_error("pre-release", id));
                }
                if id.bytes().all(|b| b.is_ascii_digit()) {
                    // semver.org §9: numeric identifiers have no leading zeros.
                    let n = numeric(id).ok_or_else(|| identifier_error("pre-release", id))?;
                    pre_ids.push(Identifier::Numeric(n));
                } else {
                    pre_ids.push(Identifier::Alpha(id.to_owned()));
                }
            }
        }
        if let Some(build) = build {
            if let Some(bad) = build.split('.').find(|id| !is_identifier(id)) {
                return Err(identifier_error("build", bad));
            }
        }
        Ok(Self {
            major: number("major", major)?,
            minor: number("minor", minor)?,
            patch: number("patch", patch)?,
            pre: pre_ids,
            build: build.unwrap_or_default().to_owned(),
        })
    }
}

/// Digits without a leading zero (a lone `0` is fine), within `u64`.
fn numeric(value: &str) -> Option<u64> {
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = value.len() > 1 && value.starts_with('0');
    if digits && !leading_zero {
        value.parse().ok()
    } else {
        None
    }
}

/// `[0-9A-Za-z-]+`.
fn is_identifier(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match id {
                Identifier::Numeric(n) => write!(f, "{n}")?,
                Identifier::Alpha(s) => f.write_str(s)?,
            }
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        match s.parse() {
            Ok(v) => v,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parses_and_prints_back() {
        for s in [
            "0.1.0",
            "1.22.333",
            "1.0.0-alpha",
            "1.0.0-rc.1",
            "1.0.0-x.7.z.92+build.5",
        ] {
            assert_eq!(v(s).to_string(), s);
        }
        let x = v("2.3.4");
        assert_eq!((x.major, x.minor, x.patch), (2, 3, 4));
        assert!(x.pre.is_empty());
        assert_eq!(
            v("2.3.4-beta.1").pre,
            [Identifier::Alpha("beta".into()), Identifier::Numeric(1)]
        );
        assert_eq!(v("0.2.0").tag(), "v0.2.0");
    }

    #[test]
    fn rejects_what_is_not_semver() {
        assert_eq!("".parse::<Version>(), Err(VersionError::Empty));
        assert!(matches!(
            "v1.2.3".parse::<Version>(),
            Err(VersionError::LeadingV(_))
        ));
        for s in ["1.2", "1.2.3.4", "1", "1..3"] {
            assert!(s.parse::<Version>().is_err(), "{s}");
        }
        assert!(matches!(
            "1.02.3".parse::<Version>(),
            Err(VersionError::Number { part: "minor", .. })
        ));
        assert!(matches!(
            "1.2.x".parse::<Version>(),
            Err(VersionError::Number { part: "patch", .. })
        ));
        assert!(matches!(
            "1.2.3-".parse::<Version>(),
            Err(VersionError::Identifier {
                what: "pre-release",
                ..
            })
        ));
        assert!(matches!(
            "1.2.3-01".parse::<Version>(),
            Err(VersionError::Identifier {
                what: "pre-release",
                ..
            })
        ));
        assert!(matches!(
            "1.2.3+a_b".parse::<Version>(),
            Err(VersionError::Identifier { what: "build", .. })
        ));
        assert!("99999999999999999999.0.0".parse::<Version>().is_err());
    }

    #[test]
    fn precedence_follows_semver_org() {
        // The example chain of semver.org §11, each strictly above the one before.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                v(pair[0]).precedence(&v(pair[1])),
                Ordering::Less,
                "{pair:?}"
            );
            assert_eq!(
                v(pair[1]).precedence(&v(pair[0])),
                Ordering::Greater,
                "{pair:?}"
            );
        }
        // Numbers compare as numbers, not text.
        assert_eq!(v("0.10.0").precedence(&v("0.9.0")), Ordering::Greater);
        // Build metadata does not count.
        assert_eq!(v("1.0.0+a").precedence(&v("1.0.0+b")), Ordering::Equal);
    }
}
