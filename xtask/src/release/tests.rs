//! The whole release on a small fake workspace in a temporary git repository: two crates,
//! `beta` depending on `alpha`, with the version written in each of the places the netsip
//! workspace writes it.
//!
//! These run real `git` and `cargo` (`cargo publish --dry-run` reads the crates.io index).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::error::{Problem, ReleaseError};
use super::*;

const ROOT_MANIFEST: &str = r#"[workspace]
resolver = "2"
members = ["crates/*"]

[workspace.package]
version = "0.1.0"  # one version for all
edition = "2021"
license = "MIT OR Apache-2.0"
repository = "https://example.org/fake"

[workspace.dependencies]
alpha = { path = "crates/alpha", version = "0.1.0" }
"#;

const ALPHA_MANIFEST: &str = r#"[package]
name = "alpha"
description = "The lower crate"
version.workspace = true
edition.workspace = true
license.workspace = true
repository.workspace = true
readme = "README.md"
keywords = ["sip", "fake"]
categories = ["network-programming"]
"#;

const BETA_MANIFEST: &str = r#"[package]
name = "beta"
description = "The upper crate"
version = "0.1.0"
edition.workspace = true
license.workspace = true
repository.workspace = true
readme = "README.md"
categories = ["network-programming", "parser-implementations"]

[dependencies]
alpha.workspace = true

[dev-dependencies]
# The same crate again, by path and version directly.
alpha = { path = "../alpha", version = "0.1.0" }
"#;

/// A fake workspace in a fresh git repository, committed and clean.
struct Fake {
    /// Removed on drop.
    dir: TempDir,
}

impl Fake {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("xtask-release-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let fake = Self { dir };
        fake.write(".gitignore", "/target\n");
        fake.write("Cargo.toml", ROOT_MANIFEST);
        fake.write("crates/alpha/Cargo.toml", ALPHA_MANIFEST);
        fake.write("crates/alpha/README.md", "# alpha\n");
        fake.write(
            "crates/alpha/src/lib.rs",
            "//! alpha\n/// One.\npub fn one() -> u32 {\n    1\n}\n",
        );
        fake.git(&["init", "--quiet"]);
        fake.git(&["config", "user.name", "Release Test"]);
        fake.git(&["config", "user.email", "release-test@example.org"]);
        fake.git(&["config", "commit.gpgsign", "false"]);
        fake.git(&["config", "tag.gpgsign", "false"]);
        fake.commit_all("alpha: one");
        fake.write("crates/beta/Cargo.toml", BETA_MANIFEST);
        fake.write("crates/beta/README.md", "# beta\n");
        fake.write(
            "crates/beta/src/lib.rs",
            "//! beta\n/// Two.\npub fn two() -> u32 {\n    alpha::one() + 1\n}\n\n\
             #[test]\nfn two_is_two() {\n    assert_eq!(two(), 2);\n}\n",
        );
        let lock = Command::new(cargo_program())
            .current_dir(fake.path())
            .args(["generate-lockfile", "--offline"])
            .output();
        assert!(
            lock.as_ref().is_ok_and(|o| o.status.success()),
            "cargo generate-lockfile: {lock:?}"
        );
        fake.commit_all("beta: two, from alpha");
        fake
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "-m", message]);
    }

    fn release(&self, version: &str, dry_run: bool, skip_tests: bool) -> Result<Report> {
        let options = Options {
            version: version.parse().unwrap_or_else(|e| panic!("{e}")),
            dry_run,
            skip_tests,
            output: tool::Output::Keep,
        };
        release(self.path(), &options, DATE)
    }

    /// Every file outside `.git` and `target`, every ref, `HEAD` and the status.
    fn snapshot(&self) -> (BTreeMap<PathBuf, Vec<u8>>, String, String, String) {
        let mut files = BTreeMap::new();
        let mut dirs = vec![self.path().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
                let rel = path
                    .strip_prefix(self.path())
                    .unwrap_or(&path)
                    .to_path_buf();
                if rel == Path::new(".git") || rel == Path::new("target") {
                    continue;
                }
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                    files.insert(rel, bytes);
                }
            }
        }
        (
            files,
            self.git(&["for-each-ref"]),
            self.git(&["rev-parse", "HEAD"]),
            self.git(&["status", "--porcelain", "--untracked-files=all"]),
        )
    }
}

const DATE: Date = Date {
    year: 2026,
    month: 5,
    day: 3,
};

/// The refusal inside a release error.
fn refusal(result: Result<Report>) -> ReleaseError {
    match result {
        Ok(report) => panic!("expected a refusal, the release went through:\n{report}"),
        Err(e) => match e.downcast::<ReleaseError>() {
            Ok(r) => r,
            Err(e) => panic!("expected a refusal, got: {e:#}"),
        },
    }
}

#[test]
fn release_bumps_every_version_writes_the_changelog_commits_and_tags() {
    let fake = Fake::new();
    let report = match fake.release("0.2.0", false, false) {
        Ok(r) => r,
        Err(e) => panic!("{e:#}"),
    };
    assert_eq!(report.plan.order, ["alpha", "beta"]);
    assert_eq!(report.plan.current.to_string(), "0.1.0");
    assert_eq!(report.plan.previous_tag, None);

    // Every place a version was written, in place, and nothing else in those lines.
    let root = fake.read("Cargo.toml");
    assert!(
        root.contains("version = \"0.2.0\"  # one version for all\n"),
        "{root}"
    );
    assert!(
        root.contains(r#"alpha = { path = "crates/alpha", version = "0.2.0" }"#),
        "{root}"
    );
    assert_eq!(fake.read("crates/alpha/Cargo.toml"), ALPHA_MANIFEST);
    let beta = fake.read("crates/beta/Cargo.toml");
    assert_eq!(
        beta,
        BETA_MANIFEST
            .replace(
                "version = \"0.1.0\"\nedition",
                "version = \"0.2.0\"\nedition"
            )
            .replace(r#"version = "0.1.0" }"#, r#"version = "0.2.0" }"#)
    );
    let lock = fake.read("Cargo.lock");
    assert!(
        lock.contains("name = \"alpha\"\nversion = \"0.2.0\""),
        "{lock}"
    );
    assert!(
        lock.contains("name = \"beta\"\nversion = \"0.2.0\""),
        "{lock}"
    );
    // cargo agrees: the lock file needs no update for the bumped manifests.
    let locked = Command::new(cargo_program())
        .current_dir(fake.path())
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .output();
    assert!(
        locked.as_ref().is_ok_and(|o| o.status.success()),
        "{locked:?}"
    );

    // The changelog, created, with every commit grouped by crate.
    let changelog = fake.read("CHANGELOG.md");
    let hashes: Vec<String> = fake
        .git(&["log", "--reverse", "--format=%h", "HEAD~1"])
        .lines()
        .map(str::to_owned)
        .collect();
    let section = format!(
        "## [0.2.0] - 2026-05-03\n\n### alpha\n\n- one ({})\n\n### beta\n\n- two, from alpha ({})\n",
        hashes[0], hashes[1]
    );
    assert_eq!(report.applied.section, section);
    assert!(changelog.starts_with("# Changelog\n"), "{changelog}");
    assert!(
        changelog.contains(&format!("## [Unreleased]\n\n{section}")),
        "{changelog}"
    );
    assert!(changelog.ends_with(
        "[Unreleased]: https://example.org/fake/compare/v0.2.0...HEAD\n\
         [0.2.0]: https://example.org/fake/releases/tag/v0.2.0\n"
    ));

    // One commit of exactly the bumped files, an annotated tag on it, a clean tree.
    assert_eq!(fake.git(&["log", "-1", "--format=%s"]), "release 0.2.0\n");
    let mut committed: Vec<String> = fake
        .git(&["show", "--name-only", "--format=", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    committed.sort();
    assert_eq!(
        committed,
        [
            "CHANGELOG.md",
            "Cargo.lock",
            "Cargo.toml",
            "crates/beta/Cargo.toml"
        ]
    );
    assert_eq!(fake.git(&["cat-file", "-t", "v0.2.0"]), "tag\n");
    assert_eq!(
        fake.git(&["rev-parse", "v0.2.0^{commit}"]),
        fake.git(&["rev-parse", "HEAD"])
    );
    assert_eq!(fake.git(&["status", "--porcelain"]), "");
    let printed = report.to_string();
    assert!(printed.contains("publish order: alpha, beta"), "{printed}");

    // The next release lists only what came after v0.2.0, above the 0.2.0 section.
    fake.write(
        "crates/alpha/src/lib.rs",
        "//! alpha\n/// One, faster.\npub fn one() -> u32 {\n    1\n}\n",
    );
    fake.commit_all("alpha: faster one");
    let report = match fake.release("0.3.0", false, true) {
        Ok(r) => r,
        Err(e) => panic!("{e:#}"),
    };
    assert_eq!(report.plan.previous_tag.as_deref(), Some("v0.2.0"));
    let hash = fake.git(&["log", "-1", "--format=%h", "HEAD~1"]);
    assert_eq!(
        report.applied.section,
        format!(
            "## [0.3.0] - 2026-05-03\n\n### alpha\n\n- faster one ({})\n",
            hash.trim()
        )
    );
    let changelog = fake.read("CHANGELOG.md");
    assert!(
        changelog.contains(&format!(
            "## [Unreleased]\n\n{}\n{section}",
            report.applied.section
        )),
        "{changelog}"
    );
    assert!(changelog.contains(
        "[Unreleased]: https://example.org/fake/compare/v0.3.0...HEAD\n\
         [0.3.0]: https://example.org/fake/compare/v0.2.0...v0.3.0\n\
         [0.2.0]: https://example.org/fake/releases/tag/v0.2.0\n"
    ));
    assert!(fake
        .read("crates/beta/Cargo.toml")
        .contains("version = \"0.3.0\"\nedition"));
}

#[test]
fn dry_run_rehearses_everything_and_leaves_the_tree_exactly_as_it_was() {
    let fake = Fake::new();
    let before = fake.snapshot();
    let report = match fake.release("0.2.0", true, true) {
        Ok(r) => r,
        Err(e) => panic!("{e:#}"),
    };
    assert_eq!(fake.snapshot(), before);
    assert!(!fake.path().join("CHANGELOG.md").exists());

    // What it rehearsed is what a release does.
    assert!(report.dry_run);
    let mut files: Vec<String> = report
        .applied
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "CHANGELOG.md",
            "Cargo.lock",
            "Cargo.toml",
            "crates/beta/Cargo.toml"
        ]
    );
    assert!(
        report.applied.stat.starts_with("release 0.2.0\n"),
        "{}",
        report.applied.stat
    );
    assert!(report
        .applied
        .section
        .starts_with("## [0.2.0] - 2026-05-03\n"));
    assert!(report.to_string().contains("this tree is unchanged"));
}

#[test]
fn a_dirty_tree_is_refused_before_anything_changes() {
    let fake = Fake::new();
    fake.write("notes.txt", "wip\n");
    let before = fake.snapshot();
    match refusal(fake.release("0.2.0", true, true)) {
        ReleaseError::DirtyTree { files } => assert_eq!(files, ["?? notes.txt"]),
        other => panic!("{other}"),
    }
    assert_eq!(fake.snapshot(), before);
}

#[test]
fn version_must_be_new() {
    let fake = Fake::new();
    match refusal(fake.release("0.0.9", false, true)) {
        ReleaseError::NotGreater { requested, current } => {
            assert_eq!((requested.as_str(), current.as_str()), ("0.0.9", "0.1.0"));
        }
        other => panic!("{other}"),
    }
    // A pre-release of the current version is below it.
    assert!(matches!(
        refusal(fake.release("0.1.0-rc.1", false, true)),
        ReleaseError::NotGreater { .. }
    ));
    fake.git(&["tag", "v0.1.0"]);
    assert!(matches!(
        refusal(fake.release("0.1.0", false, true)),
        ReleaseError::TagExists(t) if t == "v0.1.0"
    ));
    assert_eq!(
        fake.git(&["log", "-1", "--format=%s"]),
        "beta: two, from alpha\n"
    );
}

#[test]
fn incomplete_metadata_is_refused() {
    let fake = Fake::new();
    fake.write(
        "crates/beta/Cargo.toml",
        &BETA_MANIFEST
            .replace("description = \"The upper crate\"\n", "")
            .replace("network-programming", "networking"),
    );
    fs::remove_file(fake.path().join("crates/alpha/README.md")).unwrap_or_else(|e| panic!("{e}"));
    fake.commit_all("break the metadata");
    match refusal(fake.release("0.2.0", true, true)) {
        ReleaseError::Metadata(problems) => {
            assert!(
                problems.contains(&Problem::Missing {
                    krate: "beta".into(),
                    field: "description"
                }),
                "{problems:?}"
            );
            assert!(
                problems.contains(&Problem::UnknownCategory {
                    krate: "beta".into(),
                    category: "networking".into()
                }),
                "{problems:?}"
            );
            assert!(
                problems
                    .iter()
                    .any(|p| matches!(p, Problem::ReadmeMissing { krate, .. } if krate == "alpha")),
                "{problems:?}"
            );
        }
        other => panic!("{other}"),
    }
}

#[test]
fn failing_tests_stop_the_release() {
    let fake = Fake::new();
    fake.write(
        "crates/beta/src/lib.rs",
        "//! beta\n/// Two.\npub fn two() -> u32 {\n    alpha::one() + 1\n}\n\n\
         #[test]\nfn two_is_three() {\n    assert_eq!(two(), 3);\n}\n",
    );
    fake.commit_all("beta: a wrong test");
    let before = fake.snapshot();
    assert!(matches!(
        refusal(fake.release("0.2.0", false, false)),
        ReleaseError::TestsFailed { output, .. } if output.contains("two_is_three")
    ));
    assert_eq!(fake.snapshot(), before);
}
