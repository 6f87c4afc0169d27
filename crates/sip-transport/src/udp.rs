//! UDP: one socket, one message per datagram (RFC 3261 §18.1.1, §18.2.1).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::UdpSocket;

use crate::addr::TransportAddr;
use crate::error::TransportError;
use crate::leg::{closed, Ctx};

/// The largest UDP payload: every datagram fits the receive buffer whole.
const MAX_DATAGRAM: usize = 65_535;

pub(crate) async fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    UdpSocket::bind(addr).await
}

/// The most datagrams read in one go before other tasks get a turn: a flood on one socket
/// must not starve the dispatcher that consumes them.
const MAX_BURST: usize = 64;

/// Reads datagrams until the leg closes or nobody listens any more.
///
/// Waits for readiness, then reads every datagram the socket holds (up to [`MAX_BURST`])
/// with non-blocking reads: one wake-up for a burst, and per datagram neither a `select!`
/// nor a wait on the channel unless it is full.
pub(crate) async fn read_loop(socket: Arc<UdpSocket>, ctx: Ctx) {
    // One buffer per leg; each datagram is copied out at its own size.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut shutdown = ctx.shutdown.clone();
    // Made once and polled again at each wait: one made per wait would register with (and
    // leave) the channel's and the shutdown's waiters for every datagram.
    let mut leg_closed = std::pin::pin!(closed(&mut shutdown));
    let mut nobody_listens = std::pin::pin!(ctx.inbound.closed());
    'wait: loop {
        let ready = tokio::select! {
            () = &mut leg_closed => break,
            () = &mut nobody_listens => break,
            r = socket.readable() => r,
        };
        if let Err(e) = ready {
            tracing::warn!("{}: waiting to receive failed: {e}", ctx.addr);
            // Whatever it is, do not spin on it.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        for _ in 0..MAX_BURST {
            let (len, source) = match socket.try_recv_from(&mut buf) {
                Ok(r) => r,
                // Drained: readiness is cleared, wait for the next datagram.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue 'wait,
                // ICMP port unreachable for an earlier send surfaces here on some systems; it
                // says nothing about the next datagram.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    tracing::debug!("{}: ignoring {e}", ctx.addr);
                    continue;
                }
                Err(e) => {
                    tracing::warn!("{}: receiving failed: {e}", ctx.addr);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue 'wait;
                }
            };
            let data = &buf[..len];
            // CRLF keep-alives sent over UDP by some clients: nothing to parse or answer.
            if data.iter().all(u8::is_ascii_whitespace) {
                tracing::trace!("{}: keep-alive from {source}", ctx.addr);
                continue;
            }
            let item = ctx.parse(Bytes::copy_from_slice(data));
            if !ctx.deliver(source, None, item).await {
                break 'wait;
            }
        }
        // A long burst: let the consumer run before reading on.
        tokio::task::yield_now().await;
    }
    tracing::debug!("{}: stopped reading", ctx.addr);
}

/// Sends one datagram.
pub(crate) async fn send(
    socket: &UdpSocket,
    leg: TransportAddr,
    data: &Bytes,
    peer: SocketAddr,
) -> Result<(), TransportError> {
    match socket.send_to(data, peer).await {
        Ok(n) if n == data.len() => Ok(()),
        Ok(n) => Err(TransportError::Send {
            leg,
            peer,
            source: io::Error::new(
                io::ErrorKind::WriteZero,
                format!("only {n} of {} bytes went out in the datagram", data.len()),
            ),
        }),
        Err(source) => Err(TransportError::Send { leg, peer, source }),
    }
}
