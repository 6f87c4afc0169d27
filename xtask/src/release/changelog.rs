//! `CHANGELOG.md` in the Keep a Changelog 1.1.0 layout: a preamble, `## [Unreleased]`, one
//! `## [X.Y.Z] - YYYY-MM-DD` section per release, newest first, and link definitions at the
//! end.
//!
//! A release moves what is under Unreleased into a new version section and leaves Unreleased
//! empty. When nothing was written there, the section lists the commits since the last
//! release instead, grouped by the crate (or other prefix) their subject starts with, as this
//! project writes subjects: `sip-packet: faster parse`.

use super::date::Date;
use super::version::Version;

/// The preamble of a changelog that does not exist yet.
const PREAMBLE: &str = "# Changelog

All notable changes to the netsip crates are written down here, newest first.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and the crates
follow [Semantic Versioning](https://semver.org/spec/v2.0.0.html). All crates of the workspace
share one version and are released together with `cargo xtask release`.";

/// Subjects that start with no recognisable prefix go under this heading, last.
const OTHER: &str = "Other";

/// A prefix longer than this is a sentence with a colon in it, not a prefix.
const MAX_PREFIX_LEN: usize = 30;

/// One commit since the last release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    /// Abbreviated hash.
    pub(crate) hash: String,
    /// First line of the message.
    pub(crate) subject: String,
}

/// What the new section is about.
#[derive(Debug)]
pub(crate) struct Release<'a> {
    /// The version being released.
    pub(crate) version: &'a Version,
    /// Its date.
    pub(crate) date: Date,
    /// The tag of the release before it, if there was one.
    pub(crate) previous_tag: Option<&'a str>,
    /// The repository URL, for compare links; none written without it.
    pub(crate) repository: Option<&'a str>,
    /// Crate names, in publish order: their groups come first, in this order.
    pub(crate) crates: &'a [String],
    /// The commits since `previous_tag` (all of them without one), oldest first.
    pub(crate) commits: &'a [Commit],
}

/// The new changelog, and the new version's section alone (for the report).
pub(crate) fn release(old: Option<&str>, r: &Release<'_>) -> (String, String) {
    let old = old.unwrap_or(PREAMBLE);
    let lines: Vec<&str> = old.lines().collect();

    let links_start = link_block_start(&lines);
    let body = &lines[..links_start];
    let headings: Vec<usize> = (0..body.len())
        .filter(|&i| body[i].starts_with("## "))
        .collect();
    let unreleased = headings
        .iter()
        .copied()
        .find(|&i| body[i].to_ascii_lowercase().contains("unreleased"));
    let preamble_end = headings.first().copied().unwrap_or(body.len());

    // The Unreleased text, and every other section as it was.
    let mut moved: Vec<&str> = Vec::new();
    let mut sections: Vec<&str> = Vec::new();
    for (n, &start) in headings.iter().enumerate() {
        let end = headings.get(n + 1).copied().unwrap_or(body.len());
        if Some(start) == unreleased {
            moved.extend_from_slice(&body[start + 1..end]);
        } else {
            sections.extend_from_slice(&body[start..end]);
        }
    }

    let title = format!("## [{}] - {}", r.version, r.date);
    let moved = trim_blank(&moved).join("\n");
    let entries = if moved.is_empty() {
        commit_list(r)
    } else {
        moved
    };
    let section = format!("{title}\n\n{entries}\n");

    let mut out = String::new();
    out.push_str(trim_blank(&body[..preamble_end]).join("\n").as_str());
    out.push_str("\n\n## [Unreleased]\n\n");
    out.push_str(&section);
    let sections = trim_blank(&sections);
    if !sections.is_empty() {
        out.push('\n');
        out.push_str(&sections.join("\n"));
        out.push('\n');
    }

    // Links: a fresh Unreleased and one for the new version, then the older ones.
    let mut links: Vec<String> = Vec::new();
    if let Some(repo) = r.repository.map(|u| u.trim_end_matches('/')) {
        let tag = r.version.tag();
        links.push(format!("[Unreleased]: {repo}/compare/{tag}...HEAD"));
        links.push(match r.previous_tag {
            Some(prev) => format!("[{}]: {repo}/compare/{prev}...{tag}", r.version),
            None => format!("[{}]: {repo}/releases/tag/{tag}", r.version),
        });
    }
    links.extend(
        lines[links_start..]
            .iter()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| !l.to_ascii_lowercase().starts_with("[unreleased]:"))
            .map(|l| (*l).to_owned()),
    );
    if !links.is_empty() {
        out.push('\n');
        out.push_str(&links.join("\n"));
        out.push('\n');
    }
    (out, section)
}

/// The commits as Markdown, one `### group` per prefix.
fn commit_list(r: &Release<'_>) -> String {
    if r.commits.is_empty() {
        return match r.previous_tag {
            Some(prev) => format!("No changes since {prev}."),
            None => "First release.".to_owned(),
        };
    }
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for c in r.commits {
        let (group, text) = group_of(&c.subject, r.crates);
        let entry = format!("- {text} ({})", c.hash);
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, entries)) => entries.push(entry),
            None => groups.push((group, vec![entry])),
        }
    }
    // Crates in publish order, then other prefixes by name, then the rest.
    let rank = |g: &str| match r.crates.iter().position(|c| c == g) {
        Some(i) => (0, i),
        None if g == OTHER => (2, 0),
        None => (1, 0),
    };
    groups.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    groups
        .into_iter()
        .map(|(group, entries)| format!("### {group}\n\n{}", entries.join("\n")))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The group of a subject and the text listed under it.
///
/// `sip-packet: x` is `sip-packet`/`x`; `netsip tests: x` is `netsip`/`tests: x` (the first
/// word names a crate); `interop: x` is `interop`/`x` (one short word); anything else is
/// `Other` with the whole subject.
fn group_of(subject: &str, crates: &[String]) -> (String, String) {
    let Some((prefix, rest)) = subject.split_once(": ") else {
        return (OTHER.to_owned(), subject.to_owned());
    };
    let rest = rest.trim();
    let mut words = prefix.split_whitespace();
    let first = words.next().unwrap_or_default();
    let more: Vec<&str> = words.collect();
    if crates.iter().any(|c| c == first) {
        let text = if more.is_empty() {
            rest.to_owned()
        } else {
            format!("{}: {rest}", more.join(" "))
        };
        return (first.to_owned(), text);
    }
    let one_word = more.is_empty()
        && !first.is_empty()
        && first.len() <= MAX_PREFIX_LEN
        && first
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if one_word && !rest.is_empty() {
        (first.to_owned(), rest.to_owned())
    } else {
        (OTHER.to_owned(), subject.to_owned())
    }
}

/// Where the trailing run of link definitions (`[x]: url`, blank lines between) starts;
/// `lines.len()` when there is none.
fn link_block_start(lines: &[&str]) -> usize {
    let mut start = lines.len();
    for i in (0..lines.len()).rev() {
        let line = lines[i].trim();
        if line.is_empty() {
            continue;
        }
        if is_link_definition(line) {
            start = i;
        } else {
            break;
        }
    }
    start
}

/// `[label]: target`.
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[')
        && line
            .split_once("]:")
            .is_some_and(|(label, target)| label.len() > 1 && !target.trim().is_empty())
}

/// `lines` without blank lines at either end.
fn trim_blank<'a, 'b>(lines: &'b [&'a str]) -> &'b [&'a str] {
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |i| i + 1);
    &lines[start..end]
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

    fn commit(hash: &str, subject: &str) -> Commit {
        Commit {
            hash: hash.into(),
            subject: subject.into(),
        }
    }

    const DATE: Date = Date {
        year: 2026,
        month: 5,
        day: 3,
    };

    fn crates() -> Vec<String> {
        vec!["sip-packet".into(), "sip-dispatch".into(), "netsip".into()]
    }

    #[test]
    fn first_release_creates_the_file_and_groups_commits_by_crate() {
        let v = version("0.1.0");
        let crates = crates();
        let commits = [
            commit("a1", "netsip: parse subcommand"),
            commit("a2", "interop: SIPp scenarios"),
            commit("a3", "sip-packet: zero-copy parser"),
            commit("a4", "Workspace, sip-packet message layer"),
            commit("a5", "netsip tests: one Daemon helper"),
            commit("a6", "sip-packet: compact headers"),
            commit("a7", "Endpoint, registrar; dispatcher: ordered sends"),
        ];
        let (text, section) = release(
            None,
            &Release {
                version: &v,
                date: DATE,
                previous_tag: None,
                repository: Some("https://github.com/netsip/netsip/"),
                crates: &crates,
                commits: &commits,
            },
        );
        let expected_section = "## [0.1.0] - 2026-05-03

### sip-packet

- zero-copy parser (a3)
- compact headers (a6)

### netsip

- parse subcommand (a1)
- tests: one Daemon helper (a5)

### interop

- SIPp scenarios (a2)

### Other

- Workspace, sip-packet message layer (a4)
- Endpoint, registrar; dispatcher: ordered sends (a7)
";
        assert_eq!(section, expected_section);
        let expected = format!(
            "{PREAMBLE}\n\n## [Unreleased]\n\n{expected_section}
[Unreleased]: https://github.com/netsip/netsip/compare/v0.1.0...HEAD
[0.1.0]: https://github.com/netsip/netsip/releases/tag/v0.1.0
"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn written_unreleased_notes_move_under_the_new_version() {
        let old = "# Changelog

Intro.

## [Unreleased]

### Added

- `netsip call`.

## [0.1.0] - 2026-01-02

- First.

[Unreleased]: https://x.org/r/compare/v0.1.0...HEAD
[0.1.0]: https://x.org/r/releases/tag/v0.1.0
";
        let v = version("0.2.0");
        let crates = crates();
        let (text, section) = release(
            Some(old),
            &Release {
                version: &v,
                date: DATE,
                previous_tag: Some("v0.1.0"),
                repository: Some("https://x.org/r"),
                crates: &crates,
                // Ignored: the notes written by hand win.
                commits: &[commit("b1", "sip-packet: something")],
            },
        );
        assert_eq!(
            section,
            "## [0.2.0] - 2026-05-03\n\n### Added\n\n- `netsip call`.\n"
        );
        assert_eq!(
            text,
            "# Changelog

Intro.

## [Unreleased]

## [0.2.0] - 2026-05-03

### Added

- `netsip call`.

## [0.1.0] - 2026-01-02

- First.

[Unreleased]: https://x.org/r/compare/v0.2.0...HEAD
[0.2.0]: https://x.org/r/compare/v0.1.0...v0.2.0
[0.1.0]: https://x.org/r/releases/tag/v0.1.0
"
        );
        // Releasing again from that text with nothing new says so, and keeps every section.
        let v3 = version("0.3.0");
        let (again, section) = release(
            Some(&text),
            &Release {
                version: &v3,
                date: DATE,
                previous_tag: Some("v0.2.0"),
                repository: None,
                crates: &crates,
                commits: &[],
            },
        );
        assert_eq!(
            section,
            "## [0.3.0] - 2026-05-03\n\nNo changes since v0.2.0.\n"
        );
        assert!(again.contains("## [Unreleased]\n\n## [0.3.0] - 2026-05-03\n\nNo changes since v0.2.0.\n\n## [0.2.0] - 2026-05-03\n"), "{again}");
        assert!(
            again.contains("## [0.1.0] - 2026-01-02\n\n- First.\n"),
            "{again}"
        );
        // Without a repository no new links are made, and the stale Unreleased one goes.
        assert!(!again.contains("[Unreleased]:"), "{again}");
        assert!(again.ends_with("[0.2.0]: https://x.org/r/compare/v0.1.0...v0.2.0\n[0.1.0]: https://x.org/r/releases/tag/v0.1.0\n"), "{again}");
    }

    #[test]
    fn a_changelog_without_unreleased_heading_gets_one() {
        let old = "# Changelog\n\n## [0.1.0] - 2026-01-02\n\n- First.\n";
        let v = version("0.1.1");
        let (text, _) = release(
            Some(old),
            &Release {
                version: &v,
                date: DATE,
                previous_tag: Some("v0.1.0"),
                repository: None,
                crates: &[],
                commits: &[commit("c1", "fix a typo")],
            },
        );
        assert_eq!(
            text,
            "# Changelog\n\n## [Unreleased]\n\n## [0.1.1] - 2026-05-03\n\n### Other\n\n- fix a typo (c1)\n\n## [0.1.0] - 2026-01-02\n\n- First.\n"
        );
    }

    #[test]
    fn prefixes() {
        let crates = crates();
        let g = |s: &str| group_of(s, &crates);
        assert_eq!(g("sip-packet: x"), ("sip-packet".into(), "x".into()));
        assert_eq!(g("xtask: fuzz"), ("xtask".into(), "fuzz".into()));
        assert_eq!(g("netsip tests: y"), ("netsip".into(), "tests: y".into()));
        assert_eq!(g("no prefix"), (OTHER.into(), "no prefix".into()));
        assert_eq!(g("two words: z"), (OTHER.into(), "two words: z".into()));
        assert_eq!(g("x:y"), (OTHER.into(), "x:y".into()));
        assert_eq!(g("a: "), (OTHER.into(), "a: ".into()));
    }

    #[test]
    fn link_block_detection() {
        assert_eq!(link_block_start(&["a", "[x]: u", "", "[y]: v", ""]), 1);
        assert_eq!(link_block_start(&["a", "[x] not a link"]), 2);
        assert_eq!(link_block_start(&[]), 0);
        assert!(!is_link_definition("[]: u"));
        assert!(!is_link_definition("[x]:"));
    }
}
