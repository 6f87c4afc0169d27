//! tshark as the judge of the interop run: every message our programs put on the wire is
//! captured on loopback and must decode without a malformed-packet mark.
//!
//! `dumpcap` (tshark's capture engine) records `lo` from before the first scenario to after
//! the last, with a capture filter on the ports the suite hands out ([`SUITE_PORTS`]), into
//! `target/interop/capture.pcapng`. Then tshark reads it with every SIP port of the ledger
//! decoded as SIP (`-d udp.port==P,sip`, the same for TCP) on top of its SIP heuristics, and
//! lists the SIP messages and the frames it marks malformed or with an expert error. Each
//! frame is attributed by its ports (and its time) to the scenario that gave the port out,
//! and to its sender: one of our programs, or a peer. A malformed SIP message sent by one of
//! ours fails the judge; one sent by a peer is reported and does not. Frames of other
//! programs on the machine (ports outside the ledger) are counted and left alone. SIP over
//! TLS is decrypted with the keys the Perl peers log (`NETSIP_TLS_KEYLOG`, set to
//! [`KEYLOG`] in the run's folder; every TLS session of the suite has a Perl end) and judged
//! like the rest; TLS records without SIP (handshakes, sessions without keys) are counted.
//!
//! Capturing on loopback needs root (CI runs as root); run otherwise, the judge fails and
//! says so, it is never skipped.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};

use super::child::tail;
use super::ports::{Carries, Ledger, PortUse, SUITE_PORTS};
use super::Report;

/// The name of the judge's line in the summary.
pub(super) const NAME: &str = "tshark-judge";

/// The file, in the run's folder, where the Perl peers log their TLS session keys (the
/// SSLKEYLOGFILE format) for tshark.
pub(super) const KEYLOG: &str = "tls-keys.log";

/// How long dumpcap may take to start capturing, and to stop.
const CAPTURE_LIMIT: Duration = Duration::from_secs(10);

/// How long after a scenario ended its ports still count as its own: late retransmissions
/// and the last ACKs.
const WINDOW_SLACK: Duration = Duration::from_secs(3);

/// The largest capture file dumpcap writes (kB): a bound on the disk the run takes when
/// something floods loopback.
const MAX_CAPTURE_KB: u32 = 400_000;

/// A running capture of `lo`, or why there is none.
pub(super) struct Capture {
    child: Option<Child>,
    file: PathBuf,
    keylog: PathBuf,
    log: PathBuf,
    failure: Option<String>,
}

impl Capture {
    /// Starts dumpcap on `lo` into `out/capture.pcapng` and waits until it captures. A
    /// capture that cannot start is not an error here: the judge fails later with the reason.
    pub(super) fn start(out: &Path) -> Self {
        let file = out.join("capture.pcapng");
        let log = out.join("dumpcap.stderr");
        let mut capture = Self {
            child: None,
            file,
            keylog: out.join(KEYLOG),
            log,
            failure: None,
        };
        if let Err(e) = capture.try_start() {
            capture.failure = Some(format!("{e:#}"));
        }
        capture
    }

    fn try_start(&mut self) -> Result<()> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
        if !crate::peers::is_root() {
            bail!(
                "the tshark judge captures on lo, which needs root: run the suite as root, as \
                 CI does (e.g. `sudo -E cargo xtask interop`)"
            );
        }
        let filter = format!(
            "(udp or tcp) and portrange {}-{}",
            SUITE_PORTS.start(),
            SUITE_PORTS.end()
        );
        let mut cmd = Command::new("dumpcap");
        cmd.args(["-i", "lo", "-f", &filter, "-q"])
            .arg("-w")
            .arg(&self.file)
            .args(["-a", &format!("filesize:{MAX_CAPTURE_KB}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&self.log).with_context(|| format!("{}", self.log.display()))?);
        std::fs::write(self.log.with_extension("cmd"), format!("{cmd:?}\n"))?;
        let mut child = cmd
            .spawn()
            .context("cannot start dumpcap (package wireshark-common, a dependency of tshark)")?;
        let deadline = Instant::now() + CAPTURE_LIMIT;
        loop {
            let said = std::fs::read_to_string(&self.log).unwrap_or_default();
            if said.contains("Capturing on") {
                self.child = Some(child);
                return Ok(());
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "dumpcap exited {status} before capturing: {}",
                    said.trim().lines().last().unwrap_or("no reason printed")
                );
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("dumpcap did not start capturing on lo within {CAPTURE_LIMIT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the capture (SIGINT, so that dumpcap writes out what it holds) and judges it
    /// against `ledger`.
    pub(super) fn judge(mut self, ledger: &Ledger) -> Result<Report> {
        let mut r = Report::new();
        if let Some(why) = self.failure.take() {
            r.problems.push(why);
            return Ok(r);
        }
        if let Err(e) = self.stop() {
            r.problems.push(format!("{e:#}"));
            r.details.push_str("    dumpcap stderr:\n");
            r.details.push_str(&tail(
                &std::fs::read_to_string(&self.log).unwrap_or_default(),
                5,
            ));
            return Ok(r);
        }
        let listing = decode(&self.file, &self.keylog, ledger)?;
        let frames: Vec<Frame> = listing.lines().filter_map(Frame::parse).collect();
        let verdict = Verdict::of(&frames, ledger);
        println!("{}", verdict.headline());
        verdict.into_report(&mut r, ledger.windows.is_empty());
        Ok(r)
    }

    fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            bail!("dumpcap is gone");
        };
        if let Some(status) = child.try_wait()? {
            bail!("dumpcap exited {status} during the run: the capture is incomplete");
        }
        // The kernel hands over the last packets a moment after they were sent.
        thread::sleep(Duration::from_millis(300));
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .context("cannot run kill")?;
        if !sent.success() {
            bail!("kill -INT of dumpcap failed: {sent}");
        }
        let deadline = Instant::now() + CAPTURE_LIMIT;
        loop {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("dumpcap still running {CAPTURE_LIMIT:?} after SIGINT: killed");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The fields tshark prints for each frame, in this order.
const FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "udp.srcport",
    "udp.dstport",
    "tcp.srcport",
    "tcp.dstport",
    "frame.protocols",
    "sip.Request-Line",
    "sip.Status-Line",
    "_ws.malformed",
    "_ws.expert.severity",
    "_ws.expert.message",
];

/// tshark's listing of `file`: one line per frame that holds SIP or TLS or carries a
/// malformed mark or an expert error, fields tab-separated, several values in one field
/// joined with `|`.
fn decode(file: &Path, keylog: &Path, ledger: &Ledger) -> Result<String> {
    let mut cmd = tshark_command(file, keylog, ledger);
    let out = cmd
        .output()
        .with_context(|| format!("cannot run tshark on {}", file.display()))?;
    if !out.status.success() {
        bail!(
            "tshark -r {} failed ({}): {}",
            file.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Some(dir) = file.parent() {
        let _ = std::fs::write(dir.join("judge.tsv"), &listing);
        let _ = std::fs::write(dir.join("judge.cmd"), format!("{cmd:?}\n"));
    }
    Ok(listing)
}

fn tshark_command(file: &Path, keylog: &Path, ledger: &Ledger) -> Command {
    let mut c = Command::new(crate::peers::TSHARK.program);
    c.arg("-r").arg(file).arg("-n");
    if keylog.is_file() {
        c.arg("-o")
            .arg(format!("tls.keylog_file:{}", keylog.display()));
    }
    // SIP found by its start line on any port, before a dissector that merely owns the port.
    c.args([
        "--enable-heuristic",
        "sip_udp",
        "--enable-heuristic",
        "sip_tcp",
    ]);
    c.args(["-o", "udp.try_heuristic_first:TRUE"]);
    c.args(["-o", "tcp.try_heuristic_first:TRUE"]);
    let mut seen = std::collections::BTreeSet::new();
    for u in &ledger.ports {
        if !seen.insert((u.port, u.carries as u8)) {
            continue;
        }
        match u.carries {
            // Decoded as SIP even when the start line is too broken for the heuristic.
            Carries::Sip => {
                c.args(["-d", &format!("udp.port=={},sip", u.port)]);
                c.args(["-d", &format!("tcp.port=={},sip", u.port)]);
            }
            // TLS, and SIP inside it once decrypted.
            Carries::Tls => {
                c.args(["-d", &format!("tcp.port=={},tls", u.port)]);
                c.args(["-d", &format!("tls.port=={},sip", u.port)]);
            }
            Carries::Media => {}
        }
    }
    c.args([
        "-Y",
        "sip || tls || data || _ws.malformed || _ws.expert.severity == error",
    ]);
    c.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]);
    c.args(["-E", "aggregator=|"]);
    for f in FIELDS {
        c.args(["-e", f]);
    }
    c
}

/// One frame of tshark's listing.
#[derive(Debug, Clone, PartialEq)]
struct Frame {
    number: u64,
    time: f64,
    src: u16,
    dst: u16,
    protocols: String,
    /// The start lines of the SIP messages in it (a TCP segment may end several).
    start_lines: Vec<String>,
    malformed: bool,
    /// Expert messages of severity error.
    errors: Vec<String>,
}

/// tshark's value of `_ws.expert.severity` for an error.
const SEVERITY_ERROR: &str = "8388608";

impl Frame {
    fn parse(line: &str) -> Option<Self> {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < FIELDS.len() {
            return None;
        }
        let port = |a: &str, b: &str| -> Option<u16> {
            let v = if a.is_empty() { b } else { a };
            v.split('|').next()?.parse().ok()
        };
        let split = |v: &str| -> Vec<String> {
            v.split('|')
                .filter(|s| !s.is_empty())
                .map(|s| s.trim().to_owned())
                .collect()
        };
        let mut start_lines = split(f[7]);
        start_lines.extend(split(f[8]));
        let severities: Vec<&str> = f[10].split('|').collect();
        let messages: Vec<&str> = f[11].split('|').collect();
        let malformed = !f[9].is_empty();
        // The messages worth showing: every expert item of a malformed frame (they say what
        // is malformed: "Invalid content_length"), else the errors only.
        let errors = severities
            .iter()
            .enumerate()
            .filter(|(_, s)| malformed || **s == SEVERITY_ERROR || s.eq_ignore_ascii_case("error"))
            .filter_map(|(i, _)| messages.get(i).filter(|m| !m.is_empty()))
            .map(|m| (*m).to_owned())
            .collect();
        Some(Self {
            number: f[0].parse().ok()?,
            time: f[1].parse().ok()?,
            src: port(f[2], f[4])?,
            dst: port(f[3], f[5])?,
            protocols: f[6].to_owned(),
            start_lines,
            malformed,
            errors,
        })
    }

    fn is_sip(&self) -> bool {
        self.protocols.split(':').any(|p| p == "sip")
    }

    fn is_tls(&self) -> bool {
        self.protocols.split(':').any(|p| p == "tls")
    }

    /// Bytes no dissector took: on a SIP port, a message whose start line tshark does not
    /// recognise.
    fn is_data(&self) -> bool {
        self.protocols.split(':').any(|p| p == "data")
    }

    fn is_flagged(&self) -> bool {
        self.malformed || !self.errors.is_empty()
    }

    fn at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(self.time.max(0.0))
    }
}

/// Who put a frame on the wire, as far as the ledger tells.
#[derive(Debug, Clone, PartialEq)]
enum Sender {
    /// One of our programs, in this scenario.
    Ours(String),
    /// A peer, in this scenario.
    Peer(String),
    /// Not the suite: no port of the frame is in the ledger at its time.
    Outside,
}

/// The ledger's entry for `port` at `at`: given out by a scenario that ran then.
fn lookup(ledger: &Ledger, port: u16, at: SystemTime) -> Option<&PortUse> {
    ledger.ports.iter().rev().find(|u| {
        u.port == port
            && ledger.windows.iter().any(|w| {
                w.scenario == u.scenario
                    && w.start <= at + WINDOW_SLACK
                    && w.end.is_none_or(|end| at <= end + WINDOW_SLACK)
            })
    })
}

/// Whether a port of `frame` is one the ledger gave out for SIP over UDP or TCP.
fn on_sip_port(frame: &Frame, ledger: &Ledger) -> bool {
    [frame.src, frame.dst]
        .iter()
        .any(|&p| lookup(ledger, p, frame.at()).is_some_and(|u| u.carries == Carries::Sip))
}

/// The sender of `frame`: the owner of its source port; else (a connection from a port
/// nobody was given, as our proxy opens to a TCP peer) the other side of its destination.
fn sender(frame: &Frame, ledger: &Ledger) -> Sender {
    let at = frame.at();
    if let Some(u) = lookup(ledger, frame.src, at) {
        return if u.ours {
            Sender::Ours(u.scenario.clone())
        } else {
            Sender::Peer(u.scenario.clone())
        };
    }
    match lookup(ledger, frame.dst, at) {
        Some(u) if u.ours => Sender::Peer(u.scenario.clone()),
        Some(u) => Sender::Ours(u.scenario.clone()),
        None => Sender::Outside,
    }
}

/// What the judge found.
#[derive(Debug, Default)]
struct Verdict {
    /// SIP messages decoded in the suite's frames.
    messages: usize,
    /// Of them, sent by our programs.
    ours: usize,
    /// Frames of the suite with TLS records but no SIP: handshakes, or sessions without keys.
    tls_frames: usize,
    /// Frames of other programs on the machine, left alone.
    outside: usize,
    /// Flagged frames sent by our programs: each fails the judge.
    our_flagged: Vec<String>,
    /// Flagged frames sent by peers: reported only.
    peer_flagged: Vec<String>,
}

impl Verdict {
    fn of(frames: &[Frame], ledger: &Ledger) -> Self {
        let mut v = Self::default();
        for f in frames {
            let who = sender(f, ledger);
            let scenario = match &who {
                Sender::Ours(s) | Sender::Peer(s) => s.clone(),
                Sender::Outside => {
                    v.outside += 1;
                    continue;
                }
            };
            if f.is_sip() {
                v.messages += f.start_lines.len().max(1);
                if matches!(who, Sender::Ours(_)) {
                    v.ours += f.start_lines.len().max(1);
                }
            } else if f.is_tls() {
                v.tls_frames += 1;
            }
            // Bytes on a SIP port that tshark does not take for SIP: the start line is broken
            // (the dissector refuses a message whose first line is not SIP, even when told
            // the port is SIP's).
            let unrecognised = !f.is_sip() && !f.is_tls() && f.is_data() && on_sip_port(f, ledger);
            if !f.is_flagged() && !unrecognised {
                continue;
            }
            let mut why = f.errors.clone();
            if f.malformed && why.is_empty() {
                why.push("malformed packet".to_owned());
            }
            if unrecognised {
                why.push("not recognised as SIP (bad start line?)".to_owned());
            }
            let what = format!(
                "frame {} ({scenario}, port {} -> {}{}): {}",
                f.number,
                f.src,
                f.dst,
                f.start_lines
                    .first()
                    .map_or(String::new(), |l| format!(", {l}")),
                why.join("; ")
            );
            // Only SIP is ours to judge: our programs send nothing else, and a peer's RTP
            // that a heuristic mistakes for another protocol says nothing about SIP.
            match who {
                Sender::Ours(_) if f.is_sip() || unrecognised => v.our_flagged.push(what),
                _ => v.peer_flagged.push(what),
            }
        }
        v
    }

    fn headline(&self) -> String {
        format!(
            "tshark judge: {} SIP messages decoded ({} from our programs), {} malformed from \
             ours, {} flagged from peers; {} TLS frames without SIP (handshakes, or no keys); {} \
             frames of other programs ignored",
            self.messages,
            self.ours,
            self.our_flagged.len(),
            self.peer_flagged.len(),
            self.tls_frames,
            self.outside
        )
    }

    fn into_report(self, r: &mut Report, nothing_ran: bool) {
        // SIP over TLS cannot be decoded: a run of TLS scenarios alone shows TLS frames only.
        if self.messages == 0 && self.tls_frames == 0 && !nothing_ran {
            r.problems.push(
                "no SIP message decoded though scenarios ran: the capture missed them (filter, \
                 interface or ports outside the suite's range)"
                    .to_owned(),
            );
        }
        if !self.our_flagged.is_empty() {
            r.problems.push(format!(
                "{} SIP messages sent by our programs are malformed to tshark: {}",
                self.our_flagged.len(),
                self.our_flagged[0]
            ));
        }
        for (what, list) in [
            ("sent by netsip", &self.our_flagged),
            ("sent by peers (reported, not failed)", &self.peer_flagged),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(r.details, "    flagged frames {what}:");
            for l in list.iter().take(20) {
                let _ = writeln!(r.details, "      {l}");
            }
            if list.len() > 20 {
                let _ = writeln!(r.details, "      ... {} more", list.len() - 20);
            }
        }
        // Peers' flagged frames show even when the judge passes.
        if r.problems.is_empty() && !self.peer_flagged.is_empty() {
            println!(
                "tshark judge: frames flagged from peers (not failing): {}",
                self.peer_flagged.join(" / ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger() -> Ledger {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        Ledger {
            ports: vec![
                PortUse {
                    port: 20001,
                    scenario: "a".into(),
                    ours: true,
                    carries: Carries::Sip,
                },
                PortUse {
                    port: 20002,
                    scenario: "a".into(),
                    ours: false,
                    carries: Carries::Sip,
                },
            ],
            windows: vec![super::super::ports::Window {
                scenario: "a".into(),
                start: t0,
                end: Some(t0 + Duration::from_secs(10)),
            }],
        }
    }

    fn line(n: u64, t: f64, src: u16, dst: u16, protocols: &str, rest: &str) -> String {
        format!("{n}\t{t}\t{src}\t{dst}\t\t\t{protocols}\t{rest}")
    }

    #[test]
    fn a_frame_line_parses_with_several_messages_and_errors() {
        let l = line(
            7,
            1001.5,
            20001,
            20002,
            "eth:ip:udp:sip",
            "INVITE sip:b@x SIP/2.0|ACK sip:b@x SIP/2.0\t\t\t8388608|4194304\tbad header|note",
        );
        let f = Frame::parse(&l).unwrap();
        assert_eq!(f.number, 7);
        assert_eq!((f.src, f.dst), (20001, 20002));
        assert_eq!(f.start_lines.len(), 2);
        assert!(f.is_sip() && !f.malformed);
        assert_eq!(f.errors, ["bad header"]);
        assert!(Frame::parse("garbage").is_none());
    }

    #[test]
    fn our_malformed_message_fails_a_peers_is_only_reported() {
        let l = ledger();
        let ours = Frame::parse(&line(
            1,
            1002.0,
            20001,
            20002,
            "sll:ip:udp:sip:_ws.malformed",
            "SIP/2.0 200 OK\t\t1\t\t",
        ))
        .unwrap();
        let theirs = Frame::parse(&line(
            2,
            1002.0,
            20002,
            20001,
            "sll:ip:udp:sip",
            "OPTIONS sip:a SIP/2.0\t\t\t8388608\tbroken",
        ))
        .unwrap();
        let fine = Frame::parse(&line(
            3,
            1003.0,
            20002,
            20001,
            "sll:ip:udp:sip",
            "BYE sip:a SIP/2.0\t\t\t\t",
        ))
        .unwrap();
        let v = Verdict::of(&[ours, theirs, fine], &l);
        assert_eq!(v.messages, 3);
        assert_eq!(v.ours, 1);
        assert_eq!(v.our_flagged.len(), 1);
        assert_eq!(v.peer_flagged.len(), 1);
        let mut r = Report::new();
        v.into_report(&mut r, false);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].contains("frame 1"), "{:?}", r.problems);
    }

    #[test]
    fn a_run_of_tls_alone_is_not_an_empty_capture() {
        let mut l = ledger();
        l.ports[0].carries = Carries::Tls;
        let tls =
            Frame::parse(&line(1, 1002.0, 20001, 20002, "sll:ip:tcp:tls", "\t\t\t\t")).unwrap();
        let v = Verdict::of(&[tls], &l);
        assert_eq!((v.messages, v.tls_frames), (0, 1));
        let mut r = Report::new();
        v.into_report(&mut r, false);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }

    #[test]
    fn bytes_from_our_sip_port_that_are_not_sip_fail() {
        let l = ledger();
        let broken = Frame::parse(&line(
            4,
            1002.0,
            20001,
            20002,
            "sll:ip:udp:data",
            "\t\t\t\t",
        ))
        .unwrap();
        let v = Verdict::of(&[broken], &l);
        assert_eq!(v.our_flagged.len(), 1);
        assert!(v.our_flagged[0].contains("not recognised as SIP"), "{v:?}");
    }

    #[test]
    fn a_warning_of_the_malformed_group_counts_with_its_message() {
        let l = ledger();
        let f = Frame::parse(&line(
            5,
            1002.0,
            20001,
            20002,
            "sll:ip:udp:sip",
            "OPTIONS sip:a SIP/2.0\t\t_ws.malformed\t4194304\tInvalid content_length",
        ))
        .unwrap();
        assert!(f.is_flagged());
        let v = Verdict::of(&[f], &l);
        assert!(
            v.our_flagged[0].ends_with("Invalid content_length"),
            "{v:?}"
        );
    }

    /// What tshark 4.0 printed for four messages sent from 21005 to 21006 (decoded as SIP):
    /// an INVITE with a Via port of 99999 and `Content-Length: abc`, a response with a
    /// status code of 2000, an OPTIONS cut off in its headers, and a sound OPTIONS.
    const REAL: &str = "\
1\t1795938797.925817102\t21005\t21006\t\t\teth:ethertype:ip:udp:sip\tINVITE sip:x@y SIP/2.0\t\t_ws.malformed|_ws.malformed\t4194304|4194304\tInvalid SIP Via sent-by-port|Invalid content_length
2\t1795938797.925839666\t21005\t21006\t\t\teth:ethertype:ip:udp:data\t\t\t\t\t
3\t1795938797.925846426\t21005\t21006\t\t\teth:ethertype:ip:udp:sip\tOPTIONS sip:x@y SIP/2.0\t\t[Malformed Packet: SIP]|_ws.malformed\t8388608\tMalformed Packet (Exception occurred)
4\t1795938797.925852886\t21005\t21006\t\t\teth:ethertype:ip:udp:sip\tOPTIONS sip:x@y SIP/2.0\t\t\t\t
";

    #[test]
    fn real_tshark_output_for_broken_messages_flags_each_of_them() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_938_790);
        let use_of = |port, ours| PortUse {
            port,
            scenario: "real".into(),
            ours,
            carries: Carries::Sip,
        };
        let l = Ledger {
            ports: vec![use_of(21005, true), use_of(21006, false)],
            windows: vec![super::super::ports::Window {
                scenario: "real".into(),
                start: t0,
                end: Some(t0 + Duration::from_secs(20)),
            }],
        };
        let frames: Vec<Frame> = REAL.lines().filter_map(Frame::parse).collect();
        assert_eq!(frames.len(), 4);
        let v = Verdict::of(&frames, &l);
        assert_eq!(v.messages, 3, "{v:?}");
        assert_eq!(v.ours, 3, "{v:?}");
        assert_eq!(v.our_flagged.len(), 3, "{v:?}");
        assert!(v.our_flagged[0].contains("Invalid content_length"), "{v:?}");
        assert!(v.our_flagged[1].contains("not recognised as SIP"), "{v:?}");
        assert!(v.our_flagged[2].contains("Exception occurred"), "{v:?}");
        assert!(
            v.headline().contains("3 malformed from ours"),
            "{}",
            v.headline()
        );
    }

    #[test]
    fn other_programs_and_other_times_are_outside() {
        let l = ledger();
        // A port nobody was given.
        let stranger = Frame::parse(&line(
            1,
            1002.0,
            20500,
            20600,
            "sll:ip:udp:sip:_ws.malformed",
            "\t\t1\t\t",
        ))
        .unwrap();
        // Our port, but long after the scenario.
        let later = Frame::parse(&line(
            2,
            2000.0,
            20001,
            20002,
            "sll:ip:udp:sip:_ws.malformed",
            "\t\t1\t\t",
        ))
        .unwrap();
        let v = Verdict::of(&[stranger, later], &l);
        assert_eq!(v.outside, 2);
        assert!(v.our_flagged.is_empty());
        let mut r = Report::new();
        v.into_report(&mut r, false);
        assert!(
            r.problems[0].contains("no SIP message decoded"),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn a_connection_from_an_unknown_port_is_sent_by_the_other_side_of_its_destination() {
        let l = ledger();
        let to_peer =
            Frame::parse(&line(1, 1002.0, 45000, 20002, "sll:ip:tcp:sip", "\t\t\t\t")).unwrap();
        let to_ours =
            Frame::parse(&line(2, 1002.0, 45001, 20001, "sll:ip:tcp:sip", "\t\t\t\t")).unwrap();
        assert_eq!(sender(&to_peer, &l), Sender::Ours("a".into()));
        assert_eq!(sender(&to_ours, &l), Sender::Peer("a".into()));
    }

    #[test]
    fn the_command_decodes_sip_ports_as_sip_and_tls_ports_as_tls() {
        let mut l = ledger();
        l.ports.push(PortUse {
            port: 20003,
            scenario: "a".into(),
            ours: true,
            carries: Carries::Tls,
        });
        l.ports.push(PortUse {
            port: 20004,
            scenario: "a".into(),
            ours: false,
            carries: Carries::Media,
        });
        let c = tshark_command(Path::new("x.pcapng"), Path::new("/nonexistent/keys"), &l);
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.contains(&"udp.port==20001,sip".to_owned()));
        assert!(args.contains(&"tcp.port==20002,sip".to_owned()));
        assert!(args.contains(&"tcp.port==20003,tls".to_owned()));
        assert!(args.contains(&"tls.port==20003,sip".to_owned()));
        // No key file, no option pointing at it.
        assert!(!args.iter().any(|a| a.starts_with("tls.keylog_file")));
        assert!(!args.iter().any(|a| a.contains("20004")));
    }
}
