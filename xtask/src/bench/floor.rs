//! The floor of a benchmark: what the same traffic costs a program that does nothing but
//! move the datagrams, so that each report shows how much of a server's CPU time is the
//! kernel's and what no implementation could go below on this machine.
//!
//! - [`relay`] (`cargo xtask floor relay LISTEN UAS`): a "proxy" that parses nothing. A
//!   request gets a Via line inserted after its request line and goes to the UAS; a response
//!   loses its first Via line and goes to the sent-by of the next one. One blocking socket,
//!   one `recvfrom` and one `sendto` per message: Kamailio's model without Kamailio's work.
//! - [`echo`] (`cargo xtask floor echo CALLS SECONDS`): a caller and an echo in two threads
//!   of one process, each with a socket per call under one epoll (mio). Every 20 ms the
//!   caller sends a 172-byte packet (an RTP header and 20 ms of G.711) on each socket, the
//!   echo sends back what it receives. No RTP, no SIP, no timers per call: the kernel's cost
//!   of the packets and little else.
//!
//! Both run as child processes from the release build of `xtask`, so that their CPU time is
//! read from `/proc` like a server's and is not that of unoptimised code.

use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::cpu;

/// The size of one echoed packet: an RTP header and 20 ms of G.711.
const PACKET: usize = 172;

/// Packets per second per call.
const PACKETS_PER_SECOND: u64 = 50;

/// `cargo xtask floor ...`: runs one of the floor programs in this process.
pub(crate) fn main(args: &[String]) -> Result<()> {
    match args {
        [what, listen, uas] if what == "relay" => {
            let listen = listen.parse().context("LISTEN must be IP:PORT")?;
            let uas = uas.parse().context("UAS must be IP:PORT")?;
            relay(listen, uas)
        }
        [what, calls, seconds] if what == "echo" => {
            let calls = calls.parse().context("CALLS must be a number")?;
            let seconds = seconds.parse().context("SECONDS must be a number")?;
            let floor = echo(calls, Duration::from_secs(seconds))?;
            println!(
                "floor echo: calls={calls} sent={} received={} cpu_us={}",
                floor.sent,
                floor.received,
                floor.cpu.as_micros()
            );
            Ok(())
        }
        _ => bail!("usage: cargo xtask floor <relay LISTEN UAS | echo CALLS SECONDS>"),
    }
}

/// Relays SIP over UDP between the UAC and `uas` without parsing it, until killed. Prints
/// `listening on LISTEN` once bound.
pub(crate) fn relay(listen: SocketAddr, uas: SocketAddr) -> Result<()> {
    let socket = UdpSocket::bind(listen).with_context(|| format!("cannot bind {listen}"))?;
    let local = socket.local_addr().context("no local address")?;
    println!("listening on udp:{local}");
    let mut buf = vec![0u8; 65_535];
    let mut out = Vec::with_capacity(65_535);
    let mut branch: u64 = 0;
    loop {
        let (len, _) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // ICMP unreachable from an earlier send: not about this datagram.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
            Err(e) => return Err(e).context("receiving failed"),
        };
        out.clear();
        let target = if buf[..len].starts_with(b"SIP/2.0 ") {
            without_first_via(&buf[..len], &mut out)
        } else {
            branch += 1;
            with_via(&buf[..len], local, branch, &mut out).then_some(uas)
        };
        if let Some(to) = target {
            // Loss shows in SIPp's counts; a relay has nobody to tell.
            let _ = socket.send_to(&out, to);
        }
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `request` with our Via inserted after its request line, into `out`; `false` when it has
/// no line end.
fn with_via(request: &[u8], local: SocketAddr, branch: u64, out: &mut Vec<u8>) -> bool {
    let Some(eol) = find(request, b"\r\n") else {
        return false;
    };
    out.extend_from_slice(&request[..eol + 2]);
    out.extend_from_slice(
        format!("Via: SIP/2.0/UDP {local};branch=z9hG4bK-floor-{branch}\r\n").as_bytes(),
    );
    out.extend_from_slice(&request[eol + 2..]);
    true
}

/// `response` without its first Via value, into `out`, and the sent-by of the Via after it
/// (where the response goes); `None` when there is no such Via. The Vias may be lines of
/// their own or one line of comma-separated values (as SIPp's `[last_Via:]` writes them).
fn without_first_via(response: &[u8], out: &mut Vec<u8>) -> Option<SocketAddr> {
    const VIA: &[u8] = b"Via: ";
    const UDP: &[u8] = b"SIP/2.0/UDP ";
    let first = find(response, b"\r\nVia: ")? + 2;
    let end = first + find(&response[first..], b"\r\n")?;
    let line = &response[first + VIA.len()..end];
    let next = match line.iter().position(|&b| b == b',') {
        // `Via: ours, next, ...`: the line keeps the values after ours.
        Some(comma) => {
            let rest = line[comma + 1..].trim_ascii_start();
            out.extend_from_slice(&response[..first + VIA.len()]);
            out.extend_from_slice(rest);
            out.extend_from_slice(&response[end..]);
            rest
        }
        // Ours alone on its line: the line goes, the next Via line is the next hop.
        None => {
            out.extend_from_slice(&response[..first]);
            out.extend_from_slice(&response[end + 2..]);
            let after = &response[end..];
            &after[find(after, b"\r\nVia: ")? + 2 + VIA.len()..]
        }
    };
    let sent_by = next.strip_prefix(UDP)?;
    let sent_by_end = sent_by
        .iter()
        .position(|&b| matches!(b, b';' | b',' | b'\r' | b' '))?;
    std::str::from_utf8(&sent_by[..sent_by_end])
        .ok()?
        .parse()
        .ok()
}

/// What [`echo`] measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EchoFloor {
    /// Packets the caller sent.
    pub(crate) sent: u64,
    /// Packets that came back.
    pub(crate) received: u64,
    /// CPU time of the whole process (caller and echo) while measuring.
    pub(crate) cpu: Duration,
}

impl EchoFloor {
    /// CPU per packet that came back (caller and echo together), µs.
    pub(crate) fn us_per_packet(&self) -> Option<f64> {
        (self.received > 0).then(|| self.cpu.as_secs_f64() * 1e6 / self.received as f64)
    }

    /// The most calls `cores` could carry at this cost with nothing else running: the
    /// ceiling of any implementation's media on this machine.
    pub(crate) fn ceiling(&self, cores: usize) -> Option<u64> {
        let us = self.us_per_packet()?;
        Some((cores as f64 * 1e6 / (us * PACKETS_PER_SECOND as f64)) as u64)
    }
}

/// `calls` echoed streams for `seconds`, in this process.
pub(crate) fn echo(calls: usize, seconds: Duration) -> Result<EchoFloor> {
    let (ports_tx, ports_rx) = mpsc::channel();
    let end = Instant::now() + seconds + Duration::from_millis(500);
    let echo = thread::spawn(move || echo_side(calls, end, ports_tx));
    let targets: Vec<SocketAddr> = ports_rx
        .recv()
        .context("the echo thread bound no sockets")??;
    let pid = std::process::id();
    let hz = cpu::ticks_per_second()?;
    let before = cpu::tree_cpu_time(pid, hz)?;
    let (sent, received) = caller_side(&targets, seconds)?;
    let after = cpu::tree_cpu_time(pid, hz)?;
    echo.join()
        .map_err(|_| anyhow::anyhow!("the echo thread panicked"))??;
    Ok(EchoFloor {
        sent,
        received,
        cpu: (after - before).total(),
    })
}

/// The echo: `calls` sockets, each datagram sent back where it came from, until `end`.
fn echo_side(
    calls: usize,
    end: Instant,
    ports: mpsc::Sender<Result<Vec<SocketAddr>>>,
) -> Result<()> {
    let bound = bind_all(calls);
    let (mut poll, sockets) = match bound {
        Ok(b) => b,
        Err(e) => {
            let _ = ports.send(Err(anyhow::anyhow!("{e:#}")));
            return Ok(());
        }
    };
    let addrs = sockets
        .iter()
        .map(mio::net::UdpSocket::local_addr)
        .collect::<io::Result<Vec<_>>>()
        .context("no local address")?;
    let _ = ports.send(Ok(addrs));
    let mut events = mio::Events::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        poll_events(&mut poll, &mut events, left)?;
        for event in &events {
            let socket = &sockets[event.token().0];
            while let Ok((len, from)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&buf[..len], from);
            }
        }
    }
    Ok(())
}

/// The caller: a socket per target, a packet on each every 20 ms for `seconds`; what was
/// sent and what came back.
fn caller_side(targets: &[SocketAddr], seconds: Duration) -> Result<(u64, u64)> {
    let (mut poll, sockets) = bind_all(targets.len())?;
    let mut events = mio::Events::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let packet = [0x80u8; PACKET];
    let start = Instant::now();
    let end = start + seconds;
    let mut next_tick = start;
    let (mut sent, mut received) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if now >= next_tick {
            for (socket, to) in sockets.iter().zip(targets) {
                if socket.send_to(&packet, *to).is_ok() {
                    sent += 1;
                }
            }
            next_tick += Duration::from_millis(20);
            continue;
        }
        poll_events(&mut poll, &mut events, next_tick.min(end) - now)?;
        for event in &events {
            let socket = &sockets[event.token().0];
            while socket.recv_from(&mut buf).is_ok() {
                received += 1;
            }
        }
    }
    Ok((sent, received))
}

/// `n` UDP sockets on 127.0.0.1, each registered for reading under its index.
fn bind_all(n: usize) -> Result<(mio::Poll, Vec<mio::net::UdpSocket>)> {
    let poll = mio::Poll::new().context("cannot create an epoll instance")?;
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let mut socket = mio::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .context("cannot bind a UDP socket on 127.0.0.1")?;
        poll.registry()
            .register(&mut socket, mio::Token(i), mio::Interest::READABLE)
            .context("cannot register a socket")?;
        sockets.push(socket);
    }
    Ok((poll, sockets))
}

/// One wait for readiness, an interrupted one counting as a wait with no events.
fn poll_events(poll: &mut mio::Poll, events: &mut mio::Events, timeout: Duration) -> Result<()> {
    match poll.poll(events, Some(timeout)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
            events.clear();
            Ok(())
        }
        Err(e) => Err(e).context("epoll_wait failed"),
    }
}

/// Runs [`echo`] in a child `xtask` process for `calls` and `seconds` and reads its result.
pub(crate) fn echo_in_child(xtask: &Path, calls: usize, seconds: Duration) -> Result<EchoFloor> {
    let out = Command::new(xtask)
        .args([
            "floor",
            "echo",
            &calls.to_string(),
            &seconds.as_secs().to_string(),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {} floor echo", xtask.display()))?;
    if !out.status.success() {
        bail!("xtask floor echo exited {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_echo_line(&text).with_context(|| format!("xtask floor echo printed {text:?}"))
}

/// The numbers of `floor echo: calls=N sent=N received=N cpu_us=N`.
fn parse_echo_line(text: &str) -> Option<EchoFloor> {
    let line = text.lines().find(|l| l.starts_with("floor echo:"))?;
    let field = |name: &str| -> Option<u64> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    Some(EchoFloor {
        sent: field("sent")?,
        received: field("received")?,
        cpu: Duration::from_micros(field("cpu_us")?),
    })
}

/// Starts [`relay`] in a child `xtask` process and waits until it listens; the child is
/// killed when the returned handle drops.
pub(crate) fn start_relay(xtask: &Path, listen: SocketAddr, uas: SocketAddr) -> Result<Relay> {
    let mut child = Command::new(xtask)
        .args(["floor", "relay", &listen.to_string(), &uas.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {} floor relay", xtask.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .context("cannot read the relay's output")?;
    if !first.starts_with("listening on") {
        let _ = child.kill();
        let _ = child.wait();
        bail!("the floor relay did not start: {first:?}");
    }
    Ok(Relay(child))
}

/// A running [`relay`] child, killed on drop.
#[derive(Debug)]
pub(crate) struct Relay(std::process::Child);

impl Relay {
    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_gets_a_via_after_its_request_line() {
        let mut out = Vec::new();
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        assert!(with_via(
            b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n",
            local,
            7,
            &mut out
        ));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-floor-7\r\nVia: x\r\n\r\n"
        );
        assert!(!with_via(b"garbage", local, 1, &mut Vec::new()));
    }

    #[test]
    fn a_response_loses_its_first_via_and_goes_to_the_next() {
        let mut out = Vec::new();
        let to = without_first_via(
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-floor-1\r\n\
              Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\nCSeq: 1 INVITE\r\n\r\n",
            &mut out,
        );
        assert_eq!(to, Some("127.0.0.1:5070".parse().unwrap()));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\nCSeq: 1 INVITE\r\n\r\n"
        );
        // One line of values, as SIPp writes them.
        let mut out = Vec::new();
        let to = without_first_via(
            b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-floor-1, \
              SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\nCSeq: 1 INVITE\r\n\r\n",
            &mut out,
        );
        assert_eq!(to, Some("127.0.0.1:5070".parse().unwrap()));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\nCSeq: 1 INVITE\r\n\r\n"
        );
        // Only our Via: nowhere to go.
        assert_eq!(
            without_first_via(
                b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060\r\n\r\n",
                &mut Vec::new()
            ),
            None
        );
    }

    #[test]
    fn the_echo_line_is_read_back() {
        let f =
            parse_echo_line("floor echo: calls=10 sent=500 received=498 cpu_us=2490\n").unwrap();
        assert_eq!(
            (f.sent, f.received, f.cpu),
            (500, 498, Duration::from_micros(2490))
        );
        assert_eq!(f.us_per_packet(), Some(5.0));
        // 2 cores at 5 µs a packet, 50 packets a second per call.
        assert_eq!(f.ceiling(2), Some(8000));
        assert!(parse_echo_line("nothing").is_none());
    }

    #[test]
    fn the_echo_floor_brings_packets_back_over_loopback() {
        let f = echo(4, Duration::from_secs(1)).unwrap();
        assert!(f.sent >= 4 * 40, "{f:?}");
        assert!(f.received * 10 >= f.sent * 9, "{f:?}");
    }
}
