//! What every published crate's `[package]` must say before a release: the fields crates.io
//! requires (`description`, `license` or `license-file`), the ones this project requires
//! (`repository`, a `readme` that exists), and keywords and categories crates.io accepts.

use super::categories::{is_category, MAX_CATEGORIES};
use super::error::Problem;
use super::workspace::{DependencyKind, Workspace};

/// At most this many keywords per crate (crates.io's limit).
const MAX_KEYWORDS: usize = 5;

/// At most this many characters per keyword (crates.io's limit).
const MAX_KEYWORD_LEN: usize = 20;

/// Every problem of every publishable member, crates in cargo's order.
pub(crate) fn metadata_problems(ws: &Workspace) -> Vec<Problem> {
    let mut problems = Vec::new();
    for p in ws.publishable() {
        let krate = || p.name.clone();
        let missing = |field| Problem::Missing {
            krate: krate(),
            field,
        };
        if is_blank(&p.description) {
            problems.push(missing("description"));
        }
        if is_blank(&p.license) && is_blank(&p.license_file) {
            problems.push(missing("license"));
        }
        if is_blank(&p.repository) {
            problems.push(missing("repository"));
        }
        match p.readme.as_deref().filter(|r| !r.trim().is_empty()) {
            None => problems.push(missing("readme")),
            Some(readme) => {
                if !p.dir().join(readme).is_file() {
                    problems.push(Problem::ReadmeMissing {
                        krate: krate(),
                        path: p.dir().join(readme).display().to_string(),
                    });
                }
            }
        }
        if p.keywords.len() > MAX_KEYWORDS {
            problems.push(Problem::TooManyKeywords {
                krate: krate(),
                count: p.keywords.len(),
                max: MAX_KEYWORDS,
            });
        }
        for keyword in p.keywords.iter().filter(|k| !is_keyword(k)) {
            problems.push(Problem::BadKeyword {
                krate: krate(),
                keyword: keyword.clone(),
            });
        }
        if p.categories.len() > MAX_CATEGORIES {
            problems.push(Problem::TooManyCategories {
                krate: krate(),
                count: p.categories.len(),
                max: MAX_CATEGORIES,
            });
        }
        for category in p.categories.iter().filter(|c| !is_category(c)) {
            problems.push(Problem::UnknownCategory {
                krate: krate(),
                category: category.clone(),
            });
        }
        for dep in &p.path_dependencies {
            // A path-only dev-dependency is dropped when packaging; anything else must exist
            // on crates.io.
            if dep.kind == DependencyKind::Dev && !dep.has_version {
                continue;
            }
            if let Some(member) = ws.member_at(&dep.path).filter(|m| !m.publishable) {
                problems.push(Problem::UnpublishedDependency {
                    krate: krate(),
                    dependency: member.name.clone(),
                });
            }
        }
    }
    problems
}

/// Absent, or nothing but white space.
fn is_blank(field: &Option<String>) -> bool {
    field.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// crates.io's keyword rule: 1 to 20 characters of `[A-Za-z0-9_+-]`, the first alphanumeric.
fn is_keyword(keyword: &str) -> bool {
    let mut bytes = keyword.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    first_ok
        && keyword.len() <= MAX_KEYWORD_LEN
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::version::Version;
    use super::super::workspace::{Package, PathDependency};
    use super::*;

    /// A crate in `dir` with every field right.
    fn good(name: &str, dir: &std::path::Path) -> Package {
        Package {
            name: name.into(),
            version: match "0.1.0".parse::<Version>() {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            },
            manifest_path: dir.join("Cargo.toml"),
            publishable: true,
            description: Some("does one thing".into()),
            license: Some("MIT OR Apache-2.0".into()),
            license_file: None,
            repository: Some("https://example.org/r".into()),
            readme: Some("README.md".into()),
            keywords: vec!["sip".into(), "voip".into(), "rfc3261".into(), "c++".into()],
            categories: vec!["network-programming".into(), "multimedia::audio".into()],
            path_dependencies: vec![],
        }
    }

    fn workspace(packages: Vec<Package>) -> Workspace {
        Workspace {
            target_directory: None,
            packages,
        }
    }

    #[test]
    fn complete_metadata_passes_and_each_gap_is_named() {
        let tmp = match tempfile::tempdir() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let dir = tmp.path();
        if let Err(e) = fs::write(dir.join("README.md"), "# a\n") {
            panic!("{e}");
        }
        assert_eq!(metadata_problems(&workspace(vec![good("a", dir)])), []);

        // license-file stands in for license.
        let mut p = good("a", dir);
        p.license = None;
        p.license_file = Some("LICENSE".into());
        assert_eq!(metadata_problems(&workspace(vec![p])), []);

        let mut p = good("a", dir);
        p.description = Some("  ".into());
        p.license = None;
        p.repository = None;
        p.readme = None;
        let missing = |field| Problem::Missing {
            krate: "a".into(),
            field,
        };
        assert_eq!(
            metadata_problems(&workspace(vec![p])),
            [
                missing("description"),
                missing("license"),
                missing("repository"),
                missing("readme")
            ]
        );

        let mut p = good("a", dir);
        p.readme = Some("READ-ME.md".into());
        assert!(matches!(
            metadata_problems(&workspace(vec![p])).as_slice(),
            [Problem::ReadmeMissing { path, .. }] if path.ends_with("READ-ME.md")
        ));
    }

    #[test]
    fn keywords_and_categories_follow_crates_io() {
        let dir = std::path::Path::new("/nonexistent");
        let mut p = good("a", dir);
        p.readme = None;
        p.keywords = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        p.categories = vec!["networking".into()];
        let problems = metadata_problems(&workspace(vec![p]));
        assert!(problems.contains(&Problem::TooManyKeywords {
            krate: "a".into(),
            count: 6,
            max: 5
        }));
        assert!(problems.contains(&Problem::UnknownCategory {
            krate: "a".into(),
            category: "networking".into()
        }));

        for bad in ["", "-sip", "two words", "é", "abcdefghijklmnopqrstu"] {
            assert!(!is_keyword(bad), "{bad:?}");
        }
        for ok in [
            "sip",
            "rfc3261",
            "c++",
            "a_b",
            "x-1",
            "abcdefghijklmnopqrst",
        ] {
            assert!(is_keyword(ok), "{ok:?}");
        }

        let mut p = good("a", dir);
        p.readme = None;
        p.categories = ["parsing", "encoding", "email", "os", "gui", "wasm"]
            .map(String::from)
            .to_vec();
        assert!(
            metadata_problems(&workspace(vec![p])).contains(&Problem::TooManyCategories {
                krate: "a".into(),
                count: 6,
                max: 5
            })
        );
    }

    #[test]
    fn unpublished_members_are_not_checked_nor_depended_on() {
        let tmp = match tempfile::tempdir() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let (a_dir, tool_dir) = (tmp.path().join("a"), tmp.path().join("tool"));
        for d in [&a_dir, &tool_dir] {
            if let Err(e) = fs::create_dir_all(d).and_then(|()| fs::write(d.join("README.md"), ""))
            {
                panic!("{e}");
            }
        }
        let mut tool = good("tool", &tool_dir);
        tool.publishable = false;
        tool.description = None;
        let mut a = good("a", &a_dir);
        a.path_dependencies = vec![PathDependency {
            name: "tool".into(),
            path: tool_dir.clone(),
            kind: DependencyKind::Dev,
            has_version: false,
        }];
        // tool's own gaps do not matter, and a path-only dev-dependency is dropped on packaging.
        assert_eq!(
            metadata_problems(&workspace(vec![a.clone(), tool.clone()])),
            []
        );

        a.path_dependencies[0].kind = DependencyKind::Normal;
        assert_eq!(
            metadata_problems(&workspace(vec![a, tool])),
            [Problem::UnpublishedDependency {
                krate: "a".into(),
                dependency: "tool".into()
            }]
        );
    }
}
