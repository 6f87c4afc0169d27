//! Everything a release checks before it changes a byte, in this order: a clean tree, the
//! version (well formed, above the current one, no tag of it yet), every published crate's
//! metadata, a publish order, and `cargo test --workspace`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use super::args::Options;
use super::changelog::Commit;
use super::checks::metadata_problems;
use super::error::ReleaseError;
use super::git::Git;
use super::order::publish_order;
use super::tool::{self, Output};
use super::version::Version;
use super::workspace::Workspace;

/// What the checks found out, and all a release then needs.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The version to release.
    pub(crate) version: Version,
    /// The highest version among the published crates now.
    pub(crate) current: Version,
    /// Published crates, each after its dependencies.
    pub(crate) order: Vec<String>,
    /// The last release's tag, if any.
    pub(crate) previous_tag: Option<String>,
    /// The commits since then, oldest first.
    pub(crate) commits: Vec<Commit>,
    /// The crates' repository URL (the first crate's), for changelog links.
    pub(crate) repository: Option<String>,
    /// The top of the git work tree.
    pub(crate) top: PathBuf,
    /// The workspace root, as a path below `top`.
    pub(crate) root_in_repo: PathBuf,
    /// Where cargo builds in this workspace.
    pub(crate) target_directory: Option<PathBuf>,
    /// Where the output of the cargo commands goes.
    pub(crate) output: Output,
}

/// Runs every check on the workspace in `root`; an `Err` that is a [`ReleaseError`] is a
/// refusal, anything else a tool that could not run.
pub(crate) fn check(cargo: &Path, root: &Path, options: &Options) -> Result<Plan> {
    let git = Git::new(root);
    let top = git.toplevel()?;
    let dirty = git.status()?;
    if !dirty.is_empty() {
        return Err(ReleaseError::DirtyTree { files: dirty }.into());
    }

    let ws = Workspace::load(cargo, root)?;
    let published: Vec<_> = ws.publishable().collect();
    let current = published
        .iter()
        .map(|p| &p.version)
        .max_by(|a, b| a.precedence(b))
        .cloned()
        .ok_or(ReleaseError::NothingToPublish)?;
    let tag = options.version.tag();
    if git.tag_exists(&tag)? {
        return Err(ReleaseError::TagExists(tag).into());
    }
    // Equal is allowed: the manifests already carry a version that was never tagged (the first
    // release, or a bump made by hand); the tag check above rules out releasing one twice.
    if options.version.precedence(&current).is_lt() {
        return Err(ReleaseError::NotGreater {
            requested: options.version.to_string(),
            current: current.to_string(),
        }
        .into());
    }
    let problems = metadata_problems(&ws);
    if !problems.is_empty() {
        return Err(ReleaseError::Metadata(problems).into());
    }
    let order: Vec<String> = publish_order(&ws)?
        .into_iter()
        .map(|p| p.name.clone())
        .collect();

    if !options.skip_tests {
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root).args(["test", "--workspace"]);
        let done = tool::run(cmd, options.output)?;
        if !done.status.success() {
            return Err(ReleaseError::TestsFailed {
                status: done.status.to_string(),
                output: done.output,
            }
            .into());
        }
        let changed = git.status()?;
        if !changed.is_empty() {
            return Err(ReleaseError::TestsChangedTree(changed).into());
        }
    }

    let previous_tag = git.last_release_tag()?.map(|(t, _)| t);
    let commits = git.commits_since(previous_tag.as_deref())?;
    let root_in_repo = root
        .canonicalize()
        .ok()
        .and_then(|r| r.strip_prefix(&top).ok().map(Path::to_path_buf))
        .unwrap_or_default();
    Ok(Plan {
        version: options.version.clone(),
        current,
        repository: published.iter().find_map(|p| p.repository.clone()),
        order,
        previous_tag,
        commits,
        top,
        root_in_repo,
        target_directory: ws.target_directory.clone(),
        output: options.output,
    })
}
