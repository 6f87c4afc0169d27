//! The interop suite: real peers that nobody here wrote, talking to our programs over
//! loopback.
//!
//! Our side is the two examples of `sip-dispatch` (`sip_client`, `sip_responder`); the peer
//! is SIPp, playing the scenarios in `interop/sipp/` or its built-in ones. Each scenario runs
//! on loopback ports of its own, every process under a deadline, and leaves its logs (our
//! programs' output with `RUST_LOG` tracing, SIPp's error, message and screen logs) in
//! `target/interop/<scenario>/`. A scenario passes when every process in it exits 0 and the
//! checks of the scenario hold.
//!
//! The other modules bring the endpoint, registrar and proxy scenarios and the transport
//! matrix (TCP, TLS, IPv6: `matrix`). Around them all, `judge` captures loopback and has
//! tshark decode every message: a malformed one from our programs fails the run like a
//! failed scenario (the line `tshark-judge`). The summary table lists every scenario; the
//! command exits non-zero when any failed.
//!
//! Two environment variables help chase a flaky scenario: `NETSIP_INTEROP_ONLY=a,b` runs the
//! scenarios whose names contain `a` or `b` (as does `cargo xtask interop a b`),
//! `NETSIP_INTEROP_REPEAT=N` runs each N times.

mod calls;
pub(crate) mod child;
mod endpoint;
mod judge;
mod matrix;
mod nat;
pub(crate) mod netsip_server;
pub(crate) mod ports;
mod proxy;
mod registrar;
mod simple;
pub(crate) mod sipp;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use child::{tail, Ended, Running};
use ports::Ports;
use sipp::Script;

/// The wall-clock guard of one scenario: SIPp gives up at 20 s (`-timeout 20s`) and our
/// programs at 20 to 25 s, so this is only reached when one of them hangs.
const SCENARIO_LIMIT: Duration = Duration::from_secs(40);

/// How long a server may take to bind its port.
const STARTUP_LIMIT: Duration = Duration::from_secs(10);

/// The tracing our programs write to their stderr, unless `RUST_LOG` says otherwise.
const DEFAULT_LOG: &str = "info,sip_dispatch=trace,sip_transport=debug";

/// One scenario: who plays which side.
struct Scenario {
    name: &'static str,
    kind: Kind,
}

enum Kind {
    /// Our `sip_client` sends `method` to a SIPp server playing `script`.
    ClientToSipp {
        tcp: bool,
        script: Script,
        method: &'static str,
        /// `sip_client --linger`: SIPp fails a call whose TCP connection closes before the
        /// call ends (the `uas` scenario ends 4 s after the 200 to the BYE).
        linger_ms: u64,
    },
    /// A SIPp client playing `script` sends to our `sip_responder`.
    SippToResponder {
        tcp: bool,
        script: Script,
        sipp_args: &'static [&'static str],
        responder_args: &'static [&'static str],
        /// How many requests of each method must reach the responder's receiver.
        received: &'static [(&'static str, usize)],
    },
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "options-udp",
        kind: Kind::ClientToSipp {
            tcp: false,
            script: Script::File("uas_options.xml"),
            method: "OPTIONS",
            linger_ms: 0,
        },
    },
    Scenario {
        name: "options-tcp",
        kind: Kind::ClientToSipp {
            tcp: true,
            script: Script::File("uas_options.xml"),
            method: "OPTIONS",
            linger_ms: 0,
        },
    },
    Scenario {
        name: "invite-ack-bye-udp",
        kind: Kind::ClientToSipp {
            tcp: false,
            script: Script::Builtin("uas"),
            method: "INVITE",
            linger_ms: 0,
        },
    },
    Scenario {
        name: "invite-ack-bye-tcp",
        kind: Kind::ClientToSipp {
            tcp: true,
            script: Script::Builtin("uas"),
            method: "INVITE",
            linger_ms: 4500,
        },
    },
    Scenario {
        name: "invite-486-retrans-udp",
        kind: Kind::SippToResponder {
            tcp: false,
            script: Script::File("uac_invite_486_retrans.xml"),
            // Without -nr SIPp drops a message identical to the last one it received as a
            // duplicate: the Timer G retransmission would never match. See the scenario.
            sipp_args: &["-nr"],
            // The linger keeps the server transaction alive through SIPp's 1.5 s check that
            // the ACK stopped the retransmissions.
            responder_args: &[
                "--invite-status",
                "486",
                "--requests",
                "1",
                "--linger",
                "3000",
            ],
            // The retransmitted INVITE is the transaction's business, not the receiver's
            // (RFC 3261 §17.2.1).
            received: &[("INVITE", 1)],
        },
    },
];

/// Where our programs are.
struct Programs {
    client: PathBuf,
    responder: PathBuf,
}

/// What a scenario came to.
struct Outcome {
    name: String,
    peers: String,
    passed: bool,
    took: Duration,
}

/// Runs every interop scenario and prints a summary; fails if any fails.
pub(crate) fn run() -> Result<()> {
    let started = Instant::now();
    let (selected, repeat) = selection()?;
    crate::peers::ensure(crate::peers::INTEROP_PEERS)?;
    build(&["-p", "sip-dispatch", "--examples"])?;
    let target = target_dir()?;
    let examples = target.join("debug").join("examples");
    let programs = Programs {
        client: examples.join("sip_client"),
        responder: examples.join("sip_responder"),
    };
    for p in [&programs.client, &programs.responder] {
        if !p.is_file() {
            bail!("{} is missing after the build", p.display());
        }
    }
    let out = target.join("interop");
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    println!(
        "interop: {} scenarios{}, logs in {}",
        selected.len(),
        if repeat > 1 {
            format!(" x {repeat}")
        } else {
            String::new()
        },
        out.display()
    );

    // The judge listens from before the first scenario to after the last.
    let capture = judge::Capture::start(&out);

    let mut outcomes = Vec::new();
    for (s, round) in selected
        .iter()
        .flat_map(|s| (1..=repeat).map(move |r| (*s, r)))
    {
        let name = if repeat > 1 {
            format!("{}#{round}", s.name)
        } else {
            s.name.to_owned()
        };
        let dir = out.join(name.replace('#', "-"));
        outcomes.push(run_reported(name, describe(s), &dir, |dir| {
            run_scenario(s, &programs, dir)
        })?);
    }

    outcomes.extend(endpoint::run(&out, &target)?);
    outcomes.extend(registrar::run(&out)?);
    outcomes.extend(proxy::run(&out)?);
    outcomes.extend(nat::run(&out)?);
    outcomes.extend(matrix::run(&out, &target)?);
    outcomes.extend(simple::run(&out)?);
    outcomes.extend(calls::run(&out, &target)?);
    if outcomes.is_empty() {
        bail!("NETSIP_INTEROP_ONLY selects no scenario");
    }
    let ledger = ports::ledger_snapshot();
    outcomes.push(run_reported(
        judge::NAME.to_owned(),
        "tshark's SIP dissector on every captured message".to_owned(),
        &out.join(judge::NAME),
        |_| capture.judge(&ledger),
    )?);
    summary(&outcomes, started.elapsed());
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if failed > 0 {
        bail!(
            "{failed} of {} interop scenarios failed (logs in {})",
            outcomes.len(),
            out.display()
        );
    }
    Ok(())
}

/// `cargo build ARGS`, once per run: the modules build what they need, and a second build
/// of the same thing after another one with other features would rebuild the TLS stack
/// (feature unification differs between packages) for nothing.
fn build(args: &[&str]) -> Result<()> {
    static DONE: std::sync::Mutex<Vec<Vec<String>>> = std::sync::Mutex::new(Vec::new());
    let key: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let mut done = DONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if done.contains(&key) {
        return Ok(());
    }
    crate::run(crate::cargo().arg("build").args(args))?;
    done.push(key);
    Ok(())
}

/// Builds `netsip` (once per run, see [`build`]) and gives the path of the binary.
fn netsip_binary() -> Result<PathBuf> {
    build(&["-p", "netsip"])?;
    let netsip = target_dir()?.join("debug").join("netsip");
    if !netsip.is_file() {
        bail!("{} is missing after the build", netsip.display());
    }
    Ok(netsip)
}

/// Runs each of a module's `selected` scenarios (name, what it plays, peers) with
/// [`run_reported`], in a folder of its own under `out`.
/// The scenarios of a module's table (name, play, description) that `NETSIP_INTEROP_ONLY`
/// selects, for [`run_each`].
fn selected<P>(
    scenarios: &'static [(&'static str, P, &'static str)],
) -> Vec<&'static (&'static str, P, &'static str)> {
    scenarios
        .iter()
        .filter(|(name, _, _)| is_selected(name))
        .collect()
}

fn run_each<P: Copy>(
    out: &Path,
    selected: &[&(&'static str, P, &'static str)],
    run: impl Fn(P, &Path) -> Result<Report>,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for (name, play, peers) in selected {
        outcomes.push(run_reported(
            (*name).to_owned(),
            (*peers).to_owned(),
            &out.join(name),
            |dir| run(*play, dir),
        )?);
    }
    Ok(outcomes)
}

/// The scenarios `NETSIP_INTEROP_ONLY` selects (all without it) and `NETSIP_INTEROP_REPEAT`.
fn selection() -> Result<(Vec<&'static Scenario>, usize)> {
    let selected: Vec<&Scenario> = SCENARIOS.iter().filter(|s| is_selected(s.name)).collect();
    // An empty choice here is fine: the endpoint and registrar modules filter by the same
    // variable, and the summary fails when nothing at all ran.
    let repeat = match std::env::var("NETSIP_INTEROP_REPEAT") {
        Ok(n) => n
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .with_context(|| format!("NETSIP_INTEROP_REPEAT={n:?} is not a positive number"))?,
        Err(_) => 1,
    };
    Ok((selected, repeat))
}

/// Whether `NETSIP_INTEROP_ONLY` (comma-separated name parts) or the words after `interop`
/// on the command line (`cargo xtask interop matrix proxy-sipp`) select the scenario
/// `name`; every scenario when neither names any.
fn is_selected(name: &str) -> bool {
    let only = std::env::var("NETSIP_INTEROP_ONLY").unwrap_or_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    selects(&only, &args, name)
}

/// [`is_selected`] without the environment: `args` are the command's arguments after the
/// program name; only `interop`'s own count (`cargo xtask test` runs the suite too).
fn selects(only: &str, args: &[String], name: &str) -> bool {
    let from_args = match args.split_first() {
        Some((first, rest)) if first == "interop" => rest,
        _ => &[],
    };
    let mut wanted = only
        .split(',')
        .chain(from_args.iter().map(String::as_str))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .peekable();
    wanted.peek().is_none() || wanted.any(|w| name.contains(w))
}

/// Runs one scenario with its own folder `dir`, prints `PASS name` or `FAIL name: why` with
/// the evidence, and says how it went.
fn run_reported(
    name: String,
    peers: String,
    dir: &Path,
    run: impl FnOnce(&Path) -> Result<Report>,
) -> Result<Outcome> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    let t0 = Instant::now();
    ports::begin_scenario(&name);
    let report = run(dir);
    ports::end_scenario();
    let took = t0.elapsed();
    let passed = matches!(&report, Ok(r) if r.problems.is_empty());
    match report {
        Ok(r) if r.problems.is_empty() => println!("PASS {name}"),
        Ok(r) => {
            println!("FAIL {name}: {}", r.problems.join("; "));
            print!("{}", r.details);
            println!("    logs: {}", dir.display());
        }
        Err(e) => println!("FAIL {name}: {e:#}"),
    }
    Ok(Outcome {
        name,
        peers,
        passed,
        took,
    })
}

fn describe(s: &Scenario) -> String {
    match &s.kind {
        Kind::ClientToSipp {
            tcp,
            script,
            method,
            ..
        } => format!(
            "sip_client {method} -> sipp {} ({})",
            script.describe(),
            proto(*tcp)
        ),
        Kind::SippToResponder { tcp, script, .. } => format!(
            "sipp {} -> sip_responder ({})",
            script.describe(),
            proto(*tcp)
        ),
    }
}

fn summary(outcomes: &[Outcome], took: Duration) {
    let name_w = outcomes
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let peers_w = outcomes
        .iter()
        .map(|o| o.peers.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!();
    println!(
        "{:<name_w$}  {:<peers_w$}  result  time",
        "scenario", "peers"
    );
    println!("{}", "-".repeat(name_w + peers_w + 16));
    for o in outcomes {
        println!(
            "{:<name_w$}  {:<peers_w$}  {:<6}  {:>6.2}s",
            o.name,
            o.peers,
            if o.passed { "PASS" } else { "FAIL" },
            o.took.as_secs_f64()
        );
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    println!(
        "{passed} passed, {} failed, in {:.1}s",
        outcomes.len() - passed,
        took.as_secs_f64()
    );
}

/// What went wrong (empty when the scenario passed) and the evidence.
struct Report {
    problems: Vec<String>,
    details: String,
}

fn run_scenario(s: &Scenario, programs: &Programs, dir: &Path) -> Result<Report> {
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let mut ports = Ports::default();
    match s.kind {
        Kind::ClientToSipp {
            tcp,
            script,
            method,
            linger_ms,
        } => {
            let port = ports.free()?;
            let cmd = sipp::command(script, tcp, port, None, &mut ports, dir, &[])?;
            let mut server = Running::spawn("sipp", cmd, dir)?;
            if let Err(e) = ports::wait_bound(&mut server, port, tcp, STARTUP_LIMIT) {
                let mut r = Report::new();
                r.problems.push(format!("{e:#}"));
                r.add_sipp_evidence(&server, dir);
                return Ok(r);
            }
            let mut cmd = our(&programs.client);
            cmd.args(["--to", &format!("{}:127.0.0.1:{port}", proto(tcp))])
                .args(["--method", method, "--expect", "200", "--timeout", "20"])
                .args(["--linger", &linger_ms.to_string()]);
            let mut client = Running::spawn("sip_client", cmd, dir)?;
            let client_end = client.wait(deadline);
            let server_end = server.wait(deadline);
            let mut r = Report::new();
            r.check_ours(&client, client_end);
            r.check_sipp(server_end);
            if method == "INVITE" {
                r.check_ack_before_bye(dir);
            }
            if !r.problems.is_empty() {
                r.add_sipp_evidence(&server, dir);
                r.add_our_evidence(&client);
            }
            Ok(r)
        }
        Kind::SippToResponder {
            tcp,
            script,
            sipp_args,
            responder_args,
            received,
        } => {
            let port = ports.ours()?;
            let mut cmd = our(&programs.responder);
            cmd.args(["--listen", &format!("{}:127.0.0.1:{port}", proto(tcp))])
                .args(["--timeout", "25"])
                .args(responder_args);
            let mut server = Running::spawn("sip_responder", cmd, dir)?;
            if let Err(e) = ports::wait_bound(&mut server, port, tcp, STARTUP_LIMIT) {
                let mut r = Report::new();
                r.problems.push(format!("{e:#}"));
                r.add_our_evidence(&server);
                return Ok(r);
            }
            let sipp_port = ports.free()?;
            let cmd = sipp::command(
                script,
                tcp,
                sipp_port,
                Some(port),
                &mut ports,
                dir,
                sipp_args,
            )?;
            let mut client = Running::spawn("sipp", cmd, dir)?;
            let client_end = client.wait(deadline);
            let server_end = server.wait(deadline);
            let mut r = Report::new();
            r.check_sipp(client_end);
            r.check_ours(&server, server_end);
            r.check_received(&server, received);
            if !r.problems.is_empty() {
                r.add_sipp_evidence(&client, dir);
                r.add_our_evidence(&server);
            }
            Ok(r)
        }
    }
}

fn proto(tcp: bool) -> &'static str {
    if tcp {
        "tcp"
    } else {
        "udp"
    }
}

/// One of our programs, with tracing on.
fn our(program: &Path) -> Command {
    let mut c = Command::new(program);
    if std::env::var_os("RUST_LOG").is_none() {
        c.env("RUST_LOG", DEFAULT_LOG);
    }
    c
}

impl Report {
    fn new() -> Self {
        Self {
            problems: Vec::new(),
            details: String::new(),
        }
    }

    /// Our program must exit 0; its FAILED line says why not.
    fn check_ours(&mut self, p: &Running, end: Ended) {
        match end {
            Ended::Exited(s) if s.success() => {}
            Ended::Exited(s) => {
                let err = p.stderr();
                let why = err
                    .lines()
                    .rev()
                    .find(|l| l.contains("FAILED"))
                    .map(|l| l.trim().to_owned())
                    .unwrap_or_else(|| "no reason printed".to_owned());
                let code = s.code().map_or("by a signal".to_owned(), |c| c.to_string());
                self.problems
                    .push(format!("{} exited {code}: {why}", p.name()));
            }
            Ended::Killed => self.problems.push(format!(
                "{} still running at the {}s guard: killed",
                p.name(),
                SCENARIO_LIMIT.as_secs()
            )),
        }
    }

    /// SIPp must exit 0: its one call passed.
    fn check_sipp(&mut self, end: Ended) {
        match end {
            e if e.success() => {}
            Ended::Exited(s) => self.problems.push(format!(
                "sipp exited {} ({})",
                s.code().map_or("by a signal".to_owned(), |c| c.to_string()),
                sipp::exit_meaning(s.code())
            )),
            Ended::Killed => self.problems.push(format!(
                "sipp still running at the {}s guard: killed",
                SCENARIO_LIMIT.as_secs()
            )),
        }
    }

    /// `sip_client` hands the ACK to the dispatcher before the BYE; SIPp's `uas` takes an
    /// ACK that comes after the BYE for an unexpected message.
    fn check_ack_before_bye(&mut self, dir: &Path) {
        let flow = sipp::message_flow(dir);
        let at = |m: &str| flow.iter().position(|l| l.contains(&format!("recv {m} ")));
        if let (Some(ack), Some(bye)) = (at("ACK"), at("BYE")) {
            if bye < ack {
                self.problems.push(
                    "SIPp received the BYE before the ACK, though sip_client delivered the ACK \
                     first: the dispatcher put them on the wire out of order (sip-dispatch bug: \
                     each send on a reliable leg runs on a task of its own)"
                        .to_owned(),
                );
            }
        }
    }

    /// The responder prints `received METHOD from ...` for each request its receiver gets.
    fn check_received(&mut self, responder: &Running, expected: &[(&str, usize)]) {
        let out = responder.stdout();
        for (method, n) in expected {
            let prefix = format!("received {method} ");
            let got = out.lines().filter(|l| l.starts_with(&prefix)).count();
            if got != *n {
                self.problems.push(format!(
                    "sip_responder's receiver got {got} {method} (expected {n}): a retransmission \
                     must stay in its server transaction"
                ));
            }
        }
    }

    fn add_sipp_evidence(&mut self, p: &Running, dir: &Path) {
        if let Some(e) = sipp::first_error(dir) {
            self.details.push_str(&format!("    sipp error log: {e}\n"));
        }
        let table = sipp::screen_table(dir);
        if !table.is_empty() {
            self.details.push_str("    sipp scenario screen:\n");
            self.details.push_str(&table);
        }
        let flow = sipp::message_flow(dir);
        if !flow.is_empty() {
            self.details.push_str("    sipp messages:\n");
            for l in flow {
                self.details.push_str(&format!("      {l}\n"));
            }
        }
        self.details.push_str("    sipp stderr:\n");
        self.details.push_str(&tail(&p.stderr(), 10));
    }

    /// [`Report::add_our_evidence`] of each of `programs`, when the scenario has failed.
    fn add_evidence_if_failed(&mut self, programs: &[&Running]) {
        if !self.problems.is_empty() {
            for p in programs {
                self.add_our_evidence(p);
            }
        }
    }

    /// Waits until `p` prints a line starting with `prefix` ([`STARTUP_LIMIT`]). When it
    /// does not, records why, followed by `meaning` (what that means for the scenario, or
    /// empty), with `p`'s output. Whether it printed the line.
    fn started(&mut self, p: &mut Running, prefix: &str, meaning: &str) -> bool {
        match proxy::wait_printed(p, prefix, STARTUP_LIMIT) {
            Ok(()) => true,
            Err(e) => {
                self.problems.push(format!("{e:#}{meaning}"));
                self.add_our_evidence(p);
                false
            }
        }
    }

    fn add_our_evidence(&mut self, p: &Running) {
        self.details
            .push_str(&format!("    {} stdout:\n", p.name()));
        self.details.push_str(&tail(&p.stdout(), 10));
        self.details
            .push_str(&format!("    {} stderr:\n", p.name()));
        self.details.push_str(&tail(&p.stderr(), 15));
    }
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR` and config).
fn target_dir() -> Result<PathBuf> {
    let out = crate::cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let dir = meta["target_directory"]
        .as_str()
        .context("cargo metadata has no target_directory")?;
    Ok(PathBuf::from(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn selection_by_variable_and_by_command_line_words() {
        // Nothing named: everything runs.
        assert!(selects("", &args(&["interop"]), "matrix-proxy-maddr"));
        assert!(selects("", &args(&["test"]), "matrix-proxy-maddr"));
        // Name parts, from either source.
        assert!(selects(
            "maddr, x",
            &args(&["interop"]),
            "matrix-proxy-maddr"
        ));
        assert!(!selects("tls", &args(&["interop"]), "matrix-proxy-maddr"));
        assert!(selects(
            "",
            &args(&["interop", "tls", "maddr"]),
            "matrix-proxy-maddr"
        ));
        assert!(!selects(
            "",
            &args(&["interop", "tls"]),
            "matrix-proxy-maddr"
        ));
        // `cargo xtask test`'s own arguments select nothing.
        assert!(selects("", &args(&["test", "tls"]), "matrix-proxy-maddr"));
    }
}
