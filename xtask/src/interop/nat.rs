//! `netsip proxy --nat` and `netsip nathelper` between Net::SIP peers: a call through the
//! proxy whose media goes through our relay.
//!
//! | scenario | relay | the peers |
//! | --- | --- | --- |
//! | `nat-perl-call-local` | `netsip proxy --registrar --nat` (the relay in the proxy) | `interop/nat/perl_uas.pl` registers bob, `perl_uac.pl` calls him through the proxy; RTP echoed |
//! | `nat-perl-call-nathelper` | `netsip nathelper --control tcp:127.0.0.1:0`, driven by `netsip proxy --registrar --nathelper` | the same |
//!
//! A scenario passes when both Perl peers set the call up and tear it down (exit 0), each saw
//! in the other's SDP a relay address (127.0.0.1, a port of [`RELAY_PORTS`], not the other
//! peer's own media address), RTP came back to the caller through the echo, the relay logged
//! the session's end with bytes relayed in both directions, and every netsip process exits 0
//! on SIGTERM. Logs go to `target/interop/<scenario>/` (the nathelper's to `nathelper/`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::child::{tail, Running};
use super::netsip_server::NetsipServer;
use super::ports::Ports;
use super::proxy::BOB_NOT_REGISTERED;
use super::proxy::{add_proxy_evidence, check_printed, start_proxy};
use super::{Outcome, Report, SCENARIO_LIMIT};

/// The ports the relay binds: outside the suite's ports (so that the judge's capture filter
/// leaves the media alone) and below Linux's ephemeral range.
const RELAY_PORTS: (u16, u16) = (30000, 31999);

/// The tracing of the relay (and the proxy), unless `RUST_LOG` says otherwise: the session
/// ends with its byte counts are at info.
const NAT_LOG: &str = "info,sip_proxy=debug";

/// How long the nathelper may take to listen, and to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// Where the relay runs.
#[derive(Clone, Copy)]
enum Relay {
    /// In the proxy (`--nat`).
    InProxy,
    /// In a `netsip nathelper` process (`--nathelper`).
    Nathelper,
}

const SCENARIOS: &[(&str, Relay, &str)] = &[
    (
        "nat-perl-call-local",
        Relay::InProxy,
        "Net::SIP uac -> netsip proxy --registrar --nat -> Net::SIP uas, RTP relayed (udp)",
    ),
    (
        "nat-perl-call-nathelper",
        Relay::Nathelper,
        "Net::SIP uac -> netsip proxy --nathelper -> Net::SIP uas, RTP via netsip nathelper",
    ),
];

/// Runs the selected NAT scenarios, logging into `out/<name>/`; one outcome each.
pub(super) fn run(out: &Path) -> Result<Vec<Outcome>> {
    let selected = super::selected(SCENARIOS);
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    crate::peers::ensure(&[crate::peers::NET_SIP])?;
    let netsip = super::netsip_binary()?;
    super::run_each(out, &selected, |play, dir| run_one(play, &netsip, dir))
}

fn relay_ports() -> String {
    format!("{}-{}", RELAY_PORTS.0, RELAY_PORTS.1)
}

fn run_one(relay: Relay, netsip: &Path, dir: &Path) -> Result<Report> {
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let mut ports = Ports::default();
    let mut r = Report::new();

    let mut nathelper = None;
    let relay_args = match relay {
        Relay::InProxy => vec!["--nat".to_owned(), "--rtp-ports".to_owned(), relay_ports()],
        Relay::Nathelper => {
            let nat_dir = dir.join("nathelper");
            std::fs::create_dir_all(&nat_dir)?;
            // Port 0: the system's choice, outside the suite's ports: the judge must not
            // take the control protocol's JSON for SIP.
            let args = [
                "--control",
                "tcp:127.0.0.1:0",
                "--rtp-ports",
                &relay_ports(),
            ]
            .map(str::to_owned);
            let mut helper =
                NetsipServer::start(netsip, "nathelper", &args, NAT_LOG, &nat_dir, STOP_LIMIT)?;
            if let Err(e) = helper.wait_listening(1) {
                r.problems.push(format!("{e:#}"));
                add_nathelper_evidence(&helper, &mut r);
                return Ok(r);
            }
            let control = helper
                .stdout()
                .lines()
                .find_map(|l| l.strip_prefix("listening on ").map(str::to_owned));
            let Some(control) = control else {
                bail!("netsip nathelper printed no control address");
            };
            nathelper = Some(helper);
            vec!["--nathelper".to_owned(), control]
        }
    };

    let port = ports.ours()?;
    let mut args = vec!["--registrar".to_owned()];
    args.extend(relay_args);
    let mut proxy = start_proxy(netsip, port, &args, dir)?;
    if let Err(e) = proxy.wait_listening(2) {
        r.problems.push(format!("{e:#}"));
        add_proxy_evidence(&proxy, &mut r);
        return Ok(r);
    }
    let called = perl_call(port, &mut ports, dir, deadline, &mut r)?;

    match proxy.stop() {
        Ok(status) if status.success() => {}
        Ok(status) => r
            .problems
            .push(format!("netsip proxy exited {status} after SIGTERM")),
        Err(e) => r.problems.push(format!("{e:#}")),
    }
    if let Some(helper) = nathelper.as_mut() {
        match helper.stop() {
            Ok(status) if status.success() => {}
            Ok(status) => r
                .problems
                .push(format!("netsip nathelper exited {status} after SIGTERM")),
            Err(e) => r.problems.push(format!("{e:#}")),
        }
    }
    // The relay's log, complete now that it stopped.
    let relay_log = match &nathelper {
        Some(h) => h.stderr(),
        None => proxy.stderr(),
    };
    if called {
        check_relayed(&relay_log, &mut r);
    }
    if !r.problems.is_empty() {
        add_proxy_evidence(&proxy, &mut r);
        if let Some(h) = &nathelper {
            add_nathelper_evidence(h, &mut r);
        }
    }
    Ok(r)
}

fn perl_script(name: &str) -> Command {
    let mut c = Command::new("perl");
    c.arg(crate::root().join("interop").join("nat").join(name));
    c
}

/// Bob registers at the proxy, alice calls sip:bob@example.com through it; both print the
/// media addresses they were given. Whether the call got as far as RTP.
fn perl_call(
    port: u16,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<bool> {
    let proxy = format!("127.0.0.1:{port}");
    let mut cmd = perl_script("perl_uas.pl");
    cmd.args(["--leg", &format!("127.0.0.1:{}", ports.free()?)])
        .args(["--proxy", &proxy])
        .args(["--user", "bob@example.com", "--timeout", "25"]);
    let mut uas = Running::spawn("perl_uas", cmd, dir)?;
    if !r.started(&mut uas, "registered for ", BOB_NOT_REGISTERED) {
        return Ok(false);
    }
    let mut cmd = perl_script("perl_uac.pl");
    cmd.args(["--leg", &format!("127.0.0.1:{}", ports.free()?)])
        .args(["--proxy", &proxy])
        .args(["--to", "sip:bob@example.com"]);
    let mut uac = Running::spawn("perl_uac", cmd, dir)?;
    let uac_end = uac.wait(deadline);
    let uas_end = uas.wait(deadline);
    r.check_ours(&uac, uac_end);
    r.check_ours(&uas, uas_end);
    check_printed(r, &uac, &["call up", "call torn down"]);
    check_printed(r, &uas, &["established", "call set up and torn down"]);

    let (uac_out, uas_out) = (uac.stdout(), uas.stdout());
    let alice_own = printed_addr(&uac_out, "own media ");
    let bob_own = printed_addr(&uas_out, "own media ");
    for (who, seen, peer, other) in [
        (
            "alice (in the 200's SDP)",
            printed_addr(&uac_out, "answer media "),
            bob_own,
            "bob's",
        ),
        (
            "bob (in the INVITE's SDP)",
            printed_addr(&uas_out, "offer media "),
            alice_own,
            "alice's",
        ),
    ] {
        match seen {
            None => r.problems.push(format!("{who}: no media address printed")),
            Some(a) if Some(a) == peer => r.problems.push(format!(
                "{who} got {a}, {other} own media address: the SDP was not rewritten to the relay"
            )),
            Some(a) if !is_relay(a) => r.problems.push(format!(
                "{who} got {a}, not a relay address (127.0.0.1, ports {})",
                relay_ports()
            )),
            Some(_) => {}
        }
    }
    let back = printed_count(&uac_out, "received ");
    let echoed = printed_count(&uas_out, "echoed ");
    let rtp_flowed = back.unwrap_or(0) > 0 && echoed.unwrap_or(0) > 0;
    if uac_end.success() && uas_end.success() && !rtp_flowed {
        r.problems.push(format!(
            "RTP through the relay: bob echoed {echoed:?} packets, alice got {back:?} back"
        ));
    }
    r.add_evidence_if_failed(&[&uac, &uas]);
    Ok(uac_end.success() && uas_end.success())
}

/// Whether `a` is where the relay binds.
fn is_relay(a: SocketAddr) -> bool {
    a.ip().is_loopback() && (RELAY_PORTS.0..=RELAY_PORTS.1).contains(&a.port())
}

/// The address printed after `prefix` (`own media 127.0.0.1:8820`).
fn printed_addr(out: &str, prefix: &str) -> Option<SocketAddr> {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
}

/// The number printed after `prefix` (`received 51 RTP packets back`).
fn printed_count(out: &str, prefix: &str) -> Option<u32> {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix)?.split(' ').next()?.parse().ok())
}

/// The relay's log must show a session that ended with bytes relayed both ways: the media
/// really went through it.
fn check_relayed(log: &str, r: &mut Report) {
    let field = |line: &str, name: &str| -> Option<u64> {
        let at = line.find(&format!("{name}="))? + name.len() + 1;
        line.get(at..)?
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let sessions: Vec<(u64, u64)> = log
        .lines()
        .filter(|l| l.contains("relay session ended"))
        .filter_map(|l| Some((field(l, "bytes_from")?, field(l, "bytes_to")?)))
        .collect();
    if !sessions.iter().any(|&(from, to)| from > 0 && to > 0) {
        r.problems.push(format!(
            "the relay logged no session with bytes both ways (sessions ended, bytes from/to: \
             {sessions:?})"
        ));
    }
}

fn add_nathelper_evidence(helper: &NetsipServer, r: &mut Report) {
    r.details.push_str("    netsip nathelper stdout:\n");
    r.details.push_str(&tail(&helper.stdout(), 5));
    r.details.push_str("    netsip nathelper stderr:\n");
    r.details.push_str(&tail(&helper.stderr(), 20));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_lines_are_read() {
        let out = "call up\nown media 127.0.0.1:8820\nanswer media 127.0.0.1:31930\n\
                   received 51 RTP packets back\n";
        assert_eq!(
            printed_addr(out, "answer media "),
            Some("127.0.0.1:31930".parse().unwrap())
        );
        assert_eq!(printed_count(out, "received "), Some(51));
        assert_eq!(printed_addr(out, "offer media "), None);
        assert!(is_relay("127.0.0.1:31930".parse().unwrap()));
        assert!(!is_relay("127.0.0.1:8820".parse().unwrap()));
    }

    #[test]
    fn the_relay_log_is_read() {
        let mut r = Report::new();
        check_relayed(
            "INFO sip_proxy::nat::local: relay session ended (closed) session=3 \
             bytes_from=8772 bytes_to=8772 reason=\"closed\"\n",
            &mut r,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        check_relayed("relay session ended bytes_from=0 bytes_to=12\n", &mut r);
        assert_eq!(r.problems.len(), 1);
    }
}
