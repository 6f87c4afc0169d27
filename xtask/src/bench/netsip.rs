//! The `netsip` the server suites measure: the release build, as a user would run it.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Result};

/// Builds `netsip` with `--release` and returns the binary's path.
pub(crate) fn release_binary() -> Result<PathBuf> {
    crate::run(crate::cargo().args(["build", "--release", "-p", "netsip"]))?;
    let path = super::target_dir().join("release").join("netsip");
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
