//! `netsip call` and `netsip answer` with real audio against peers nobody here wrote.
//!
//! | scenario | our side | the peer | passes when |
//! | --- | --- | --- | --- |
//! | `simple-perl-dtmf-rfc4733` | `netsip answer --echo --calls 1` | `interop/simple/perl_dtmf.pl --methods rfc2833` (Simple::Call `dtmf`, as the example dtmf.pl) | both exit 0; `netsip answer` printed every digit, in order |
//! | `simple-perl-dtmf-inband` | the same | `perl_dtmf.pl --methods audio` (tones in the PCMU stream) | the same |
//! | `simple-sipp-uac-pcap-answer` | `netsip answer --record-dir rec --calls 1` | `sipp -sn uac_pcap`: SIPp's own PCMA recording (`g711a.pcap`) and an RFC 2833 `1` | both exit 0; the one recording is the pcap's audio, intact; the `1` was seen |
//!
//! The calls with audio echoed both ways (`netsip call` to Net::SIP's echo, Net::SIP's caller
//! to `netsip answer --echo`) are `calls-*` (`calls.rs`), on every transport.
//!
//! "Intact" is [`audio::Alignment::problem`]: the received samples are one contiguous
//! stretch of the sent ones, sample for sample, with at most [`LEAD`] lost at the start and
//! [`TRAIL`] at the end (echo in flight at hang-up); nothing lost or altered in between.
//!
//! Every process runs on its own 127.0.0.1 ports under the scenario's deadline; the test
//! signal, the recordings and every program's output stay in `target/interop/<scenario>/`.
//! `NETSIP_INTEROP_ONLY` selects among these names too.

mod audio;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::child::{Ended, Running};
use super::ports::{wait_bound, Ports};
use super::sipp;
use super::{Outcome, Report, SCENARIO_LIMIT, STARTUP_LIMIT};
use audio::{Bounds, Law, FRAME};

/// The tracing `netsip` writes to its stderr, unless `RUST_LOG` says otherwise.
const NETSIP_LOG: &str = "info,sip_simple=debug";

/// The test signal: 3 s of 20 ms packets.
pub(super) const SIGNAL_FRAMES: usize = 150;

/// At most this much of what was sent may be missing at the start of what came back: 10
/// packets (200 ms). The first packets can race the 200 OK and the ACK.
const LEAD: usize = 10 * FRAME;

/// At most this much may be missing at the end: 15 packets (300 ms), the echo still in
/// flight (and in the jitter buffer) when the caller hangs up after its last packet.
const TRAIL: usize = 15 * FRAME;

/// The digits the DTMF scenarios send: every kind of key.
pub(super) const DIGITS: &str = "159#*0D";

/// tshark, to read the payloads of SIPp's capture (the same package `peers` installs for
/// the dissector checks).
const TSHARK: crate::peers::Peer = crate::peers::Peer {
    program: "tshark",
    package: "tshark",
    perl_module: None,
};

/// SIPp's bundled captures: `-sn uac_pcap` plays `pcap/g711a.pcap` relative to its working
/// directory.
const SIPP_PCAP_DIR: &str = "/usr/share/sip-tester";

/// Who plays which side.
#[derive(Clone, Copy)]
enum Play {
    PerlDtmf { method: &'static str },
    SippPcapAnswer,
}

const SCENARIOS: &[(&str, Play, &str)] = &[
    (
        "simple-perl-dtmf-rfc4733",
        Play::PerlDtmf { method: "rfc2833" },
        "Net::SIP dtmf rfc2833 -> netsip answer (udp)",
    ),
    (
        "simple-perl-dtmf-inband",
        Play::PerlDtmf { method: "audio" },
        "Net::SIP dtmf audio -> netsip answer (udp, PCMU tones)",
    ),
    (
        "simple-sipp-uac-pcap-answer",
        Play::SippPcapAnswer,
        "sipp -sn uac_pcap -> netsip answer --record-dir (udp, PCMA)",
    ),
];

/// Runs the selected scenarios, logging into `out/<name>/`; one outcome each.
pub(super) fn run(out: &Path) -> Result<Vec<Outcome>> {
    let selected = super::selected(SCENARIOS);
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    crate::peers::ensure(&[crate::peers::SIPP, crate::peers::NET_SIP, TSHARK])?;
    let netsip = super::netsip_binary()?;
    super::run_each(out, &selected, |play, dir| run_one(play, &netsip, dir))
}

fn run_one(play: Play, netsip: &Path, dir: &Path) -> Result<Report> {
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let mut ports = Ports::default();
    let mut r = Report::new();
    match play {
        Play::PerlDtmf { method } => perl_dtmf(method, netsip, &mut ports, dir, deadline, &mut r)?,
        Play::SippPcapAnswer => sipp_pcap(netsip, &mut ports, dir, deadline, &mut r)?,
    }
    Ok(r)
}

/// The Perl caller sends [`DIGITS`] by `method`; `netsip answer` must print each.
fn perl_dtmf(
    method: &str,
    netsip: &Path,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    let Some((port, mut answer)) = start_answer(netsip, &["--echo"], ports, dir, r)? else {
        return Ok(());
    };
    let mut cmd = perl_script("perl_dtmf.pl");
    cmd.args(["--leg", &format!("127.0.0.1:{}", ports.free()?)])
        .args(["--to", &format!("sip:answer@127.0.0.1:{port}")])
        .args(["--digits", DIGITS, "--methods", method, "--timeout", "15"]);
    let mut uac = Running::spawn("perl_dtmf", cmd, dir)?;
    let uac_end = uac.wait(deadline);
    let answer_end = answer.wait(deadline);
    r.check_ours(&uac, uac_end);
    check_netsip(r, &answer, answer_end);
    let got = dtmf_printed(&answer.stdout());
    if got != DIGITS {
        r.problems.push(format!(
            "netsip answer received the DTMF digits {got:?}, the Perl caller sent {DIGITS:?} \
             ({method})"
        ));
    }
    r.add_evidence_if_failed(&[&answer, &uac]);
    Ok(())
}

/// SIPp's `uac_pcap` plays its PCMA capture and a DTMF `1` to `netsip answer`, which records
/// the call into `rec/`.
fn sipp_pcap(
    netsip: &Path,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    let pcap_dir = Path::new(SIPP_PCAP_DIR);
    let pcap = pcap_dir.join("g711a.pcap");
    if !pcap.is_file() {
        bail!(
            "{} is missing: SIPp's uac_pcap scenario plays it (package {})",
            pcap.display(),
            crate::peers::SIPP.package
        );
    }
    if !can_open_raw_sockets() {
        bail!(
            "SIPp plays pcap audio through a raw socket: run the suite as root, or give {} \
             CAP_NET_RAW (setcap cap_net_raw+ep $(command -v sipp))",
            crate::peers::SIPP.program
        );
    }
    let link = dir.join("pcap");
    if !link.exists() {
        std::os::unix::fs::symlink(pcap_dir, &link)
            .with_context(|| format!("cannot link {} to {}", link.display(), pcap_dir.display()))?;
    }
    let sent = Law::Alaw.decode_all(&audio::pcap_payloads(&pcap, 8)?);
    let rec = dir.join("rec");
    std::fs::create_dir_all(&rec)?;
    let Some((port, mut answer)) = start_answer(netsip, &["--record-dir", "rec"], ports, dir, r)?
    else {
        return Ok(());
    };
    let sipp_port = ports.free()?;
    let mut cmd = Command::new(crate::peers::SIPP.program);
    cmd.arg(format!("127.0.0.1:{port}"))
        .args(["-sn", "uac_pcap", "-t", "u1"])
        .args(["-i", "127.0.0.1", "-p", &sipp_port.to_string()])
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
    let mut uac = Running::spawn("sipp", cmd, dir)?;
    let uac_end = uac.wait(deadline);
    let answer_end = answer.wait(deadline);
    r.check_sipp(uac_end);
    check_netsip(r, &answer, answer_end);
    let recordings: Vec<PathBuf> = std::fs::read_dir(&rec)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    match recordings.as_slice() {
        [one] => check_intact(
            r,
            dir,
            &sent,
            one,
            Law::Alaw,
            "netsip answer's recording of SIPp's g711a.pcap",
        ),
        other => r.problems.push(format!(
            "netsip answer left {} recordings in rec/ for the one call (expected 1)",
            other.len()
        )),
    }
    let digits = dtmf_printed(&answer.stdout());
    if digits != "1" {
        r.problems.push(format!(
            "netsip answer received the DTMF digits {digits:?}; SIPp plays dtmf_2833_1.pcap: \"1\""
        ));
    }
    if !r.problems.is_empty() {
        r.add_sipp_evidence(&uac, dir);
        r.add_our_evidence(&answer);
    }
    Ok(())
}

/// Whether SIPp can open the raw socket it plays pcap audio through: it runs as our user,
/// so we are root, or its file carries `cap_net_raw` (`getcap`).
fn can_open_raw_sockets() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    // "Uid:\treal\teffective\tsaved\tfs"
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|u| u.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0");
    root || Command::new("sh")
        .args(["-c", "getcap \"$(command -v sipp)\""])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cap_net_raw"))
}

/// Starts `netsip answer --calls 1` with `args` on a free port and waits until it listens;
/// `None` (with the problem in `r`) when it does not.
fn start_answer(
    netsip: &Path,
    args: &[&str],
    ports: &mut Ports,
    dir: &Path,
    r: &mut Report,
) -> Result<Option<(u16, Running)>> {
    // Ours: the judge holds what netsip sends from it to tshark's dissector.
    let port = ports.ours()?;
    let mut cmd = netsip_cmd(netsip, "answer");
    cmd.args(["--listen", &udp(port)])
        .args(["--from", &format!("sip:answer@127.0.0.1:{port}")])
        .args(["--calls", "1"])
        .args(args);
    let mut answer = Running::spawn("netsip_answer", cmd, dir)?;
    if let Err(e) = wait_bound(&mut answer, port, false, STARTUP_LIMIT) {
        r.problems.push(format!("{e:#}"));
        r.add_our_evidence(&answer);
        return Ok(None);
    }
    Ok(Some((port, answer)))
}

/// The recording at `got` (WAV, or raw codes in `raw_law`) must be `sent`, intact. The
/// verdict also goes to `audio-check.txt` in the scenario's folder, pass or fail.
fn check_intact(r: &mut Report, dir: &Path, sent: &[i16], got: &Path, raw_law: Law, what: &str) {
    let bounds = Bounds {
        lead: LEAD,
        trail: TRAIL,
    };
    let verdict = audio::read_samples(got, raw_law).and_then(|g| audio::align(sent, &g));
    let line = match verdict {
        Ok(a) => match a.problem(bounds) {
            None => format!("{what}: intact: {a}"),
            Some(p) => {
                r.problems.push(format!("{what}: {p}"));
                format!("{what}: {p}")
            }
        },
        Err(e) => {
            r.problems.push(format!("{what}: {e:#}"));
            format!("{what}: {e:#}")
        }
    };
    let _ = std::fs::write(dir.join("audio-check.txt"), format!("{line}\n"));
}

/// The test signal as PCMU codes: [`SIGNAL_FRAMES`] 20 ms packets from `seed`, written to
/// `dir/sent.wav` (for `netsip call --send`) and `dir/sent.pcmu` (for Net::SIP's `send_recv`).
pub(super) fn pcmu_signal(dir: &Path, seed: u64) -> Result<Vec<u8>> {
    let codes = audio::test_signal(SIGNAL_FRAMES, seed);
    audio::write_ulaw_wav(&dir.join("sent.wav"), &codes)?;
    std::fs::write(dir.join("sent.pcmu"), &codes)?;
    Ok(codes)
}

/// [`check_intact`] for a recording (WAV or raw PCMU) of the PCMU codes `sent`.
pub(super) fn check_pcmu_intact(r: &mut Report, dir: &Path, sent: &[u8], got: &Path, what: &str) {
    check_intact(r, dir, &Law::Ulaw.decode_all(sent), got, Law::Ulaw, what);
}

/// The digits of `netsip answer`'s `call N: dtmf D` lines, in order.
pub(super) fn dtmf_printed(stdout: &str) -> String {
    stdout
        .lines()
        .filter_map(|l| l.split_once(": dtmf ").map(|(_, d)| d.trim()))
        .filter_map(|d| d.chars().next())
        .collect()
}

/// `netsip` must exit 0; its `error:` line says why not.
pub(super) fn check_netsip(r: &mut Report, p: &Running, end: Ended) {
    match end {
        Ended::Exited(s) if s.success() => {}
        Ended::Exited(s) => {
            let err = p.stderr();
            let why = err
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .map_or("no error printed", str::trim);
            let code = s.code().map_or("by a signal".to_owned(), |c| c.to_string());
            r.problems
                .push(format!("{} exited {code}: {why}", p.name()));
        }
        Ended::Killed => r.problems.push(format!(
            "{} still running at the {}s guard: killed",
            p.name(),
            SCENARIO_LIMIT.as_secs()
        )),
    }
}

/// `netsip <subcommand>` with tracing on.
pub(super) fn netsip_cmd(netsip: &Path, subcommand: &str) -> Command {
    let mut c = Command::new(netsip);
    c.arg(subcommand);
    if std::env::var_os("RUST_LOG").is_none() {
        c.env("RUST_LOG", NETSIP_LOG);
    }
    c
}

fn perl_script(name: &str) -> Command {
    let mut c = Command::new("perl");
    c.arg(crate::root().join("interop").join("simple").join(name));
    c
}

fn udp(port: u16) -> String {
    format!("udp:127.0.0.1:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_lines_are_read_in_order() {
        let out = "listening on udp:127.0.0.1:5070\ncall 1: established from sip:a@b\n\
                   call 1: dtmf 1\ncall 1: dtmf #\nother\ncall 1: dtmf *\ncall 1: ended\n";
        assert_eq!(dtmf_printed(out), "1#*");
        assert_eq!(dtmf_printed("nothing\n"), "");
    }
}
