//! `cargo xtask bench registrar` (issue 6): SIPp registers 30000 distinct users at 3000/s
//! with `netsip registrar`, then with Kamailio's registrar (usrloc in memory) as packaged, then
//! with Kamailio tuned (TLSF memory manager, usrloc hash table sized for the load), each on its
//! own loopback ports, and the CPU time each server spent per REGISTER is compared.
//!
//! Every REGISTER must be answered 200: a failed one fails the command (after the report is
//! written, so that it shows which server failed how often). Logs of each run (SIPp's
//! statistics, errors and screen; the server's output) stay in `target/bench/registrar/`.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::cpu::{self, CpuTime};
use super::kamailio::{self, Kamailio, Server};
use super::load::{self, Load, Outcome, Scenario};
use super::server_report::{self, Row, Suite};
use crate::interop::netsip_server::NetsipServer;
use crate::interop::ports::Ports;

/// Distinct users registered, one REGISTER each.
const USERS: u64 = 30_000;
/// REGISTERs per second.
const RATE: u64 = 3_000;
/// The SIPp scenario, in `bench/sipp/`.
const SCENARIO: &str = "register.xml";
/// How long the server may take to listen and to stop.
const SERVER_LIMIT: Duration = Duration::from_secs(15);

/// Runs the suite and writes `registrar.md` and `registrar.png`.
pub(crate) fn run() -> Result<()> {
    crate::peers::ensure(&[crate::peers::SIPP, crate::peers::KAMAILIO])?;
    let netsip = super::netsip::release_binary()?;
    let logs = super::target_dir().join("bench").join("registrar");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let users = logs.join("users.csv");
    load::write_users(&users, USERS)?;
    let hz = cpu::ticks_per_second()?;

    let mut problems = Vec::new();
    let rows = server_report::in_rounds(&Server::ALL, |server, round| {
        let dir = logs.join(format!("{}-{round}", server.name()));
        std::fs::create_dir_all(&dir)?;
        eprintln!(
            "xtask: bench registrar, round {round}: {USERS} REGISTERs at {RATE}/s to {}",
            server.name()
        );
        let (cpu, outcome) = run_one(server, &netsip, &users, hz, &dir)
            .with_context(|| format!("registrar bench of {}", server.name()))?;
        if let Err(e) = outcome.check(server.name()) {
            problems.push(format!("{e:#} (logs in {})", dir.display()));
        }
        Ok(Row {
            server: match server {
                Server::Netsip => super::netsip::version(&netsip),
                Server::Kamailio(setup) => {
                    setup.describe(&kamailio::version(), "-x tlsf, hash_size 15")
                }
            },
            operations: outcome.successful(),
            failed: outcome.failed(),
            retransmissions: outcome.retransmissions(),
            cpu,
            wall: outcome.wall,
            floor: false,
            rounds: Vec::new(),
        })
    })?;

    let suite = Suite {
        name: "registrar",
        title: "Registrar benchmark: netsip registrar and Kamailio".to_owned(),
        operation: "REGISTER",
        notes: notes(),
    };
    server_report::write_checked(&suite, &rows, &problems)
}

/// One server under the load: start it, read its CPU time, run SIPp, read it again, stop it.
fn run_one(
    server: Server,
    netsip: &Path,
    users: &Path,
    hz: u64,
    dir: &Path,
) -> Result<(CpuTime, Outcome)> {
    let mut ports = Ports::default();
    let port = ports.free()?;
    let load = Load {
        scenario: Scenario::File(SCENARIO),
        remote: Some(port),
        port: ports.free()?,
        calls: USERS,
        rate: Some(RATE),
        injection: Some(users.to_owned()),
        timeout: Duration::from_secs(USERS / RATE + 60),
        extra: Vec::new(),
    };
    match server {
        Server::Netsip => {
            let args = ["--listen".to_owned(), format!("udp:127.0.0.1:{port}")];
            let mut registrar =
                NetsipServer::start(netsip, "registrar", &args, "info", dir, SERVER_LIMIT)?;
            registrar.wait_listening(1)?;
            let pid = registrar.id().context("netsip registrar has no pid")?;
            let measured = cpu::during(pid, hz, || load.spawn("sipp", &mut ports, dir)?.finish())?;
            let status = registrar.stop()?;
            if !status.success() {
                bail!(
                    "netsip registrar exited {status} after SIGTERM; stderr:\n{}",
                    crate::interop::child::tail(&registrar.stderr(), 10)
                );
            }
            Ok(measured)
        }
        Server::Kamailio(setup) => {
            let defines = [("BENCH_LISTEN", format!("udp:127.0.0.1:{port}"))];
            let k = Kamailio::start(
                &kamailio::config("registrar.cfg"),
                &defines,
                setup,
                port,
                dir,
            )?;
            let pid = k.pid()?;
            let measured = cpu::during(pid, hz, || load.spawn("sipp", &mut ports, dir)?.finish())?;
            k.stop()?;
            Ok(measured)
        }
    }
}

/// What the report says about the run besides the table.
fn notes() -> Vec<String> {
    vec![
        format!(
            "Load: {} plays `bench/sipp/register.xml`: {USERS} REGISTERs of distinct users \
             (`user0` to `user{}` from an injection file) at {RATE}/s \
             (`-m {USERS} -r {RATE} -rp 1000`), UDP over 127.0.0.1, each to be answered 200 \
             (SIPp retransmits after 500 ms, doubling). The servers run one after the other, \
             in the order of the table, each on ports of its own.",
            load::sipp_version(),
            USERS - 1
        ),
        "netsip: `netsip registrar --listen udp:127.0.0.1:PORT`, release build, in-memory \
         store, one tokio thread, `RUST_LOG=info` (nothing logged per request)."
            .to_owned(),
        "Kamailio: `bench/kamailio/registrar.cfg`: `registrar` with `usrloc` in memory \
         (`db_mode` 0), replies by `sl`, no `tm`; `children=1` (one UDP worker, as netsip's one \
         thread; two cost about 10% more per REGISTER here), `kamailio -DD -E -m 256 -M 16`. \
         As packaged, Debian's build uses its q_malloc memory manager (with its debugging \
         aids), which takes much of its time; the tuned row adds `-x tlsf` (TLSF memory \
         manager) and `-A BENCH_TUNED` (usrloc `hash_size` 15: 32768 slots for 30000 users)."
            .to_owned(),
        "CPU: user and system time (`utime`+`stime`, with reaped children's) of the server's \
         process and every process below it, from `/proc`, read just before and just after \
         the SIPp run; µs per REGISTER is that over the REGISTERs answered 200. \
         \"× Kamailio\" is the row's CPU per REGISTER over that of Kamailio as packaged; the \
         goal (issue 6) is 0.50 or less. Command: `cargo xtask bench registrar`."
            .to_owned(),
        server_report::rounds_note(),
    ]
}
