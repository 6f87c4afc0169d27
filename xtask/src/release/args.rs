//! The command line of `cargo xtask release`.

use thiserror::Error;

use super::tool::Output;
use super::version::{Version, VersionError};

/// The usage line, printed for `--help` and on a usage error.
pub(crate) const USAGE: &str =
    "usage: cargo xtask release --version X.Y.Z [--dry-run] [--skip-tests]

  --version X.Y.Z  the new version of every crate (greater than the current one)
  --dry-run        rehearse everything (bump, changelog, publish --dry-run, commit, tag) in a
                   throwaway clone: this tree, its branches and tags are left exactly as they are
  --skip-tests     do not run `cargo test --workspace` first (meant for rehearsals, not releases)";

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// The version to release.
    pub(crate) version: Version,
    /// Rehearse in a throwaway clone.
    pub(crate) dry_run: bool,
    /// Do not run the tests first.
    pub(crate) skip_tests: bool,
    /// Where the output of `cargo test` and `cargo publish` goes: shown from the command line;
    /// kept by the release's own tests.
    pub(crate) output: Output,
}

/// A command line that does not say what to do.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum ArgsError {
    /// No `--version`.
    #[error("release: --version X.Y.Z is required\n{USAGE}")]
    NoVersion,
    /// `--version` at the end of the line.
    #[error("release: --version needs a value\n{USAGE}")]
    VersionValue,
    /// `--version` given twice.
    #[error("release: --version given twice")]
    TwiceVersion,
    /// The value of `--version` is not a version.
    #[error("release: {0}")]
    BadVersion(#[from] VersionError),
    /// Something else.
    #[error("release: unknown argument {0:?}\n{USAGE}")]
    Unknown(String),
}

/// The options, or `None` for `--help`.
pub(crate) fn parse(args: &[String]) -> Result<Option<Options>, ArgsError> {
    let mut version: Option<Version> = None;
    let mut dry_run = false;
    let mut skip_tests = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--dry-run" => {
                dry_run = true;
                continue;
            }
            "--skip-tests" => {
                skip_tests = true;
                continue;
            }
            "--version" => it.next().ok_or(ArgsError::VersionValue)?.as_str(),
            other => match other.strip_prefix("--version=") {
                Some(v) => v,
                None => return Err(ArgsError::Unknown(other.to_owned())),
            },
        };
        if version.is_some() {
            return Err(ArgsError::TwiceVersion);
        }
        version = Some(value.parse()?);
    }
    Ok(Some(Options {
        version: version.ok_or(ArgsError::NoVersion)?,
        dry_run,
        skip_tests,
        output: Output::Show,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_and_version_forms() {
        let o = match parse(&args(&["--version", "0.2.0", "--dry-run", "--skip-tests"])) {
            Ok(Some(o)) => o,
            other => panic!("{other:?}"),
        };
        assert_eq!(o.version.to_string(), "0.2.0");
        assert!(o.dry_run && o.skip_tests);
        let o = match parse(&args(&["--version=1.0.0-rc.1"])) {
            Ok(Some(o)) => o,
            other => panic!("{other:?}"),
        };
        assert_eq!(o.version.to_string(), "1.0.0-rc.1");
        assert!(!o.dry_run && !o.skip_tests);
        assert_eq!(parse(&args(&["--dry-run", "--help"])), Ok(None));
    }

    #[test]
    fn usage_errors() {
        assert_eq!(parse(&args(&[])), Err(ArgsError::NoVersion));
        assert_eq!(parse(&args(&["--dry-run"])), Err(ArgsError::NoVersion));
        assert_eq!(parse(&args(&["--version"])), Err(ArgsError::VersionValue));
        assert_eq!(
            parse(&args(&["--version", "1.0.0", "--version=2.0.0"])),
            Err(ArgsError::TwiceVersion)
        );
        assert!(matches!(
            parse(&args(&["--version", "v1.0.0"])),
            Err(ArgsError::BadVersion(VersionError::LeadingV(_)))
        ));
        assert_eq!(
            parse(&args(&["--version", "1.0.0", "--push"])),
            Err(ArgsError::Unknown("--push".into()))
        );
    }
}
