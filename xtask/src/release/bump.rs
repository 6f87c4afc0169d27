//! Setting the new version everywhere it is written, keeping each file's comments and layout.
//!
//! In a `Cargo.toml`: `[workspace.package] version`, a member's literal `[package] version`
//! (not that of a crate outside the workspace, such as a `fuzz/` crate), and the
//! `version` of every dependency given by `path` on a workspace member (in
//! `[workspace.dependencies]`, `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`
//! and their `[target.'cfg(..)'.*]` forms); an inherited `version.workspace = true` is left as
//! it is. In a `Cargo.lock`: the `version` of each member's `[[package]]` entry (the one
//! without a `source`), and a `"name version"` reference to it, so that the lock file agrees
//! with the manifests without a resolver run (which could move other dependencies too).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use toml_edit::{DocumentMut, Item, TableLike, Value};

use super::version::Version;
use super::workspace::normalize;

/// The workspace members a bump is about.
#[derive(Debug)]
pub(crate) struct Members {
    /// Each member's name, old version and directory (normalised).
    pub(crate) crates: Vec<(String, Version, PathBuf)>,
}

impl Members {
    /// Whether `dir` is a member's directory.
    fn is_member_dir(&self, dir: &Path) -> bool {
        let dir = normalize(dir);
        self.crates.iter().any(|(_, _, d)| *d == dir)
    }

    /// The old version of the member called `name`.
    fn old_version(&self, name: &str) -> Option<&Version> {
        self.crates
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v)
    }
}

/// The dependency tables of a manifest (or of one `[target.*]` table).
const DEPENDENCY_TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// `text`, the `Cargo.toml` in `manifest_dir`, with `version` set as the module doc says;
/// `None` when nothing in it names a version to change.
pub(crate) fn bump_manifest(
    text: &str,
    manifest_dir: &Path,
    members: &Members,
    version: &Version,
) -> Result<Option<String>> {
    let mut doc: DocumentMut = text.parse().context("not valid TOML")?;
    let new = version.to_string();

    if let Some(ws) = doc.get_mut("workspace").and_then(Item::as_table_like_mut) {
        if let Some(v) = ws
            .get_mut("package")
            .and_then(Item::as_table_like_mut)
            .and_then(|p| p.get_mut("version"))
        {
            set_string(v, &new);
        }
        if let Some(deps) = ws.get_mut("dependencies").and_then(Item::as_table_like_mut) {
            bump_dependencies(deps, manifest_dir, members, &new);
        }
    }
    if members.is_member_dir(manifest_dir) {
        if let Some(v) = doc
            .get_mut("package")
            .and_then(Item::as_table_like_mut)
            .and_then(|p| p.get_mut("version"))
        {
            // `version.workspace = true` is a table, not a string: inherited, left alone.
            set_string(v, &new);
        }
    }
    for table in DEPENDENCY_TABLES {
        if let Some(deps) = doc.get_mut(table).and_then(Item::as_table_like_mut) {
            bump_dependencies(deps, manifest_dir, members, &new);
        }
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, target) in targets.iter_mut() {
            let Some(target) = target.as_table_like_mut() else {
                continue;
            };
            for table in DEPENDENCY_TABLES {
                if let Some(deps) = target.get_mut(table).and_then(Item::as_table_like_mut) {
                    bump_dependencies(deps, manifest_dir, members, &new);
                }
            }
        }
    }
    let out = doc.to_string();
    Ok((out != text).then_some(out))
}

/// Sets `version` of each `{ path = <member>, version = .. }` entry, keeping a leading
/// operator (`=0.1.0` becomes `=0.2.0`).
fn bump_dependencies(deps: &mut dyn TableLike, manifest_dir: &Path, members: &Members, new: &str) {
    for (_, dep) in deps.iter_mut() {
        let Some(dep) = dep.as_table_like_mut() else {
            continue;
        };
        let Some(path) = dep.get("path").and_then(Item::as_str) else {
            continue;
        };
        if !members.is_member_dir(&manifest_dir.join(path)) {
            continue;
        }
        let Some(item) = dep.get_mut("version") else {
            continue;
        };
        let Some(old) = item.as_str() else {
            continue;
        };
        let operator: String = old
            .chars()
            .take_while(|c| matches!(c, '=' | '^' | '~' | ' '))
            .collect();
        set_string(item, &format!("{operator}{new}"));
    }
}

/// Replaces a string value, keeping the spaces and comments around it.
fn set_string(item: &mut Item, new: &str) {
    let Some(value) = item.as_value_mut() else {
        return;
    };
    if value.as_str().is_none() || value.as_str() == Some(new) {
        return;
    }
    let decor = value.decor().clone();
    *value = Value::from(new);
    *value.decor_mut() = decor;
}

/// `text`, a `Cargo.lock`, with the members' entries at `version`; `None` when none changes.
pub(crate) fn bump_lock(
    text: &str,
    members: &Members,
    version: &Version,
) -> Result<Option<String>> {
    let mut doc: DocumentMut = text.parse().context("not valid TOML")?;
    let new = version.to_string();
    let Some(packages) = doc
        .get_mut("package")
        .and_then(Item::as_array_of_tables_mut)
    else {
        return Ok(None);
    };
    for package in packages.iter_mut() {
        let name = package
            .get("name")
            .and_then(Item::as_str)
            .map(str::to_owned);
        // Only members: the path entries, which have no `source`. A registry crate of the same
        // name (a published older version) keeps its version.
        if let Some(name) = name {
            if members.old_version(&name).is_some() && !package.contains_key("source") {
                if let Some(v) = package.get_mut("version") {
                    set_string(v, &new);
                }
            }
        }
        // `"name version"` appears when two versions of one name are in the graph.
        if let Some(deps) = package.get_mut("dependencies").and_then(Item::as_array_mut) {
            for dep in deps.iter_mut() {
                let Some(s) = dep.as_str() else { continue };
                let mut words = s.split(' ');
                let (Some(name), Some(old), None) = (words.next(), words.next(), words.next())
                else {
                    continue;
                };
                if members
                    .old_version(name)
                    .is_some_and(|v| v.to_string() == old)
                {
                    let decor = dep.decor().clone();
                    *dep = Value::from(format!("{name} {new}"));
                    *dep.decor_mut() = decor;
                }
            }
        }
    }
    let out = doc.to_string();
    Ok((out != text).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(s: &str) -> Version {
        match s.parse() {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn members() -> Members {
        Members {
            crates: vec![
                (
                    "alpha".into(),
                    version("0.1.0"),
                    PathBuf::from("/ws/crates/alpha"),
                ),
                (
                    "beta".into(),
                    version("0.1.0"),
                    PathBuf::from("/ws/crates/beta"),
                ),
            ],
        }
    }

    fn bumped(text: &str, dir: &str) -> String {
        match bump_manifest(text, Path::new(dir), &members(), &version("0.2.0")) {
            Ok(Some(s)) => s,
            Ok(None) => panic!("nothing changed in\n{text}"),
            Err(e) => panic!("{e:#}"),
        }
    }

    #[test]
    fn root_manifest_keeps_its_layout() {
        let root = r#"[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.1.0"   # every crate's
edition = "2021"

[workspace.dependencies]
# the members
alpha = { path = "crates/alpha", version = "0.1.0" }
beta = { path = "crates/beta", version = "=0.1.0", features = ["x"] }
# not a member, and a registry crate: both untouched
other = { path = "vendor/other", version = "0.1.0" }
bytes = "0.1.0"
"#;
        let expected = r#"[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.2.0"   # every crate's
edition = "2021"

[workspace.dependencies]
# the members
alpha = { path = "crates/alpha", version = "0.2.0" }
beta = { path = "crates/beta", version = "=0.2.0", features = ["x"] }
# not a member, and a registry crate: both untouched
other = { path = "vendor/other", version = "0.1.0" }
bytes = "0.1.0"
"#;
        assert_eq!(bumped(root, "/ws"), expected);
    }

    #[test]
    fn member_manifest_direct_and_target_dependencies() {
        let beta = r#"[package]
name = "beta"
version = "0.1.0"
edition.workspace = true

[dependencies]
alpha = { path = "../alpha", version = "0.1.0", optional = true }
alpha-ws.workspace = true

[dev-dependencies.alpha2]
package = "alpha"
path = "../alpha"
version = "0.1.0"

[target.'cfg(unix)'.build-dependencies]
alpha = { path = "../../crates/alpha", version = "^0.1.0" }
"#;
        let out = bumped(beta, "/ws/crates/beta");
        assert!(
            out.contains("name = \"beta\"\nversion = \"0.2.0\"\n"),
            "{out}"
        );
        assert!(
            out.contains(r#"alpha = { path = "../alpha", version = "0.2.0", optional = true }"#),
            "{out}"
        );
        assert!(out.contains("alpha-ws.workspace = true"), "{out}");
        assert!(
            out.contains("path = \"../alpha\"\nversion = \"0.2.0\"\n"),
            "{out}"
        );
        assert!(out.contains(r#"version = "^0.2.0" }"#), "{out}");
    }

    #[test]
    fn inherited_versions_outsiders_and_path_only_dependencies_are_left_alone() {
        let inherited = "[package]\nname = \"beta\"\nversion.workspace = true\n";
        match bump_manifest(
            inherited,
            Path::new("/ws/crates/beta"),
            &members(),
            &version("0.2.0"),
        ) {
            Ok(None) => {}
            other => panic!("expected no change, got {other:?}"),
        }
        // A fuzz crate is its own workspace: its version is its own.
        let fuzz = r#"[package]
name = "alpha-fuzz"
version = "0.0.0"

[dependencies]
alpha = { path = ".." }
"#;
        match bump_manifest(
            fuzz,
            Path::new("/ws/crates/alpha/fuzz"),
            &members(),
            &version("0.2.0"),
        ) {
            Ok(None) => {}
            other => panic!("expected no change, got {other:?}"),
        }
        assert!(bump_manifest(
            "[package\n",
            Path::new("/ws"),
            &members(),
            &version("0.2.0")
        )
        .is_err());
    }

    #[test]
    fn lock_file_members_only() {
        let lock = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "alpha"
version = "0.1.0"

[[package]]
name = "alpha"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "beta"
version = "0.1.0"
dependencies = [
 "alpha 0.1.0",
 "alpha 0.1.0 (registry+https://github.com/rust-lang/crates.io-index)",
 "bytes",
]

[[package]]
name = "bytes"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let expected = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "alpha"
version = "0.2.0"

[[package]]
name = "alpha"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "beta"
version = "0.2.0"
dependencies = [
 "alpha 0.2.0",
 "alpha 0.1.0 (registry+https://github.com/rust-lang/crates.io-index)",
 "bytes",
]

[[package]]
name = "bytes"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        match bump_lock(lock, &members(), &version("0.2.0")) {
            Ok(Some(out)) => assert_eq!(out, expected),
            other => panic!("{other:?}"),
        }
        match bump_lock(expected, &members(), &version("0.2.0")) {
            Ok(None) => {}
            other => panic!("a second bump must change nothing: {other:?}"),
        }
    }
}
