//! The release itself, in one work tree: bump every version, write the changelog, `cargo
//! publish --dry-run`, commit "release X.Y.Z" and tag `vX.Y.Z`.
//!
//! If anything fails before the commit, every file written is put back as it was, so that a
//! failed release leaves the tree as clean as it found it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::bump::{bump_lock, bump_manifest, Members};
use super::changelog::{self, Release};
use super::date::Date;
use super::git::Git;
use super::preflight::Plan;
use super::publish::{self, Checked};
use super::workspace::{normalize, Workspace};

/// The changelog's file name, at the workspace root.
pub(crate) const CHANGELOG: &str = "CHANGELOG.md";

/// What a release did.
#[derive(Debug)]
pub(crate) struct Applied {
    /// The files committed, relative to the top of the work tree.
    pub(crate) files: Vec<PathBuf>,
    /// The new changelog section.
    pub(crate) section: String,
    /// How `cargo publish --dry-run` was run.
    pub(crate) checked: Checked,
    /// `git show --stat` of the release commit.
    pub(crate) stat: String,
}

/// One file as it was and as it is to be.
struct Edit {
    /// The file.
    path: PathBuf,
    /// Its text before, `None` when it did not exist.
    before: Option<String>,
    /// Its new text.
    after: String,
}

/// Releases the workspace at `root` of the work tree `git` (whose top is `top`).
pub(crate) fn apply(
    cargo: &Path,
    git: &Git,
    top: &Path,
    root: &Path,
    plan: &Plan,
    date: Date,
    target_dir: Option<&Path>,
) -> Result<Applied> {
    // This tree's own view: in a rehearsal clone the member directories differ from the
    // original's.
    let ws = Workspace::load(cargo, root)?;
    let (edits, section) = plan_edits(git, &ws, plan, date, root)?;

    for e in &edits {
        if let Err(err) = fs::write(&e.path, &e.after) {
            restore(&edits);
            return Err(err).with_context(|| format!("cannot write {}", e.path.display()));
        }
    }
    let order: Vec<_> = plan
        .order
        .iter()
        .filter_map(|name| ws.packages.iter().find(|p| p.name == *name))
        .collect();
    let checked = match publish::dry_run(cargo, root, &ws, &order, target_dir, plan.output) {
        Ok(c) => c,
        Err(e) => {
            restore(&edits);
            return Err(e.context("cargo publish --dry-run failed: the bump was undone"));
        }
    };

    // Our edits, plus a lock file cargo rewrote while packaging (if it did).
    let mut files: Vec<PathBuf> = edits.iter().map(|e| e.path.clone()).collect();
    for line in git.status()? {
        let path = top.join(line.get(3..).unwrap_or_default());
        if path.file_name().is_some_and(|n| n == "Cargo.lock") && !files.contains(&path) {
            files.push(path);
        }
    }
    let message = format!("release {}", plan.version);
    if let Err(e) = git.commit(&files, &message) {
        restore(&edits);
        return Err(e.context("cannot commit the release: the bump was undone"));
    }
    git.tag(&plan.version.tag(), &message)?;
    Ok(Applied {
        files: files
            .iter()
            .map(|f| f.strip_prefix(top).unwrap_or(f).to_path_buf())
            .collect(),
        section,
        checked,
        stat: git.head_stat()?,
    })
}

/// Every file the release changes, with its new text, and the changelog section.
fn plan_edits(
    git: &Git,
    ws: &Workspace,
    plan: &Plan,
    date: Date,
    root: &Path,
) -> Result<(Vec<Edit>, String)> {
    let members = Members {
        crates: ws
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone(), normalize(p.dir())))
            .collect(),
    };
    let mut edits = Vec::new();
    for manifest in git.tracked_named("Cargo.toml")? {
        let text = read(&manifest)?;
        let dir = manifest.parent().unwrap_or(root);
        let new = bump_manifest(&text, dir, &members, &plan.version)
            .with_context(|| format!("cannot bump {}", manifest.display()))?;
        if let Some(after) = new {
            edits.push(Edit {
                path: manifest,
                before: Some(text),
                after,
            });
        }
    }
    for lock in git.tracked_named("Cargo.lock")? {
        let text = read(&lock)?;
        let new = bump_lock(&text, &members, &plan.version)
            .with_context(|| format!("cannot bump {}", lock.display()))?;
        if let Some(after) = new {
            edits.push(Edit {
                path: lock,
                before: Some(text),
                after,
            });
        }
    }

    let path = root.join(CHANGELOG);
    let before = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let (after, section) = changelog::release(
        before.as_deref(),
        &Release {
            version: &plan.version,
            date,
            previous_tag: plan.previous_tag.as_deref(),
            repository: plan.repository.as_deref(),
            crates: &plan.order,
            commits: &plan.commits,
        },
    );
    edits.push(Edit {
        path,
        before,
        after,
    });
    Ok((edits, section))
}

/// A file's text.
fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Puts every edited file back as it was (best effort: a failure is reported, not fatal).
fn restore(edits: &[Edit]) {
    for e in edits {
        let result = match &e.before {
            Some(text) => fs::write(&e.path, text),
            None => match fs::remove_file(&e.path) {
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(err) = result {
            eprintln!("xtask: cannot restore {}: {err}", e.path.display());
        }
    }
}
