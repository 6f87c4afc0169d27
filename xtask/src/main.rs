//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask test`: installs the test peers that are missing, runs every test of the
//!   workspace, then the interop suite. This is what `.ci/run` calls.
//! - `cargo xtask interop`: the interop suite alone.
//! - `cargo xtask bench [parser|registrar|proxy|calls]`: side-by-side benchmarks, reported under
//!   `target/bench-report/`.
//! - `cargo xtask fuzz [SECONDS]`: every fuzz target for the given time each.
//! - `cargo xtask floor relay LISTEN UAS` or `floor echo CALLS SECONDS`: the benchmarks'
//!   floor programs (`bench/floor.rs`), which `bench` runs as child processes.
//! - `cargo xtask release --version X.Y.Z [--dry-run] [--skip-tests]`: bump, changelog,
//!   `cargo publish --dry-run`, commit and tag (see `release.rs`).

mod bench;
mod fuzz;
mod interop;
mod peers;
mod release;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <test | interop | bench [parser|registrar|proxy|calls] | fuzz [SECONDS] | release --version X.Y.Z [--dry-run] [--skip-tests]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("interop") => interop::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("release") => release::run(&args[1..]),
        // The benchmarks' floor programs, run by `bench` as child processes.
        Some("floor") => bench::floor::main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo test --workspace`, then the interop suite.
fn test() -> Result<()> {
    peers::ensure(peers::TEST_PEERS)?;
    run(cargo().args(["test", "--workspace", "--all-targets"]))?;
    run(cargo().args(["test", "--workspace", "--doc"]))?;
    interop::run()
}

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `cargo` as the one running xtask, in the workspace root.
pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a command, failing with its exit status.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}
