//! Why a release stops before it changes anything.
//!
//! These are the refusals of the checks (a tree, a version or a manifest that is not ready);
//! a command that cannot run at all (git, cargo) is reported with its own output instead.

use std::fmt;

use thiserror::Error;

/// A release refused by its checks. Nothing has been changed when one of these is returned.
#[derive(Debug, Error)]
pub(crate) enum ReleaseError {
    /// `git status --porcelain` lists changes: a release commits exactly the bump.
    #[error("the work tree has uncommitted changes (commit or stash them first):\n{}", .files.join("\n"))]
    DirtyTree {
        /// The `git status --porcelain` lines.
        files: Vec<String>,
    },
    /// The requested version is not above the crates' current one.
    #[error("version {requested} is not greater than the current version {current}")]
    NotGreater {
        /// `--version`.
        requested: String,
        /// The highest version among the publishable crates.
        current: String,
    },
    /// The tag of the requested version exists already.
    #[error("tag {0} exists already: that version has been released")]
    TagExists(String),
    /// No member of the workspace is published.
    #[error("no crate of the workspace is published (every member has publish = false)")]
    NothingToPublish,
    /// Crate metadata that crates.io would refuse, or that a release needs.
    #[error("crate metadata is not ready for crates.io:\n{}", Lines(.0))]
    Metadata(Vec<Problem>),
    /// Path dependencies that go round in a circle: no crate of it can be published first.
    #[error("the crates {} depend on each other in a cycle: no publish order exists", .0.join(", "))]
    Cycle(Vec<String>),
    /// `cargo test --workspace` failed.
    #[error("`cargo test --workspace` failed ({status}): fix the tests, or pass --skip-tests to rehearse a --dry-run{output}")]
    TestsFailed {
        /// Its exit status.
        status: String,
        /// Its output, when it was kept rather than shown.
        output: String,
    },
    /// Running the tests changed tracked files (a lock file, a generated file).
    #[error("running the tests changed the work tree:\n{}", .0.join("\n"))]
    TestsChangedTree(Vec<String>),
}

/// One thing wrong with one crate's `[package]` metadata.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum Problem {
    /// A field crates.io requires, or that this project requires of every crate, is missing.
    #[error("{krate}: `{field}` is missing or empty")]
    Missing {
        /// The crate.
        krate: String,
        /// The field.
        field: &'static str,
    },
    /// `readme` names a file that is not there.
    #[error("{krate}: readme {path} does not exist")]
    ReadmeMissing {
        /// The crate.
        krate: String,
        /// The path it names.
        path: String,
    },
    /// More keywords than crates.io allows.
    #[error("{krate}: {count} keywords, crates.io allows at most {max}")]
    TooManyKeywords {
        /// The crate.
        krate: String,
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A keyword crates.io would reject.
    #[error("{krate}: keyword {keyword:?} is not 1 to 20 ASCII letters, digits, `_`, `-` or `+` starting with a letter or digit")]
    BadKeyword {
        /// The crate.
        krate: String,
        /// The keyword.
        keyword: String,
    },
    /// More categories than crates.io allows.
    #[error("{krate}: {count} categories, crates.io allows at most {max}")]
    TooManyCategories {
        /// The crate.
        krate: String,
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A category that is not a crates.io slug.
    #[error("{krate}: category {category:?} is not a crates.io category slug")]
    UnknownCategory {
        /// The crate.
        krate: String,
        /// The category.
        category: String,
    },
    /// A published crate depends on a member that is never published.
    #[error("{krate}: depends on {dependency}, which has publish = false")]
    UnpublishedDependency {
        /// The crate.
        krate: String,
        /// The dependency.
        dependency: String,
    },
}

/// Problems one per line, indented.
struct Lines<'a>(&'a [Problem]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {p}")?;
        }
        Ok(())
    }
}
