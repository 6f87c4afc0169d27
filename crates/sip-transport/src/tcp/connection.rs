//! One stream connection: a reader task that frames and parses, a writer task that drains a
//! bounded queue. Either ending ends the other.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sip_packet::{Frame, FramingError, StreamFramer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{Shared, Slot};
use crate::leg::{closed, ConnectionId, Ctx};

/// How long a closing connection may take to flush and say goodbye (TLS close_notify).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The least free room in the read buffer before a read; it grows only as far as the
/// framer's limits allow, since the framer fails past them.
const READ_CHUNK: usize = 4096;

/// When the connection last moved bytes either way, read by the idle timer.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// Registers a connection and starts its reader and writer; gives its id and queue.
pub(super) fn start<S>(
    ctx: &Ctx,
    shared: &Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    mut slot: Slot,
) -> (ConnectionId, mpsc::Sender<Bytes>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let id = ConnectionId::next();
    let (queue, outgoing) = mpsc::channel(shared.send_queue);
    slot.register(id, peer, queue.clone());
    let (read, write) = tokio::io::split(stream);
    let activity = Arc::new(Activity::new());
    let (reader_alive, reader_gone) = oneshot::channel();
    let (writer_alive, writer_gone) = oneshot::channel();
    let conn = Conn {
        ctx: ctx.clone(),
        id,
        peer,
        activity,
    };
    tracing::debug!("{}: connection {id} with {peer} open", ctx.addr);
    tokio::spawn(
        conn.clone()
            .write_loop(write, outgoing, reader_gone, writer_alive),
    );
    tokio::spawn(conn.read_loop(
        read,
        queue.clone(),
        shared.idle_timeout,
        writer_gone,
        reader_alive,
        slot,
    ));
    (id, queue)
}

#[derive(Clone)]
struct Conn {
    ctx: Ctx,
    id: ConnectionId,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

/// Why a reader stopped.
enum Close {
    Shutdown,
    Eof,
    Idle,
    WriterGone,
    Error(io::Error),
    Framing(FramingError),
}

impl Conn {
    async fn read_loop<R: AsyncRead + Unpin>(
        self,
        mut read: R,
        pong: mpsc::Sender<Bytes>,
        idle_timeout: Duration,
        mut writer_gone: oneshot::Receiver<()>,
        // Dropped when this task ends: tells the writer to stop.
        _alive: oneshot::Sender<()>,
        // Dropped when this task ends: frees the slot and forgets the connection.
        _slot: Slot,
    ) {
        let mut framer = StreamFramer::new(self.ctx.limits.clone());
        let mut shutdown = self.ctx.shutdown.clone();
        let why = 'conn: loop {
            let buf = framer.buffer_mut();
            if buf.capacity() - buf.len() < READ_CHUNK {
                buf.reserve(READ_CHUNK);
            }
            let idle_at = self.activity.last() + idle_timeout;
            tokio::select! {
                () = closed(&mut shutdown) => break Close::Shutdown,
                _ = &mut writer_gone => break Close::WriterGone,
                () = tokio::time::sleep_until(idle_at) => {
                    // The writer may have moved bytes since the timer was set.
                    if self.activity.last() + idle_timeout <= Instant::now() {
                        break Close::Idle;
                    }
                    continue;
                }
                r = read.read_buf(framer.buffer_mut()) => match r {
                    Ok(0) => break Close::Eof,
                    Ok(_) => self.activity.touch(),
                    Err(e) => break Close::Error(e),
                },
            }
            loop {
                match framer.next_frame() {
                    Ok(None) => break,
                    // RFC 5626 §4.4.1: a double-CRLF ping is answered with a single CRLF. A
                    // full queue means a busy connection: no pong needed to keep it open.
                    Ok(Some(Frame::Ping)) => {
                        let _ = pong.try_send(Bytes::from_static(b"\r\n"));
                    }
                    Ok(Some(Frame::Message(raw))) => {
                        let item = self.ctx.parse(raw);
                        if !self.ctx.deliver(self.peer, Some(self.id), item).await {
                            break 'conn Close::Shutdown;
                        }
                    }
                    Ok(Some(_)) => {}
                    Err(e) => break 'conn Close::Framing(e),
                }
            }
        };
        self.log_close(why, framer.pending());
    }

    fn log_close(&self, why: Close, pending: usize) {
        let (leg, id, peer) = (self.ctx.addr, self.id, self.peer);
        match why {
            Close::Framing(e) => {
                tracing::warn!("{leg}: closing connection {id} with {peer}: {e}");
                return;
            }
            Close::Shutdown => {
                tracing::debug!("{leg}: connection {id} with {peer} closed with the leg")
            }
            Close::Eof => tracing::debug!("{leg}: connection {id} closed by {peer}"),
            Close::Idle => tracing::debug!("{leg}: connection {id} with {peer} idle, closed"),
            Close::WriterGone => {
                tracing::debug!("{leg}: connection {id} with {peer} closed after a write failed")
            }
            Close::Error(e) => tracing::debug!("{leg}: connection {id} with {peer} failed: {e}"),
        }
        if pending > 0 {
            tracing::warn!(
                "{leg}: connection {id} with {peer} closed in the middle of a message; dropped {pending} bytes"
            );
        }
    }

    async fn write_loop<W: AsyncWrite + Unpin>(
        self,
        mut write: W,
        mut outgoing: mpsc::Receiver<Bytes>,
        mut reader_gone: oneshot::Receiver<()>,
        // Dropped when this task ends: tells the reader to stop.
        _alive: oneshot::Sender<()>,
    ) {
        let mut shutdown = self.ctx.shutdown.clone();
        {
            let drain = async {
                while let Some(data) = outgoing.recv().await {
                    write.write_all(&data).await?;
                    // TLS buffers inside the session: flush once the queue is empty.
                    if outgoing.is_empty() {
                        write.flush().await?;
                    }
                    self.activity.touch();
                }
                Ok::<(), io::Error>(())
            };
            tokio::select! {
                r = drain => if let Err(e) = r {
                    tracing::debug!("{}: writing to {} on connection {} failed: {e}", self.ctx.addr, self.peer, self.id);
                },
                () = closed(&mut shutdown) => {}
                _ = &mut reader_gone => {}
            }
        }
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, write.shutdown()).await;
    }
}
