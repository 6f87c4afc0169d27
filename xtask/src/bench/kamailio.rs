//! Kamailio as a bench peer: one of the configurations in `bench/kamailio/`, checked with
//! `kamailio -c` first, then run in the foreground (`-DD`: the process we start stays the
//! main one and forks its workers below it; `-E`: logs on stderr), stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::cpu;
use crate::interop::child::{tail, Running};
use crate::interop::ports::wait_bound;

/// Shared memory (MB) for the location table of 30000 users with room to spare; Kamailio's
/// default of 64 MB is near the limit for that many contacts.
const SHM_MB: &str = "256";
/// Private memory (MB) of each process.
const PKG_MB: &str = "16";

/// How long Kamailio may take to bind its port, and to stop after SIGTERM.
const LIMIT: Duration = Duration::from_secs(15);

/// The path of a configuration in `bench/kamailio/`.
pub(crate) fn config(name: &str) -> PathBuf {
    crate::root().join("bench").join("kamailio").join(name)
}

/// `kamailio -v`'s first line, e.g. `version: kamailio 5.6.3 (x86_64/linux)`, shortened to
/// `Kamailio 5.6.3`.
pub(crate) fn version() -> String {
    Command::new(crate::peers::KAMAILIO.program)
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
        })
        .map_or_else(|| "Kamailio".to_owned(), |v| format!("Kamailio {v}"))
}

/// The servers a server suite compares, in the order they run: ours, then Kamailio both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    /// The `netsip` command.
    Netsip,
    /// Kamailio, set up this way.
    Kamailio(Setup),
}

impl Server {
    /// Every server of a suite, in the order they run.
    pub(crate) const ALL: [Self; 3] = [
        Self::Netsip,
        Self::Kamailio(Setup::Packaged),
        Self::Kamailio(Setup::Tuned),
    ];

    /// Its name in logs and directories.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Netsip => "netsip",
            Self::Kamailio(Setup::Packaged) => "kamailio",
            Self::Kamailio(Setup::Tuned) => "kamailio-tuned",
        }
    }
}

/// How Kamailio is set up besides its configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setup {
    /// As packaged: Debian's build and its default memory manager (q_malloc).
    Packaged,
    /// Tuned for speed: the TLSF memory manager (`-x tlsf`) for shared and private memory,
    /// and `BENCH_TUNED` defined (registrar.cfg sizes usrloc's hash table for the load).
    Tuned,
}

impl Setup {
    /// How the report names a Kamailio run this way.
    pub(crate) fn describe(self, version: &str, what: &str) -> String {
        match self {
            Self::Packaged => version.to_owned(),
            Self::Tuned => format!("{version}, tuned ({what})"),
        }
    }

    /// Its command-line arguments.
    fn args(self) -> Vec<String> {
        match self {
            Self::Packaged => Vec::new(),
            Self::Tuned => ["-x", "tlsf", "-A", "BENCH_TUNED"]
                .map(str::to_owned)
                .to_vec(),
        }
    }
}

/// The `-A NAME=VALUE` arguments of `defines`.
fn define_args(defines: &[(&str, String)]) -> Vec<String> {
    defines
        .iter()
        .flat_map(|(name, value)| ["-A".to_owned(), format!("{name}={value}")])
        .collect()
}

/// A running Kamailio.
pub(crate) struct Kamailio {
    process: Running,
}

impl Kamailio {
    /// Checks `config` with `defines` (its `#!define`s: addresses), then starts Kamailio on it
    /// set up as `setup` in `dir` and waits until it listens on UDP `port` of 127.0.0.1.
    pub(crate) fn start(
        config: &Path,
        defines: &[(&str, String)],
        setup: Setup,
        port: u16,
        dir: &Path,
    ) -> Result<Self> {
        let check = Command::new(crate::peers::KAMAILIO.program)
            .arg("-c")
            .arg("-f")
            .arg(config)
            .args(define_args(defines))
            .args(setup.args())
            .output()
            .context("cannot run kamailio -c")?;
        if !check.status.success() {
            bail!(
                "kamailio -c -f {} refuses the configuration ({}):\n{}",
                config.display(),
                check.status,
                tail(&String::from_utf8_lossy(&check.stderr), 12)
            );
        }
        let mut cmd = Command::new(crate::peers::KAMAILIO.program);
        cmd.args(["-DD", "-E", "-m", SHM_MB, "-M", PKG_MB, "-f"])
            .arg(config)
            .args(define_args(defines))
            .args(setup.args());
        let mut process = Running::spawn("kamailio", cmd, dir)?;
        if let Err(e) = wait_bound(&mut process, port, false, LIMIT) {
            bail!("{e:#}; its log:\n{}", tail(&process.stderr(), 12));
        }
        Ok(Self { process })
    }

    /// The main process: the others are its children.
    pub(crate) fn pid(&self) -> Result<u32> {
        self.process.id().context("kamailio has no process id")
    }

    /// SIGTERM to the main process (it stops its children), then waits until every process
    /// of the tree has gone; what is left after the limit is killed.
    pub(crate) fn stop(mut self) -> Result<()> {
        let pid = self.pid()?;
        let tree = cpu::process_tree(pid).unwrap_or_else(|_| vec![pid]);
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .context("cannot run kill")?;
        if !sent.success() {
            bail!("kill -TERM {pid} (kamailio) failed: {sent}");
        }
        let deadline = Instant::now() + LIMIT;
        let ended = self.process.wait(deadline);
        // The workers go with the main process; make sure, as a leftover would hold the port.
        let leftovers = |tree: &[u32]| -> Vec<u32> {
            tree.iter()
                .copied()
                .filter(|p| *p != pid && Path::new(&format!("/proc/{p}")).exists())
                .filter(|p| is_kamailio(*p))
                .collect()
        };
        while !leftovers(&tree).is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        let left = leftovers(&tree);
        for p in &left {
            let _ = Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .status();
        }
        if !ended.success() {
            bail!("kamailio did not exit cleanly after SIGTERM: {ended:?}");
        }
        if !left.is_empty() {
            bail!("kamailio processes {left:?} outlived SIGTERM: killed");
        }
        Ok(())
    }
}

/// Whether process `pid` still runs kamailio (a pid may be reused once it has gone).
fn is_kamailio(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "kamailio")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defines_become_dash_a_arguments() {
        assert_eq!(
            define_args(&[
                ("BENCH_LISTEN", "udp:127.0.0.1:5060".to_owned()),
                ("BENCH_UAS", "\"sip:127.0.0.1:5090\"".to_owned()),
            ]),
            [
                "-A",
                "BENCH_LISTEN=udp:127.0.0.1:5060",
                "-A",
                "BENCH_UAS=\"sip:127.0.0.1:5090\""
            ]
        );
        assert!(define_args(&[]).is_empty());
    }

    #[test]
    fn tuned_setup_picks_tlsf_and_the_define() {
        assert!(Setup::Packaged.args().is_empty());
        assert_eq!(Setup::Tuned.args(), ["-x", "tlsf", "-A", "BENCH_TUNED"]);
        assert_eq!(
            Setup::Packaged.describe("Kamailio 5.6.3", "x"),
            "Kamailio 5.6.3"
        );
        assert_eq!(
            Setup::Tuned.describe("Kamailio 5.6.3", "-x tlsf"),
            "Kamailio 5.6.3, tuned (-x tlsf)"
        );
    }

    #[test]
    fn configurations_live_in_the_repository() {
        for name in ["registrar.cfg", "proxy.cfg"] {
            let text = std::fs::read_to_string(config(name)).unwrap();
            assert!(text.starts_with("#!KAMAILIO"), "{name}");
            assert!(
                text.contains("\nchildren=1\n"),
                "{name}: one worker, as netsip"
            );
            assert!(!text.contains("loadmodule \"tm.so\""), "{name}: stateless");
        }
    }
}
