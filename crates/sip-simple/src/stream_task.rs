//! The tokio side of one audio stream: owns its RTP/RTCP sockets, paces the 20 ms clock,
//! feeds an [`RtpStream`] and carries out what it asks for. Sends never wait (a full socket
//! buffer drops the datagram, as a phone would), file recording goes to blocking threads.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Interval, MissedTickBehavior};

use crate::audio::Media;
use crate::datagram_buffer::DatagramBuffer;
use crate::error::CallError;
use crate::media::{MediaStats, PACKET_DURATION};
use crate::negotiation::StreamParams;
use crate::options::DtmfMode;
use crate::ports::RtpPorts;
use crate::probe::ProbeStats;
use crate::recorder::RecorderPump;
use crate::rtp_stream::{RtpStream, StreamEvent, Transmit};
use crate::wake_flag::WakeFlag;

/// Receive errors in a row after which a socket is no longer read (a broken socket must not
/// spin the task).
const MAX_RECV_ERRORS: u32 = 1000;

/// Datagrams read from one socket in one turn before the task lets others run (tokio's
/// cooperative budget bounds the readiness polls, this the reads of a socket found ready).
const RECV_BATCH: u32 = 64;

/// What the call asks of a stream.
#[derive(Debug)]
pub(crate) enum StreamCommand {
    /// New parameters after an offer/answer (`None`: off).
    Update(Option<StreamParams>),
    /// Another media from now on.
    SetMedia(Media),
    /// Send DTMF; `done` hears when it is out (or why not).
    SendDtmf {
        digits: String,
        mode: DtmfMode,
        done: oneshot::Sender<Result<(), CallError>>,
    },
}

/// What a stream tells its call: its index and the event.
pub(crate) type StreamReport = (usize, StreamEvent);

/// What the call can read of a running stream at any time.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamSnapshot {
    pub(crate) stats: MediaStats,
    pub(crate) probe: ProbeStats,
    pub(crate) params: Option<StreamParams>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) running: bool,
}

/// A stream's snapshot, shared between its task and the call.
pub(crate) type SharedSnapshot = Arc<Mutex<StreamSnapshot>>;

pub(crate) fn lock(s: &SharedSnapshot) -> MutexGuard<'_, StreamSnapshot> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running stream, as its call holds it.
#[derive(Debug)]
pub(crate) struct StreamHandle {
    pub(crate) commands: mpsc::UnboundedSender<StreamCommand>,
    pub(crate) snapshot: SharedSnapshot,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl StreamHandle {
    /// Stops the stream (RTCP BYE, recording closed, ports released) and waits for it.
    pub(crate) async fn stop(self) {
        drop(self.commands);
        if let Err(e) = self.task.await {
            tracing::warn!(%e, "media stream task failed");
        }
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Starts a stream on `ports` doing `media`; its events go to `reports` tagged with `index`.
pub(crate) fn spawn(
    index: usize,
    ports: RtpPorts,
    core: RtpStream,
    recorder: Option<RecorderPump>,
    reports: mpsc::UnboundedSender<StreamReport>,
) -> StreamHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let snapshot = Arc::new(Mutex::new(StreamSnapshot {
        local: Some(ports.rtp_addr()),
        running: true,
        params: core.params().cloned(),
        ..StreamSnapshot::default()
    }));
    let task = tokio::spawn(run(
        index,
        ports,
        core,
        recorder,
        rx,
        reports,
        snapshot.clone(),
    ));
    StreamHandle {
        commands: tx,
        snapshot,
        task,
    }
}

/// The wallclock to pair with the stream's first instant (SR timestamps).
pub(crate) fn wallclock() -> SystemTime {
    SystemTime::now()
}

/// The receive side of a stream's two sockets and its command channel.
#[derive(Debug)]
struct Receivers {
    rtp: DatagramBuffer,
    rtcp: DatagramBuffer,
    rtp_errors: u32,
    rtcp_errors: u32,
    /// Set when the command channel wakes the task.
    commands_flag: Arc<WakeFlag>,
    /// The task's waker as `commands_flag` knows it.
    task_waker: Option<Waker>,
    /// Whether the 20 ms clock is running (the stream [needs it](RtpStream::needs_clock)).
    clocked: bool,
    /// The wake-up at the stream's next deadline while the clock is not running.
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl Default for Receivers {
    fn default() -> Self {
        Self {
            rtp: DatagramBuffer::default(),
            rtcp: DatagramBuffer::default(),
            rtp_errors: 0,
            rtcp_errors: 0,
            commands_flag: WakeFlag::new(),
            task_waker: None,
            clocked: false,
            deadline: Box::pin(tokio::time::sleep_until(tokio::time::Instant::now())),
        }
    }
}

/// Which of a stream's sockets.
#[derive(Debug, Clone, Copy)]
enum Socket {
    Rtp,
    Rtcp,
}

struct Running {
    index: usize,
    core: RtpStream,
    ports: RtpPorts,
    recorder: Option<RecorderPump>,
    reports: mpsc::UnboundedSender<StreamReport>,
    snapshot: SharedSnapshot,
    dtmf: Vec<(u64, oneshot::Sender<Result<(), CallError>>)>,
    next_dtmf: u64,
    /// Whether a datagram arrived in this poll.
    arrived: bool,
}

async fn run(
    index: usize,
    ports: RtpPorts,
    core: RtpStream,
    recorder: Option<RecorderPump>,
    mut commands: mpsc::UnboundedReceiver<StreamCommand>,
    reports: mpsc::UnboundedSender<StreamReport>,
    snapshot: SharedSnapshot,
) {
    let mut s = Running {
        index,
        core,
        ports,
        recorder,
        reports,
        snapshot,
        dtmf: Vec::new(),
        next_dtmf: 0,
        arrived: false,
    };
    s.core.set_recording(s.recorder.is_some());
    // Tokio learns that a new socket is writable from the reactor; until then `try_send_to`
    // says WouldBlock. Wait for that once, so the first packet is not lost.
    let _ = s.ports.rtp.writable().await;
    let _ = s.ports.rtcp.writable().await;
    tracing::debug!(index, local = %s.ports.rtp_addr(), "media stream started");
    // A phone's sampling clock does not wait for a late tick nor catch up in a burst: missed
    // ticks are skipped, and the stream skips their timestamps.
    let mut clock = tokio::time::interval(PACKET_DURATION);
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut io = Receivers::default();
    loop {
        // Everything that is ready is handled inside one poll, without a future per socket
        // and per turn: what leaves the loop is a command (or the call's end).
        let command =
            std::future::poll_fn(|cx| s.poll_io(cx, &mut clock, &mut commands, &mut io)).await;
        match command {
            Some(c) => s.command(c).await,
            None => break,
        }
        s.drain();
    }
    s.core.close(now());
    s.drain();
    s.publish();
    lock(&s.snapshot).running = false;
    if let Some(r) = s.recorder.take() {
        r.finish().await;
    }
    for (_, done) in s.dtmf.drain(..) {
        let _ = done.send(Err(CallError::WrongState {
            operation: "sending DTMF",
            state: "hung up".to_owned(),
        }));
    }
    tracing::debug!(index, "media stream stopped");
    // The ports go back to the pool here, when `s` is dropped.
}

impl Running {
    /// Handles whatever is ready (ticks of the clock, datagrams on either socket) and returns
    /// a command when one arrives (`None`: the call dropped the stream). Pending otherwise,
    /// with every source registered to wake the task.
    fn poll_io(
        &mut self,
        cx: &mut Context<'_>,
        clock: &mut Interval,
        commands: &mut mpsc::UnboundedReceiver<StreamCommand>,
        io: &mut Receivers,
    ) -> Poll<Option<StreamCommand>> {
        // The channel is polled only when it woke the task (its registration stands until
        // it fires): most wakes are datagrams and ticks, and a stream has hundreds a second.
        if io.commands_flag.take(cx, &mut io.task_waker) {
            let waker = Waker::from(io.commands_flag.clone());
            if let Poll::Ready(c) = commands.poll_recv(&mut Context::from_waker(&waker)) {
                // There may be more: look again next time.
                io.commands_flag.set();
                return Poll::Ready(c);
            }
        }
        self.poll_clock(cx, clock, io);
        self.arrived = false;
        let rtp_yielded = self.poll_socket(cx, Socket::Rtp, io);
        let rtcp_yielded = self.poll_socket(cx, Socket::Rtcp, io);
        if !io.clocked && self.arrived {
            // No tick publishes the counters of a stream without a clock: what arrives does.
            self.publish();
        }
        if rtp_yielded || rtcp_yielded {
            // A socket still has datagrams: come back after the other tasks had their turn.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// Ticks the 20 ms clock while the stream needs it, or else wakes the stream at its
    /// next deadline only; either is polled until pending, so that it wakes the task next.
    fn poll_clock(&mut self, cx: &mut Context<'_>, clock: &mut Interval, io: &mut Receivers) {
        loop {
            let deadline = if self.core.needs_clock() {
                if !io.clocked {
                    // Started again (DTMF to send, a file, a recorder): ticks from now on.
                    clock.reset_immediately();
                    io.clocked = true;
                }
                if clock.poll_tick(cx).is_pending() {
                    return;
                }
                None
            } else {
                io.clocked = false;
                let due = self.core.next_deadline();
                let at = tokio::time::Instant::from_std(due);
                if io.deadline.deadline() != at {
                    io.deadline.as_mut().reset(at);
                }
                if io.deadline.as_mut().poll(cx).is_pending() {
                    return;
                }
                Some(due)
            };
            self.core.handle_tick(now());
            self.publish();
            self.drain();
            if deadline
                .is_some_and(|due| !self.core.needs_clock() && self.core.next_deadline() <= due)
            {
                // A deadline the tick did not move (a closed stream has nothing more to
                // do): what arrives wakes the task, a spin would not help.
                return;
            }
        }
    }

    fn socket(&self, which: Socket) -> &tokio::net::UdpSocket {
        match which {
            Socket::Rtp => &self.ports.rtp,
            Socket::Rtcp => &self.ports.rtcp,
        }
    }

    /// Reads and handles what arrived on `which` until it would block (the task is then
    /// registered for its readiness); `true` if it stopped early with datagrams left.
    fn poll_socket(&mut self, cx: &mut Context<'_>, which: Socket, io: &mut Receivers) -> bool {
        let (buffer, errors) = match which {
            Socket::Rtp => (&mut io.rtp, &mut io.rtp_errors),
            Socket::Rtcp => (&mut io.rtcp, &mut io.rtcp_errors),
        };
        let mut budget = RECV_BATCH;
        // A broken socket is given up after errors in a row, so that it cannot spin the task.
        while *errors < MAX_RECV_ERRORS {
            if budget == 0 {
                return true;
            }
            match self.socket(which).poll_recv_ready(cx) {
                Poll::Pending => return false,
                Poll::Ready(Err(e)) => {
                    *errors += 1;
                    budget -= 1;
                    tracing::debug!(%e, ?which, "socket not readable");
                    continue;
                }
                Poll::Ready(Ok(())) => {}
            }
            match buffer.try_recv_from(self.socket(which)) {
                Ok((datagram, from)) => {
                    *errors = 0;
                    budget -= 1;
                    self.arrived = true;
                    match which {
                        Socket::Rtp => self.core.handle_rtp(now(), from, &datagram),
                        Socket::Rtcp => self.core.handle_rtcp(now(), from, &datagram),
                    }
                    self.drain();
                }
                // Readiness is cleared: the next poll registers the task for the next datagram.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    *errors += 1;
                    budget -= 1;
                    tracing::debug!(%e, ?which, "receive failed");
                }
            }
        }
        false
    }

    async fn command(&mut self, command: StreamCommand) {
        match command {
            StreamCommand::Update(params) => {
                self.core.update(now(), params);
                lock(&self.snapshot).params = self.core.params().cloned();
            }
            StreamCommand::SetMedia(media) => {
                let (source, recorder) = crate::rtp_stream::split_media(media);
                self.core.set_source(source);
                if let Some(r) = recorder {
                    if let Some(old) = self.recorder.replace(RecorderPump::new(r)) {
                        old.finish().await;
                    }
                    self.core.set_recording(true);
                }
            }
            StreamCommand::SendDtmf { digits, mode, done } => {
                self.next_dtmf += 1;
                let id = self.next_dtmf;
                match self.core.send_dtmf(id, &digits, mode) {
                    Ok(()) => self.dtmf.push((id, done)),
                    Err(e) => {
                        let _ = done.send(Err(e));
                    }
                }
            }
        }
    }

    /// Carries out what the stream asked for: datagrams, frames, events.
    fn drain(&mut self) {
        while let Some(t) = self.core.poll_transmit() {
            let (socket, dst, bytes) = match &t {
                Transmit::Rtp(dst, b) => (&self.ports.rtp, dst, b),
                Transmit::Rtcp(dst, b) => (&self.ports.rtcp, dst, b),
            };
            // Never wait: a full buffer loses this datagram, as the network might.
            if let Err(e) = socket.try_send_to(bytes, *dst) {
                tracing::trace!(%e, %dst, "datagram not sent");
            }
        }
        while let Some(frame) = self.core.poll_frame() {
            if let Some(r) = self.recorder.as_mut() {
                r.push(frame);
            }
        }
        while let Some(ev) = self.core.poll_event() {
            if let StreamEvent::DtmfSent(id) = ev {
                if let Some(i) = self.dtmf.iter().position(|(d, _)| *d == id) {
                    let (_, done) = self.dtmf.swap_remove(i);
                    let _ = done.send(Ok(()));
                }
                continue;
            }
            let _ = self.reports.send((self.index, ev));
        }
    }

    /// The counters for the call's readers (the parameters are published when they change).
    fn publish(&self) {
        let mut snap = lock(&self.snapshot);
        snap.stats = self.core.stats();
        snap.probe = self.core.probe_stats();
    }
}

#[cfg(test)]
mod tests;
