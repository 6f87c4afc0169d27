//! `netsip registrar` or `netsip proxy` as a scenario's server: started with its output in the
//! scenario's folder, waited for until it listens, stopped with SIGTERM (it must exit 0).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A running `netsip` subcommand.
pub(crate) struct NetsipServer {
    what: String,
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
    limit: Duration,
}

impl NetsipServer {
    /// Starts `netsip <subcommand> <args>` in `dir`, logging at `log` unless `RUST_LOG` is
    /// set; `limit` bounds both the wait for it to listen and for it to stop.
    pub(crate) fn start(
        netsip: &Path,
        subcommand: &str,
        args: &[String],
        log: &str,
        dir: &Path,
        limit: Duration,
    ) -> Result<Self> {
        let stdout = dir.join("netsip.stdout");
        let stderr = dir.join("netsip.stderr");
        let mut cmd = Command::new(netsip);
        cmd.arg(subcommand).args(args);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", log);
        }
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?);
        std::fs::write(dir.join("netsip.cmd"), format!("{cmd:?}\n"))?;
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", netsip.display()))?;
        Ok(Self {
            what: format!("netsip {subcommand}"),
            child: Some(child),
            stdout,
            stderr,
            limit,
        })
    }

    /// Its process id, until it is stopped.
    pub(crate) fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What it printed on stdout so far.
    pub(crate) fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What it printed on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for its `listening on` lines (printed once the sockets are bound).
    pub(crate) fn wait_listening(&mut self, legs: usize) -> Result<()> {
        let deadline = Instant::now() + self.limit;
        loop {
            let n = self
                .stdout()
                .lines()
                .filter(|l| l.starts_with("listening on "))
                .count();
            if n >= legs {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    bail!("{} exited {status} before listening", self.what);
                }
            }
            if Instant::now() >= deadline {
                bail!("{} did not listen within {:?}", self.what, self.limit);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then its exit status; killed if it outlives the limit.
    pub(crate) fn stop(&mut self) -> Result<ExitStatus> {
        let Some(mut child) = self.child.take() else {
            bail!("{} is gone", self.what);
        };
        if let Ok(Some(status)) = child.try_wait() {
            bail!("{} exited {status} during the scenario", self.what);
        }
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .context("cannot run kill")?;
        if !sent.success() {
            bail!("kill -TERM of {} failed: {sent}", self.what);
        }
        let deadline = Instant::now() + self.limit;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{} still running {:?} after SIGTERM: killed",
                    self.what,
                    self.limit
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NetsipServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
