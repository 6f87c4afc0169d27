//! Running SIPp for one call and reading what it left behind.
//!
//! Every run is `-m 1` (one call, then exit), `-nostdin`, `-timeout 20s -timeout_error`
//! (SIPp fails rather than waits), bound to 127.0.0.1 only: SIP (`-i`, `-p`), media
//! (`-mi`, `-mp`) and the control socket (`-ci`, `-cp`), which would otherwise take UDP 8888
//! on every address. Its error, message and screen logs go to the scenario's directory.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::ports::Ports;

/// Which scenario SIPp plays.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Script {
    /// A file under `interop/sipp/`.
    File(&'static str),
    /// A scenario built into SIPp (`-sn`).
    Builtin(&'static str),
    /// A file under another folder of `interop/`: `In("proxy", "x.xml")` is
    /// `interop/proxy/x.xml`.
    In(&'static str, &'static str),
}

impl Script {
    pub(crate) fn describe(self) -> String {
        match self {
            Self::File(f) => f.to_owned(),
            Self::Builtin(n) => format!("-sn {n}"),
            Self::In(d, f) => format!("{d}/{f}"),
        }
    }

    /// SIPp's arguments that choose it.
    pub(crate) fn args(self) -> Vec<std::ffi::OsString> {
        let interop = crate::root().join("interop");
        match self {
            Self::File(f) => vec!["-sf".into(), interop.join("sipp").join(f).into()],
            Self::Builtin(n) => vec!["-sn".into(), n.into()],
            Self::In(d, f) => vec!["-sf".into(), interop.join(d).join(f).into()],
        }
    }
}

pub(crate) const ERRORS: &str = "sipp_errors.log";
pub(crate) const MESSAGES: &str = "sipp_messages.log";
pub(crate) const SCREEN: &str = "sipp_screen.log";

/// The SIPp command for one call of `script`: a server on `port` when `remote` is `None`,
/// else a client from `port` to `remote`.
pub(crate) fn command(
    script: Script,
    tcp: bool,
    port: u16,
    remote: Option<u16>,
    ports: &mut Ports,
    dir: &Path,
    extra: &[&str],
) -> Result<Command> {
    let mut c = Command::new(crate::peers::SIPP.program);
    if let Some(r) = remote {
        c.arg(format!("127.0.0.1:{r}"));
    }
    c.args(script.args());
    c.args(["-t", if tcp { "t1" } else { "u1" }]);
    c.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
    c.args(["-ci", "127.0.0.1", "-cp", &ports.free()?.to_string()]);
    c.args(["-mi", "127.0.0.1", "-mp", &ports.free_pair()?.to_string()]);
    c.args(["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"]);
    c.arg("-trace_err").arg("-error_file").arg(dir.join(ERRORS));
    c.arg("-trace_msg")
        .arg("-message_file")
        .arg(dir.join(MESSAGES));
    c.arg("-trace_screen")
        .arg("-screen_file")
        .arg(dir.join(SCREEN));
    c.args(extra);
    Ok(c)
}

/// What SIPp's exit status means (its documented codes).
pub(crate) fn exit_meaning(code: Option<i32>) -> &'static str {
    match code {
        Some(0) => "all calls passed",
        Some(1) => "the call failed",
        Some(97) => "exit on an internal command",
        Some(99) => "normal exit without a call processed",
        Some(254) => "fatal error binding a socket",
        Some(255) => "fatal error",
        Some(_) => "unknown status",
        None => "killed by a signal",
    }
}

/// The first event of SIPp's error log, on one line.
pub(crate) fn first_error(dir: &Path) -> Option<String> {
    let log = std::fs::read_to_string(dir.join(ERRORS)).ok()?;
    let line = log.lines().find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("abort")
            || l.contains("fail")
            || l.contains("timeout")
            || l.contains("unexpected")
    })?;
    // "date\ttime\tepoch: what happened"
    let what = line.rsplit('\t').next().unwrap_or(line);
    let what = what.split_once(": ").map_or(what, |(_, w)| w);
    Some(shorten(what.trim(), 220))
}

/// The rows of the scenario screen (messages, retransmissions, timeouts, unexpected).
pub(crate) fn screen_table(dir: &Path) -> String {
    let screen = std::fs::read_to_string(dir.join(SCREEN)).unwrap_or_default();
    screen
        .lines()
        .filter(|l| {
            l.contains("---------->")
                || l.contains("<----------")
                || l.contains("] Pause")
                || l.contains("Messages  Retrans")
                || l.contains("Successful call")
                || l.contains("Failed call")
        })
        .map(|l| format!("      {}\n", l.trim_end()))
        .collect()
}

/// What SIPp sent and received, in order, one line each: time, direction, start line
/// (from its message log).
pub(crate) fn message_flow(dir: &Path) -> Vec<String> {
    let log = std::fs::read_to_string(dir.join(MESSAGES)).unwrap_or_default();
    let mut flow = Vec::new();
    // (time, direction) of the entry whose start line comes next.
    let mut pending: Option<(String, &str)> = None;
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("-----") {
            let time = rest.trim_start_matches('-').trim();
            let time = time.rsplit(' ').next().unwrap_or_default().to_owned();
            pending = Some((time, "?"));
            continue;
        }
        let Some((time, dir)) = pending.as_mut() else {
            continue;
        };
        if line.contains("message received") {
            *dir = "recv";
        } else if line.contains("message sent") {
            *dir = "sent";
        } else if !line.trim().is_empty() {
            flow.push(format!("{time:>15} {dir} {}", line.trim()));
            pending = None;
        }
    }
    flow
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}...")
}
