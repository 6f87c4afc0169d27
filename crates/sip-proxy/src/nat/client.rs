//! The proxy's end of the control protocol (Net::SIP::NATHelper::Client): a [`NatHelper`]
//! whose relay is a `netsip nathelper` process.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Semaphore};

use crate::nat::allocate::AllocateRequest;
use crate::nat::error::NatError;
use crate::nat::helper::{NatFuture, NatHelper};
use crate::nat::info::{Activation, NatStats, SessionInfo};
use crate::nat::key::{CloseRequest, SessionKey};
use crate::nat::protocol::{parse_reply, ControlReply, ControlRequest, MAX_LINE};
use crate::nat::server::{read_line, Line};

/// How long a request may take, connecting included, unless set otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// How many requests may wait for the connection at once: past that a slow nathelper makes
/// requests fail at once instead of piling up messages in memory.
const MAX_WAITING: usize = 256;

/// A NAT helper in another process, reached over one TCP connection (opened on first use
/// and again after a failure). Requests go one at a time, in the order they are made.
///
/// ```no_run
/// use sip_proxy::nat::{NatHelper, RemoteNatHelper};
/// # async fn run() -> Result<(), sip_proxy::nat::NatError> {
/// let helper = RemoteNatHelper::new("127.0.0.1:7070".parse().unwrap());
/// println!("{} sockets in use", helper.stats().await?.sockets);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RemoteNatHelper {
    addr: SocketAddr,
    timeout: Duration,
    next_id: AtomicU64,
    waiting: Semaphore,
    connection: Mutex<Option<Connection>>,
}

#[derive(Debug)]
struct Connection {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

/// Why one exchange failed.
enum Failure {
    /// The connection broke (write failed, or it closed before the answer): a reused
    /// connection may just have gone stale.
    Broken(String),
    /// Anything else.
    Other(String),
}

impl RemoteNatHelper {
    /// A helper served at `addr` (`netsip nathelper --control`).
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            timeout: DEFAULT_TIMEOUT,
            next_id: AtomicU64::new(1),
            waiting: Semaphore::new(MAX_WAITING),
            connection: Mutex::new(None),
        }
    }

    /// How long a request may take (2 s unless set).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The nathelper's control address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends one request and waits for its answer.
    ///
    /// # Errors
    ///
    /// [`NatError::Control`] when the nathelper cannot be reached, does not answer in time
    /// or answers something unreadable, or too many requests wait already;
    /// [`NatError::Remote`] when it answers with an error.
    pub async fn call(&self, request: &ControlRequest) -> Result<ControlReply, NatError> {
        let Ok(_waiting) = self.waiting.try_acquire() else {
            return Err(NatError::Control {
                addr: self.addr,
                reason: format!("{MAX_WAITING} requests are waiting already"),
            });
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let line = request.to_line(id);
        let mut connection = self.connection.lock().await;
        // One retry, and only when a connection kept from before turned out dead: the
        // nathelper restarted, say. A fresh connection that fails is a real failure.
        for _ in 0..2 {
            let reused = connection.is_some();
            let exchange = self.exchange(&mut connection, &line, id, request.op());
            let failure = match tokio::time::timeout(self.timeout, exchange).await {
                Ok(Ok(answer)) => return answer.map_err(NatError::from),
                Ok(Err(f)) => f,
                Err(_) => Failure::Other(format!("no answer within {:?}", self.timeout)),
            };
            *connection = None;
            match failure {
                Failure::Broken(_) if reused => continue,
                Failure::Broken(reason) | Failure::Other(reason) => {
                    return Err(NatError::Control {
                        addr: self.addr,
                        reason,
                    })
                }
            }
        }
        Err(NatError::Control {
            addr: self.addr,
            reason: "the connection broke twice".to_owned(),
        })
    }

    async fn exchange(
        &self,
        connection: &mut Option<Connection>,
        line: &str,
        id: u64,
        op: &str,
    ) -> Result<Result<ControlReply, crate::nat::ControlError>, Failure> {
        if connection.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .map_err(|e| Failure::Other(format!("cannot connect: {e}")))?;
            let _ = stream.set_nodelay(true);
            let (read, write) = stream.into_split();
            *connection = Some(Connection {
                read: BufReader::new(read),
                write,
            });
        }
        let Some(c) = connection.as_mut() else {
            return Err(Failure::Other("no connection".to_owned()));
        };
        c.write
            .write_all(line.as_bytes())
            .await
            .map_err(|e| Failure::Broken(format!("cannot send: {e}")))?;
        let answer = match read_line(&mut c.read, MAX_LINE).await {
            Ok(Line::Complete(answer)) => answer,
            Ok(Line::End) => return Err(Failure::Broken("closed before answering".to_owned())),
            Ok(Line::TooLong) => {
                return Err(Failure::Other(format!(
                    "an answer longer than {MAX_LINE} bytes"
                )))
            }
            Err(e) => return Err(Failure::Broken(format!("cannot read: {e}"))),
        };
        let (answer_id, answer) = parse_reply(&answer, op)
            .map_err(|e| Failure::Other(format!("unreadable answer: {e}")))?;
        if answer_id != id {
            return Err(Failure::Other(format!(
                "the answer to request {id} is numbered {answer_id}"
            )));
        }
        Ok(answer)
    }
}

fn unexpected(addr: SocketAddr, op: &str) -> NatError {
    NatError::Control {
        addr,
        reason: format!("an answer of another kind to {op}"),
    }
}

impl NatHelper for RemoteNatHelper {
    fn allocate(&self, request: AllocateRequest) -> NatFuture<'_, Vec<Option<SocketAddr>>> {
        Box::pin(async move {
            match self.call(&ControlRequest::Allocate(request)).await? {
                ControlReply::Allocated(media) => Ok(media),
                _ => Err(unexpected(self.addr, "allocate")),
            }
        })
    }

    fn activate(&self, key: SessionKey) -> NatFuture<'_, Activation> {
        Box::pin(async move {
            match self.call(&ControlRequest::Activate(key)).await? {
                ControlReply::Activated(a) => Ok(a),
                _ => Err(unexpected(self.addr, "activate")),
            }
        })
    }

    fn close(&self, request: CloseRequest) -> NatFuture<'_, Vec<SessionInfo>> {
        Box::pin(async move {
            match self.call(&ControlRequest::Close(request)).await? {
                ControlReply::Closed(list) => Ok(list),
                _ => Err(unexpected(self.addr, "close")),
            }
        })
    }

    fn expire(&self) -> NatFuture<'_, Vec<SessionInfo>> {
        Box::pin(async move {
            match self.call(&ControlRequest::Expire).await? {
                ControlReply::Expired(list) => Ok(list),
                _ => Err(unexpected(self.addr, "expire")),
            }
        })
    }

    fn stats(&self) -> NatFuture<'_, NatStats> {
        Box::pin(async move {
            match self.call(&ControlRequest::Stats).await? {
                ControlReply::Stats(s) => Ok(s),
                _ => Err(unexpected(self.addr, "stats")),
            }
        })
    }
}
