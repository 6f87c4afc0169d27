//! Loopback ports for one scenario: free ones to give out, a ledger of who got which (for
//! the tshark judge to tell our messages from the peers'), and a way to see that a peer has
//! bound its own without sending it anything.
//!
//! Every port of a scenario comes from [`SUITE_PORTS`], below the kernel's ephemeral range:
//! the capture filter of the judge covers exactly that range, so the traffic of other
//! programs on the machine (which the kernel gives ephemeral ports) stays out of it, and the
//! kernel never hands one of our ports to somebody's outgoing connection between our check
//! and the bind. Ports given out when no scenario runs (the load benchmarks use `Ports` too)
//! come from [`OTHER_PORTS`]: a benchmark running beside the suite floods neither the capture
//! nor the judge.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Result};

use super::child::Running;

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// The ports the suite hands out (UDP and TCP alike): below Linux's default ephemeral range
/// (32768-60999) and above the registered ports most services use.
pub(crate) const SUITE_PORTS: RangeInclusive<u16> = 20000..=29999;

/// The ports handed out outside a scenario: still below the ephemeral range, outside the
/// judge's capture.
pub(crate) const OTHER_PORTS: RangeInclusive<u16> = 30000..=32767;

/// Whether a scenario of this process runs now.
fn in_scenario() -> bool {
    ledger().windows.last().is_some_and(|w| w.end.is_none())
}

/// Hands out ports free on 127.0.0.1 (and on ::1 where the machine has it) for both UDP and
/// TCP, never the same one twice, and notes each in the run's ledger.
///
/// A port is found by binding it and releasing it: another process may take it before the
/// peer binds it, which then fails to start and says so; the suite does not retry.
#[derive(Default)]
pub(crate) struct Ports {
    given: HashSet<u16>,
}

/// What a port carries, for the judge: it decodes SIP ports as SIP whatever is on them,
/// leaves media alone and counts TLS records it cannot decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carries {
    /// SIP over UDP or TCP.
    Sip,
    /// SIP over TLS.
    Tls,
    /// RTP and RTCP.
    Media,
}

/// One port of the ledger: which scenario gave it out, to whom, for what.
#[derive(Debug, Clone)]
pub(crate) struct PortUse {
    /// The port.
    pub(crate) port: u16,
    /// The scenario that gave it out.
    pub(crate) scenario: String,
    /// Whether one of our programs (netsip, the examples) listens on it.
    pub(crate) ours: bool,
    /// What it carries.
    pub(crate) carries: Carries,
}

/// When a scenario ran (wall clock, as a capture's timestamps are).
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// The scenario.
    pub(crate) scenario: String,
    /// When it started.
    pub(crate) start: SystemTime,
    /// When it ended; `None` while it runs.
    pub(crate) end: Option<SystemTime>,
}

/// The ports given out during this run, and when each scenario ran.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    /// Every port given out while a scenario ran.
    pub(crate) ports: Vec<PortUse>,
    /// The scenarios, in the order they ran.
    pub(crate) windows: Vec<Window>,
}

static LEDGER: Mutex<Ledger> = Mutex::new(Ledger {
    ports: Vec::new(),
    windows: Vec::new(),
});

fn ledger() -> std::sync::MutexGuard<'static, Ledger> {
    // A panic elsewhere cannot leave the ledger half-written: every change is one push.
    LEDGER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Notes that `scenario` starts now: the ports given out until [`end_scenario`] are its.
pub(crate) fn begin_scenario(scenario: &str) {
    ledger().windows.push(Window {
        scenario: scenario.to_owned(),
        start: SystemTime::now(),
        end: None,
    });
}

/// Notes that the running scenario has ended.
pub(crate) fn end_scenario() {
    if let Some(w) = ledger().windows.last_mut() {
        w.end.get_or_insert_with(SystemTime::now);
    }
}

/// A copy of the ledger so far.
pub(crate) fn ledger_snapshot() -> Ledger {
    ledger().clone()
}

/// Notes `port` for the running scenario; outside a scenario (the benches) nothing is noted.
fn note(port: u16, ours: bool, carries: Carries) {
    let mut l = ledger();
    let Some(scenario) = l
        .windows
        .last()
        .filter(|w| w.end.is_none())
        .map(|w| w.scenario.clone())
    else {
        return;
    };
    l.ports.push(PortUse {
        port,
        scenario,
        ours,
        carries,
    });
}

impl Ports {
    /// A port free for UDP and TCP, for a peer's SIP.
    pub(crate) fn free(&mut self) -> Result<u16> {
        let p = self.find(|p| is_free(p, 0))?;
        note(p, false, Carries::Sip);
        Ok(p)
    }

    /// A port free for UDP and TCP, for the SIP of one of our programs: tshark's complaints
    /// about what is sent from it fail the judge.
    pub(crate) fn ours(&mut self) -> Result<u16> {
        let p = self.find(|p| is_free(p, 0))?;
        note(p, true, Carries::Sip);
        Ok(p)
    }

    /// A port free for TCP, for SIP over TLS (`ours`: one of our programs listens on it).
    pub(crate) fn tls(&mut self, ours: bool) -> Result<u16> {
        let p = self.find(|p| is_free(p, 0))?;
        note(p, ours, Carries::Tls);
        Ok(p)
    }

    /// A port `p` with `p + 2` free as well (SIPp's RTP echo binds both).
    pub(crate) fn free_pair(&mut self) -> Result<u16> {
        let p = self.find(|p| p < u16::MAX - 2 && is_free(p, 2))?;
        self.given.insert(p + 2);
        for q in [p, p + 1, p + 2, p + 3] {
            note(q, false, Carries::Media);
        }
        Ok(p)
    }

    /// The first port of [`SUITE_PORTS`] (in a scenario, else [`OTHER_PORTS`]) from a point
    /// that differs between runs (so that two runs at once rarely probe the same ports) that
    /// `ok` accepts.
    fn find(&mut self, ok: impl Fn(u16) -> bool) -> Result<u16> {
        let range = if in_scenario() {
            SUITE_PORTS
        } else {
            OTHER_PORTS
        };
        let (low, high) = (*range.start(), *range.end());
        let span = u32::from(high - low) + 1;
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            ^ std::process::id().wrapping_mul(2_654_435_761);
        let first = seed % span;
        for i in 0..span.min(2000) {
            let offset = (first + i * 7) % span;
            let Ok(p) = u16::try_from(u32::from(low) + offset) else {
                continue;
            };
            if !self.given.contains(&p) && ok(p) {
                self.given.insert(p);
                return Ok(p);
            }
        }
        bail!("no free loopback port found in {low}-{high}")
    }
}

/// Whether `p` and `p + extra` (when `extra` > 0) can be bound for UDP and TCP.
fn is_free(p: u16, extra: u16) -> bool {
    let ports = if extra == 0 {
        vec![p]
    } else {
        vec![p, p + extra]
    };
    ports.iter().all(|&q| {
        UdpSocket::bind(SocketAddr::from((LOOPBACK, q))).is_ok()
            && TcpListener::bind(SocketAddr::from((LOOPBACK, q))).is_ok()
            && v6_free(q)
    })
}

/// Whether `q` is free on ::1 for UDP and TCP; true where the machine has no IPv6 loopback
/// (no scenario uses it there).
fn v6_free(q: u16) -> bool {
    let addr = SocketAddr::from((Ipv6Addr::LOCALHOST, q));
    let taken = |r: std::io::Result<()>| matches!(r, Err(e) if e.kind() == ErrorKind::AddrInUse);
    !taken(UdpSocket::bind(addr).map(drop)) && !taken(TcpListener::bind(addr).map(drop))
}

/// Whether something holds `port` on 127.0.0.1 for `tcp` or UDP: our bind fails with
/// "address in use". Nothing is sent, so the peer never sees a probe.
fn is_bound(port: u16, tcp: bool) -> bool {
    is_bound_on(SocketAddr::from((LOOPBACK, port)), tcp)
}

/// Whether something holds `addr` for `tcp` or UDP.
fn is_bound_on(addr: SocketAddr, tcp: bool) -> bool {
    let result = if tcp {
        TcpListener::bind(addr).map(drop)
    } else {
        UdpSocket::bind(addr).map(drop)
    };
    matches!(result, Err(e) if e.kind() == ErrorKind::AddrInUse)
}

/// Waits until `server` has bound `port`; fails when it exits first or `limit` passes.
pub(crate) fn wait_bound(
    server: &mut Running,
    port: u16,
    tcp: bool,
    limit: Duration,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if is_bound(port, tcp) {
            return Ok(());
        }
        if server.has_exited() {
            bail!(
                "{} exited before listening on {} port {port}",
                server.name(),
                if tcp { "TCP" } else { "UDP" }
            );
        }
        if Instant::now() >= deadline {
            bail!(
                "{} did not listen on {} port {port} within {limit:?}",
                server.name(),
                if tcp { "TCP" } else { "UDP" }
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `server` has bound `port` on `ip` (::1 for the IPv6 scenarios); fails when it
/// exits first or `limit` passes.
pub(crate) fn wait_bound_on(
    server: &mut Running,
    ip: IpAddr,
    port: u16,
    tcp: bool,
    limit: Duration,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    let addr = SocketAddr::new(ip, port);
    loop {
        if is_bound_on(addr, tcp) {
            return Ok(());
        }
        if server.has_exited() {
            bail!(
                "{} exited before listening on {} {addr}",
                server.name(),
                if tcp { "TCP" } else { "UDP" }
            );
        }
        if Instant::now() >= deadline {
            bail!(
                "{} did not listen on {} {addr} within {limit:?}",
                server.name(),
                if tcp { "TCP" } else { "UDP" }
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test for everything that touches the process-wide ledger: tests run in parallel.
    #[test]
    fn ports_come_from_their_range_never_twice_and_scenario_ports_are_noted() {
        let mut ports = Ports::default();
        let outside = ports.free().unwrap();
        assert!(OTHER_PORTS.contains(&outside), "{outside}");

        begin_scenario("ports-test");
        let a = ports.free().unwrap();
        let b = ports.ours().unwrap();
        let c = ports.free_pair().unwrap();
        let t = ports.tls(true).unwrap();
        end_scenario();
        for p in [a, b, c, t] {
            assert!(SUITE_PORTS.contains(&p), "{p}");
        }
        let all: HashSet<u16> = [outside, a, b, c, c + 2, t].into_iter().collect();
        assert_eq!(all.len(), 6, "{a} {b} {c} {t}");

        let l = ledger_snapshot();
        let noted = |p: u16| {
            l.ports
                .iter()
                .find(|u| u.port == p && u.scenario == "ports-test")
                .map(|u| (u.ours, u.carries))
        };
        assert_eq!(noted(a), Some((false, Carries::Sip)));
        assert_eq!(noted(b), Some((true, Carries::Sip)));
        assert_eq!(noted(c + 2), Some((false, Carries::Media)));
        assert_eq!(noted(t), Some((true, Carries::Tls)));
        assert_eq!(noted(outside), None);
        let w = l
            .windows
            .iter()
            .find(|w| w.scenario == "ports-test")
            .unwrap();
        assert!(w.end.is_some_and(|end| end >= w.start));
    }

    #[test]
    fn a_bound_port_is_seen_and_not_given_out() {
        let mut ports = Ports::default();
        let p = ports.free().unwrap();
        let held = UdpSocket::bind(SocketAddr::from((LOOPBACK, p))).unwrap();
        assert!(is_bound(p, false));
        assert!(!is_free(p, 0));
        drop(held);
        assert!(!is_bound(p, false));
    }
}
