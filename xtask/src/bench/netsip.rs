//! The `netsip` the server suites measure: the release build, as a user would run it; and
//! the release build of `xtask` itself for the floor programs.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Result};

/// Builds `netsip` with `--release` and returns the binary's path.
pub(crate) fn release_binary() -> Result<PathBuf> {
    release_build("netsip")
}

/// Builds `xtask` with `--release` and returns the binary's path: the floor programs
/// (`bench/floor.rs`) run from it, so that what they measure is the kernel's work and not
/// that of unoptimised code (`cargo xtask` itself is a debug build).
pub(crate) fn release_xtask() -> Result<PathBuf> {
    release_build("xtask")
}

fn release_build(package: &str) -> Result<PathBuf> {
    crate::run(crate::cargo().args(["build", "--release", "-p", package]))?;
    let path = super::target_dir().join("release").join(package);
    if !path.is_file() {
        bail!("{} is missing after the build", path.display());
    }
    Ok(path)
}

/// `netsip --version`, e.g. `netsip 0.1.0`.
pub(crate) fn version(netsip: &std::path::Path) -> String {
    Command::new(netsip)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "netsip".to_owned())
}
