//! The nathelper's end of the control protocol (Net::SIP::NATHelper::Server): TCP
//! connections, one request per line, every one answered, bad input answered with an error.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::nat::helper::NatHelper;
use crate::nat::protocol::{
    parse_request, ControlError, ControlReply, ControlRequest, ErrorCode, MAX_LINE,
};

/// How many control connections are served at once: a proxy needs one; the limit keeps a
/// misbehaving client from taking memory without bound.
const MAX_CONNECTIONS: usize = 64;

/// How long to wait after a failed `accept` (out of file descriptors) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves the control protocol for a [`NatHelper`] (usually a
/// [`LocalNatHelper`](crate::nat::LocalNatHelper)): `netsip nathelper --control`.
///
/// The protocol has no authentication: bind it to a loopback address.
#[derive(Debug)]
pub struct NatControlServer {
    listener: TcpListener,
    helper: Arc<dyn NatHelper>,
}

impl NatControlServer {
    /// Listens on `addr` (port 0 picks one).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn bind(addr: SocketAddr, helper: Arc<dyn NatHelper>) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            helper,
        })
    }

    /// Where it listens.
    ///
    /// # Errors
    ///
    /// When the system cannot say.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts and serves connections, each in a task of its own, until the future is
    /// dropped.
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let (stream, peer) = match self.listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "control accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let helper = self.helper.clone();
            match slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    tokio::spawn(async move {
                        tracing::debug!(%peer, "control connection");
                        if let Err(e) = serve(stream, &*helper).await {
                            tracing::debug!(%peer, error = %e, "control connection failed");
                        }
                        drop(slot);
                    });
                }
                Err(_) => {
                    tokio::spawn(async move {
                        let busy = ControlError::new(
                            ErrorCode::Busy,
                            format!("{MAX_CONNECTIONS} control connections are open already"),
                        );
                        let mut stream = stream;
                        let _ = stream.write_all(busy.to_line(None).as_bytes()).await;
                    });
                }
            }
        }
    }
}

/// Answers the requests of one connection until it closes or sends a line too long.
async fn serve(stream: TcpStream, helper: &dyn NatHelper) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        match read_line(&mut read, MAX_LINE).await? {
            Line::Complete(line) => {
                let answer = answer(helper, &line).await;
                write.write_all(answer.as_bytes()).await?;
            }
            Line::TooLong => {
                let e = ControlError::new(
                    ErrorCode::TooLong,
                    format!("a line is longer than {MAX_LINE} bytes; closing"),
                );
                write.write_all(e.to_line(None).as_bytes()).await?;
                return Ok(());
            }
            Line::End => return Ok(()),
        }
    }
}

/// The answer line to one request line.
pub(crate) async fn answer(helper: &dyn NatHelper, line: &[u8]) -> String {
    let (id, request) = match parse_request(line) {
        Ok(r) => r,
        Err((id, e)) => {
            tracing::debug!(error = %e, "bad control request");
            return e.to_line(id);
        }
    };
    let reply = match request {
        ControlRequest::Allocate(r) => helper.allocate(r).await.map(ControlReply::Allocated),
        ControlRequest::Activate(k) => helper.activate(k).await.map(ControlReply::Activated),
        ControlRequest::Close(c) => helper.close(c).await.map(ControlReply::Closed),
        ControlRequest::Expire => helper.expire().await.map(ControlReply::Expired),
        ControlRequest::Stats => helper.stats().await.map(ControlReply::Stats),
    };
    match reply {
        Ok(r) => r.to_line(id),
        Err(e) => ControlError::from(e).to_line(Some(id)),
    }
}

/// One line read from a stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A line, without its newline (and carriage return).
    Complete(Vec<u8>),
    /// A line longer than the limit; what was read of it is gone.
    TooLong,
    /// The stream ended.
    End,
}

/// Reads one line of at most `max` bytes, without reading more than `max` into memory.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> io::Result<Line> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            // A last line without a newline still counts.
            return Ok(if line.is_empty() {
                Line::End
            } else {
                Line::Complete(line)
            });
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                if line.len() + i > max {
                    reader.consume(i + 1);
                    return Ok(Line::TooLong);
                }
                line.extend_from_slice(&buf[..i]);
                reader.consume(i + 1);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Line::Complete(line));
            }
            None => {
                let n = buf.len();
                if line.len() + n > max {
                    reader.consume(n);
                    return Ok(Line::TooLong);
                }
                line.extend_from_slice(buf);
                reader.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests;
