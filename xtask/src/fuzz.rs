//! `cargo xtask fuzz [SECONDS]`: every cargo-fuzz target of every crate, SECONDS each
//! (60 when not given).
//!
//! A crate takes part by having a `fuzz/` directory laid out as `cargo fuzz init` makes it: its
//! own `Cargo.toml` (its own workspace, so that the main one never builds it) and targets listed
//! by `cargo fuzz list`. Each target runs on `fuzz/corpus/<target>/` (kept out of git, grown by
//! every run) with the seeds of `fuzz/corpus/seed/` (kept in git) read as well.
//!
//! cargo-fuzz needs a nightly compiler for `-Zsanitizer`; the stable one is used with
//! `RUSTC_BOOTSTRAP=1`, so that the project needs one toolchain only. cargo-fuzz itself is
//! installed when missing. A crash leaves its input under `fuzz/artifacts/<target>/`, and the
//! command fails after every target has had its turn.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// Seconds per target when none are given.
const DEFAULT_SECONDS: u64 = 60;

/// One fuzz target of one crate.
#[derive(Debug)]
struct Target {
    /// The crate's directory name under `crates/`.
    krate: String,
    /// The crate's `fuzz/` directory.
    fuzz_dir: PathBuf,
    /// The target's name.
    name: String,
}

/// How a target's run ended.
#[derive(Debug)]
struct Outcome {
    /// Whether it ran its time without a crash.
    passed: bool,
    /// Wall-clock seconds, build included.
    seconds: u64,
    /// Inputs run, as libFuzzer's final statistics say.
    execs: Option<u64>,
    /// Inputs per second, as libFuzzer's final statistics say.
    execs_per_sec: Option<u64>,
}

/// Runs every fuzz target for the seconds given in `args` (or the default).
pub(crate) fn run(args: &[String]) -> Result<()> {
    let seconds = parse_seconds(args)?;
    let targets = find_targets()?;
    if targets.is_empty() {
        bail!("no fuzz targets: no crate under crates/ has a fuzz/Cargo.toml");
    }
    let mut results = Vec::with_capacity(targets.len());
    for target in &targets {
        let outcome = fuzz(target, seconds)?;
        eprintln!("xtask: fuzz {}", line(target, &outcome));
        results.push((target, outcome));
    }

    println!("fuzz results ({seconds} s per target):");
    for (target, outcome) in &results {
        println!("  {}", line(target, outcome));
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, o)| !o.passed)
        .map(|(t, _)| format!("{}/{}", t.krate, t.name))
        .collect();
    let passed = results.len() - failed.len();
    println!("fuzz: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        bail!(
            "fuzz targets crashed: {} (inputs under each crate's fuzz/artifacts/)",
            failed.join(", ")
        );
    }
    Ok(())
}

/// `[SECONDS]`: nothing, or one positive whole number.
fn parse_seconds(args: &[String]) -> Result<u64> {
    match args {
        [] => Ok(DEFAULT_SECONDS),
        [s] => match s.parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!("fuzz: SECONDS must be a positive whole number, not {s:?}"),
        },
        _ => bail!("usage: cargo xtask fuzz [SECONDS]"),
    }
}

/// The targets of every `crates/*/fuzz`, crates in name order, targets as cargo-fuzz lists them.
fn find_targets() -> Result<Vec<Target>> {
    let crates = crate::root().join("crates");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&crates)
        .with_context(|| format!("cannot list {}", crates.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", crates.display()))?;
    dirs.sort();

    let mut targets = Vec::new();
    let mut have_cargo_fuzz = false;
    for dir in dirs {
        let fuzz_dir = dir.join("fuzz");
        if !fuzz_dir.is_dir() {
            continue;
        }
        let krate = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !fuzz_dir.join("Cargo.toml").is_file() {
            eprintln!("xtask: skipping {krate}: fuzz/ has no Cargo.toml yet");
            continue;
        }
        if !have_cargo_fuzz {
            ensure_cargo_fuzz()?;
            have_cargo_fuzz = true;
        }
        for name in list(&dir, &fuzz_dir)? {
            targets.push(Target {
                krate: krate.clone(),
                fuzz_dir: fuzz_dir.clone(),
                name,
            });
        }
    }
    Ok(targets)
}

/// Installs cargo-fuzz unless `cargo fuzz` already runs.
///
/// Another `cargo install` of it may be running at the same moment (another checkout, another
/// terminal); the install is tried again once before giving up.
fn ensure_cargo_fuzz() -> Result<()> {
    if cargo_fuzz_works() {
        return Ok(());
    }
    let mut failure = None;
    for _ in 0..2 {
        match crate::run(crate::cargo().args(["install", "--locked", "cargo-fuzz"])) {
            Ok(()) => break,
            // Someone else's install may have finished first.
            Err(_) if cargo_fuzz_works() => break,
            Err(e) => {
                eprintln!("xtask: installing cargo-fuzz failed: {e:#}");
                failure = Some(e);
            }
        }
    }
    if cargo_fuzz_works() {
        return Ok(());
    }
    match failure {
        Some(e) => Err(e.context("cannot install cargo-fuzz")),
        None => bail!("cargo-fuzz was installed but `cargo fuzz --version` still fails"),
    }
}

/// Whether `cargo fuzz --version` succeeds.
fn cargo_fuzz_works() -> bool {
    crate::cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `cargo fuzz list` of one crate.
fn list(crate_dir: &Path, fuzz_dir: &Path) -> Result<Vec<String>> {
    let mut cmd = crate::cargo();
    cmd.current_dir(crate_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "list", "--fuzz-dir"])
        .arg(fuzz_dir);
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Builds and runs one target for `seconds`, its output passed through.
///
/// Only a failure to start is an error; a crash (or a build failure) is a failed outcome, so
/// that the other targets still run.
fn fuzz(target: &Target, seconds: u64) -> Result<Outcome> {
    let corpus = target.fuzz_dir.join("corpus").join(&target.name);
    fs::create_dir_all(&corpus).with_context(|| format!("cannot create {}", corpus.display()))?;
    let seed = target.fuzz_dir.join("corpus").join("seed");
    let crate_dir = target.fuzz_dir.parent().unwrap_or(&target.fuzz_dir);

    let mut cmd = crate::cargo();
    cmd.current_dir(crate_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--fuzz-dir"])
        .arg(&target.fuzz_dir)
        .arg(&target.name)
        // libFuzzer writes new inputs into the first directory only: the seeds stay as they are.
        .arg(&corpus);
    if seed.is_dir() {
        cmd.arg(&seed);
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .stderr(Stdio::piped());

    eprintln!("xtask: running {cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let mut execs = None;
    let mut execs_per_sec = None;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("{line}");
            if let Some(n) = stat(&line, "stat::number_of_executed_units:") {
                execs = Some(n);
            }
            if let Some(n) = stat(&line, "stat::average_exec_per_sec:") {
                execs_per_sec = Some(n);
            }
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {cmd:?}"))?;
    Ok(Outcome {
        passed: status.success(),
        seconds: start.elapsed().as_secs(),
        execs,
        execs_per_sec,
    })
}

/// The number after `key` on a libFuzzer final statistics line.
fn stat(line: &str, key: &str) -> Option<u64> {
    line.trim().strip_prefix(key)?.trim().parse().ok()
}

/// One line of the report: `PASS sip-packet/parse_message: 61 s, 1234567 execs, 20000/s`.
fn line(target: &Target, o: &Outcome) -> String {
    let verdict = if o.passed { "PASS" } else { "FAIL" };
    let mut s = format!(
        "{verdict} {}/{}: {} s",
        target.krate, target.name, o.seconds
    );
    if let Some(n) = o.execs {
        s.push_str(&format!(", {n} execs"));
    }
    if let Some(n) = o.execs_per_sec {
        s.push_str(&format!(", {n}/s"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_default_and_validation() {
        assert_eq!(parse_seconds(&[]).ok(), Some(DEFAULT_SECONDS));
        assert_eq!(parse_seconds(&["5".into()]).ok(), Some(5));
        assert!(parse_seconds(&["0".into()]).is_err());
        assert!(parse_seconds(&["x".into()]).is_err());
        assert!(parse_seconds(&["1".into(), "2".into()]).is_err());
    }

    #[test]
    fn final_stats_are_read() {
        assert_eq!(
            stat(
                "stat::number_of_executed_units: 123456",
                "stat::number_of_executed_units:"
            ),
            Some(123456)
        );
        assert_eq!(
            stat(
                "stat::average_exec_per_sec:     6858",
                "stat::average_exec_per_sec:"
            ),
            Some(6858)
        );
        assert_eq!(
            stat("#2 INITED cov: 10", "stat::average_exec_per_sec:"),
            None
        );
    }
}
