//! `netsip proxy` between peers nobody here wrote.
//!
//! | scenario | proxy | the peers |
//! | --- | --- | --- |
//! | `proxy-sipp-call-udp` | `--record-route` | `sipp -sn uac -m 10` → proxy → `sipp -sn uas`, UDP |
//! | `proxy-sipp-call-udp-to-tcp` | `--domain2proxy 127.0.0.1=tcp:…` | the same, UDP in and TCP out |
//! | `proxy-registrar-perl-call` | `--registrar` | `interop/proxy/perl_uas.pl` registers bob, `perl_uac.pl` calls him through the proxy, RTP echoed |
//! | `proxy-auth-perl` | `--registrar --auth-file --realm` | `interop/proxy/perl_register.pl`: the right password registers, a wrong one is refused |
//! | `proxy-sipp-auth-register` | `--registrar --auth-file --realm --auth-algorithm md5 --auth-algorithm sha-256` | SIPp `sipp_register_auth_right.xml` (200 after the challenge), then `sipp_register_auth_wrong.xml` (refused again) |
//! | `proxy-sipp-uac-perl-uas-rtp` | `--registrar` | `perl_uas.pl` registers bob; SIPp `sipp_uac_rtp.xml` calls him through the proxy and plays G.711 (`play_pcap_audio`), which the Perl side echoes: RTP must arrive there |
//! | `proxy-sipsak-registered-user` | `--registrar` | sipsak: `-U -C` registers carol at a SIPp OPTIONS answerer, `-s` OPTIONS reaches it through the proxy, `-T` traces, `-U -x 0` removes, then OPTIONS finds nobody |
//!
//! Each scenario starts its own proxy on free loopback ports (UDP and TCP on one port), waits
//! until it prints where it listens, runs the peers under the scenario's deadline, then stops
//! the proxy with SIGTERM: it must exit 0. Logs go to `target/interop/<scenario>/`.
//! `NETSIP_INTEROP_ONLY` selects among these names too.

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::child::{tail, Ended, Running};
use super::netsip_server::NetsipServer;
use super::ports::{wait_bound, Ports};
use super::sipp::Script;
use super::{sipp, Outcome, Report, SCENARIO_LIMIT, STARTUP_LIMIT};

/// How many calls each SIPp run places through the proxy, and how many per second.
const CALLS: &str = "10";
const CALL_RATE: &str = "5";

/// How long the proxy may take to listen, and to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// The tracing the proxy writes to its stderr, unless `RUST_LOG` says otherwise.
const PROXY_LOG: &str = "info,sip_proxy=debug";

/// The user the authentication scenario registers, and the realm of its users file.
const AUTH_USER: &str = "alice";
const AUTH_PASSWORD: &str = "secret";
const REALM: &str = "example.com";

/// Who plays which side.
#[derive(Clone, Copy)]
enum Play {
    /// SIPp's built-in uac calls SIPp's built-in uas through the proxy; `tcp_out`: the uas
    /// listens on TCP and `--domain2proxy` sends the calls there.
    SippCall { tcp_out: bool },
    /// A Perl UAS registers at the proxy's registrar, a Perl UAC calls it by its AOR.
    PerlRegisterCall,
    /// A Perl client registers with the right password, then with a wrong one.
    PerlAuth,
    /// SIPp registers with the right password, then with a wrong one.
    SippAuth,
    /// SIPp calls a Perl UAS registered at the proxy and plays RTP to it.
    SippCallPerlUas,
    /// sipsak registers a user, reaches it through the proxy, traces, removes it.
    SipsakRegisteredUser,
}

/// The recording SIPp plays in `sipp_uac_rtp.xml`: G.711 A-law, shipped with SIPp.
const PCAP_AUDIO: &str = "/usr/share/sip-tester/g711a.pcap";

const SCENARIOS: &[(&str, Play, &str)] = &[
    (
        "proxy-sipp-call-udp",
        Play::SippCall { tcp_out: false },
        "sipp -sn uac -> netsip proxy -> sipp -sn uas (udp)",
    ),
    (
        "proxy-sipp-call-udp-to-tcp",
        Play::SippCall { tcp_out: true },
        "sipp -sn uac -> netsip proxy -> sipp -sn uas (udp -> tcp)",
    ),
    (
        "proxy-registrar-perl-call",
        Play::PerlRegisterCall,
        "Net::SIP uac -> netsip proxy --registrar -> Net::SIP uas (udp)",
    ),
    (
        "proxy-auth-perl",
        Play::PerlAuth,
        "Net::SIP register -> netsip proxy --auth-file (udp)",
    ),
    (
        "proxy-sipp-auth-register",
        Play::SippAuth,
        "sipp REGISTER [authentication] -> netsip proxy --auth-file (udp)",
    ),
    (
        "proxy-sipp-uac-perl-uas-rtp",
        Play::SippCallPerlUas,
        "sipp uac + RTP -> netsip proxy --registrar -> Net::SIP uas echo (udp)",
    ),
    (
        "proxy-sipsak-registered-user",
        Play::SipsakRegisteredUser,
        "sipsak -U/-s/-T -> netsip proxy --registrar -> sipp uas_options (udp)",
    ),
];

/// Runs the selected proxy scenarios, logging into `out/<name>/`; one outcome each.
pub(super) fn run(out: &Path) -> Result<Vec<Outcome>> {
    let selected = super::selected(SCENARIOS);
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    crate::peers::ensure(&[
        crate::peers::SIPP,
        crate::peers::NET_SIP,
        crate::peers::SIPSAK,
    ])?;
    let netsip = super::netsip_binary()?;
    super::run_each(out, &selected, |play, dir| run_one(play, &netsip, dir))
}

fn run_one(play: Play, netsip: &Path, dir: &Path) -> Result<Report> {
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let mut ports = Ports::default();
    let mut r = Report::new();
    let (port, uas_port) = (ports.ours()?, ports.free()?);
    let args: Vec<String> = match play {
        Play::SippCall { tcp_out: false } => vec!["--record-route".to_owned()],
        Play::SippCall { tcp_out: true } => vec![
            "--domain2proxy".to_owned(),
            format!("127.0.0.1=tcp:127.0.0.1:{uas_port}"),
        ],
        Play::PerlRegisterCall => vec!["--registrar".to_owned()],
        Play::PerlAuth => {
            std::fs::write(dir.join("users"), format!("{AUTH_USER}:{AUTH_PASSWORD}\n"))?;
            ["--registrar", "--auth-file", "users", "--realm", REALM]
                .map(str::to_owned)
                .to_vec()
        }
        Play::SippAuth => {
            std::fs::write(dir.join("users"), format!("{AUTH_USER}:{AUTH_PASSWORD}\n"))?;
            // SIPp answers only the first challenge, and only MD5.
            [
                "--registrar",
                "--auth-file",
                "users",
                "--realm",
                REALM,
                "--auth-algorithm",
                "md5",
                "--auth-algorithm",
                "sha-256",
            ]
            .map(str::to_owned)
            .to_vec()
        }
        Play::SippCallPerlUas | Play::SipsakRegisteredUser => vec!["--registrar".to_owned()],
    };
    let mut proxy = start_proxy(netsip, port, &args, dir)?;
    if let Err(e) = proxy.wait_listening(2) {
        r.problems.push(format!("{e:#}"));
        add_proxy_evidence(&proxy, &mut r);
        return Ok(r);
    }
    match play {
        Play::SippCall { tcp_out } => {
            sipp_call(tcp_out, port, uas_port, &mut ports, dir, deadline, &mut r)?
        }
        Play::PerlRegisterCall => perl_call(port, uas_port, &mut ports, dir, deadline, &mut r)?,
        Play::PerlAuth => perl_auth(port, &mut ports, dir, deadline, &mut r)?,
        Play::SippAuth => sipp_auth(port, &mut ports, dir, deadline, &mut r)?,
        Play::SippCallPerlUas => sipp_call_perl(port, uas_port, &mut ports, dir, deadline, &mut r)?,
        Play::SipsakRegisteredUser => {
            sipsak_registered_user(port, uas_port, &mut ports, dir, deadline, &mut r)?
        }
    }
    match proxy.stop() {
        Ok(status) if status.success() => {}
        Ok(status) => r
            .problems
            .push(format!("netsip proxy exited {status} after SIGTERM")),
        Err(e) => r.problems.push(format!("{e:#}")),
    }
    if !r.problems.is_empty() {
        add_proxy_evidence(&proxy, &mut r);
    }
    Ok(r)
}

/// SIPp's `uas` on `uas_port`, SIPp's `uac` placing `CALLS` calls to it with the proxy on
/// `port` as its remote sending address (`-rsa`), as `interop/proxy/run.sh` does.
fn sipp_call(
    tcp_out: bool,
    port: u16,
    uas_port: u16,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    let uas_dir = dir.join("uas");
    let uac_dir = dir.join("uac");
    std::fs::create_dir_all(&uas_dir)?;
    std::fs::create_dir_all(&uac_dir)?;
    let mut cmd = sipp_command(Script::Builtin("uas"), tcp_out, uas_port, ports, &uas_dir)?;
    cmd.args(["-m", CALLS]);
    let mut uas = Running::spawn("sipp_uas", cmd, &uas_dir)?;
    if let Err(e) = wait_bound(&mut uas, uas_port, tcp_out, STARTUP_LIMIT) {
        r.problems.push(format!("{e:#}"));
        r.add_sipp_evidence(&uas, &uas_dir);
        return Ok(());
    }
    let mut cmd = sipp_command(
        Script::Builtin("uac"),
        false,
        ports.free()?,
        ports,
        &uac_dir,
    )?;
    cmd.arg(format!("127.0.0.1:{uas_port}"))
        .args(["-rsa", &format!("127.0.0.1:{port}")])
        .args(["-m", CALLS, "-r", CALL_RATE]);
    let mut uac = Running::spawn("sipp_uac", cmd, &uac_dir)?;
    let uac_end = uac.wait(deadline);
    let uas_end = uas.wait(deadline);
    for (role, end, p, d) in [
        ("uac", uac_end, &uac, &uac_dir),
        ("uas", uas_end, &uas, &uas_dir),
    ] {
        if end.success() {
            continue;
        }
        r.problems.push(match end {
            Ended::Exited(s) => format!(
                "sipp {role} exited {} ({}; {})",
                s.code().map_or("by a signal".to_owned(), |c| c.to_string()),
                sipp::exit_meaning(s.code()),
                calls_line(d)
            ),
            Ended::Killed => format!(
                "sipp {role} still running at the {}s guard: killed ({})",
                SCENARIO_LIMIT.as_secs(),
                calls_line(d)
            ),
        });
        r.details.push_str(&format!("    sipp {role}:\n"));
        r.add_sipp_evidence(p, d);
    }
    Ok(())
}

/// SIPp playing `script` on 127.0.0.1:`port`, every socket on loopback, logs in `dir` (the
/// names `sipp`'s readers expect).
fn sipp_command(
    script: Script,
    tcp: bool,
    port: u16,
    ports: &mut Ports,
    dir: &Path,
) -> Result<Command> {
    let mut c = Command::new(crate::peers::SIPP.program);
    c.args(script.args())
        .args(["-t", if tcp { "t1" } else { "u1" }])
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-ci", "127.0.0.1", "-cp", &ports.free()?.to_string()])
        .args(["-mi", "127.0.0.1", "-mp", &ports.free_pair()?.to_string()])
        .args(["-nostdin", "-timeout", "30s", "-timeout_error"])
        .arg("-trace_err")
        .arg("-error_file")
        .arg(dir.join(sipp::ERRORS))
        .arg("-trace_msg")
        .arg("-message_file")
        .arg(dir.join(sipp::MESSAGES))
        .arg("-trace_screen")
        .arg("-screen_file")
        .arg(dir.join(sipp::SCREEN));
    Ok(c)
}

/// How many of SIPp's calls succeeded and failed, from its screen log.
fn calls_line(dir: &Path) -> String {
    let table = sipp::screen_table(dir);
    let count = |what: &str| {
        table
            .lines()
            .find(|l| l.contains(what))
            .and_then(|l| l.split('|').nth(2))
            .map(|n| n.trim().to_owned())
    };
    match (count("Successful call"), count("Failed call")) {
        (Some(ok), Some(failed)) => format!("{ok} calls of {CALLS} succeeded, {failed} failed"),
        _ => "no call statistics on its screen".to_owned(),
    }
}

/// Bob registers at the proxy from `uas_port`; alice calls sip:bob@example.com with the
/// proxy as her outgoing proxy, so the call can only reach bob through the registrar.
fn perl_call(
    port: u16,
    uas_port: u16,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    let proxy = format!("127.0.0.1:{port}");
    let mut cmd = perl_script("perl_uas.pl");
    cmd.args(["--leg", &format!("127.0.0.1:{uas_port}")])
        .args(["--proxy", &proxy])
        .args(["--user", "bob@example.com", "--timeout", "25"]);
    let mut uas = Running::spawn("perl_uas", cmd, dir)?;
    if !r.started(&mut uas, "registered for ", BOB_NOT_REGISTERED) {
        return Ok(());
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
    // The media does not pass the proxy, but the SDP does: RTP that does not come back says
    // the proxy mangled it.
    if uac_end.success() {
        let back = uac.stdout().lines().find_map(|l| {
            l.strip_prefix("received ")?
                .split(' ')
                .next()?
                .parse::<u32>()
                .ok()
        });
        if back.unwrap_or(0) == 0 {
            r.problems.push(
                "perl_uac got no RTP echoed back: the SDP carried through the proxy does not \
                 lead to the callee's media socket"
                    .to_owned(),
            );
        }
    }
    r.add_evidence_if_failed(&[&uac, &uas]);
    Ok(())
}

/// The user of the users file registers with its password (must get a 2xx), then with a
/// wrong one (must be refused with 401 or 403, not answered by anything else).
fn perl_auth(
    port: u16,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    let leg = ports.free()?;
    for (name, password, expect) in [
        ("register_right", AUTH_PASSWORD, "ok"),
        ("register_wrong", "wrong-secret", "refused"),
    ] {
        let mut cmd = perl_script("perl_register.pl");
        cmd.args(["--leg", &format!("127.0.0.1:{leg}")])
            .args(["--registrar", &format!("127.0.0.1:{port}")])
            .args(["--user", &format!("{AUTH_USER}@{REALM}")])
            .args(["--password", password, "--expect", expect]);
        let mut p = Running::spawn(name, cmd, dir)?;
        let end = p.wait(deadline);
        check_register(
            r,
            &p,
            end,
            expect,
            &format!("of {AUTH_USER}@{REALM} with password {password:?}"),
        );
    }
    Ok(())
}

/// How a SIPp run ended, in words, for a problem line.
fn sipp_ended(end: Ended, dir: &Path) -> String {
    match end {
        Ended::Exited(s) => format!(
            "exited {} ({})",
            s.code().map_or("by a signal".to_owned(), |c| c.to_string()),
            sipp::exit_meaning(s.code())
        ),
        Ended::Killed => format!(
            "still running at the {}s guard: killed{}",
            SCENARIO_LIMIT.as_secs(),
            sipp::first_error(dir).map_or(String::new(), |e| format!(" ({e})"))
        ),
    }
}

/// SIPp registers alice with the right password (its scenario wants 200 after the 401),
/// then with a wrong one (its scenario wants 401 or 403 again, never 200). Each run must
/// exit 0.
fn sipp_auth(
    port: u16,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    for (name, file) in [
        ("right", "sipp_register_auth_right.xml"),
        ("wrong", "sipp_register_auth_wrong.xml"),
    ] {
        let d = dir.join(name);
        std::fs::create_dir_all(&d)?;
        let mut cmd = sipp_command(Script::In("proxy", file), false, ports.free()?, ports, &d)?;
        cmd.arg(format!("127.0.0.1:{port}")).args(["-m", "1"]);
        let mut p = Running::spawn("sipp", cmd, &d)?;
        let end = p.wait(deadline);
        if !end.success() {
            r.problems.push(format!(
                "sipp {file} (password {name}): {}",
                sipp_ended(end, &d)
            ));
            r.add_sipp_evidence(&p, &d);
        }
    }
    Ok(())
}

/// Bob (the Perl UAS) registers at the proxy from `uas_port`; SIPp calls sip:bob@example.com
/// through the proxy, plays G.711 at him and hangs up. SIPp must pass its scenario, the Perl
/// side must see the call set up and torn down and have echoed RTP: the SDP that crossed
/// the proxy led SIPp's media to it.
fn sipp_call_perl(
    port: u16,
    uas_port: u16,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    if !Path::new(PCAP_AUDIO).is_file() {
        r.problems.push(format!(
            "{PCAP_AUDIO} is missing: SIPp's Debian package sip-tester ships it"
        ));
        return Ok(());
    }
    let proxy = format!("127.0.0.1:{port}");
    let mut cmd = perl_script("perl_uas.pl");
    cmd.args(["--leg", &format!("127.0.0.1:{uas_port}")])
        .args(["--proxy", &proxy])
        .args(["--user", "bob@example.com", "--timeout", "20"]);
    let mut uas = Running::spawn("perl_uas", cmd, dir)?;
    if !r.started(&mut uas, "registered for ", BOB_NOT_REGISTERED) {
        return Ok(());
    }
    let mut cmd = sipp_command(
        Script::In("proxy", "sipp_uac_rtp.xml"),
        false,
        ports.free()?,
        ports,
        dir,
    )?;
    cmd.arg(&proxy)
        .args(["-m", "1"])
        .args(["-key", "pcap", PCAP_AUDIO]);
    let mut uac = Running::spawn("sipp", cmd, dir)?;
    let uac_end = uac.wait(deadline);
    let uas_end = uas.wait(deadline);
    if !uac_end.success() {
        r.problems.push(format!(
            "sipp sipp_uac_rtp.xml: {}",
            sipp_ended(uac_end, dir)
        ));
        r.add_sipp_evidence(&uac, dir);
    }
    r.check_ours(&uas, uas_end);
    check_printed(r, &uas, &["established", "call set up and torn down"]);
    let echoed = uas.stdout().lines().find_map(|l| {
        l.strip_prefix("echoed ")?
            .split(' ')
            .next()?
            .parse::<u32>()
            .ok()
    });
    if uas_end.success() && echoed.unwrap_or(0) == 0 {
        r.problems.push(
            "the Perl UAS received no RTP from SIPp: the SDP carried through the proxy does \
             not lead SIPp's media to it"
                .to_owned(),
        );
    }
    r.add_evidence_if_failed(&[&uas]);
    Ok(())
}

/// What a sipsak step must come to.
#[derive(Clone, Copy)]
enum SipsakExpect {
    /// Exit 0.
    Success,
    /// Exit 0 with a 200 from SIPp (its To tag holds `sippopt`): the request reached the
    /// registered contact, not only the proxy.
    AnsweredByContact,
    /// Exit 0 with a 200 somewhere in the trace.
    TraceEnds,
    /// A final answer of 404 or 480: nobody is registered any more.
    Nobody,
}

/// Carol is registered by sipsak (`-U -C`) with SIPp's OPTIONS answerer as contact; sipsak's
/// OPTIONS to carol must reach SIPp through the proxy; `-T` traces the route; `-U -x 0`
/// removes the binding; then an OPTIONS to carol must find nobody.
fn sipsak_registered_user(
    port: u16,
    contact_port: u16,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    let sipp_dir = dir.join("sipp");
    std::fs::create_dir_all(&sipp_dir)?;
    // Up to 5 OPTIONS (the trace may end at carol too); stopped at the end, its answers
    // are checked through sipsak's output.
    let mut cmd = sipp_command(
        Script::File("uas_options.xml"),
        false,
        contact_port,
        ports,
        &sipp_dir,
    )?;
    cmd.args(["-m", "5"]);
    let mut contact = Running::spawn("sipp", cmd, &sipp_dir)?;
    if let Err(e) = wait_bound(&mut contact, contact_port, false, STARTUP_LIMIT) {
        r.problems.push(format!("{e:#}"));
        r.add_sipp_evidence(&contact, &sipp_dir);
        return Ok(());
    }
    let aor = format!("sip:carol@127.0.0.1:{port}");
    let binding = format!("sip:carol@127.0.0.1:{contact_port}");
    let local = ports.free()?.to_string();
    let steps: [(&str, Vec<&str>, SipsakExpect); 5] = [
        (
            "register",
            vec!["-U", "-i", "-x", "60", "-C", &binding],
            SipsakExpect::Success,
        ),
        ("options", vec![], SipsakExpect::AnsweredByContact),
        ("trace", vec!["-T"], SipsakExpect::TraceEnds),
        (
            "remove",
            vec!["-U", "-i", "-x", "0", "-C", &binding],
            SipsakExpect::Success,
        ),
        ("options-removed", vec![], SipsakExpect::Nobody),
    ];
    for (name, args, expect) in steps {
        let mut cmd = Command::new(crate::peers::SIPSAK.program);
        cmd.args(["-s", &aor, "-H", "127.0.0.1", "-l", &local, "-vv"])
            .args(&args);
        let mut p = Running::spawn(&format!("sipsak_{name}"), cmd, dir)?;
        let end = p.wait(deadline);
        // sipsak prints what it received on stdout or stderr, depending on the outcome.
        let out = p.stdout() + &p.stderr();
        let (ok, want) = match expect {
            SipsakExpect::Success => (end.success(), "success"),
            SipsakExpect::AnsweredByContact => (
                end.success() && out.contains("SIP/2.0 200") && out.contains("sippopt"),
                "a 200 from the registered contact (SIPp)",
            ),
            SipsakExpect::TraceEnds => (
                end.success() && out.contains("SIP/2.0 200"),
                "a trace ending in a 200",
            ),
            SipsakExpect::Nobody => (
                matches!(end, Ended::Exited(_))
                    && (out.contains("SIP/2.0 404") || out.contains("SIP/2.0 480")),
                "404 or 480: the binding is gone",
            ),
        };
        if !ok {
            r.problems.push(format!(
                "sipsak {name} ({}): expected {want}, {}",
                args.join(" "),
                match end {
                    Ended::Exited(s) => format!("exited {s}"),
                    Ended::Killed => "killed at the deadline".to_owned(),
                }
            ));
            r.details.push_str(&format!("    sipsak {name} output:\n"));
            r.details.push_str(&tail(&out, 20));
        }
    }
    if !r.problems.is_empty() {
        r.add_sipp_evidence(&contact, &sipp_dir);
    }
    Ok(())
}

fn perl_script(name: &str) -> Command {
    let mut c = Command::new("perl");
    c.arg(crate::root().join("interop").join("proxy").join(name));
    c
}

/// Waits until `p` prints a line starting with `prefix`; fails when it exits first or
/// `limit` passes.
pub(super) fn wait_printed(p: &mut Running, prefix: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if p.stdout().lines().any(|l| l.starts_with(prefix)) {
            return Ok(());
        }
        if p.has_exited() {
            bail!(
                "{} exited before printing {prefix:?}: {}",
                p.name(),
                tail(&p.stderr(), 3).trim()
            );
        }
        if Instant::now() >= deadline {
            bail!("{} did not print {prefix:?} within {limit:?}", p.name());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// What it means for a scenario when the Perl UAS does not print that it registered.
pub(super) const BOB_NOT_REGISTERED: &str =
    ": the REGISTER of sip:bob@example.com at the proxy's registrar failed";

/// `p`'s stdout must hold each of `lines` (as line prefixes).
pub(super) fn check_printed(r: &mut Report, p: &Running, lines: &[&str]) {
    let out = p.stdout();
    for want in lines {
        if !out.lines().any(|l| l.starts_with(want)) {
            r.problems
                .push(format!("{} never printed {want:?}", p.name()));
        }
    }
}

/// Starts `netsip proxy` on UDP and TCP `port` of 127.0.0.1 with `args`, in `dir`.
pub(super) fn start_proxy(
    netsip: &Path,
    port: u16,
    args: &[String],
    dir: &Path,
) -> Result<NetsipServer> {
    let mut all = vec![
        "--listen".to_owned(),
        format!("udp:127.0.0.1:{port}"),
        "--listen".to_owned(),
        format!("tcp:127.0.0.1:{port}"),
    ];
    all.extend_from_slice(args);
    NetsipServer::start(netsip, "proxy", &all, PROXY_LOG, dir, STOP_LIMIT)
}

pub(super) fn add_proxy_evidence(proxy: &NetsipServer, r: &mut Report) {
    r.details.push_str("    netsip proxy stdout:\n");
    r.details.push_str(&tail(&proxy.stdout(), 5));
    r.details.push_str("    netsip proxy stderr:\n");
    r.details.push_str(&tail(&proxy.stderr(), 20));
}

/// The check of a `perl_register.pl` run that expected `expect` (`ok`, or a refusal): its
/// printed outcome must say so, and a refusal must be the challenge (401 or 403), not a
/// timeout or another error. `what` names the registration in the problem.
pub(super) fn check_register(r: &mut Report, p: &Running, end: Ended, expect: &str, what: &str) {
    let out = p.stdout();
    let outcome = out
        .lines()
        .find(|l| l.starts_with("registered") || l.starts_with("refused"))
        .unwrap_or("no outcome printed")
        .to_owned();
    let as_expected = match (end, expect) {
        (Ended::Exited(s), "ok") => s.success(),
        (Ended::Exited(s), _) => {
            s.success() && (outcome.contains("code 401") || outcome.contains("code 403"))
        }
        (Ended::Killed, _) => false,
    };
    if !as_expected {
        r.problems.push(format!(
            "REGISTER {what}: expected {}, got {outcome:?}{}",
            if expect == "ok" {
                "a 2xx"
            } else {
                "a refusal with 401 or 403"
            },
            if matches!(end, Ended::Killed) {
                " (still running at the deadline: killed)"
            } else {
                ""
            }
        ));
        r.add_our_evidence(p);
    }
}
