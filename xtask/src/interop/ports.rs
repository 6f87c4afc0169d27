//! Loopback ports for one scenario: free ones to give out, and a way to see that a peer has
//! bound its own without sending it anything.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::child::Running;

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Hands out ports free on 127.0.0.1 for both UDP and TCP, never the same one twice.
///
/// A port is found by binding port 0 and releasing it: another process may take it before
/// the peer binds it, which then fails to start and says so; the suite does not retry.
#[derive(Default)]
pub(super) struct Ports {
    given: HashSet<u16>,
}

impl Ports {
    /// A port free for UDP and TCP.
    pub(super) fn free(&mut self) -> Result<u16> {
        self.find(|p| is_free(p, 0))
    }

    /// A port `p` with `p + 2` free as well (SIPp's RTP echo binds both).
    pub(super) fn free_pair(&mut self) -> Result<u16> {
        let p = self.find(|p| p < u16::MAX - 2 && is_free(p, 2))?;
        self.given.insert(p + 2);
        Ok(p)
    }

    fn find(&mut self, ok: impl Fn(u16) -> bool) -> Result<u16> {
        for _ in 0..200 {
            let Ok(sock) = UdpSocket::bind(SocketAddr::from((LOOPBACK, 0))) else {
                continue;
            };
            let Ok(addr) = sock.local_addr() else {
                continue;
            };
            drop(sock);
            let p = addr.port();
            if !self.given.contains(&p) && ok(p) {
                self.given.insert(p);
                return Ok(p);
            }
        }
        bail!("no free loopback port found")
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
    })
}

/// Whether something holds `port` on 127.0.0.1 for `tcp` or UDP: our bind fails with
/// "address in use". Nothing is sent, so the peer never sees a probe.
fn is_bound(port: u16, tcp: bool) -> bool {
    let addr = SocketAddr::from((LOOPBACK, port));
    let result = if tcp {
        TcpListener::bind(addr).map(drop)
    } else {
        UdpSocket::bind(addr).map(drop)
    };
    matches!(result, Err(e) if e.kind() == ErrorKind::AddrInUse)
}

/// Waits until `server` has bound `port`; fails when it exits first or `limit` passes.
pub(super) fn wait_bound(
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
