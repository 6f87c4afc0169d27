//! `cargo xtask bench`.

use anyhow::{bail, Result};

pub(crate) fn run(_args: &[String]) -> Result<()> {
    bail!("bench: not yet written")
}
