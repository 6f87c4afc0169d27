//! Calls with the call layer (`netsip call`, `netsip answer`) against the Perl Net::SIP and
//! SIPp, the rest of the interop matrix: the other transports, hold, CANCEL, DTMF under
//! another payload type.
//!
//! | scenario | our side | the peer | passes when |
//! | --- | --- | --- | --- |
//! | `calls-call-perl-echo-{udp,tcp,tls,udp6,tcp6}` | `netsip call --send sent.wav --record back.wav` on that transport | `interop/calls/perl_uas.pl` (Net::SIP `listen` with `recv_echo`) | both exit 0; `back.wav` is `sent.wav`, intact |
//! | `calls-perl-call-answer-echo-{udp,tcp,tls,udp6,tcp6}` | `netsip answer --echo --calls 1` | `perl_send_recv.pl` (`invite` with `send_recv`, recording the echo) | both exit 0; the Perl recording is what it sent, intact |
//! | `calls-perl-hold-resume` | `netsip answer --echo --calls 1` | `perl_hold.pl`: re-INVITEs with `a=sendonly`, sendrecv, `c=0.0.0.0`, the address again | every re-INVITE gets a 200 whose SDP is `recvonly`/`inactive` on hold and `sendrecv` after; nothing echoed on hold, RTP back after each resume |
//! | `calls-perl-cancel-487` | `netsip answer --ring 10 --calls 1` | `perl_cancel.pl`: cancels 1 s after the 180 | the INVITE ends with 487, the CANCEL gets 200, netsip ends the call |
//! | `calls-call-cancel-perl-ringing` | `netsip call --ring-timeout 1` | `perl_uas.pl --ring-only` (180, never 200) | netsip exits 7 (no answer) after its CANCEL; the Perl callee got the CANCEL, sent 487 and got its ACK |
//! | `calls-perl-dtmf-pt96` | `netsip answer --echo --calls 1` (its own offer: telephone-event on 101) | `perl_dtmf_pt.pl --event-pt 96` | netsip's answer keeps 96; every digit printed once, in order |
//! | `calls-sipp-uac-answer-echo-tcp` | `netsip answer --echo --calls 1` (tcp) | `sipp -sn uac -t t1` | both exit 0 |
//! | `calls-sipp-uas-call-tcp` | `netsip call --duration 1` (tcp) | `sipp -sn uas -t t1` | both exit 0 |
//!
//! "Intact" is the check of `simple` (`audio::Alignment::problem`). TLS uses the run's
//! certificates (`matrix::make_certs`, `target/interop/certs/`); the Perl peers log their TLS
//! keys for the judge. The Perl peers print every SIP message they send and receive
//! (`interop/calls/CallsProbe.pm`): those lines are what the checks read.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::child::{Ended, Running};
use super::matrix::{host, ip, make_certs, perl_script, port_for, Proto};
use super::ports::{wait_bound_on, Ports};
use super::simple::{
    check_netsip, check_pcmu_intact, dtmf_printed, netsip_cmd, pcmu_signal, DIGITS,
};
use super::{sipp, Outcome, Report, SCENARIO_LIMIT, STARTUP_LIMIT};

/// At most this many RTP packets may come back while the call is on hold: the echo of what
/// was in flight when the re-INVITE was answered.
const HOLD_LEAK: u32 = 5;

/// The payload type the Perl caller offers telephone-events under in `calls-perl-dtmf-pt96`
/// (netsip's own offer says 101, as does Net::SIP's).
const EVENT_PT: u8 = 96;

/// Who plays which side.
#[derive(Clone, Copy, Debug)]
enum Play {
    /// `netsip call` sends the test signal to the Perl echo over `proto`.
    CallPerlEcho { proto: Proto, v6: bool },
    /// The Perl caller sends the test signal to `netsip answer --echo` over `proto`.
    PerlCallAnswerEcho { proto: Proto, v6: bool },
    /// The Perl caller holds and resumes a call with `netsip answer --echo`.
    PerlHold,
    /// The Perl caller cancels a call that `netsip answer --ring` rings.
    PerlCancel,
    /// `netsip call` cancels a call that the Perl callee only rings.
    CallCancelsPerl,
    /// The Perl caller sends RFC 4733 events under [`EVENT_PT`].
    PerlDtmfPayloadType,
    /// SIPp's built-in `uac` calls `netsip answer --echo` over TCP.
    SippUacAnswer,
    /// `netsip call` calls SIPp's built-in `uas` over TCP.
    SippUasCall,
}

const SCENARIOS: &[(&str, Play, &str)] = &[
    (
        "calls-call-perl-echo-udp",
        Play::CallPerlEcho {
            proto: Proto::Udp,
            v6: false,
        },
        "netsip call -> Net::SIP listen recv_echo (udp, PCMU)",
    ),
    (
        "calls-call-perl-echo-tcp",
        Play::CallPerlEcho {
            proto: Proto::Tcp,
            v6: false,
        },
        "netsip call -> Net::SIP listen recv_echo (tcp, PCMU)",
    ),
    (
        "calls-call-perl-echo-tls",
        Play::CallPerlEcho {
            proto: Proto::Tls,
            v6: false,
        },
        "netsip call -> Net::SIP listen recv_echo (tls, PCMU)",
    ),
    (
        "calls-call-perl-echo-udp6",
        Play::CallPerlEcho {
            proto: Proto::Udp,
            v6: true,
        },
        "netsip call -> Net::SIP listen recv_echo (udp, [::1], PCMU)",
    ),
    (
        "calls-call-perl-echo-tcp6",
        Play::CallPerlEcho {
            proto: Proto::Tcp,
            v6: true,
        },
        "netsip call -> Net::SIP listen recv_echo (tcp, [::1], PCMU)",
    ),
    (
        "calls-perl-call-answer-echo-udp",
        Play::PerlCallAnswerEcho {
            proto: Proto::Udp,
            v6: false,
        },
        "Net::SIP invite send_recv -> netsip answer --echo (udp, PCMU)",
    ),
    (
        "calls-perl-call-answer-echo-tcp",
        Play::PerlCallAnswerEcho {
            proto: Proto::Tcp,
            v6: false,
        },
        "Net::SIP invite send_recv -> netsip answer --echo (tcp, PCMU)",
    ),
    (
        "calls-perl-call-answer-echo-tls",
        Play::PerlCallAnswerEcho {
            proto: Proto::Tls,
            v6: false,
        },
        "Net::SIP invite send_recv -> netsip answer --echo (tls, PCMU)",
    ),
    (
        "calls-perl-call-answer-echo-udp6",
        Play::PerlCallAnswerEcho {
            proto: Proto::Udp,
            v6: true,
        },
        "Net::SIP invite send_recv -> netsip answer --echo (udp, [::1], PCMU)",
    ),
    (
        "calls-perl-call-answer-echo-tcp6",
        Play::PerlCallAnswerEcho {
            proto: Proto::Tcp,
            v6: true,
        },
        "Net::SIP invite send_recv -> netsip answer --echo (tcp, [::1], PCMU)",
    ),
    (
        "calls-perl-hold-resume",
        Play::PerlHold,
        "Net::SIP reinvite sendonly / c=0.0.0.0 and back -> netsip answer --echo (udp)",
    ),
    (
        "calls-perl-cancel-487",
        Play::PerlCancel,
        "Net::SIP invite, cancel -> netsip answer --ring (udp)",
    ),
    (
        "calls-call-cancel-perl-ringing",
        Play::CallCancelsPerl,
        "netsip call --ring-timeout 1 -> Net::SIP listen, 180 only (udp)",
    ),
    (
        "calls-perl-dtmf-pt96",
        Play::PerlDtmfPayloadType,
        "Net::SIP dtmf rfc2833 on PT 96 -> netsip answer (udp)",
    ),
    (
        "calls-sipp-uac-answer-echo-tcp",
        Play::SippUacAnswer,
        "sipp -sn uac -> netsip answer --echo (tcp)",
    ),
    (
        "calls-sipp-uas-call-tcp",
        Play::SippUasCall,
        "netsip call -> sipp -sn uas (tcp)",
    ),
];

/// Where `netsip` is, the run's certificates, and where the Perl peers log TLS keys.
struct Setup {
    netsip: PathBuf,
    certs: PathBuf,
    keylog: PathBuf,
}

/// Runs the selected scenarios, logging into `out/<name>/`; one outcome each.
pub(super) fn run(out: &Path, target: &Path) -> Result<Vec<Outcome>> {
    let selected = super::selected(SCENARIOS);
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    crate::peers::ensure(&[
        crate::peers::SIPP,
        crate::peers::NET_SIP,
        crate::peers::OPENSSL,
    ])?;
    super::build(&["-p", "netsip"])?;
    let setup = Setup {
        netsip: target.join("debug").join("netsip"),
        certs: make_certs(&out.join("certs"))?,
        keylog: out.join(super::judge::KEYLOG),
    };
    if !setup.netsip.is_file() {
        bail!("{} is missing after the build", setup.netsip.display());
    }
    super::run_each(out, &selected, |play, dir| run_one(play, &setup, dir))
}

fn run_one(play: Play, setup: &Setup, dir: &Path) -> Result<Report> {
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let mut ports = Ports::default();
    let mut r = Report::new();
    let s = Scene {
        setup,
        dir,
        deadline,
    };
    match play {
        Play::CallPerlEcho { proto, v6 } => call_perl_echo(&s, proto, v6, &mut ports, &mut r)?,
        Play::PerlCallAnswerEcho { proto, v6 } => {
            perl_call_answer(&s, proto, v6, &mut ports, &mut r)?;
        }
        Play::PerlHold => perl_hold(&s, &mut ports, &mut r)?,
        Play::PerlCancel => perl_cancel(&s, &mut ports, &mut r)?,
        Play::CallCancelsPerl => call_cancels_perl(&s, &mut ports, &mut r)?,
        Play::PerlDtmfPayloadType => perl_dtmf_pt(&s, &mut ports, &mut r)?,
        Play::SippUacAnswer => sipp_uac_answer(&s, &mut ports, &mut r)?,
        Play::SippUasCall => sipp_uas_call(&s, &mut ports, &mut r)?,
    }
    Ok(r)
}

/// What every scenario of this module shares.
struct Scene<'a> {
    setup: &'a Setup,
    dir: &'a Path,
    deadline: Instant,
}

impl Scene<'_> {
    /// Waits for `netsip answer --calls 1` to end: until the scenario's deadline when the
    /// caller (`caller_end`) succeeded, else a few seconds (the call it waits for may never
    /// have come).
    fn wait_answer(&self, answer: &mut Running, caller_end: Ended) -> Ended {
        let deadline = if caller_end.success() {
            self.deadline
        } else {
            self.deadline.min(Instant::now() + Duration::from_secs(3))
        };
        answer.wait(deadline)
    }

    /// A Perl peer from `interop/calls/`.
    fn perl(&self, name: &str) -> std::process::Command {
        perl_script("calls", name, &self.setup.keylog)
    }

    /// `netsip SUBCOMMAND --listen P:HOST:PORT`, with the run's certificates on TLS.
    fn netsip(&self, subcommand: &str, proto: Proto, v6: bool, port: u16) -> std::process::Command {
        let mut c = netsip_cmd(&self.setup.netsip, subcommand);
        c.args([
            "--listen",
            &format!("{}:{}:{port}", proto.as_str(), host(v6)),
        ]);
        if proto == Proto::Tls {
            for (opt, file) in [
                ("--tls-cert", "leg.pem"),
                ("--tls-key", "leg.key"),
                ("--tls-ca", "ca.pem"),
            ] {
                c.arg(opt).arg(self.setup.certs.join(file));
            }
        }
        c
    }

    /// Starts `netsip answer --calls 1 ARGS` on `proto` and waits for its `listening on`
    /// (printed once it takes calls); `None`, with the problem in `r`, when it does not.
    fn start_answer(
        &self,
        proto: Proto,
        v6: bool,
        args: &[&str],
        ports: &mut Ports,
        r: &mut Report,
    ) -> Result<Option<(u16, Running)>> {
        let port = port_for(ports, proto, true)?;
        let scheme = if proto == Proto::Tls { "sips" } else { "sip" };
        let mut cmd = self.netsip("answer", proto, v6, port);
        cmd.args(["--from", &format!("{scheme}:answer@{}:{port}", host(v6))])
            .args(["--calls", "1"])
            .args(args);
        let mut answer = Running::spawn("netsip_answer", cmd, self.dir)?;
        if !r.started(&mut answer, "listening on ", "") {
            return Ok(None);
        }
        Ok(Some((port, answer)))
    }

    /// Starts `perl_uas.pl ARGS` on a free port of `proto` and waits until it listens.
    fn start_perl_uas(
        &self,
        proto: Proto,
        v6: bool,
        args: &[&str],
        ports: &mut Ports,
        r: &mut Report,
    ) -> Result<Option<(u16, Running)>> {
        let port = port_for(ports, proto, false)?;
        let mut cmd = self.perl("perl_uas.pl");
        cmd.args(["--leg", &format!("{}:{port}", host(v6))])
            .args(["--proto", proto.as_str()])
            .arg("--certs")
            .arg(&self.setup.certs)
            .args(["--timeout", "15"])
            .args(args);
        let mut uas = Running::spawn("perl_uas", cmd, self.dir)?;
        if !r.started(&mut uas, "listening on ", "") {
            return Ok(None);
        }
        Ok(Some((port, uas)))
    }

    /// A Perl caller (`script`) on a free port of UDP/IPv4 that calls `netsip answer` on
    /// `port` with `args`.
    fn perl_caller(
        &self,
        script: &str,
        port: u16,
        args: &[&str],
        ports: &mut Ports,
    ) -> Result<Running> {
        let mut cmd = self.perl(script);
        cmd.args(["--leg", &format!("127.0.0.1:{}", ports.free()?)])
            .args(["--proxy", &format!("127.0.0.1:{port}")])
            .args(["--to", &format!("sip:answer@127.0.0.1:{port}")])
            .args(args);
        Running::spawn(script.trim_end_matches(".pl"), cmd, self.dir)
    }
}

/// The URI `netsip call` calls the Perl callee on `port` by: the transport in it.
fn perl_uri(proto: Proto, v6: bool, port: u16) -> String {
    let h = host(v6);
    match proto {
        Proto::Udp => format!("sip:echo@{h}:{port}"),
        Proto::Tcp => format!("sip:echo@{h}:{port};transport=tcp"),
        Proto::Tls => format!("sips:echo@{h}:{port}"),
    }
}

/// `netsip call` over `proto` sends the test signal to the Perl echo and records what comes
/// back.
fn call_perl_echo(
    s: &Scene<'_>,
    proto: Proto,
    v6: bool,
    ports: &mut Ports,
    r: &mut Report,
) -> Result<()> {
    let codes = pcmu_signal(s.dir, 0x7cb0)?;
    let Some((perl_port, mut uas)) = s.start_perl_uas(proto, v6, &[], ports, r)? else {
        return Ok(());
    };
    let mut cmd = s.netsip("call", proto, v6, port_for(ports, proto, true)?);
    cmd.arg(perl_uri(proto, v6, perl_port))
        .args(["--send", "sent.wav", "--record", "back.wav"])
        .args(["--duration", "15"]);
    let mut call = Running::spawn("netsip_call", cmd, s.dir)?;
    let call_end = call.wait(s.deadline);
    let uas_end = uas.wait(s.deadline);
    check_netsip(r, &call, call_end);
    r.check_ours(&uas, uas_end);
    if call_end.success() {
        check_pcmu_intact(
            r,
            s.dir,
            &codes,
            &s.dir.join("back.wav"),
            &format!(
                "netsip call's recording of the Perl echo over {} on {}",
                proto.as_str(),
                host(v6)
            ),
        );
    }
    r.add_evidence_if_failed(&[&call, &uas]);
    Ok(())
}

/// The Perl caller over `proto` sends the test signal (raw PCMU) to `netsip answer --echo`
/// and records what comes back.
fn perl_call_answer(
    s: &Scene<'_>,
    proto: Proto,
    v6: bool,
    ports: &mut Ports,
    r: &mut Report,
) -> Result<()> {
    let codes = pcmu_signal(s.dir, 0xa115)?;
    let Some((port, mut answer)) = s.start_answer(proto, v6, &["--echo"], ports, r)? else {
        return Ok(());
    };
    let h = host(v6);
    let scheme = if proto == Proto::Tls { "sips" } else { "sip" };
    let mut cmd = s.perl("perl_send_recv.pl");
    cmd.args(["--leg", &format!("{h}:{}", port_for(ports, proto, false)?)])
        .args(["--proxy", &format!("{h}:{port}")])
        .args(["--to", &format!("{scheme}:answer@{h}:{port}")])
        .args(["--proto", proto.as_str()])
        .arg("--certs")
        .arg(&s.setup.certs)
        .args(["--send", "sent.pcmu", "--record", "back.pcmu"])
        .args(["--linger", "500", "--timeout", "15"]);
    let mut uac = Running::spawn("perl_send_recv", cmd, s.dir)?;
    let uac_end = uac.wait(s.deadline);
    let answer_end = s.wait_answer(&mut answer, uac_end);
    r.check_ours(&uac, uac_end);
    check_netsip(r, &answer, answer_end);
    if uac_end.success() {
        check_pcmu_intact(
            r,
            s.dir,
            &codes,
            &s.dir.join("back.pcmu"),
            &format!(
                "the Perl caller's recording of netsip answer's echo over {} on {}",
                proto.as_str(),
                host(v6)
            ),
        );
    }
    r.add_evidence_if_failed(&[&answer, &uac]);
    Ok(())
}

/// The Perl caller holds and resumes the call twice (see `perl_hold.pl`).
fn perl_hold(s: &Scene<'_>, ports: &mut Ports, r: &mut Report) -> Result<()> {
    let Some((port, mut answer)) = s.start_answer(Proto::Udp, false, &["--echo"], ports, r)? else {
        return Ok(());
    };
    let mut uac = s.perl_caller("perl_hold.pl", port, &["--phase", "1"], ports)?;
    let uac_end = uac.wait(s.deadline);
    let answer_end = s.wait_answer(&mut answer, uac_end);
    r.check_ours(&uac, uac_end);
    check_netsip(r, &answer, answer_end);
    r.problems.extend(hold_problems(&uac.stdout()));
    r.add_evidence_if_failed(&[&answer, &uac]);
    Ok(())
}

/// What the hold scenario's caller output says went wrong: the answers to its INVITEs (the
/// first and four re-INVITEs) and the RTP that came back in each phase.
fn hold_problems(out: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let answers: Vec<Sdp> = lines_of(out, "recv response 200 INVITE")
        .iter()
        .filter_map(|l| Sdp::parse(l))
        .collect();
    // Which directions netsip may answer with in each phase (RFC 3264 §6.1: the mirror of
    // the offer's; a=sendonly gives recvonly, or inactive when we do not want to receive).
    let expected: [(&str, &[&str]); 5] = [
        ("up", &["sendrecv"]),
        ("hold", &["recvonly", "inactive"]),
        ("resume", &["sendrecv"]),
        // c=0.0.0.0 leaves the direction sendrecv; netsip may answer either way, it only
        // cannot send.
        ("hold0", &["sendrecv", "recvonly", "inactive"]),
        ("resume0", &["sendrecv"]),
    ];
    if answers.len() != expected.len() {
        problems.push(format!(
            "the Perl caller saw {} 200s with SDP to its INVITEs, expected {} (the call and \
             four re-INVITEs)",
            answers.len(),
            expected.len()
        ));
    }
    for ((phase, dirs), sdp) in expected.iter().zip(&answers) {
        if !dirs.contains(&sdp.dir.as_str()) {
            problems.push(format!(
                "netsip answered the {phase} INVITE with a={}, expected {}",
                sdp.dir,
                dirs.join(" or ")
            ));
        }
        if sdp.port == 0 {
            problems.push(format!(
                "netsip declined the audio stream (port 0) in its answer to the {phase} INVITE"
            ));
        }
    }
    let received = |phase: &str| -> Option<u32> {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("phase {phase}: received ")))
            .and_then(|n| n.trim().parse().ok())
    };
    for (phase, _) in expected {
        match (phase, received(phase)) {
            (_, None) => problems.push(format!("the Perl caller never finished phase {phase}")),
            ("hold" | "hold0", Some(n)) if n > HOLD_LEAK => problems.push(format!(
                "netsip echoed {n} RTP packets while the call was on hold ({phase}): at most \
                 {HOLD_LEAK} in flight"
            )),
            ("up" | "resume" | "resume0", Some(0)) => {
                problems.push(format!("no RTP came back in phase {phase}"));
            }
            _ => {}
        }
    }
    problems
}

/// The Perl caller cancels while `netsip answer --ring 10` rings.
fn perl_cancel(s: &Scene<'_>, ports: &mut Ports, r: &mut Report) -> Result<()> {
    let Some((port, mut answer)) =
        s.start_answer(Proto::Udp, false, &["--echo", "--ring", "10"], ports, r)?
    else {
        return Ok(());
    };
    let mut uac = s.perl_caller("perl_cancel.pl", port, &["--after", "1"], ports)?;
    let uac_end = uac.wait(s.deadline);
    let answer_end = s.wait_answer(&mut answer, uac_end);
    r.check_ours(&uac, uac_end);
    check_netsip(r, &answer, answer_end);
    let out = uac.stdout();
    for (want, why) in [
        (
            "recv response 180 INVITE",
            "netsip answer --ring never rang",
        ),
        (
            "recv response 487 INVITE",
            "the cancelled INVITE did not end with 487 (RFC 3261 §9.2)",
        ),
        (
            "recv response 200 CANCEL",
            "the CANCEL got no 200 (RFC 3261 §9.2)",
        ),
        (
            "sent request ACK",
            "the Perl caller never acknowledged the 487",
        ),
    ] {
        if lines_of(&out, want).is_empty() {
            r.problems.push(format!("{why}: no {want:?} line"));
        }
    }
    if !lines_of(&out, "recv response 200 INVITE").is_empty() {
        r.problems
            .push("netsip answered the INVITE with 200 though it was cancelled".to_owned());
    }
    r.add_evidence_if_failed(&[&answer, &uac]);
    Ok(())
}

/// `netsip call --ring-timeout 1` gives up on a Perl callee that only rings.
fn call_cancels_perl(s: &Scene<'_>, ports: &mut Ports, r: &mut Report) -> Result<()> {
    let Some((perl_port, mut uas)) =
        s.start_perl_uas(Proto::Udp, false, &["--ring-only"], ports, r)?
    else {
        return Ok(());
    };
    let mut cmd = s.netsip("call", Proto::Udp, false, ports.ours()?);
    cmd.arg(perl_uri(Proto::Udp, false, perl_port))
        .args(["--ring-timeout", "1"]);
    let mut call = Running::spawn("netsip_call", cmd, s.dir)?;
    let call_end = call.wait(s.deadline);
    let uas_end = uas.wait(s.deadline);
    r.check_ours(&uas, uas_end);
    match call_end {
        Ended::Exited(st) if st.code() == Some(7) => {}
        other => r.problems.push(format!(
            "netsip call should exit 7 (no answer, cancelled), {}",
            match other {
                Ended::Exited(st) => format!("exited {st}"),
                Ended::Killed => "was killed at the deadline".to_owned(),
            }
        )),
    }
    let out = uas.stdout();
    for (want, why) in [
        ("recv request CANCEL", "netsip call never sent the CANCEL"),
        (
            "sent response 487 INVITE",
            "the Perl callee never ended the INVITE with 487",
        ),
        (
            "recv request ACK",
            "netsip call never acknowledged the 487 (RFC 3261 §17.1.1.3)",
        ),
    ] {
        if lines_of(&out, want).is_empty() {
            r.problems.push(format!("{why}: no {want:?} line"));
        }
    }
    r.add_evidence_if_failed(&[&call, &uas]);
    Ok(())
}

/// The Perl caller offers telephone-event on [`EVENT_PT`] and sends [`DIGITS`].
fn perl_dtmf_pt(s: &Scene<'_>, ports: &mut Ports, r: &mut Report) -> Result<()> {
    let Some((port, mut answer)) = s.start_answer(Proto::Udp, false, &["--echo"], ports, r)? else {
        return Ok(());
    };
    let pt = EVENT_PT.to_string();
    let mut uac = s.perl_caller(
        "perl_dtmf_pt.pl",
        port,
        &["--digits", DIGITS, "--event-pt", &pt],
        ports,
    )?;
    let uac_end = uac.wait(s.deadline);
    let answer_end = s.wait_answer(&mut answer, uac_end);
    r.check_ours(&uac, uac_end);
    check_netsip(r, &answer, answer_end);
    let out = uac.stdout();
    let offered = lines_of(&out, "sent request INVITE")
        .first()
        .and_then(|l| Sdp::parse(l));
    let answered = lines_of(&out, "recv response 200 INVITE")
        .first()
        .and_then(|l| Sdp::parse(l));
    if offered.as_ref().map(|o| o.te.as_str()) != Some(pt.as_str()) {
        r.problems.push(format!(
            "the Perl caller did not offer telephone-event on {pt}: {offered:?}"
        ));
    }
    if answered.as_ref().map(|a| a.te.as_str()) != Some(pt.as_str()) {
        r.problems.push(format!(
            "netsip answer did not take telephone-event on the offered {pt} (RFC 3264 §6.1): \
             {answered:?}"
        ));
    }
    let got = dtmf_printed(&answer.stdout());
    if got != DIGITS {
        r.problems.push(format!(
            "netsip answer received the DTMF digits {got:?}, the Perl caller sent {DIGITS:?} \
             as telephone-event/{pt}"
        ));
    }
    r.add_evidence_if_failed(&[&answer, &uac]);
    Ok(())
}

/// SIPp `-sn uac -t t1` to `netsip answer --echo` over TCP.
fn sipp_uac_answer(s: &Scene<'_>, ports: &mut Ports, r: &mut Report) -> Result<()> {
    let Some((port, mut answer)) = s.start_answer(Proto::Tcp, false, &["--echo"], ports, r)? else {
        return Ok(());
    };
    let cmd = sipp::command(
        sipp::Script::Builtin("uac"),
        true,
        ports.free()?,
        Some(port),
        ports,
        s.dir,
        &[],
    )?;
    let mut uac = Running::spawn("sipp", cmd, s.dir)?;
    let uac_end = uac.wait(s.deadline);
    let answer_end = s.wait_answer(&mut answer, uac_end);
    r.check_sipp(uac_end);
    check_netsip(r, &answer, answer_end);
    if !answer.stdout().contains("established from ") {
        r.problems
            .push("netsip answer never printed the call as established".to_owned());
    }
    if !r.problems.is_empty() {
        r.add_sipp_evidence(&uac, s.dir);
        r.add_our_evidence(&answer);
    }
    Ok(())
}

/// `netsip call` over TCP to SIPp `-sn uas -t t1`.
fn sipp_uas_call(s: &Scene<'_>, ports: &mut Ports, r: &mut Report) -> Result<()> {
    let sipp_port = ports.free()?;
    let cmd = sipp::command(
        sipp::Script::Builtin("uas"),
        true,
        sipp_port,
        None,
        ports,
        s.dir,
        // The uas scenario pauses 4 s after the 200 to the BYE; netsip call exits and closes
        // its TCP connection before that, which SIPp takes for a failed call unless told
        // that a closed connection does not end a call.
        &["-reconnect_close", "false"],
    )?;
    let mut uas = Running::spawn("sipp", cmd, s.dir)?;
    if let Err(e) = wait_bound_on(&mut uas, ip(false), sipp_port, true, STARTUP_LIMIT) {
        r.problems.push(format!("{e:#}"));
        r.add_sipp_evidence(&uas, s.dir);
        return Ok(());
    }
    let mut cmd = s.netsip("call", Proto::Tcp, false, ports.ours()?);
    cmd.arg(format!("sip:service@127.0.0.1:{sipp_port};transport=tcp"))
        .args(["--duration", "1"]);
    let mut call = Running::spawn("netsip_call", cmd, s.dir)?;
    let call_end = call.wait(s.deadline);
    let uas_end = uas.wait(s.deadline);
    check_netsip(r, &call, call_end);
    r.check_sipp(uas_end);
    if !r.problems.is_empty() {
        r.add_sipp_evidence(&uas, s.dir);
        r.add_our_evidence(&call);
    }
    Ok(())
}

/// The lines of a Perl peer's output that start with `prefix` (see `CallsProbe.pm`).
fn lines_of<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| {
            l.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
        .collect()
}

/// The first audio stream of an SDP body as `CallsProbe.pm` prints it:
/// `... sdp c=ADDR port=P pt=0,101 dir=D te=T`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sdp {
    conn: String,
    port: u16,
    pts: Vec<u8>,
    dir: String,
    te: String,
}

impl Sdp {
    /// The SDP of one probe line; `None` when it has none.
    fn parse(line: &str) -> Option<Self> {
        let (_, rest) = line.split_once(" sdp ")?;
        let mut sdp = Self {
            conn: String::new(),
            port: 0,
            pts: Vec::new(),
            dir: String::new(),
            te: String::new(),
        };
        for field in rest.split_whitespace() {
            let (k, v) = field.split_once('=')?;
            match k {
                "c" => v.clone_into(&mut sdp.conn),
                "port" => sdp.port = v.parse().ok()?,
                "pt" => {
                    sdp.pts = v
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .ok()?;
                }
                "dir" => v.clone_into(&mut sdp.dir),
                "te" => v.clone_into(&mut sdp.te),
                _ => {}
            }
        }
        Some(sdp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLD_OUT: &str = "call up\n\
        sent request INVITE sdp c=127.0.0.1 port=30000 pt=0,101 dir=sendrecv te=101\n\
        recv response 200 INVITE sdp c=127.0.0.1 port=40000 pt=0,101 dir=sendrecv te=101\n\
        phase up: received 48\n\
        recv response 200 INVITE sdp c=127.0.0.1 port=40000 pt=0,101 dir=recvonly te=101\n\
        phase hold: received 1\n\
        recv response 200 INVITE sdp c=127.0.0.1 port=40000 pt=0,101 dir=sendrecv te=101\n\
        phase resume: received 49\n\
        recv response 200 INVITE sdp c=127.0.0.1 port=40000 pt=0,101 dir=sendrecv te=101\n\
        phase hold0: received 0\n\
        recv response 200 INVITE sdp c=127.0.0.1 port=40000 pt=0,101 dir=sendrecv te=101\n\
        phase resume0: received 50\n";

    #[test]
    fn probe_lines_and_their_sdp_parse() {
        let l = lines_of(HOLD_OUT, "recv response 200 INVITE");
        assert_eq!(l.len(), 5);
        let sdp = Sdp::parse(l[1]).unwrap();
        assert_eq!(sdp.conn, "127.0.0.1");
        assert_eq!(sdp.port, 40000);
        assert_eq!(sdp.pts, vec![0, 101]);
        assert_eq!(sdp.dir, "recvonly");
        assert_eq!(sdp.te, "101");
        assert!(Sdp::parse("recv response 200 BYE").is_none());
        assert!(Sdp::parse("x sdp port=notanumber").is_none());
        // A prefix matches whole words only.
        assert!(lines_of("recv request INVITEX\n", "recv request INVITE").is_empty());
    }

    #[test]
    fn a_good_hold_and_resume_passes() {
        assert_eq!(hold_problems(HOLD_OUT), Vec::<String>::new());
    }

    #[test]
    fn hold_answered_sendrecv_an_echo_on_hold_and_silence_after_resume_fail() {
        let sendrecv_hold = HOLD_OUT.replacen("dir=recvonly", "dir=sendrecv", 1);
        let p = hold_problems(&sendrecv_hold);
        assert!(
            p.iter().any(|p| p.contains("hold INVITE with a=sendrecv")),
            "{p:?}"
        );

        let leak = HOLD_OUT.replace("phase hold: received 1", "phase hold: received 40");
        let p = hold_problems(&leak);
        assert!(
            p.iter().any(|p| p.contains("echoed 40 RTP packets")),
            "{p:?}"
        );

        let silent = HOLD_OUT.replace("phase resume: received 49", "phase resume: received 0");
        let p = hold_problems(&silent);
        assert!(p.iter().any(|p| p.contains("phase resume")), "{p:?}");

        let short: String = HOLD_OUT.lines().take(6).map(|l| format!("{l}\n")).collect();
        let p = hold_problems(&short);
        assert!(p.iter().any(|p| p.contains("saw 2 200s")), "{p:?}");
        assert!(
            p.iter().any(|p| p.contains("never finished phase resume0")),
            "{p:?}"
        );
    }
}
