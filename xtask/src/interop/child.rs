//! Child processes of a scenario: output captured in files, a deadline on every wait, and a
//! kill when dropped, so that nothing outlives its scenario or hangs the suite.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How often a wait looks at its child.
const POLL: Duration = Duration::from_millis(20);

/// A running child whose stdout and stderr go to `<dir>/<name>.stdout` and `.stderr`.
pub(crate) struct Running {
    name: String,
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// How a child ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ended {
    /// It exited by itself.
    Exited(ExitStatus),
    /// It was still running at its deadline and was killed.
    Killed,
}

impl Ended {
    pub(crate) fn success(self) -> bool {
        matches!(self, Self::Exited(s) if s.success())
    }
}

impl Running {
    /// Starts `cmd` in `dir` with stdin closed.
    pub(crate) fn spawn(name: &str, mut cmd: Command, dir: &Path) -> Result<Self> {
        let stdout = dir.join(format!("{name}.stdout"));
        let stderr = dir.join(format!("{name}.stderr"));
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).with_context(|| format!("{}", stdout.display()))?)
            .stderr(File::create(&stderr).with_context(|| format!("{}", stderr.display()))?);
        std::fs::write(dir.join(format!("{name}.cmd")), format!("{cmd:?}\n"))?;
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}: {cmd:?}"))?;
        Ok(Self {
            name: name.to_owned(),
            child: Some(child),
            stdout,
            stderr,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Its process id (the pid of an exited child stays known, though it may be reused).
    pub(crate) fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it has exited already (then `wait` returns at once).
    pub(crate) fn has_exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Waits until it exits or `deadline` passes; then kills it.
    pub(crate) fn wait(&mut self, deadline: Instant) -> Ended {
        let Some(child) = self.child.as_mut() else {
            return Ended::Killed;
        };
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ended::Exited(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
                Ok(None) | Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ended::Killed;
                }
            }
        }
    }

    pub(crate) fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// The last `n` lines of `text`, indented, or a note that it is empty.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return "      (empty)\n".to_owned();
    }
    let mut out = String::new();
    if lines.len() > n {
        out.push_str(&format!("      ... {} lines before\n", lines.len() - n));
    }
    for l in &lines[lines.len().saturating_sub(n)..] {
        out.push_str("      ");
        out.push_str(l);
        out.push('\n');
    }
    out
}
