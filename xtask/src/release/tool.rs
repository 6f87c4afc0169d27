//! Running the long commands of a release (`cargo test`, `cargo publish`), their output either
//! shown as it comes or kept and handed back.
//!
//! A person running a release wants to watch the tests go by; the release's own tests run it
//! on a fake workspace inside `cargo test`, where the fake's test summary lines (a deliberately
//! failing test among them) must not mix into the real test log.

use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, Result};

/// Where a command's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// To this process's standard output and error, as it comes.
    Show,
    /// Kept, and returned with the exit status (what the release's own tests use).
    #[cfg_attr(not(test), allow(dead_code))]
    Keep,
}

/// How a command ended.
#[derive(Debug)]
pub(crate) struct Finished {
    /// Its exit status.
    pub(crate) status: ExitStatus,
    /// Its standard output then standard error with [`Output::Keep`]; empty with
    /// [`Output::Show`].
    pub(crate) output: String,
}

/// Runs `cmd` to completion; only a failure to start it is an `Err`.
pub(crate) fn run(mut cmd: Command, output: Output) -> Result<Finished> {
    eprintln!("xtask: running {cmd:?}");
    match output {
        Output::Show => {
            let status = cmd
                .status()
                .with_context(|| format!("cannot start {cmd:?}"))?;
            Ok(Finished {
                status,
                output: String::new(),
            })
        }
        Output::Keep => {
            let out = cmd
                .stdin(Stdio::null())
                .output()
                .with_context(|| format!("cannot start {cmd:?}"))?;
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            Ok(Finished {
                status: out.status,
                output: text,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_output_comes_back_with_the_status() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let done = match run(cmd, Output::Keep) {
            Ok(d) => d,
            Err(e) => panic!("{e:#}"),
        };
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(done.output, "out\nerr\n");
        assert!(run(Command::new("/nonexistent/program"), Output::Keep).is_err());
    }
}
