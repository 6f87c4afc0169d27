//! `cargo xtask bench proxy` (issue 6): SIPp's built-in `uac` places 6000 calls at 300/s
//! through a stateless proxy to SIPp's built-in `uas` (INVITE, 180, 200, ACK, BYE, 200: six
//! messages forwarded per call), first through `netsip proxy --domain2proxy`, then through
//! Kamailio forwarding statelessly (`bench/kamailio/proxy.cfg`) as packaged and tuned (TLSF
//! memory manager), then through the floor relay of `bench/floor.rs` (parses nothing: the
//! kernel's share of the work), and the CPU time each proxy spent per call is compared.
//!
//! The UAC addresses its calls to the UAS (`sip:bench@127.0.0.1:UAS`) and sends them to the
//! proxy (`-rsa`), as a UA with an outbound proxy does: a Request-URI naming the proxy itself
//! would be a request for the proxy, which `netsip proxy` without a registrar answers 404.
//!
//! Every call must complete at the UAC: a failed one fails the command, after the report is
//! written. Logs stay in `target/bench/proxy/<server>/{uac,uas}/`.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::cpu::{self, CpuTime};
use super::floor;
use super::kamailio::{self, Kamailio, Server};
use super::load::{self, Load, Outcome, Scenario};
use super::server_report::{self, Row, Suite};
use crate::interop::netsip_server::NetsipServer;
use crate::interop::ports::{wait_bound, Ports};

/// Calls placed through each proxy.
const CALLS: u64 = 6_000;
/// Calls per second.
const RATE: u64 = 300;
/// The Request-URI's user (`-s`).
const SERVICE: &str = "bench";
/// How long a proxy or the UAS may take to listen, and a proxy to stop.
const STARTUP_LIMIT: Duration = Duration::from_secs(15);

/// Runs the suite and writes `proxy.md` and `proxy.png`.
pub(crate) fn run() -> Result<()> {
    crate::peers::ensure(&[crate::peers::SIPP, crate::peers::KAMAILIO])?;
    let netsip = super::netsip::release_binary()?;
    let logs = super::target_dir().join("bench").join("proxy");
    let _ = std::fs::remove_dir_all(&logs);
    let hz = cpu::ticks_per_second()?;

    let mut problems = Vec::new();
    let kinds: Vec<Kind> = Server::ALL
        .into_iter()
        .map(Kind::Server)
        .chain([Kind::Floor])
        .collect();
    let rows = server_report::in_rounds(&kinds, |server, round| {
        let dir = logs.join(format!("{}-{round}", server.name()));
        for sub in ["uac", "uas"] {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
        }
        eprintln!(
            "xtask: bench proxy, round {round}: {CALLS} calls at {RATE}/s through {}",
            server.name()
        );
        let run = run_one(server, &netsip, hz, &dir)
            .with_context(|| format!("proxy bench of {}", server.name()))?;
        for (side, outcome) in [("uac", &run.uac), ("uas", &run.uas)] {
            if let Err(e) = outcome.check(side) {
                problems.push(format!(
                    "{}: {e:#} (logs in {})",
                    server.name(),
                    dir.display()
                ));
            }
        }
        Ok(Row {
            server: match server {
                Kind::Server(Server::Netsip) => super::netsip::version(&netsip),
                Kind::Server(Server::Kamailio(setup)) => {
                    setup.describe(&kamailio::version(), "-x tlsf")
                }
                Kind::Floor => FLOOR_NAME.to_owned(),
            },
            floor: server == Kind::Floor,
            operations: run.uac.successful(),
            failed: run.uac.failed(),
            retransmissions: run.uac.retransmissions() + run.uas.retransmissions(),
            cpu: run.cpu,
            wall: run.uac.wall,
            rounds: Vec::new(),
        })
    })?;

    let suite = Suite {
        name: "proxy",
        title: "Stateless proxy benchmark: netsip proxy and Kamailio".to_owned(),
        operation: "call",
        notes: notes(),
    };
    server_report::write_checked(&suite, &rows, &problems)
}

/// How the report names the floor relay.
const FLOOR_NAME: &str = "floor: a relay that parses nothing";

/// Who forwards the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// netsip or Kamailio.
    Server(Server),
    /// The floor relay (`cargo xtask floor relay`).
    Floor,
}

impl Kind {
    /// Its name in logs and directories.
    fn name(self) -> &'static str {
        match self {
            Self::Server(s) => s.name(),
            Self::Floor => "floor",
        }
    }
}

/// What one proxy's run left: its CPU time during the calls, and both SIPps' outcomes.
struct Run {
    cpu: CpuTime,
    uac: Outcome,
    uas: Outcome,
}

/// A proxy that runs.
enum Proxy {
    Netsip(NetsipServer),
    Kamailio(Kamailio),
    Floor(floor::Relay),
}

impl Proxy {
    fn start(kind: Kind, netsip: &Path, port: u16, uas_port: u16, dir: &Path) -> Result<Self> {
        let server = match kind {
            Kind::Server(server) => server,
            Kind::Floor => {
                let xtask = super::netsip::release_xtask()?;
                return Ok(Self::Floor(floor::start_relay(
                    &xtask,
                    ([127, 0, 0, 1], port).into(),
                    ([127, 0, 0, 1], uas_port).into(),
                )?));
            }
        };
        Ok(match server {
            Server::Netsip => {
                let args = [
                    "--listen".to_owned(),
                    format!("udp:127.0.0.1:{port}"),
                    "--domain2proxy".to_owned(),
                    format!("127.0.0.1=udp:127.0.0.1:{uas_port}"),
                ];
                let mut p =
                    NetsipServer::start(netsip, "proxy", &args, "info", dir, STARTUP_LIMIT)?;
                p.wait_listening(1)?;
                Self::Netsip(p)
            }
            Server::Kamailio(setup) => {
                let defines = [
                    ("BENCH_LISTEN", format!("udp:127.0.0.1:{port}")),
                    ("BENCH_UAS", format!("\"sip:127.0.0.1:{uas_port}\"")),
                ];
                Self::Kamailio(Kamailio::start(
                    &kamailio::config("proxy.cfg"),
                    &defines,
                    setup,
                    port,
                    dir,
                )?)
            }
        })
    }

    fn pid(&self) -> Result<u32> {
        match self {
            Self::Netsip(p) => p.id().context("netsip proxy has no pid"),
            Self::Kamailio(k) => k.pid(),
            Self::Floor(r) => Ok(r.pid()),
        }
    }

    fn stop(self) -> Result<()> {
        match self {
            Self::Netsip(mut p) => {
                let status = p.stop()?;
                if !status.success() {
                    bail!(
                        "netsip proxy exited {status} after SIGTERM; stderr:\n{}",
                        crate::interop::child::tail(&p.stderr(), 10)
                    );
                }
                Ok(())
            }
            Self::Kamailio(k) => k.stop(),
            Self::Floor(r) => {
                drop(r);
                Ok(())
            }
        }
    }
}

/// The UAS, the proxy, then the UAC's calls through it, the proxy's CPU time read around
/// them.
fn run_one(server: Kind, netsip: &Path, hz: u64, dir: &Path) -> Result<Run> {
    let mut ports = Ports::default();
    let (port, uas_port, uac_port) = (ports.free()?, ports.free()?, ports.free()?);
    let timeout = Duration::from_secs(CALLS / RATE + 60);
    let uas_load = Load {
        scenario: Scenario::Builtin("uas"),
        remote: None,
        port: uas_port,
        calls: CALLS,
        rate: None,
        injection: None,
        timeout,
        extra: Vec::new(),
    };
    let uac_load = Load {
        scenario: Scenario::Builtin("uac"),
        // The Request-URI names the UAS; every message goes to the proxy.
        remote: Some(uas_port),
        port: uac_port,
        calls: CALLS,
        rate: Some(RATE),
        injection: None,
        timeout,
        extra: vec![
            "-s".to_owned(),
            SERVICE.to_owned(),
            "-rsa".to_owned(),
            format!("127.0.0.1:{port}"),
        ],
    };
    let mut uas = uas_load.spawn("sipp_uas", &mut ports, &dir.join("uas"))?;
    wait_bound(uas.process(), uas_port, false, STARTUP_LIMIT)?;
    let proxy = Proxy::start(server, netsip, port, uas_port, dir)?;
    let measured = cpu::during(proxy.pid()?, hz, || {
        uac_load
            .spawn("sipp_uac", &mut ports, &dir.join("uac"))?
            .finish()
    });
    // The UAS ends a few seconds after the last call's BYE (its scenario pauses at the end).
    let uas = uas.finish()?;
    let stopped = proxy.stop();
    let (cpu, uac) = measured?;
    stopped?;
    Ok(Run { cpu, uac, uas })
}

/// What the report says about the run besides the table.
fn notes() -> Vec<String> {
    vec![
        format!(
            "Load: {} built-in `uac` (`-sn uac -s {SERVICE} -m {CALLS} -r {RATE} -rp 1000 \
             -rsa 127.0.0.1:PROXY`) calls `sip:{SERVICE}@127.0.0.1:UAS` through the proxy (its \
             outbound proxy) to a built-in `uas`: INVITE, 180, 200, ACK, BYE, 200, six \
             messages forwarded per call, UDP over 127.0.0.1. A call counts when the UAC \
             completed it. The proxies run one after the other, in the order of the table, \
             each with a UAS and ports of its own.",
            load::sipp_version()
        ),
        "netsip: `netsip proxy --listen udp:127.0.0.1:PROXY --domain2proxy \
         127.0.0.1=udp:127.0.0.1:UAS`, release build, stateless, one tokio thread, \
         `RUST_LOG=info` (nothing logged per request)."
            .to_owned(),
        "Kamailio: `bench/kamailio/proxy.cfg`: Max-Forwards check, loose routing, then \
         `$du` = the UAS and a stateless `forward()`; responses go back by Via in the core; no \
         `tm`. `children=1` (one UDP worker, as netsip's one thread; with two, a call's 180 \
         and 200 are now and then forwarded in parallel and reach the UAC reversed, which \
         fails the call), `kamailio -DD -E -m 256 -M 16`; the tuned row adds `-x tlsf`."
            .to_owned(),
        "Floor: `cargo xtask floor relay` (`xtask/src/bench/floor.rs`) inserts a Via line \
         after a request's first line and sends it to the UAS, removes a response's first \
         Via line and sends it to the next Via's sent-by: no parsing, no checks, one blocking \
         `recvfrom` and one `sendto` per message. Its CPU is the kernel's (context switches, \
         the loopback send that runs the receiver's UDP stack) and is what no proxy goes \
         below on this machine and load."
            .to_owned(),
        "CPU: user and system time (`utime`+`stime`, with reaped children's) of the proxy's \
         process and every process below it, from `/proc`, read just before and just after \
         the UAC's run; µs per call is that over the calls completed. \"× Kamailio\" is the \
         row's CPU per call over that of Kamailio as packaged; the goal (issue 6) is 0.50 or \
         less. Command: \
         `cargo xtask bench proxy`."
            .to_owned(),
        server_report::rounds_note(),
    ]
}
