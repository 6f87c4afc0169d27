//! `cargo xtask fuzz`.

use anyhow::{bail, Result};

pub(crate) fn run(_args: &[String]) -> Result<()> {
    bail!("fuzz: not yet written")
}
