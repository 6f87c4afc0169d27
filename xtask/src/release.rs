//! `cargo xtask release --version X.Y.Z [--dry-run] [--skip-tests]`: one version for every
//! crate, released together.
//!
//! 1. Checks, before anything changes ([`preflight`]): the work tree is clean; X.Y.Z is
//!    semver, not below the crates' current version, and not tagged yet; every published
//!    crate has a description, a license, a repository, a readme file that exists, at most 5
//!    valid keywords and crates.io category slugs; the path dependencies allow a publish order;
//!    `cargo test --workspace` passes (unless `--skip-tests`).
//! 2. The release ([`apply`]): every version in every tracked `Cargo.toml` and `Cargo.lock`
//!    set to X.Y.Z ([`bump`], with `toml_edit`, so that comments and layout stay);
//!    `CHANGELOG.md` gets a `## [X.Y.Z] - date` section from Unreleased, or from the commits
//!    since the last tag grouped by crate ([`changelog`]); `cargo publish --dry-run` of every
//!    crate ([`publish`]); a commit "release X.Y.Z" of exactly those files; an annotated tag
//!    `vX.Y.Z`. Nothing is pushed and nothing is uploaded: the report ends with the commands
//!    that do.
//!
//! `--dry-run` performs step 2 in a throwaway `git clone` of `HEAD` (builds shared with this
//! workspace's target directory, so that the rehearsal compiles little), prints what it did
//! and deletes the clone: this tree, its branches and its tags stay exactly as they were.

mod apply;
mod args;
mod bump;
mod categories;
mod changelog;
mod checks;
mod date;
mod error;
mod git;
mod order;
mod preflight;
mod publish;
mod report;
mod tool;
mod version;
mod workspace;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub(crate) use self::args::Options;
pub(crate) use self::date::Date;
pub(crate) use self::report::Report;

/// `cargo xtask release ARGS` on this workspace, today.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let Some(options) = args::parse(args)? else {
        println!("{}", args::USAGE);
        return Ok(());
    };
    let report = release(&crate::root(), &options, Date::today())?;
    print!("{report}");
    Ok(())
}

/// Releases (or with `options.dry_run` rehearses the release of) the workspace at `root`,
/// dating the changelog section `date`.
pub(crate) fn release(root: &Path, options: &Options, date: Date) -> Result<Report> {
    let cargo = cargo_program();
    let plan = preflight::check(&cargo, root, options)?;
    let git = git::Git::new(root);

    let applied = if options.dry_run {
        let tmp = tempfile::Builder::new()
            .prefix("netsip-release-")
            .tempdir()
            .context("cannot make a temporary directory for the rehearsal")?;
        let top = tmp.path().join("repo");
        let clone = git.clone_to(&top)?;
        let clone_root = top.join(&plan.root_in_repo);
        // Builds go where this workspace's go, unless the caller chose a place.
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => Some(PathBuf::from(dir)),
            None => plan.target_directory.clone(),
        };
        let applied = apply::apply(
            &cargo,
            &clone,
            &top,
            &clone_root,
            &plan,
            date,
            target.as_deref(),
        )?;
        // Removed here (not only on drop) so that a failure to remove is reported.
        tmp.close()
            .context("cannot remove the rehearsal's temporary clone")?;
        applied
    } else {
        apply::apply(&cargo, &git, &plan.top, root, &plan, date, None)?
    };
    Ok(Report {
        dry_run: options.dry_run,
        plan,
        applied,
    })
}

/// The `cargo` that runs xtask (its `CARGO`), or the one on `PATH`.
fn cargo_program() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}
