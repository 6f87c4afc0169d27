//! RTP/RTCP port pairs for calls: an even RTP port and the next one for RTCP (RFC 3550
//! §11), taken from the configured range or from the OS, and given back when the pair is
//! dropped (at hang-up).

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::UdpSocket;

use crate::error::PortError;

/// How many OS-chosen ports are tried for a pair before giving up: a port is odd or its
/// neighbour taken about half the time, so 64 tries fail only on a nearly full system.
const EPHEMERAL_TRIES: u32 = 64;

/// Where a user agent's RTP ports come from, and which of them are in use.
#[derive(Debug)]
pub(crate) struct PortPool {
    ip: IpAddr,
    range: Option<RangeInclusive<u16>>,
    state: Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    /// RTP ports of the pairs handed out and not yet dropped.
    in_use: BTreeSet<u16>,
    /// The RTP port the next search starts at: spreading the pairs over the range keeps a
    /// port just released from being handed out again at once, while stray packets of the
    /// old call may still arrive.
    next: u16,
}

/// The RTP ports of a range, in the order a search starting at `from` tries them: even
/// ports whose successor is still in the range, wrapping around once.
pub(crate) fn candidate_ports(range: &RangeInclusive<u16>, from: u16) -> Vec<u16> {
    let first = range.start().saturating_add(range.start() % 2);
    let last = *range.end();
    let ports: Vec<u16> = (first..last).step_by(2).collect();
    let split = ports.iter().position(|&p| p >= from).unwrap_or(0);
    let (before, after) = ports.split_at(split);
    after.iter().chain(before).copied().collect()
}

/// Whether the range holds at least one pair.
pub(crate) fn range_has_pair(range: &RangeInclusive<u16>) -> bool {
    !candidate_ports(range, *range.start()).is_empty()
}

fn lock(m: &Mutex<PoolState>) -> MutexGuard<'_, PoolState> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn bind(ip: IpAddr, port: u16) -> io::Result<UdpSocket> {
    let socket = StdUdpSocket::bind(SocketAddr::new(ip, port))?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

/// Whether a bind error means "taken, try another port" rather than a real failure.
fn is_taken(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
    )
}

impl PortPool {
    /// Pairs on `ip`, from `range` or (without one) from the OS.
    pub(crate) fn new(ip: IpAddr, range: Option<RangeInclusive<u16>>) -> Arc<Self> {
        let next = range.as_ref().map_or(0, |r| *r.start());
        Arc::new(Self {
            ip,
            range,
            state: Mutex::new(PoolState {
                in_use: BTreeSet::new(),
                next,
            }),
        })
    }

    /// The address the sockets bind to.
    pub(crate) fn ip(&self) -> IpAddr {
        self.ip
    }

    /// How many pairs are handed out now.
    pub(crate) fn in_use(&self) -> usize {
        lock(&self.state).in_use.len()
    }

    /// Binds a new pair. Must run inside a tokio runtime (the sockets register with it).
    pub(crate) fn allocate(self: &Arc<Self>) -> Result<RtpPorts, PortError> {
        match &self.range {
            Some(range) => self.allocate_in(range),
            None => self.allocate_ephemeral(),
        }
    }

    fn allocate_in(self: &Arc<Self>, range: &RangeInclusive<u16>) -> Result<RtpPorts, PortError> {
        let mut st = lock(&self.state);
        for port in candidate_ports(range, st.next) {
            if st.in_use.contains(&port) {
                continue;
            }
            // Another program (or another user agent of this process) may hold either port.
            let rtp = match bind(self.ip, port) {
                Ok(s) => s,
                Err(e) if is_taken(&e) => continue,
                Err(e) => return Err(self.bind_error(&e)),
            };
            let rtcp = match bind(self.ip, port + 1) {
                Ok(s) => s,
                Err(e) if is_taken(&e) => continue,
                Err(e) => return Err(self.bind_error(&e)),
            };
            st.in_use.insert(port);
            st.next = port.saturating_add(2);
            return Ok(self.pair(port, rtp, rtcp));
        }
        Err(PortError::Exhausted {
            range: range.clone(),
            ip: self.ip,
        })
    }

    fn allocate_ephemeral(self: &Arc<Self>) -> Result<RtpPorts, PortError> {
        for _ in 0..EPHEMERAL_TRIES {
            let rtp = bind(self.ip, 0).map_err(|e| self.bind_error(&e))?;
            let port = rtp.local_addr().map_err(|e| self.bind_error(&e))?.port();
            if port % 2 == 1 || port == u16::MAX {
                continue;
            }
            let rtcp = match bind(self.ip, port + 1) {
                Ok(s) => s,
                Err(e) if is_taken(&e) => continue,
                Err(e) => return Err(self.bind_error(&e)),
            };
            let mut st = lock(&self.state);
            st.in_use.insert(port);
            drop(st);
            return Ok(self.pair(port, rtp, rtcp));
        }
        Err(PortError::NoEphemeralPair {
            ip: self.ip,
            tries: EPHEMERAL_TRIES,
        })
    }

    fn bind_error(&self, e: &io::Error) -> PortError {
        PortError::Bind {
            ip: self.ip,
            kind: e.kind(),
        }
    }

    fn pair(self: &Arc<Self>, port: u16, rtp: UdpSocket, rtcp: UdpSocket) -> RtpPorts {
        RtpPorts {
            rtp,
            rtcp,
            addr: SocketAddr::new(self.ip, port),
            pool: self.clone(),
        }
    }

    fn release(&self, port: u16) {
        lock(&self.state).in_use.remove(&port);
    }
}

/// A bound RTP/RTCP socket pair; the ports go back to the pool when it is dropped.
#[derive(Debug)]
pub(crate) struct RtpPorts {
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
    addr: SocketAddr,
    pool: Arc<PortPool>,
}

impl RtpPorts {
    /// The RTP socket's address (RTCP is on the next port).
    pub(crate) fn rtp_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RtpPorts {
    fn drop(&mut self) {
        self.pool.release(self.addr.port());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_even_ports_with_a_successor_wrapping_around() {
        assert_eq!(
            candidate_ports(&(30000..=30007), 30000),
            [30000, 30002, 30004, 30006]
        );
        assert_eq!(candidate_ports(&(30001..=30006), 30001), [30002, 30004]);
        assert_eq!(
            candidate_ports(&(30000..=30007), 30004),
            [30004, 30006, 30000, 30002]
        );
        assert_eq!(
            candidate_ports(&(30000..=30007), 40000),
            [30000, 30002, 30004, 30006]
        );
        assert!(candidate_ports(&(30000..=30000), 30000).is_empty());
        assert!(candidate_ports(&(65535..=65535), 0).is_empty());
        assert!(!range_has_pair(&(30001..=30002)));
        assert!(range_has_pair(&(30000..=30001)));
    }

    /// A range of free ports on loopback: bound then released by the OS, so another test
    /// is unlikely to take them in between.
    fn free_range(pairs: u16) -> RangeInclusive<u16> {
        for _ in 0..200 {
            let probe = StdUdpSocket::bind("127.0.0.1:0").unwrap();
            let base = probe.local_addr().unwrap().port() & !1;
            drop(probe);
            if !(1024..=65000).contains(&base) {
                continue;
            }
            let held: Vec<_> = (base..base + 2 * pairs)
                .map_while(|p| StdUdpSocket::bind(("127.0.0.1", p)).ok())
                .collect();
            if held.len() == usize::from(2 * pairs) {
                return base..=base + 2 * pairs - 1;
            }
        }
        panic!("no free port range");
    }

    #[tokio::test]
    async fn pairs_come_from_the_range_until_it_is_exhausted_and_return_on_drop() {
        let range = free_range(2);
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), Some(range.clone()));
        let a = pool.allocate().unwrap();
        let b = pool.allocate().unwrap();
        assert_eq!(a.rtp_addr().port(), *range.start());
        assert_eq!(b.rtp_addr().port(), range.start() + 2);
        assert_eq!(a.rtcp.local_addr().unwrap().port(), range.start() + 1);
        assert_eq!(pool.in_use(), 2);
        let e = pool.allocate().unwrap_err();
        assert!(matches!(e, PortError::Exhausted { .. }), "{e}");
        drop(a);
        assert_eq!(pool.in_use(), 1);
        let c = pool.allocate().unwrap();
        assert_eq!(c.rtp_addr().port(), *range.start());
        drop((b, c));
        assert_eq!(pool.in_use(), 0);
        // The OS has the ports back too.
        StdUdpSocket::bind(("127.0.0.1", *range.start())).unwrap();
    }

    #[tokio::test]
    async fn ports_held_by_someone_else_are_skipped() {
        let range = free_range(2);
        let squatter = StdUdpSocket::bind(("127.0.0.1", range.start() + 1)).unwrap();
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), Some(range.clone()));
        let a = pool.allocate().unwrap();
        assert_eq!(a.rtp_addr().port(), range.start() + 2);
        assert!(pool.allocate().is_err());
        drop(squatter);
    }

    #[tokio::test]
    async fn ephemeral_pairs_are_even_and_adjacent() {
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), None);
        let pairs: Vec<_> = (0..4).map(|_| pool.allocate().unwrap()).collect();
        for p in &pairs {
            let rtp = p.rtp.local_addr().unwrap().port();
            assert_eq!(rtp % 2, 0);
            assert_eq!(p.rtcp.local_addr().unwrap().port(), rtp + 1);
        }
        assert_eq!(pool.in_use(), 4);
        drop(pairs);
        assert_eq!(pool.in_use(), 0);
    }
}
