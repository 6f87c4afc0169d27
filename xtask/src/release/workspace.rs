//! The workspace as `cargo metadata --format-version 1 --no-deps` describes it: its members,
//! their versions, publishing metadata and path dependencies.
//!
//! Reading cargo's own view (rather than the manifests) gets `version.workspace = true` and the
//! other inherited fields resolved exactly as `cargo publish` will see them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use super::version::Version;

/// The members of one workspace.
#[derive(Debug)]
pub(crate) struct Workspace {
    /// Where cargo builds (`target/` unless configured otherwise).
    pub(crate) target_directory: Option<PathBuf>,
    /// Every member, in the order cargo lists them.
    pub(crate) packages: Vec<Package>,
}

/// One member crate.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    /// Its name on crates.io.
    pub(crate) name: String,
    /// Its version now.
    pub(crate) version: Version,
    /// Its `Cargo.toml`.
    pub(crate) manifest_path: PathBuf,
    /// `false` for `publish = false` (or a registry list without crates.io).
    pub(crate) publishable: bool,
    /// `description`.
    pub(crate) description: Option<String>,
    /// `license` (an SPDX expression).
    pub(crate) license: Option<String>,
    /// `license-file`, the alternative to `license`.
    pub(crate) license_file: Option<String>,
    /// `repository`.
    pub(crate) repository: Option<String>,
    /// `readme`, relative to the crate's directory.
    pub(crate) readme: Option<String>,
    /// `keywords`.
    pub(crate) keywords: Vec<String>,
    /// `categories`.
    pub(crate) categories: Vec<String>,
    /// Dependencies on other crates given by path.
    pub(crate) path_dependencies: Vec<PathDependency>,
}

/// A dependency of a member on a crate in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathDependency {
    /// The depended-on package's name.
    pub(crate) name: String,
    /// The depended-on package's directory.
    pub(crate) path: PathBuf,
    /// `[dependencies]`, `[build-dependencies]` or `[dev-dependencies]`.
    pub(crate) kind: DependencyKind,
    /// Whether it also names a version, and so stays in the published manifest (cargo drops a
    /// path-only dev-dependency when packaging, and refuses any other path-only one).
    pub(crate) has_version: bool,
}

/// The table a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DependencyKind {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`.
    Dev,
}

impl Package {
    /// The crate's directory.
    pub(crate) fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }
}

impl Workspace {
    /// Runs `cargo metadata --no-deps` in `root`.
    pub(crate) fn load(cargo: &Path, root: &Path) -> Result<Self> {
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root)
            .args(["metadata", "--format-version", "1", "--no-deps"]);
        let out = cmd
            .output()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        if !out.status.success() {
            bail!(
                "{cmd:?} failed in {}: {}\n{}",
                root.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let json = String::from_utf8_lossy(&out.stdout);
        Self::from_metadata(&json)
            .with_context(|| format!("cannot read cargo metadata of {}", root.display()))
    }

    /// Reads the JSON of `cargo metadata --format-version 1 --no-deps`.
    pub(crate) fn from_metadata(json: &str) -> Result<Self> {
        let meta: Value = serde_json::from_str(json).context("cargo metadata is not JSON")?;
        let packages = meta
            .get("packages")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("cargo metadata has no packages"))?
            .iter()
            .map(package)
            .collect::<Result<_>>()?;
        Ok(Self {
            target_directory: meta
                .get("target_directory")
                .and_then(Value::as_str)
                .map(PathBuf::from),
            packages,
        })
    }

    /// The members that go to crates.io.
    pub(crate) fn publishable(&self) -> impl Iterator<Item = &Package> {
        self.packages.iter().filter(|p| p.publishable)
    }

    /// The member whose directory is `dir`, if any.
    pub(crate) fn member_at(&self, dir: &Path) -> Option<&Package> {
        let dir = normalize(dir);
        self.packages.iter().find(|p| normalize(p.dir()) == dir)
    }
}

/// One entry of `packages`.
fn package(p: &Value) -> Result<Package> {
    let name = string(p, "name").ok_or_else(|| anyhow!("a package without a name"))?;
    let version = string(p, "version")
        .ok_or_else(|| anyhow!("package {name} has no version"))?
        .parse::<Version>()
        .with_context(|| format!("package {name}"))?;
    let manifest_path =
        string(p, "manifest_path").ok_or_else(|| anyhow!("package {name} has no manifest_path"))?;
    // `null`: any registry; `[]`: `publish = false`; a list: those registries only.
    let publishable = match p.get("publish") {
        None | Some(Value::Null) => true,
        Some(Value::Array(registries)) => {
            registries.iter().any(|r| r.as_str() == Some("crates-io"))
        }
        Some(_) => false,
    };
    let mut path_dependencies = Vec::new();
    for dep in p
        .get("dependencies")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(path) = string(dep, "path") else {
            continue;
        };
        let kind = match dep.get("kind").and_then(Value::as_str) {
            Some("dev") => DependencyKind::Dev,
            Some("build") => DependencyKind::Build,
            _ => DependencyKind::Normal,
        };
        path_dependencies.push(PathDependency {
            name: string(dep, "name").unwrap_or_default(),
            path: PathBuf::from(path),
            kind,
            // cargo writes `*` for a dependency that names no version.
            has_version: string(dep, "req").is_some_and(|r| r != "*"),
        });
    }
    Ok(Package {
        version,
        manifest_path: PathBuf::from(manifest_path),
        publishable,
        description: string(p, "description"),
        license: string(p, "license"),
        license_file: string(p, "license_file"),
        repository: string(p, "repository"),
        readme: string(p, "readme"),
        keywords: strings(p, "keywords"),
        categories: strings(p, "categories"),
        path_dependencies,
        name,
    })
}

/// A string field, `None` when absent or null.
fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A list-of-strings field, empty when absent.
fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `path` made absolute through symlinks where it exists, lexically cleaned where it does not,
/// so that `crates/a/../b` and a symlinked temp directory compare equal to cargo's paths.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What cargo 1.95 prints for a two-crate workspace plus an unpublished tool, trimmed to
    /// the fields read here.
    pub(crate) const METADATA: &str = r#"{
      "workspace_root": "/ws",
      "target_directory": "/ws/target",
      "packages": [
        {"name": "beta", "version": "0.1.0", "manifest_path": "/ws/crates/beta/Cargo.toml",
         "publish": null, "description": "b", "license": "MIT", "license_file": null,
         "repository": "https://example.org/ws", "readme": "README.md",
         "keywords": ["sip"], "categories": ["network-programming"],
         "dependencies": [
           {"name": "alpha", "req": "^0.1.0", "kind": null, "path": "/ws/crates/alpha"},
           {"name": "gamma", "req": "*", "kind": "dev", "path": "/ws/crates/gamma"},
           {"name": "bytes", "req": "^1", "kind": null}
         ]},
        {"name": "alpha", "version": "0.1.0", "manifest_path": "/ws/crates/alpha/Cargo.toml",
         "publish": null, "description": "a", "license": null, "license_file": "LICENSE",
         "repository": "https://example.org/ws", "readme": null,
         "keywords": [], "categories": [], "dependencies": []},
        {"name": "tool", "version": "0.1.0", "manifest_path": "/ws/tool/Cargo.toml",
         "publish": [], "dependencies": [
           {"name": "alpha", "req": "*", "kind": "build", "path": "/ws/crates/alpha"}
         ]}
      ]
    }"#;

    #[test]
    fn reads_members_fields_and_path_dependencies() {
        let ws = match Workspace::from_metadata(METADATA) {
            Ok(ws) => ws,
            Err(e) => panic!("{e:#}"),
        };
        assert_eq!(ws.target_directory, Some(PathBuf::from("/ws/target")));
        let names: Vec<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["beta", "alpha", "tool"]);
        let publishable: Vec<&str> = ws.publishable().map(|p| p.name.as_str()).collect();
        assert_eq!(publishable, ["beta", "alpha"]);

        let beta = &ws.packages[0];
        assert_eq!(beta.version.to_string(), "0.1.0");
        assert_eq!(beta.dir(), Path::new("/ws/crates/beta"));
        assert_eq!(beta.license.as_deref(), Some("MIT"));
        assert_eq!(beta.readme.as_deref(), Some("README.md"));
        assert_eq!(beta.keywords, ["sip"]);
        assert_eq!(
            beta.path_dependencies,
            [
                PathDependency {
                    name: "alpha".into(),
                    path: "/ws/crates/alpha".into(),
                    kind: DependencyKind::Normal,
                    has_version: true,
                },
                PathDependency {
                    name: "gamma".into(),
                    path: "/ws/crates/gamma".into(),
                    kind: DependencyKind::Dev,
                    has_version: false,
                },
            ]
        );
        assert_eq!(ws.packages[1].license_file.as_deref(), Some("LICENSE"));
        assert_eq!(ws.packages[1].readme, None);
        assert_eq!(
            ws.packages[2].path_dependencies[0].kind,
            DependencyKind::Build
        );
        assert_eq!(
            ws.member_at(Path::new("/ws/crates/x/../alpha"))
                .map(|p| p.name.as_str()),
            Some("alpha")
        );
        assert!(ws.member_at(Path::new("/ws/crates")).is_none());
    }

    #[test]
    fn bad_metadata_is_an_error_not_a_panic() {
        assert!(Workspace::from_metadata("not json").is_err());
        assert!(Workspace::from_metadata("{}").is_err());
        assert!(Workspace::from_metadata(r#"{"packages": {}}"#).is_err());
        let bad_version = r#"{"workspace_root": "/ws", "packages": [
            {"name": "a", "version": "one", "manifest_path": "/ws/a/Cargo.toml"}]}"#;
        let err = Workspace::from_metadata(bad_version)
            .map(|_| ())
            .unwrap_err();
        assert!(format!("{err:#}").contains("package a"), "{err:#}");
    }
}
