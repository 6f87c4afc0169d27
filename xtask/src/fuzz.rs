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
//! installed when missing (`cargo install --locked cargo-fuzz`). Every `crates/*/fuzz` takes
//! part, found anew on each run, so a crate that adds one needs no change here.
//!
//! Each target's line of the report gives runs, runs per second (libFuzzer's final statistics)
//! and crashes. A crash leaves its input under `fuzz/artifacts/<target>/`; the command fails
//! after every target has had its turn, naming each crash input.

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
    /// Whether it ran its time without a crash (and built).
    passed: bool,
    /// Wall-clock seconds, build included.
    seconds: u64,
    /// What libFuzzer said.
    log: RunLog,
}

/// What libFuzzer's output says about one run, read line by line.
#[derive(Debug, Default, PartialEq, Eq)]
struct RunLog {
    /// Inputs run (`stat::number_of_executed_units`).
    execs: Option<u64>,
    /// Inputs per second (`stat::average_exec_per_sec`).
    execs_per_sec: Option<u64>,
    /// Inputs written for a crash, a leak, an out-of-memory or a timeout.
    crashes: Vec<PathBuf>,
    /// Inputs written for being slow (reported, not a failure).
    slow: Vec<PathBuf>,
}

impl RunLog {
    /// Takes in one line of libFuzzer's standard error.
    fn read_line(&mut self, line: &str) {
        if let Some(n) = stat(line, "stat::number_of_executed_units:") {
            self.execs = Some(n);
        }
        if let Some(n) = stat(line, "stat::average_exec_per_sec:") {
            self.execs_per_sec = Some(n);
        }
        // `artifact_prefix='fuzz/artifacts/t/'; Test unit written to fuzz/artifacts/t/crash-…`
        if let Some((_, path)) = line.split_once("Test unit written to ") {
            let path = PathBuf::from(path.trim());
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with("slow-unit-") {
                self.slow.push(path);
            } else {
                self.crashes.push(path);
            }
        }
    }
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

    println!("fuzz results ({seconds} s per target, cargo-fuzz with RUSTC_BOOTSTRAP=1):");
    for (target, outcome) in &results {
        println!("  {}", line(target, outcome));
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, o)| !o.passed)
        .map(|(t, o)| failure(t, o))
        .collect();
    let passed = results.len() - failed.len();
    println!("fuzz: {passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        bail!("fuzz targets failed:\n  {}", failed.join("\n  "));
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
    let dirs = fuzz_dirs(&crate::root().join("crates"))?;
    if !dirs.is_empty() {
        ensure_cargo_fuzz()?;
    }
    let mut targets = Vec::new();
    for (krate, fuzz_dir) in dirs {
        let crate_dir = fuzz_dir.parent().unwrap_or(&fuzz_dir).to_path_buf();
        for name in list(&crate_dir, &fuzz_dir)? {
            targets.push(Target {
                krate: krate.clone(),
                fuzz_dir: fuzz_dir.clone(),
                name,
            });
        }
    }
    Ok(targets)
}

/// `(crate, crate/fuzz)` for every crate under `crates` whose `fuzz/` has a `Cargo.toml`, in
/// name order. A `fuzz/` without one (being set up) is skipped with a note.
fn fuzz_dirs(crates: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(crates)
        .with_context(|| format!("cannot list {}", crates.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", crates.display()))?;
    dirs.sort();
    let mut found = Vec::new();
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
        found.push((krate, fuzz_dir));
    }
    Ok(found)
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
    let mut log = RunLog::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("{line}");
            log.read_line(&line);
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {cmd:?}"))?;
    // libFuzzer writes artifact paths relative to where it ran: the crate's directory.
    for path in log.crashes.iter_mut().chain(log.slow.iter_mut()) {
        if path.is_relative() {
            *path = crate_dir.join(&*path);
        }
    }
    Ok(Outcome {
        passed: status.success() && log.crashes.is_empty(),
        seconds: start.elapsed().as_secs(),
        log,
    })
}

/// The number after `key` on a libFuzzer final statistics line.
fn stat(line: &str, key: &str) -> Option<u64> {
    line.trim().strip_prefix(key)?.trim().parse().ok()
}

/// One line of the report:
/// `PASS sip-packet/parse_message: 61 s, 1234567 runs, 20000 exec/s, 0 crashes`.
fn line(target: &Target, o: &Outcome) -> String {
    let verdict = if o.passed { "PASS" } else { "FAIL" };
    let mut s = format!(
        "{verdict} {}/{}: {} s",
        target.krate, target.name, o.seconds
    );
    match o.log.execs {
        Some(n) => s.push_str(&format!(", {n} runs")),
        None => s.push_str(", runs unknown"),
    }
    if let Some(n) = o.log.execs_per_sec {
        s.push_str(&format!(", {n} exec/s"));
    }
    s.push_str(&format!(", {} crashes", o.log.crashes.len()));
    if !o.log.slow.is_empty() {
        s.push_str(&format!(", {} slow inputs", o.log.slow.len()));
    }
    s
}

/// Why a target failed, with the input to reproduce it by.
fn failure(target: &Target, o: &Outcome) -> String {
    let name = format!("{}/{}", target.krate, target.name);
    if o.log.crashes.is_empty() {
        // No input written: the target did not build, or cargo-fuzz failed before running.
        return format!("{name}: failed without a crash input (see its output above)");
    }
    let inputs: Vec<String> = o
        .log
        .crashes
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    format!(
        "{name}: crash input {} (reproduce: cd crates/{} && RUSTC_BOOTSTRAP=1 cargo fuzz run {} {})",
        inputs.join(", "),
        target.krate,
        target.name,
        inputs[0]
    )
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
    fn run_log_reads_stats_crashes_and_slow_inputs() {
        let output = [
            "INFO: Running with entropic power schedule (0xFF, 100).",
            "#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb",
            "Slow unit: 11 s:",
            "artifact_prefix='/w/crates/a/fuzz/artifacts/t/'; Test unit written to /w/crates/a/fuzz/artifacts/t/slow-unit-ab12",
            "==42== ERROR: libFuzzer: deadly signal",
            "artifact_prefix='/w/crates/a/fuzz/artifacts/t/'; Test unit written to /w/crates/a/fuzz/artifacts/t/crash-da39a3ee",
            "Base64: AAE=",
            "stat::number_of_executed_units: 1234567",
            "stat::average_exec_per_sec:     20576",
            "stat::new_units_added:          7",
        ];
        let mut log = RunLog::default();
        for l in output {
            log.read_line(l);
        }
        assert_eq!(
            log,
            RunLog {
                execs: Some(1_234_567),
                execs_per_sec: Some(20_576),
                crashes: vec![PathBuf::from("/w/crates/a/fuzz/artifacts/t/crash-da39a3ee")],
                slow: vec![PathBuf::from("/w/crates/a/fuzz/artifacts/t/slow-unit-ab12")],
            }
        );

        let target = Target {
            krate: "a".into(),
            fuzz_dir: "/w/crates/a/fuzz".into(),
            name: "t".into(),
        };
        let outcome = Outcome {
            passed: false,
            seconds: 3,
            log,
        };
        assert_eq!(
            line(&target, &outcome),
            "FAIL a/t: 3 s, 1234567 runs, 20576 exec/s, 1 crashes, 1 slow inputs"
        );
        let why = failure(&target, &outcome);
        assert!(
            why.contains("crash input /w/crates/a/fuzz/artifacts/t/crash-da39a3ee"),
            "{why}"
        );
        assert!(
            why.contains("cargo fuzz run t /w/crates/a/fuzz/artifacts/t/crash-da39a3ee"),
            "{why}"
        );

        let clean = Outcome {
            passed: false,
            seconds: 1,
            log: RunLog::default(),
        };
        assert_eq!(
            line(&target, &clean),
            "FAIL a/t: 1 s, runs unknown, 0 crashes"
        );
        assert!(failure(&target, &clean).contains("without a crash input"));
    }

    #[test]
    fn every_crate_with_a_fuzz_manifest_takes_part() {
        let tmp = match tempfile::tempdir() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let crates = tmp.path();
        let make = |rel: &str| {
            let p = crates.join(rel);
            if let Err(e) =
                fs::create_dir_all(p.parent().unwrap_or(crates)).and_then(|()| fs::write(&p, ""))
            {
                panic!("{p:?}: {e}");
            }
        };
        make("sip-simple/fuzz/Cargo.toml");
        make("sip-packet/fuzz/Cargo.toml");
        make("sip-sdp/src/lib.rs");
        // Being set up: no manifest yet.
        make("sip-proxy/fuzz/fuzz_targets/x.rs");
        let found = match fuzz_dirs(crates) {
            Ok(f) => f,
            Err(e) => panic!("{e:#}"),
        };
        assert_eq!(
            found,
            [
                ("sip-packet".to_owned(), crates.join("sip-packet/fuzz")),
                ("sip-simple".to_owned(), crates.join("sip-simple/fuzz")),
            ]
        );
        assert!(fuzz_dirs(&crates.join("missing")).is_err());
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
