//! SIPp as a load generator: many calls at a fixed rate, and what its statistics file says
//! about them at the end.
//!
//! Unlike the interop runs (one call, every message traced), a load run traces no message:
//! SIPp writes its counters (`-trace_stat`, one CSV row when it ends), its errors and its final
//! screen into the run's folder. Every socket is on 127.0.0.1 (SIP, media, control).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::interop::child::{tail, Ended, Running};
use crate::interop::ports::Ports;
use crate::interop::sipp;

/// SIPp's statistics file in the run's folder.
const STATS: &str = "sipp_stat.csv";

/// What SIPp plays.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scenario {
    /// A file under `bench/sipp/`.
    File(&'static str),
    /// A scenario built into SIPp (`-sn`).
    Builtin(&'static str),
}

/// One SIPp load run.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    /// The scenario.
    pub(crate) scenario: Scenario,
    /// Where it sends (clients); `None` for a server.
    pub(crate) remote: Option<u16>,
    /// Its own SIP port on 127.0.0.1.
    pub(crate) port: u16,
    /// How many calls (`-m`): a client stops after placing them, a server after answering them.
    pub(crate) calls: u64,
    /// Calls per second (`-r`), for a client.
    pub(crate) rate: Option<u64>,
    /// An injection file (`-inf`).
    pub(crate) injection: Option<PathBuf>,
    /// SIPp gives up (and fails) after this long.
    pub(crate) timeout: Duration,
    /// Arguments added at the end.
    pub(crate) extra: Vec<String>,
}

impl Load {
    /// The SIPp command, logging into `dir`.
    pub(crate) fn command(&self, ports: &mut Ports, dir: &Path) -> Result<Command> {
        let mut c = Command::new(crate::peers::SIPP.program);
        if let Some(r) = self.remote {
            c.arg(format!("127.0.0.1:{r}"));
        }
        match self.scenario {
            Scenario::File(f) => c
                .arg("-sf")
                .arg(crate::root().join("bench").join("sipp").join(f)),
            Scenario::Builtin(n) => c.args(["-sn", n]),
        };
        if let Some(inf) = &self.injection {
            c.arg("-inf").arg(inf);
        }
        c.args(["-t", "u1", "-i", "127.0.0.1", "-p", &self.port.to_string()]);
        c.args(["-ci", "127.0.0.1", "-cp", &ports.free()?.to_string()]);
        c.args(["-mi", "127.0.0.1", "-mp", &ports.free_pair()?.to_string()]);
        c.args(["-m", &self.calls.to_string()]);
        if let Some(rate) = self.rate {
            // Calls per second, spread over each second rather than sent in a burst.
            c.args(["-r", &rate.to_string(), "-rp", "1000"]);
        }
        c.args(["-nostdin", "-timeout"])
            .arg(format!("{}s", self.timeout.as_secs().max(1)))
            .arg("-timeout_error");
        // A message that never comes fails its call after 10 s rather than at the timeout.
        c.args(["-recv_timeout", "10000"]);
        c.arg("-trace_stat").arg("-stf").arg(dir.join(STATS));
        c.arg("-trace_err")
            .arg("-error_file")
            .arg(dir.join(sipp::ERRORS));
        c.arg("-trace_screen")
            .arg("-screen_file")
            .arg(dir.join(sipp::SCREEN));
        c.args(&self.extra);
        Ok(c)
    }

    /// Starts it in `dir` as `name`.
    pub(crate) fn spawn(&self, name: &str, ports: &mut Ports, dir: &Path) -> Result<Started> {
        let cmd = self.command(ports, dir)?;
        let started = Instant::now();
        let process = Running::spawn(name, cmd, dir)?;
        Ok(Started {
            process,
            started,
            dir: dir.to_owned(),
            calls: self.calls,
            timeout: self.timeout,
        })
    }
}

/// A SIPp load run under way.
pub(crate) struct Started {
    process: Running,
    started: Instant,
    dir: PathBuf,
    calls: u64,
    timeout: Duration,
}

impl Started {
    /// The process, e.g. to wait until it has bound its port.
    pub(crate) fn process(&mut self) -> &mut Running {
        &mut self.process
    }

    /// Waits for SIPp to end (killed 15 s after its own timeout) and reads its statistics.
    pub(crate) fn finish(mut self) -> Result<Outcome> {
        let end = self
            .process
            .wait(self.started + self.timeout + Duration::from_secs(15));
        let wall = self.started.elapsed();
        let stats = std::fs::read_to_string(self.dir.join(STATS))
            .ok()
            .and_then(|t| Stats::parse(&t));
        Ok(Outcome {
            end,
            wall,
            stats,
            calls: self.calls,
            error: sipp::first_error(&self.dir),
            stderr: self.process.stderr(),
        })
    }
}

/// SIPp's cumulative counters at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Calls that ran their whole scenario.
    pub(crate) successful: u64,
    /// Calls that failed (unexpected message, timeout, ...).
    pub(crate) failed: u64,
    /// Messages SIPp sent again (UDP retransmissions).
    pub(crate) retransmissions: u64,
}

impl Stats {
    /// The counters of the last row of a `-trace_stat` file: `;`-separated, a header row
    /// naming the columns (`SuccessfulCall(C)`, `FailedCall(C)`, `Retransmissions(C)`, the
    /// `(C)` ones cumulative). `None` when the file has no such columns or row.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next()?.split(';').collect();
        let row: Vec<&str> = lines.next_back()?.split(';').collect();
        let value = |name: &str| -> Option<u64> {
            let i = header.iter().position(|h| h.trim() == name)?;
            row.get(i)?.trim().parse().ok()
        };
        Some(Self {
            successful: value("SuccessfulCall(C)")?,
            failed: value("FailedCall(C)")?,
            retransmissions: value("Retransmissions(C)")?,
        })
    }
}

/// How a load run ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// How the process ended.
    pub(crate) end: Ended,
    /// From start to exit.
    pub(crate) wall: Duration,
    /// Its counters, when it wrote them.
    pub(crate) stats: Option<Stats>,
    /// How many calls it was asked for.
    pub(crate) calls: u64,
    /// The first error of its error log.
    pub(crate) error: Option<String>,
    /// What it printed on stderr.
    pub(crate) stderr: String,
}

impl Outcome {
    /// Calls that completed.
    pub(crate) fn successful(&self) -> u64 {
        self.stats.map_or(0, |s| s.successful)
    }

    /// Calls asked for that did not complete: failed, or never placed because SIPp stopped.
    pub(crate) fn failed(&self) -> u64 {
        self.calls.saturating_sub(self.successful())
    }

    /// Retransmissions SIPp counted.
    pub(crate) fn retransmissions(&self) -> u64 {
        self.stats.map_or(0, |s| s.retransmissions)
    }

    /// `Ok` when SIPp exited 0 with every call complete; else what went wrong.
    pub(crate) fn check(&self, who: &str) -> Result<()> {
        let code = match self.end {
            Ended::Exited(s) => s.code(),
            Ended::Killed => {
                bail!("SIPp ({who}) still running past its timeout: killed")
            }
        };
        if code == Some(0) && self.failed() == 0 {
            return Ok(());
        }
        let mut why = format!(
            "SIPp ({who}) exited {} ({}): {} of {} calls completed",
            code.map_or("by a signal".to_owned(), |c| c.to_string()),
            sipp::exit_meaning(code),
            self.successful(),
            self.calls
        );
        if let Some(e) = &self.error {
            why.push_str(&format!("; first error: {e}"));
        }
        if self.stats.is_none() {
            why.push_str(&format!(
                "; no statistics written; stderr:\n{}",
                tail(&self.stderr, 8)
            ));
        }
        bail!(why)
    }
}

/// Writes a SIPp injection file of `n` distinct users, `user0` to `user{n-1}`, read in order.
pub(crate) fn write_users(path: &Path, n: u64) -> Result<()> {
    let mut text = String::with_capacity(12 + n as usize * 10);
    text.push_str("SEQUENTIAL\n");
    for i in 0..n {
        text.push_str("user");
        text.push_str(&i.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// SIPp's version (`sipp -v`: `SIPp v3.6.1-TLS-SCTP-PCAP-RTPSTREAM.`), e.g. `SIPp v3.6.1`.
pub(crate) fn sipp_version() -> String {
    Command::new(crate::peers::SIPP.program)
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.split_whitespace()
                .skip_while(|w| *w != "SIPp")
                .nth(1)
                .map(|v| {
                    let v = v.trim_end_matches('.').trim_end_matches(',');
                    format!("SIPp {}", v.split('-').next().unwrap_or(v))
                })
        })
        .unwrap_or_else(|| "SIPp".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "StartTime;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);\
                          FailedCall(P);FailedCall(C);Retransmissions(P);Retransmissions(C);";

    #[test]
    fn stats_come_from_the_last_row_by_column_name() {
        let text =
            format!("{HEADER}\n2024-01-01;5;10;10;0;0;0;0;\n2024-01-01;0;100;29998;1;2;3;17;\n");
        assert_eq!(
            Stats::parse(&text),
            Some(Stats {
                successful: 29998,
                failed: 2,
                retransmissions: 17
            })
        );
    }

    #[test]
    fn stats_without_a_row_or_a_column_are_none() {
        assert_eq!(Stats::parse(HEADER), None);
        assert_eq!(Stats::parse(""), None);
        assert_eq!(Stats::parse("a;b\n1;2\n"), None);
        let short = format!("{HEADER}\n2024;0;1;2\n");
        assert_eq!(Stats::parse(&short), None);
    }

    fn outcome(code: i32, stats: Option<Stats>) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        Outcome {
            end: Ended::Exited(std::process::ExitStatus::from_raw(code << 8)),
            wall: Duration::from_secs(10),
            stats,
            calls: 100,
            error: Some("call 7 timed out".into()),
            stderr: String::new(),
        }
    }

    #[test]
    fn a_run_passes_only_with_every_call_complete_and_exit_zero() {
        let all = Stats {
            successful: 100,
            failed: 0,
            retransmissions: 3,
        };
        assert!(outcome(0, Some(all)).check("uac").is_ok());
        let short = Stats {
            successful: 98,
            failed: 2,
            retransmissions: 0,
        };
        let o = outcome(1, Some(short));
        assert_eq!(o.failed(), 2);
        let e = o.check("uac").unwrap_err().to_string();
        assert!(
            e.contains("98 of 100") && e.contains("call 7 timed out"),
            "{e}"
        );
        // Exit 0 but calls missing (stopped early) still fails.
        let o = outcome(0, Some(short));
        assert!(o.check("uac").is_err());
        let o = outcome(255, None);
        assert_eq!(o.failed(), 100);
        let e = o.check("uac").unwrap_err().to_string();
        assert!(e.contains("no statistics"), "{e}");
    }

    #[test]
    fn command_binds_loopback_and_counts_calls() {
        let load = Load {
            scenario: Scenario::File("register.xml"),
            remote: Some(5060),
            port: 5070,
            calls: 30000,
            rate: Some(3000),
            injection: Some(PathBuf::from("/tmp/users.csv")),
            timeout: Duration::from_secs(60),
            extra: vec![],
        };
        let cmd = load
            .command(&mut Ports::default(), Path::new("/tmp"))
            .unwrap();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let after = |flag: &str| {
            let i = args.iter().position(|a| a == flag).unwrap();
            args[i + 1].clone()
        };
        assert_eq!(args[0], "127.0.0.1:5060");
        assert!(after("-sf").ends_with("bench/sipp/register.xml"));
        assert_eq!(after("-m"), "30000");
        assert_eq!(after("-r"), "3000");
        assert_eq!(after("-i"), "127.0.0.1");
        assert_eq!(after("-ci"), "127.0.0.1");
        assert_eq!(after("-mi"), "127.0.0.1");
        assert_eq!(after("-timeout"), "60s");
        assert_eq!(after("-inf"), "/tmp/users.csv");
    }

    #[test]
    fn users_are_distinct_and_sequential() {
        let dir = std::env::temp_dir().join(format!("xtask-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users.csv");
        write_users(&path, 3).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "SEQUENTIAL\nuser0\nuser1\nuser2\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_scenario_file_registers_the_injected_user_and_expects_200() {
        let xml = std::fs::read_to_string(crate::root().join("bench/sipp/register.xml")).unwrap();
        assert!(xml.contains("REGISTER sip:"));
        assert!(xml.contains("To: <sip:[field0]@"));
        assert!(xml.contains("<recv response=\"200\""));
    }
}
