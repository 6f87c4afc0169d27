//! The NAT helper in this process (Net::SIP::NATHelper::Local): a [`NatSessions`] table and
//! its [`Relay`] behind one lock, and a task that expires sessions on time.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Instant;

use tokio::sync::Notify;

use crate::nat::allocate::AllocateRequest;
use crate::nat::config::{NatConfig, PortRange};
use crate::nat::error::NatError;
use crate::nat::helper::{NatFuture, NatHelper};
use crate::nat::info::{Activation, NatStats, SessionInfo};
use crate::nat::key::{CloseRequest, SessionKey};
use crate::nat::ports::bind_group;
use crate::nat::relay::Relay;
use crate::nat::sessions::NatSessions;

/// A NAT helper whose relay runs in this process's tokio runtime (`netsip proxy --nat`, and
/// what `netsip nathelper` serves).
///
/// Every method does its work at once (binding sockets is a system call, not a wait) under
/// a lock that is never held across an `.await`. A task of its own expires sessions when the
/// table says; it ends when the last clone of the helper is dropped.
///
/// ```
/// use sip_proxy::nat::{LocalNatHelper, NatConfig, NatHelper};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let helper = LocalNatHelper::start(NatConfig::new()).unwrap();
/// assert_eq!(helper.stats().await.unwrap().sockets, 0);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LocalNatHelper {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ports: PortRange,
    state: Mutex<State>,
    /// Wakes the expiry task when deadlines may have moved (or the helper is gone).
    wake: Arc<Notify>,
}

#[derive(Debug)]
struct State {
    table: NatSessions,
    relay: Relay,
}

impl State {
    /// Tells the table what the relay counted.
    fn sync_traffic(&mut self) {
        for g in self.table.groups() {
            if let Some((bytes, last)) = self.relay.traffic(g) {
                self.table.handle_traffic(g, bytes, last);
            }
        }
    }

    fn apply_events(&mut self) {
        while let Some(e) = self.table.poll_event() {
            self.relay.apply(e);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Let the expiry task see that the helper is gone.
        self.wake.notify_one();
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

fn log_ended(what: &str, info: &SessionInfo) {
    tracing::info!(
        session = info.id,
        call_id = %info.call_id,
        cseq = info.cseq,
        from = %info.from,
        to = %info.to,
        bytes_from = info.bytes_from,
        bytes_to = info.bytes_to,
        reason = info.reason.map_or("", |r| r.as_str()),
        "relay session ended ({what})"
    );
}

impl LocalNatHelper {
    /// Starts a helper with `config` in the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`NatError::NoRuntime`] outside a tokio runtime.
    pub fn start(config: NatConfig) -> Result<Self, NatError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| NatError::NoRuntime)?;
        let inner = Arc::new(Inner {
            ports: config.ports,
            state: Mutex::new(State {
                table: NatSessions::new(config),
                relay: Relay::new(runtime.clone()),
            }),
            wake: Arc::new(Notify::new()),
        });
        runtime.spawn(expire_on_time(Arc::downgrade(&inner), inner.wake.clone()));
        Ok(Self { inner })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Relay sockets for one SDP body (see [`NatHelper::allocate`]).
    ///
    /// # Errors
    ///
    /// The limits, a stale CSeq, or no free ports (see [`NatSessions::allocate`]).
    pub fn allocate_sockets(
        &self,
        request: &AllocateRequest,
    ) -> Result<Vec<Option<SocketAddr>>, NatError> {
        let ports = self.inner.ports;
        let mut state = self.state();
        let State { table, relay } = &mut *state;
        let mut prepared = None;
        let allocation = table.allocate(now(), request, |wanted| {
            let streams = bind_group(wanted, ports)?;
            let bases = streams.iter().map(|s| s.as_ref().map(|s| s.base)).collect();
            let group = relay.prepare(streams).map_err(|e| NatError::Bind {
                address: wanted.address,
                count: wanted.sockets.iter().map(|&n| usize::from(n)).sum(),
                ports,
                reason: e.to_string(),
            })?;
            prepared = Some(group);
            Ok(bases)
        })?;
        if let (Some(group), Some(sockets)) = (allocation.group, prepared) {
            state.relay.add_group(group, sockets);
            tracing::debug!(
                %group,
                key = %request.key,
                side = request.side.as_str(),
                media = ?allocation.media,
                "relay sockets allocated"
            );
        }
        drop(state);
        self.inner.wake.notify_one();
        Ok(allocation.media)
    }

    /// Starts relaying for a transaction (see [`NatHelper::activate`]).
    ///
    /// # Errors
    ///
    /// [`NatError::Incomplete`] before both sides have sockets.
    pub fn activate_session(&self, key: &SessionKey) -> Result<Activation, NatError> {
        let now = now();
        let mut state = self.state();
        state.sync_traffic();
        let activation = state.table.activate(now, key)?;
        state.apply_events();
        drop(state);
        if !activation.existing {
            tracing::info!(session = activation.session.id, %key, "relay session started");
        }
        for r in &activation.replaced {
            log_ended("replaced", r);
        }
        self.inner.wake.notify_one();
        Ok(activation)
    }

    /// Closes sessions (see [`NatHelper::close`]).
    pub fn close_session(&self, request: &CloseRequest) -> Vec<SessionInfo> {
        let now = now();
        let mut state = self.state();
        state.sync_traffic();
        let closed = state.table.close(now, request);
        drop(state);
        for info in &closed {
            log_ended("closed", info);
        }
        self.inner.wake.notify_one();
        closed
    }

    /// Expires what is due now; the sessions that expired for lack of packets.
    pub fn expire_due(&self) -> Vec<SessionInfo> {
        let (expired, _) = self.step();
        expired
    }

    /// How much the helper holds.
    pub fn current_stats(&self) -> NatStats {
        self.state().table.stats()
    }

    /// Every session, open or closing.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        let mut state = self.state();
        state.sync_traffic();
        state.table.sessions(now())
    }

    /// One round of expiry; the expired sessions and the next deadline.
    fn step(&self) -> (Vec<SessionInfo>, Option<Instant>) {
        let mut state = self.state();
        state.sync_traffic();
        let expired = state.table.handle_timeout(now());
        state.apply_events();
        let next = state.table.poll_timeout();
        drop(state);
        for info in &expired {
            log_ended("no packets", info);
        }
        (expired, next)
    }
}

/// Runs [`LocalNatHelper::step`] at each deadline of the table, or when woken, until the
/// helper is dropped.
async fn expire_on_time(helper: Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let next = {
            let Some(inner) = helper.upgrade() else {
                return;
            };
            LocalNatHelper { inner }.step().1
        };
        // A wake-up between the step and here is kept by Notify as a permit.
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(tokio::time::Instant::from_std(at)) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

impl NatHelper for LocalNatHelper {
    fn allocate(&self, request: AllocateRequest) -> NatFuture<'_, Vec<Option<SocketAddr>>> {
        Box::pin(std::future::ready(self.allocate_sockets(&request)))
    }

    fn activate(&self, key: SessionKey) -> NatFuture<'_, Activation> {
        Box::pin(std::future::ready(self.activate_session(&key)))
    }

    fn close(&self, request: CloseRequest) -> NatFuture<'_, Vec<SessionInfo>> {
        Box::pin(std::future::ready(Ok(self.close_session(&request))))
    }

    fn expire(&self) -> NatFuture<'_, Vec<SessionInfo>> {
        Box::pin(std::future::ready(Ok(self.expire_due())))
    }

    fn stats(&self) -> NatFuture<'_, NatStats> {
        Box::pin(std::future::ready(Ok(self.current_stats())))
    }
}

#[cfg(test)]
mod tests;
