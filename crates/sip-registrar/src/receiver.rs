//! The registrar in a dispatcher: the thin tokio part.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_dispatch::{DeliverOptions, Dispatcher, Receiver};
use sip_packet::Message;
use sip_transport::Leg;
use tokio::task::JoinHandle;

use crate::registrar::Registrar;

/// The longest the sweep sleeps: a binding made while it sleeps may be due earlier than the
/// deadline it went to sleep for. Reads see expired bindings as gone anyway; the sweep only
/// frees their memory, so a second late is harmless.
const SWEEP_AT_LEAST_EVERY: Duration = Duration::from_secs(1);

/// A [`Registrar`] as a [`Receiver`]: answers REGISTER through the dispatcher and sweeps
/// expired bindings on a timer.
///
/// Time comes from tokio's clock, so `#[tokio::test(start_paused = true)]` controls it.
///
/// ```no_run
/// use std::sync::Arc;
/// use sip_dispatch::{Dispatcher, DispatcherConfig};
/// use sip_registrar::{Registrar, RegistrarConfig, RegistrarReceiver};
/// use sip_transport::LegConfig;
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let dispatcher = Dispatcher::new(
///     vec![LegConfig::new("udp:127.0.0.1:5060".parse()?)],
///     DispatcherConfig::default(),
/// ).await?;
/// let registrar = Arc::new(Registrar::new(RegistrarConfig::new().standalone(true))?);
/// dispatcher.set_receiver(Arc::new(RegistrarReceiver::new(registrar, dispatcher.clone())));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RegistrarReceiver {
    registrar: Arc<Registrar>,
    dispatcher: Dispatcher,
    sweeper: JoinHandle<()>,
}

impl RegistrarReceiver {
    /// Puts `registrar` behind `dispatcher` and starts the sweep of expired bindings (on the
    /// current tokio runtime; it stops when this is dropped).
    pub fn new(registrar: Arc<Registrar>, dispatcher: Dispatcher) -> Self {
        let sweeper = tokio::spawn(sweep(registrar.clone()));
        Self {
            registrar,
            dispatcher,
            sweeper,
        }
    }

    /// The registrar, e.g. for a proxy's [`Registrar::query`].
    pub fn registrar(&self) -> &Arc<Registrar> {
        &self.registrar
    }
}

impl Drop for RegistrarReceiver {
    fn drop(&mut self) {
        self.sweeper.abort();
    }
}

impl Receiver for RegistrarReceiver {
    fn receive(&self, packet: &Message, _leg: &Leg, from: SocketAddr) -> bool {
        let Message::Request(request) = packet else {
            return false;
        };
        let Some(response) = self.registrar.handle_register(now(), request) else {
            return false;
        };
        tracing::debug!(
            %from,
            status = response.status(),
            to = request.headers().get("To").map(|v| v.to_string()).unwrap_or_default(),
            "REGISTER answered"
        );
        self.dispatcher.deliver(response, DeliverOptions::new());
        true
    }
}

/// Now on tokio's clock (which a paused test runtime controls).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Sweeps expired bindings until aborted.
async fn sweep(registrar: Arc<Registrar>) {
    loop {
        let at = tokio::time::Instant::now();
        let cap = at + SWEEP_AT_LEAST_EVERY;
        let wake = registrar
            .poll_timeout()
            .map_or(cap, |t| tokio::time::Instant::from_std(t).min(cap));
        tokio::time::sleep_until(wake).await;
        let dropped = registrar.handle_timeout(now());
        if dropped > 0 {
            tracing::debug!(dropped, "expired bindings removed");
        }
    }
}
