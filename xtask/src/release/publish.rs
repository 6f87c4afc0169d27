//! `cargo publish --dry-run` of every published crate: packages each one and builds it from
//! its package, as crates.io would receive it, uploading nothing.
//!
//! A crate that depends on a sibling cannot be verified alone before that sibling is on
//! crates.io: the packaged manifest names the sibling by version only. Cargo 1.90 and later
//! publish a workspace as a whole (`cargo publish --workspace`), verifying each crate against
//! the packages of its siblings in a local registry, in dependency order; that is used when
//! `cargo publish --help` lists `--workspace`. With an older cargo, the crates without
//! sibling dependencies get `cargo publish --dry-run`, and the others `cargo package
//! --no-verify` (their manifest and file list are still checked, their build is not).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::tool::{self, Output};

use super::workspace::{DependencyKind, Package, Workspace};

/// How the crates were checked, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checked {
    /// One `cargo publish --workspace --dry-run`.
    Workspace,
    /// Per crate; the names are those only packaged, not built.
    PerCrate {
        /// Crates that got `cargo package --no-verify`.
        packaged_only: Vec<String>,
    },
}

/// Runs the dry run in `root`, the crates in `order`, builds under `target_dir` when given.
pub(crate) fn dry_run(
    cargo: &Path,
    root: &Path,
    ws: &Workspace,
    order: &[&Package],
    target_dir: Option<&Path>,
    output: Output,
) -> Result<Checked> {
    let command = |args: &[&str]| {
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root).args(args);
        if let Some(dir) = target_dir {
            cmd.env("CARGO_TARGET_DIR", dir);
        }
        cmd
    };
    // The bump is not committed yet when this runs: hence --allow-dirty.
    if supports_workspace_publish(cargo)? {
        run(
            command(&["publish", "--workspace", "--dry-run", "--allow-dirty"]),
            output,
        )?;
        return Ok(Checked::Workspace);
    }
    let mut packaged_only = Vec::new();
    for p in order {
        if has_sibling_dependency(ws, p) {
            eprintln!(
                "xtask: {}: cargo package --no-verify (this cargo has no `publish --workspace`, \
                 and the crate's siblings are not on crates.io yet)",
                p.name
            );
            run(
                command(&["package", "--no-verify", "--allow-dirty", "-p", &p.name]),
                output,
            )?;
            packaged_only.push(p.name.clone());
        } else {
            run(
                command(&["publish", "--dry-run", "--allow-dirty", "-p", &p.name]),
                output,
            )?;
        }
    }
    Ok(Checked::PerCrate { packaged_only })
}

/// Whether `cargo publish --help` lists `--workspace`.
fn supports_workspace_publish(cargo: &Path) -> Result<bool> {
    let mut cmd = Command::new(cargo);
    cmd.args(["publish", "--help"]);
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    Ok(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("--workspace"))
}

/// Whether `p` keeps a dependency on another member in its published manifest.
fn has_sibling_dependency(ws: &Workspace, p: &Package) -> bool {
    p.path_dependencies
        .iter()
        .filter(|d| d.kind != DependencyKind::Dev || d.has_version)
        .any(|d| ws.member_at(&d.path).is_some_and(|m| m.name != p.name))
}

/// Runs `cmd`, failing on a non-zero exit with its output (when kept).
fn run(cmd: Command, output: Output) -> Result<()> {
    let shown = format!("{cmd:?}");
    let done = tool::run(cmd, output)?;
    if !done.status.success() {
        bail!("{shown} failed: {}\n{}", done.status, done.output);
    }
    Ok(())
}
