//! What the CLI tests of the daemon subcommands share.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `netsip` daemon subcommand (`registrar`, `proxy`); killed if a test fails
/// before stopping it.
pub(crate) struct Daemon {
    child: Child,
    /// What it printed after `listening on `, in order.
    pub(crate) listening: Vec<String>,
}

impl Daemon {
    /// Starts `netsip <subcommand> <args>` and reads its `listening on` lines (one per
    /// `--listen` or `--control`).
    pub(crate) fn start(subcommand: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netsip"))
            .arg(subcommand)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("netsip runs");
        let expected = args
            .iter()
            .filter(|a| **a == "--listen" || **a == "--control")
            .count();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut listening = Vec::new();
        while listening.len() < expected {
            let line = lines.next().expect("netsip says where it listens").unwrap();
            let addr = line
                .strip_prefix("listening on ")
                .unwrap_or_else(|| panic!("unexpected line {line:?}"));
            listening.push(addr.to_owned());
        }
        Self { child, listening }
    }

    /// The socket address of the `i`th listen address (`udp:127.0.0.1:PORT`).
    pub(crate) fn addr(&self, i: usize) -> SocketAddr {
        let (_, addr) = self.listening[i].split_once(':').unwrap();
        addr.parse().unwrap()
    }

    /// Sends SIG`name` and waits (at most 10 s) for its exit status.
    pub(crate) fn signal(&mut self, name: &str) -> ExitStatus {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running 10 s after SIG{name}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
