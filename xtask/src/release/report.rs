//! What `cargo xtask release` prints when it is done.

use std::fmt;

use super::apply::Applied;
use super::preflight::Plan;
use super::publish::Checked;

/// The outcome of a release or a rehearsal.
#[derive(Debug)]
pub(crate) struct Report {
    /// Whether it was a rehearsal in a throwaway clone.
    pub(crate) dry_run: bool,
    /// What the checks found.
    pub(crate) plan: Plan,
    /// What the release did.
    pub(crate) applied: Applied,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (plan, applied) = (&self.plan, &self.applied);
        let tag = plan.version.tag();
        if self.dry_run {
            writeln!(
                f,
                "release {} rehearsed in a throwaway clone (--dry-run): this tree is unchanged",
                plan.version
            )?;
        } else {
            writeln!(f, "released {} (committed and tagged {tag})", plan.version)?;
        }
        writeln!(
            f,
            "version: {} -> {}; previous release: {}",
            plan.current,
            plan.version,
            plan.previous_tag.as_deref().unwrap_or("none")
        )?;
        writeln!(f, "publish order: {}", plan.order.join(", "))?;
        match &applied.checked {
            Checked::Workspace => writeln!(f, "cargo publish --workspace --dry-run: passed")?,
            Checked::PerCrate { packaged_only } if packaged_only.is_empty() => {
                writeln!(f, "cargo publish --dry-run of each crate: passed")?
            }
            Checked::PerCrate { packaged_only } => writeln!(
                f,
                "cargo publish --dry-run: passed; only packaged (not built, their siblings are \
                 not on crates.io yet): {}",
                packaged_only.join(", ")
            )?,
        }
        let files: Vec<String> = applied
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        writeln!(f, "files: {}", files.join(", "))?;
        writeln!(f, "commit and tag {tag}:")?;
        for line in applied.stat.lines() {
            writeln!(f, "  {line}")?;
        }
        writeln!(f, "CHANGELOG.md:")?;
        for line in applied.section.lines() {
            writeln!(f, "  {line}")?;
        }
        if self.dry_run {
            writeln!(
                f,
                "to release: cargo xtask release --version {}",
                plan.version
            )?;
        } else {
            writeln!(
                f,
                "to publish: git push origin HEAD {tag} && cargo publish --workspace \
                 (or cargo publish -p CRATE in the order above)"
            )?;
        }
        Ok(())
    }
}
