//! The git operations of a release, each one `git -C <dir> ...` run to completion.
//!
//! Only local operations: a release commits and tags, and never pushes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::changelog::Commit;
use super::version::Version;

/// A git work tree.
#[derive(Debug, Clone)]
pub(crate) struct Git {
    /// Its top directory.
    dir: PathBuf,
}

impl Git {
    /// The work tree in `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// Runs `git -C dir args`, returning its standard output, or failing with its standard
    /// error.
    fn run<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir).args(args);
        let out = cmd
            .output()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        if !out.status.success() {
            bail!(
                "{cmd:?} failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The top directory of the work tree `dir` is in (fails outside a git work tree).
    pub(crate) fn toplevel(&self) -> Result<PathBuf> {
        let top = self.run(["rev-parse", "--show-toplevel"])?;
        Ok(PathBuf::from(top.trim_end_matches(['\n', '\r'])))
    }

    /// `git status --porcelain` lines: empty for a clean tree (ignored files do not count).
    pub(crate) fn status(&self) -> Result<Vec<String>> {
        Ok(self
            .run(["status", "--porcelain", "--untracked-files=all"])?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// Whether tag `name` exists.
    pub(crate) fn tag_exists(&self, name: &str) -> Result<bool> {
        let refname = format!("refs/tags/{name}");
        Ok(!self
            .run(["for-each-ref", "--format=%(refname)", refname.as_str()])?
            .trim()
            .is_empty())
    }

    /// The highest `vX.Y.Z` tag reachable from `HEAD`, by semver precedence (tags that do not
    /// parse as a version are not releases and are skipped).
    pub(crate) fn last_release_tag(&self) -> Result<Option<(String, Version)>> {
        let tags = self.run(["tag", "--list", "v*", "--merged", "HEAD"])?;
        Ok(tags
            .lines()
            .filter_map(|t| {
                let v = t.strip_prefix('v')?.parse::<Version>().ok()?;
                Some((t.to_owned(), v))
            })
            .max_by(|(_, a), (_, b)| a.precedence(b)))
    }

    /// Commits (merges left out) after `since` up to `HEAD`, or all of them; oldest first.
    pub(crate) fn commits_since(&self, since: Option<&str>) -> Result<Vec<Commit>> {
        let range = since.map_or_else(|| "HEAD".to_owned(), |t| format!("{t}..HEAD"));
        // A unit separator between hash and subject: neither can contain it.
        let log = self.run([
            "log",
            "--reverse",
            "--no-merges",
            "--format=%h%x1f%s",
            range.as_str(),
        ])?;
        Ok(log
            .lines()
            .filter_map(|l| l.split_once('\x1f'))
            .map(|(hash, subject)| Commit {
                hash: hash.to_owned(),
                subject: subject.to_owned(),
            })
            .collect())
    }

    /// Tracked files whose name is `name` (`Cargo.toml`), anywhere in the tree.
    pub(crate) fn tracked_named(&self, name: &str) -> Result<Vec<PathBuf>> {
        let pattern = format!("*{name}");
        Ok(self
            .run(["ls-files", "-z", "--", pattern.as_str()])?
            .split('\0')
            .filter(|p| Path::new(p).file_name() == Some(OsStr::new(name)))
            .map(|p| self.dir.join(p))
            .collect())
    }

    /// `git add` of `paths`, then one commit of exactly those with `message`.
    pub(crate) fn commit(&self, paths: &[PathBuf], message: &str) -> Result<()> {
        let mut add: Vec<&OsStr> = vec![OsStr::new("add"), OsStr::new("--")];
        add.extend(paths.iter().map(|p| p.as_os_str()));
        self.run(add)?;
        let mut commit: Vec<&OsStr> = vec![
            OsStr::new("commit"),
            OsStr::new("--quiet"),
            OsStr::new("-m"),
            OsStr::new(message),
            OsStr::new("--"),
        ];
        commit.extend(paths.iter().map(|p| p.as_os_str()));
        self.run(commit)?;
        Ok(())
    }

    /// An annotated tag `name` on `HEAD`.
    pub(crate) fn tag(&self, name: &str, message: &str) -> Result<()> {
        self.run(["tag", "--annotate", "--message", message, name])?;
        Ok(())
    }

    /// `git clone` of this repository's `HEAD` into `dest`, with this repository's committer
    /// identity (a clone does not copy local config, and the rehearsal commits and tags).
    pub(crate) fn clone_to(&self, dest: &Path) -> Result<Self> {
        let mut cmd = Command::new("git");
        cmd.args(["clone", "--quiet", "--no-hardlinks"])
            .arg(&self.dir)
            .arg(dest);
        let out = cmd
            .output()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        if !out.status.success() {
            bail!(
                "{cmd:?} failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        }
        let clone = Self::new(dest);
        for key in ["user.name", "user.email"] {
            // Absent is fine: git then uses its own defaults or fails at commit, as it would here.
            if let Ok(value) = self.run(["config", key]) {
                clone.run(["config", key, value.trim()])?;
            }
        }
        Ok(clone)
    }

    /// `git show --stat` of `HEAD`: what the last commit changed, for the report.
    pub(crate) fn head_stat(&self) -> Result<String> {
        self.run(["show", "--stat", "--format=%s", "HEAD"])
    }
}
