//! `netsip registrar` against peers nobody here wrote: SIPp playing the REGISTER scenarios
//! of `interop/registrar/`, the Perl Net::SIP client (`interop/registrar/net_sip_register.pl`)
//! and sipsak.
//!
//! Each scenario starts its own registrar on free loopback ports, waits until it prints where
//! it listens, runs the peers one after the other (each under a deadline), then stops the
//! registrar with SIGTERM: it must exit 0. Logs go to `target/interop/<scenario>/`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::child::{tail, Ended, Running};
use super::netsip_server::NetsipServer;
use super::ports::Ports;
use super::{sipp, Outcome, Report};

/// The wall-clock guard of one peer run: SIPp gives up at 20 s, the Perl script at 30 s.
const PEER_LIMIT: Duration = Duration::from_secs(40);

/// How long the registrar may take to listen, and to stop after SIGTERM.
const SERVER_LIMIT: Duration = Duration::from_secs(10);

use crate::peers::SIPSAK;

/// One peer run within a scenario.
#[derive(Clone, Copy)]
enum Step {
    /// SIPp plays `interop/registrar/<file>` once; it must exit 0.
    Sipp { file: &'static str },
    /// `net_sip_register.pl`; it must exit 0 (it checks min and max itself).
    NetSip,
    /// `sipsak -U` registers with `expires`; it must succeed unless `expect_fail`.
    SipsakRegister { expires: u32, expect_fail: bool },
    /// `sipsak -s`: an OPTIONS ping that must get 200.
    SipsakOptions,
}

struct Scenario {
    name: &'static str,
    tcp: bool,
    min_expires: u32,
    max_expires: u32,
    steps: &'static [Step],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "registrar-sipp-register-udp",
        tcp: false,
        min_expires: 30,
        max_expires: 300,
        steps: &[Step::Sipp {
            file: "register.xml",
        }],
    },
    Scenario {
        name: "registrar-sipp-register-tcp",
        tcp: true,
        min_expires: 30,
        max_expires: 300,
        steps: &[Step::Sipp {
            file: "register.xml",
        }],
    },
    Scenario {
        name: "registrar-sipp-423-udp",
        tcp: false,
        min_expires: 30,
        max_expires: 300,
        steps: &[Step::Sipp { file: "brief.xml" }],
    },
    Scenario {
        name: "registrar-sipp-remove-all-udp",
        tcp: false,
        min_expires: 30,
        max_expires: 300,
        steps: &[Step::Sipp {
            file: "remove_all.xml",
        }],
    },
    Scenario {
        name: "registrar-sipp-remove-all-tcp",
        tcp: true,
        min_expires: 30,
        max_expires: 300,
        steps: &[Step::Sipp {
            file: "remove_all.xml",
        }],
    },
    Scenario {
        // Limits other than the defaults, so that the script sees the ones configured.
        name: "registrar-net-sip-perl-udp",
        tcp: false,
        min_expires: 20,
        max_expires: 120,
        steps: &[Step::NetSip],
    },
    Scenario {
        name: "registrar-sipsak-udp",
        tcp: false,
        min_expires: 30,
        max_expires: 300,
        steps: &[
            Step::SipsakRegister {
                expires: 60,
                expect_fail: false,
            },
            // 423 below the minimum: sipsak gives up.
            Step::SipsakRegister {
                expires: 10,
                expect_fail: true,
            },
            Step::SipsakOptions,
        ],
    },
    Scenario {
        name: "registrar-sipsak-tcp",
        tcp: true,
        min_expires: 30,
        max_expires: 300,
        steps: &[Step::SipsakRegister {
            expires: 60,
            expect_fail: false,
        }],
    },
];

/// Runs the registrar scenarios that `NETSIP_INTEROP_ONLY` selects (all when unset), printing
/// PASS/FAIL as they end; their outcomes go into the suite's summary.
pub(super) fn run(out: &Path) -> Result<Vec<Outcome>> {
    let selected: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|s| super::is_selected(s.name))
        .collect();
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    crate::peers::ensure(&[crate::peers::SIPP, SIPSAK])?;
    crate::peers::ensure(&[crate::peers::NET_SIP])?;
    let netsip = super::netsip_binary()?;
    println!("interop: {} registrar scenarios", selected.len());

    let mut outcomes = Vec::new();
    for s in selected {
        outcomes.push(super::run_reported(
            s.name.to_owned(),
            describe(s),
            &out.join(s.name),
            |dir| run_scenario(s, &netsip, dir),
        )?);
    }
    Ok(outcomes)
}

fn describe(s: &Scenario) -> String {
    let peers: Vec<String> = s
        .steps
        .iter()
        .map(|step| match step {
            Step::Sipp { file } => format!("sipp {file}"),
            Step::NetSip => "perl Net::SIP".to_owned(),
            Step::SipsakRegister { expires, .. } => format!("sipsak -U -x {expires}"),
            Step::SipsakOptions => "sipsak OPTIONS".to_owned(),
        })
        .collect();
    format!(
        "{} -> netsip registrar ({})",
        peers.join(", "),
        if s.tcp { "tcp" } else { "udp" }
    )
}

fn run_scenario(s: &Scenario, netsip: &Path, dir: &Path) -> Result<Report> {
    let mut ports = Ports::default();
    let port = ports.ours()?;
    let mut server = start_server(netsip, s, port, dir)?;
    let mut r = Report {
        problems: Vec::new(),
        details: String::new(),
    };
    if let Err(e) = server.wait_listening(if s.tcp { 2 } else { 1 }) {
        r.problems.push(format!("{e:#}"));
        r.add_server_evidence(&server);
        return Ok(r);
    }
    for (i, step) in s.steps.iter().enumerate() {
        let step_dir = dir.join(format!("step{}", i + 1));
        std::fs::create_dir_all(&step_dir)?;
        run_step(*step, s, port, &mut ports, &step_dir, &mut r)?;
    }
    match server.stop() {
        Ok(status) if status.success() => {}
        Ok(status) => r
            .problems
            .push(format!("netsip registrar exited {status} after SIGTERM")),
        Err(e) => r.problems.push(format!("{e:#}")),
    }
    if !r.problems.is_empty() {
        r.add_server_evidence(&server);
    }
    Ok(r)
}

fn run_step(
    step: Step,
    s: &Scenario,
    port: u16,
    ports: &mut Ports,
    dir: &Path,
    r: &mut Report,
) -> Result<()> {
    let deadline = Instant::now() + PEER_LIMIT;
    match step {
        Step::Sipp { file } => {
            let mut cmd = Command::new(crate::peers::SIPP.program);
            cmd.arg(format!("127.0.0.1:{port}"))
                .arg("-sf")
                .arg(crate::root().join("interop").join("registrar").join(file))
                .args(["-t", if s.tcp { "t1" } else { "u1" }])
                .args(["-i", "127.0.0.1", "-p", &ports.free()?.to_string()])
                .args(["-ci", "127.0.0.1", "-cp", &ports.free()?.to_string()])
                .args(["-mi", "127.0.0.1", "-mp", &ports.free_pair()?.to_string()])
                .args(["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"])
                .arg("-trace_err")
                .arg("-error_file")
                .arg(dir.join(sipp::ERRORS))
                .arg("-trace_msg")
                .arg("-message_file")
                .arg(dir.join(sipp::MESSAGES))
                .arg("-trace_screen")
                .arg("-screen_file")
                .arg(dir.join(sipp::SCREEN));
            let mut p = Running::spawn("sipp", cmd, dir)?;
            let end = p.wait(deadline);
            if !end.success() {
                r.problems
                    .push(format!("sipp {file}: {}", ended(end, sipp::exit_meaning)));
                if let Some(e) = sipp::first_error(dir) {
                    r.details.push_str(&format!("    sipp error log: {e}\n"));
                }
                let flow = sipp::message_flow(dir);
                if !flow.is_empty() {
                    r.details.push_str("    sipp messages:\n");
                    for l in flow {
                        r.details.push_str(&format!("      {l}\n"));
                    }
                }
                r.details.push_str("    sipp stderr:\n");
                r.details.push_str(&tail(&p.stderr(), 10));
            }
        }
        Step::NetSip => {
            let mut cmd = Command::new("perl");
            cmd.arg(
                crate::root()
                    .join("interop")
                    .join("registrar")
                    .join("net_sip_register.pl"),
            )
            .arg(port.to_string())
            .arg(ports.free()?.to_string())
            .arg(s.min_expires.to_string())
            .arg(s.max_expires.to_string());
            let mut p = Running::spawn("net_sip", cmd, dir)?;
            let end = p.wait(deadline);
            if !end.success() {
                let out = p.stdout();
                let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("not ok")).collect();
                r.problems.push(format!(
                    "Net::SIP client: {}{}",
                    ended(end, |_| "checks failed"),
                    if failed.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", failed.join("; "))
                    }
                ));
                r.details.push_str("    net_sip stdout:\n");
                r.details.push_str(&tail(&out, 15));
                r.details.push_str("    net_sip stderr:\n");
                r.details.push_str(&tail(&p.stderr(), 10));
            }
        }
        Step::SipsakRegister {
            expires,
            expect_fail,
        } => {
            let mut cmd = sipsak(s, port, ports)?;
            cmd.args(["-U", "-i", "-x", &expires.to_string()]);
            let mut p = Running::spawn("sipsak", cmd, dir)?;
            let end = p.wait(deadline);
            let ok = end.success();
            // The refusal must be the registrar's 423, not any failure.
            let as_expected = match end {
                // sipsak prints what it received on stdout or stderr, depending on the outcome.
                Ended::Exited(_) if expect_fail => {
                    !ok && (p.stdout() + &p.stderr()).contains("SIP/2.0 423 ")
                }
                Ended::Exited(_) => ok,
                Ended::Killed => false,
            };
            if !as_expected {
                r.problems.push(format!(
                    "sipsak -U -x {expires} {} ({})",
                    if expect_fail {
                        "should have failed (423)"
                    } else {
                        "should have registered"
                    },
                    ended(end, |_| "")
                ));
                r.details.push_str("    sipsak output:\n");
                r.details.push_str(&tail(&p.stdout(), 25));
            }
        }
        Step::SipsakOptions => {
            let cmd = sipsak(s, port, ports)?;
            let mut p = Running::spawn("sipsak_options", cmd, dir)?;
            let end = p.wait(deadline);
            if !end.success() || !p.stdout().contains("200 OK") {
                r.problems
                    .push(format!("sipsak OPTIONS: no 200 ({})", ended(end, |_| "")));
                r.details.push_str("    sipsak output:\n");
                r.details.push_str(&tail(&p.stdout(), 15));
            }
        }
    }
    Ok(())
}

/// sipsak aimed at the registrar, from a port of its own, verbose enough to show the
/// exchange in its log.
fn sipsak(s: &Scenario, port: u16, ports: &mut Ports) -> Result<Command> {
    let mut c = Command::new(SIPSAK.program);
    c.args(["-s", &format!("sip:sipsak@127.0.0.1:{port}")])
        .args(["-H", "127.0.0.1"])
        .args(["-l", &ports.free()?.to_string()])
        .args(["-E", if s.tcp { "tcp" } else { "udp" }])
        .arg("-vv");
    Ok(c)
}

fn ended(end: Ended, meaning: impl Fn(Option<i32>) -> &'static str) -> String {
    match end {
        Ended::Exited(s) => {
            let m = meaning(s.code());
            if m.is_empty() {
                format!("exited {s}")
            } else {
                format!("exited {s}: {m}")
            }
        }
        Ended::Killed => format!("still running after {}s: killed", PEER_LIMIT.as_secs()),
    }
}

impl Report {
    fn add_server_evidence(&mut self, server: &NetsipServer) {
        self.details.push_str("    netsip registrar stdout:\n");
        self.details.push_str(&tail(&server.stdout(), 5));
        self.details.push_str("    netsip registrar stderr:\n");
        self.details.push_str(&tail(&server.stderr(), 15));
    }
}

/// Starts `netsip registrar` for the scenario on `port` of 127.0.0.1, in `dir`.
fn start_server(netsip: &Path, s: &Scenario, port: u16, dir: &Path) -> Result<NetsipServer> {
    let mut args = vec![
        "--listen".to_owned(),
        format!("udp:127.0.0.1:{port}"),
        "--min-expires".to_owned(),
        s.min_expires.to_string(),
        "--max-expires".to_owned(),
        s.max_expires.to_string(),
    ];
    if s.tcp {
        args.extend(["--listen".to_owned(), format!("tcp:127.0.0.1:{port}")]);
    }
    NetsipServer::start(netsip, "registrar", &args, "debug", dir, SERVER_LIMIT)
}
