//! The endpoint's scenarios: our `sip-endpoint` examples (`uac`, `uas`, `registrar`) and real
//! peers, each call set up and torn down.
//!
//! | scenario | our side | the peer |
//! | --- | --- | --- |
//! | `endpoint-uac-sipp-uas` | `uac` calls, hangs up | `sipp -sn uas` |
//! | `endpoint-sipp-uac-uas` | `uas` answers | `sipp -sn uac` calls, hangs up |
//! | `endpoint-perl-register-call` | `registrar`, `uas` | `interop/endpoint/perl_uac.pl` (Net::SIP::Simple register, invite, bye) |
//! | `endpoint-uac-perl-uas` | `uac` calls, hangs up | `interop/endpoint/perl_uas.pl` (Net::SIP::Simple listen) |
//!
//! The Perl peer is the Debian package `libnet-sip-perl`, installed with apt when missing and
//! running as root. `NETSIP_INTEROP_ONLY` selects among these names too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Result};

use super::child::{Ended, Running};
use super::ports::{wait_bound, Ports};
use super::sipp::{self, Script};
use super::{our, Outcome, Report, SCENARIO_LIMIT, STARTUP_LIMIT};

/// Who plays which side.
#[derive(Clone, Copy)]
enum Play {
    UacToSippUas,
    SippUacToUas,
    PerlRegistersAndCalls,
    UacToPerlUas,
}

const SCENARIOS: &[(&str, Play, &str)] = &[
    (
        "endpoint-uac-sipp-uas",
        Play::UacToSippUas,
        "uac -> sipp -sn uas (udp)",
    ),
    (
        "endpoint-sipp-uac-uas",
        Play::SippUacToUas,
        "sipp -sn uac -> uas (udp)",
    ),
    (
        "endpoint-perl-register-call",
        Play::PerlRegistersAndCalls,
        "Net::SIP register -> registrar, invite -> uas (udp)",
    ),
    (
        "endpoint-uac-perl-uas",
        Play::UacToPerlUas,
        "uac -> Net::SIP listen (udp)",
    ),
];

/// Our example programs.
struct Programs {
    uac: PathBuf,
    uas: PathBuf,
    registrar: PathBuf,
}

/// Runs the selected endpoint scenarios, logging into `out/<name>/`; one outcome each.
pub(super) fn run(out: &Path, target: &Path) -> Result<Vec<Outcome>> {
    let selected = super::selected(SCENARIOS);
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    crate::peers::ensure(&[crate::peers::NET_SIP])?;
    super::build(&["-p", "sip-endpoint", "--examples"])?;
    let examples = target.join("debug").join("examples");
    let programs = Programs {
        uac: examples.join("uac"),
        uas: examples.join("uas"),
        registrar: examples.join("registrar"),
    };
    for p in [&programs.uac, &programs.uas, &programs.registrar] {
        if !p.is_file() {
            bail!("{} is missing after the build", p.display());
        }
    }
    super::run_each(out, &selected, |play, dir| run_one(play, &programs, dir))
}

fn perl_script(name: &str) -> Command {
    let mut c = Command::new("perl");
    c.arg(crate::root().join("interop").join("endpoint").join(name));
    c
}

fn udp(port: u16) -> String {
    format!("udp:127.0.0.1:{port}")
}

/// Our program's stdout must hold each of `lines` (as line prefixes).
fn check_printed(r: &mut Report, p: &Running, lines: &[&str]) {
    let out = p.stdout();
    for want in lines {
        if !out.lines().any(|l| l.starts_with(want)) {
            r.problems
                .push(format!("{} never printed {want:?}", p.name()));
        }
    }
}

/// A peer that is not SIPp and not ours must exit 0.
fn check_peer(r: &mut Report, p: &Running, end: Ended) {
    // Our programs and the Perl scripts print FAILED lines alike.
    r.check_ours(p, end);
}

fn run_one(play: Play, programs: &Programs, dir: &Path) -> Result<Report> {
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let mut ports = Ports::default();
    let mut r = Report::new();
    match play {
        Play::UacToSippUas => {
            let port = ports.free()?;
            let cmd = sipp::command(
                Script::Builtin("uas"),
                false,
                port,
                None,
                &mut ports,
                dir,
                &[],
            )?;
            let mut sipp = Running::spawn("sipp", cmd, dir)?;
            if let Err(e) = wait_bound(&mut sipp, port, false, STARTUP_LIMIT) {
                r.problems.push(format!("{e:#}"));
                r.add_sipp_evidence(&sipp, dir);
                return Ok(r);
            }
            let mut cmd = our(&programs.uac);
            cmd.args(["--to", &udp(port), "--timeout", "20"]);
            let mut uac = Running::spawn("uac", cmd, dir)?;
            let uac_end = uac.wait(deadline);
            let sipp_end = sipp.wait(deadline);
            r.check_ours(&uac, uac_end);
            r.check_sipp(sipp_end);
            check_printed(&mut r, &uac, &["response 200 INVITE", "response 200 BYE"]);
            r.check_ack_before_bye(dir);
            if !r.problems.is_empty() {
                r.add_sipp_evidence(&sipp, dir);
                r.add_our_evidence(&uac);
            }
        }
        Play::SippUacToUas => {
            let port = ports.ours()?;
            let mut cmd = our(&programs.uas);
            cmd.args(["--listen", &udp(port), "--calls", "1", "--timeout", "25"]);
            let mut uas = Running::spawn("uas", cmd, dir)?;
            if let Err(e) = wait_bound(&mut uas, port, false, STARTUP_LIMIT) {
                r.problems.push(format!("{e:#}"));
                r.add_our_evidence(&uas);
                return Ok(r);
            }
            let sipp_port = ports.free()?;
            let cmd = sipp::command(
                Script::Builtin("uac"),
                false,
                sipp_port,
                Some(port),
                &mut ports,
                dir,
                &[],
            )?;
            let mut sipp = Running::spawn("sipp", cmd, dir)?;
            let sipp_end = sipp.wait(deadline);
            let uas_end = uas.wait(deadline);
            r.check_sipp(sipp_end);
            r.check_ours(&uas, uas_end);
            check_printed(&mut r, &uas, &["INVITE ", "ACK ", "BYE "]);
            if !r.problems.is_empty() {
                r.add_sipp_evidence(&sipp, dir);
                r.add_our_evidence(&uas);
            }
        }
        Play::PerlRegistersAndCalls => {
            let (reg_port, uas_port, perl_port) = (ports.ours()?, ports.ours()?, ports.free()?);
            let mut cmd = our(&programs.registrar);
            cmd.args([
                "--listen",
                &udp(reg_port),
                "--registrations",
                "1",
                "--timeout",
                "25",
            ]);
            let mut registrar = Running::spawn("registrar", cmd, dir)?;
            let mut cmd = our(&programs.uas);
            cmd.args([
                "--listen",
                &udp(uas_port),
                "--calls",
                "1",
                "--timeout",
                "25",
            ]);
            let mut uas = Running::spawn("uas", cmd, dir)?;
            for p in [&mut registrar, &mut uas] {
                let port = if p.name() == "uas" {
                    uas_port
                } else {
                    reg_port
                };
                if let Err(e) = wait_bound(p, port, false, STARTUP_LIMIT) {
                    r.problems.push(format!("{e:#}"));
                    r.add_our_evidence(p);
                    return Ok(r);
                }
            }
            let mut cmd = perl_script("perl_uac.pl");
            cmd.args(["--leg", &format!("127.0.0.1:{perl_port}")])
                .args(["--registrar", &format!("127.0.0.1:{reg_port}")])
                .args(["--to", &format!("127.0.0.1:{uas_port}")]);
            let mut perl = Running::spawn("perl_uac", cmd, dir)?;
            let perl_end = perl.wait(deadline);
            let uas_end = uas.wait(deadline);
            let reg_end = registrar.wait(deadline);
            check_peer(&mut r, &perl, perl_end);
            r.check_ours(&registrar, reg_end);
            r.check_ours(&uas, uas_end);
            check_printed(&mut r, &registrar, &["registered "]);
            check_printed(&mut r, &uas, &["INVITE ", "ACK ", "BYE "]);
            r.add_evidence_if_failed(&[&perl, &registrar, &uas]);
        }
        Play::UacToPerlUas => {
            let port = ports.free()?;
            let mut cmd = perl_script("perl_uas.pl");
            cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--timeout", "25"]);
            let mut perl = Running::spawn("perl_uas", cmd, dir)?;
            if let Err(e) = wait_bound(&mut perl, port, false, STARTUP_LIMIT) {
                r.problems.push(format!("{e:#}"));
                r.add_our_evidence(&perl);
                return Ok(r);
            }
            let mut cmd = our(&programs.uac);
            cmd.args(["--to", &udp(port), "--user", "perl", "--timeout", "20"]);
            let mut uac = Running::spawn("uac", cmd, dir)?;
            let uac_end = uac.wait(deadline);
            let perl_end = perl.wait(deadline);
            r.check_ours(&uac, uac_end);
            check_peer(&mut r, &perl, perl_end);
            check_printed(&mut r, &uac, &["response 200 INVITE", "response 200 BYE"]);
            check_printed(&mut r, &perl, &["established", "call set up and torn down"]);
            r.add_evidence_if_failed(&[&uac, &perl]);
        }
    }
    Ok(r)
}
