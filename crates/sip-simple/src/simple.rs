//! The user agent (Net::SIP::Simple): legs, endpoint, registration, calls made and
//! answered, shutdown.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sip_dispatch::resolve::{DnsResolver, HickoryResolver, RouteConfig, StaticResolver};
use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_endpoint::{
    CallEvent as EndpointEvent, CallParams, Context, Credentials, Endpoint, EndpointConfig,
    RegisterParams, Registration,
};
use sip_packet::{Method, NameAddr, Request, SipUri, Uri};
use sip_transport::{Leg, Protocol};
use tokio::sync::{oneshot, watch};

use crate::call::Call;
use crate::call_driver;
use crate::config::SimpleConfig;
use crate::error::{CallError, RegisterError, SimpleError};
use crate::listen::ListenOptions;
use crate::options::CallOptions;
use crate::ports::{range_has_pair, PortPool};

/// How long [`Simple::shutdown`] waits for the calls to hang up.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A SIP user agent for calls with audio (Net::SIP::Simple): registers, calls, answers.
///
/// Cheap to clone; every clone is the same user agent. Needs a tokio runtime.
#[derive(Clone)]
pub struct Simple {
    pub(crate) inner: Arc<SimpleShared>,
}

pub(crate) struct SimpleShared {
    pub(crate) endpoint: Endpoint,
    pub(crate) config: SimpleConfig,
    pub(crate) from: NameAddr,
    pub(crate) pool: Arc<PortPool>,
    registrar: Option<Uri>,
    /// The calls by Call-ID. A leaf lock.
    calls: Mutex<HashMap<String, Call>>,
    listen: RwLock<Option<Arc<ListenOptions>>>,
    registration: Mutex<Option<Registration>>,
    /// Counts the final outcomes of our REGISTERs after the first (refreshes, the
    /// unregistration), so that shutdown can wait for the last.
    register_outcomes: Arc<watch::Sender<u64>>,
    /// Seeds SSRCs, sequence numbers, timestamps and SDP session ids. A leaf lock.
    rng: Mutex<StdRng>,
    shut_down: AtomicBool,
}

impl fmt::Debug for Simple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simple")
            .field("from", &self.inner.from.to_string())
            .field("legs", &self.local_addrs())
            .field("calls", &lock(&self.inner.calls).len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A SIP URI from `host:port` or a URI as written.
fn to_uri(what: &'static str, value: &str) -> Result<Uri, SimpleError> {
    let text = if value.contains(':') && (value.starts_with("sip:") || value.starts_with("sips:")) {
        value.to_owned()
    } else {
        format!("sip:{value}")
    };
    Uri::parse(&text).map_err(|e| SimpleError::BadAddress {
        what,
        value: value.to_owned(),
        reason: e.to_string(),
    })
}

/// A name-addr from `sip:user@host`, `user@host` or `<sip:...>`.
fn to_name_addr(value: &str) -> Result<NameAddr, String> {
    let v = value.trim();
    let text = if v.contains('<')
        || v.starts_with("sip:")
        || v.starts_with("sips:")
        || v.starts_with("tel:")
    {
        v.to_owned()
    } else {
        format!("sip:{v}")
    };
    NameAddr::parse(&text).map_err(|e| e.to_string())
}

impl Simple {
    /// Binds the legs, starts the dispatcher and the endpoint. Nothing is registered and no
    /// call is accepted until [`register`](Self::register) and [`listen`](Self::listen).
    pub async fn new(config: SimpleConfig) -> Result<Self, SimpleError> {
        let from = to_name_addr(&config.from).map_err(|reason| SimpleError::BadAddress {
            what: "from",
            value: config.from.clone(),
            reason,
        })?;
        if config.legs.is_empty() {
            return Err(SimpleError::NoLeg);
        }
        if let Some(range) = &config.rtp_ports {
            if !range_has_pair(range) {
                return Err(SimpleError::EmptyPortRange {
                    start: *range.start(),
                    end: *range.end(),
                });
            }
        }
        let registrar = config
            .registrar
            .as_deref()
            .map(|r| to_uri("registrar", r))
            .transpose()?;
        let mut route = RouteConfig::new();
        if let Some(p) = &config.outgoing_proxy {
            route = route.with_outgoing_proxy(to_uri("outgoing proxy", p)?);
        }
        for (domain, proxy) in &config.domain2proxy {
            route = route.with_domain2proxy(domain.clone(), to_uri("domain2proxy", proxy)?);
        }
        let resolver: Arc<dyn DnsResolver> = match &config.resolver {
            Some(r) => r.clone(),
            None => match HickoryResolver::from_system() {
                Ok(r) => Arc::new(r),
                Err(e) => {
                    // Addresses given as IPs still work; names will not resolve.
                    tracing::warn!(%e, "no system DNS resolver; host names will not resolve");
                    Arc::new(StaticResolver::new())
                }
            },
        };
        let mut dconfig = DispatcherConfig::default().route(route).resolver(resolver);
        if let Some(seed) = config.seed {
            dconfig = dconfig.seed(seed);
        }
        let dispatcher = Dispatcher::new(config.legs.clone(), dconfig).await?;
        let media_ip = match config.media_address {
            Some(ip) => ip,
            None => dispatcher
                .legs()
                .first()
                .map(|l| l.local_addr().ip())
                .ok_or(SimpleError::NoLeg)?,
        };
        if media_ip.is_unspecified() {
            dispatcher.shutdown();
            return Err(SimpleError::WildcardMediaAddress(media_ip));
        }
        let mut econfig = EndpointConfig::default();
        if let Some(seed) = config.seed {
            econfig = econfig.seed(seed);
        }
        if let Some(ua) = &config.user_agent {
            econfig = econfig.user_agent(ua.clone());
        }
        let endpoint = Endpoint::new(dispatcher, econfig);
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s ^ 0x5349_4d50_4c45),
            None => StdRng::from_entropy(),
        };
        let inner = Arc::new(SimpleShared {
            endpoint: endpoint.clone(),
            pool: PortPool::new(media_ip, config.rtp_ports.clone()),
            config,
            from,
            registrar,
            calls: Mutex::new(HashMap::new()),
            listen: RwLock::new(None),
            registration: Mutex::new(None),
            register_outcomes: Arc::new(watch::channel(0).0),
            rng: Mutex::new(rng),
            shut_down: AtomicBool::new(false),
        });
        let weak: Weak<SimpleShared> = Arc::downgrade(&inner);
        endpoint.set_application(
            move |_: &Endpoint, ctx: &Context, req: &Request, _: &Leg, src: SocketAddr| match weak
                .upgrade()
            {
                Some(s) => s.receive(ctx, req, src),
                None => false,
            },
        );
        Ok(Self { inner })
    }

    /// Where SIP listens: each leg's address (with the port the OS picked for port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.inner
            .endpoint
            .dispatcher()
            .legs()
            .iter()
            .map(Leg::local_addr)
            .collect()
    }

    /// The address media sockets bind to and our SDP announces.
    pub fn media_address(&self) -> IpAddr {
        self.inner.pool.ip()
    }

    /// The endpoint underneath, for requests of one's own.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// How many RTP/RTCP port pairs calls hold now (0 once every call is over).
    pub fn rtp_ports_in_use(&self) -> usize {
        self.inner.pool.in_use()
    }

    /// The calls going on now.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.inner.calls).values().cloned().collect()
    }

    /// Registers our address at the configured registrar (Net::SIP's `register`): returns once
    /// the registrar accepted it (2xx), after answering any digest challenge with the
    /// configured credentials. The endpoint refreshes the registration before it runs out;
    /// [`shutdown`](Self::shutdown) removes it.
    pub async fn register(&self) -> Result<(), RegisterError> {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(RegisterError::Shutdown);
        }
        let registrar = self
            .inner
            .registrar
            .clone()
            .ok_or(RegisterError::NoRegistrar)?;
        let contact = self.contact();
        let (tx, rx) = oneshot::channel();
        let first = Mutex::new(Some(tx));
        let outcomes = self.inner.register_outcomes.clone();
        let mut params = RegisterParams::new(registrar, self.inner.from.clone(), contact)
            .expires(self.inner.config.register_expires)
            .callback(move |_: &Endpoint, _: &Context, ev: &EndpointEvent| {
                let outcome = match ev {
                    EndpointEvent::Response(r) if r.status() >= 200 => {
                        Ok((r.status(), r.reason().to_owned()))
                    }
                    EndpointEvent::Failed(e) => Err(e.to_string()),
                    _ => return,
                };
                match lock(&first).take() {
                    Some(tx) => {
                        let _ = tx.send(outcome);
                    }
                    None => {
                        tracing::debug!(?outcome, "registration refreshed or removed");
                        outcomes.send_modify(|n| *n += 1);
                    }
                }
            });
        if let Some((user, password)) = &self.inner.config.credentials {
            params = params.auth(Credentials::new(user.clone(), password.clone()));
        }
        let registration = self.inner.endpoint.register(params)?;
        match rx.await {
            Ok(Ok((status, _))) if (200..300).contains(&status) => {
                if let Some(old) = lock(&self.inner.registration).replace(registration) {
                    // Same binding, kept alive by the new one.
                    old.keep();
                }
                Ok(())
            }
            Ok(Ok((status, reason))) => {
                registration.keep();
                Err(RegisterError::Rejected { status, reason })
            }
            Ok(Err(detail)) => {
                registration.keep();
                Err(RegisterError::Failed(detail))
            }
            Err(_) => Err(RegisterError::Shutdown),
        }
    }

    /// Our Contact: `sip:user@` the first leg's address.
    fn contact(&self) -> NameAddr {
        let user = self.inner.from.uri().user().map(str::to_owned);
        let leg = &self.inner.endpoint.dispatcher().legs()[0];
        let (host, port) = leg.sent_by();
        let mut uri = SipUri::new(user.as_deref(), host);
        uri.set_port(Some(port));
        match leg.protocol() {
            Protocol::Udp => {}
            Protocol::Tcp => uri.params_mut().set("transport", Some("tcp")),
            Protocol::Tls => uri.set_secure(true),
        }
        NameAddr::new(Uri::from(uri))
    }

    /// Calls `to` (`sip:bob@example.com`, `bob@example.com`, or `bob` in our domain) and
    /// returns once the call is answered (Net::SIP's `invite`): [`CallError::Rejected`] for
    /// an error answer, [`CallError::NoAnswer`] when the ring timeout ran out.
    pub async fn invite(&self, to: &str, options: CallOptions) -> Result<Call, CallError> {
        let call = self.call(to, options)?;
        // Dropping this future before the answer cancels the call.
        let mut guard = CancelOnDrop(Some(call.clone()));
        let answered = call.answered().await;
        guard.0 = None;
        answered.map(|()| call)
    }

    /// Calls `to` and returns at once, while the INVITE is on its way: watch
    /// [`Call::events`], wait with [`Call::answered`], cancel with [`Call::hangup`].
    pub fn call(&self, to: &str, options: CallOptions) -> Result<Call, CallError> {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(CallError::Shutdown);
        }
        let bad = |reason: String| CallError::BadUri {
            uri: to.to_owned(),
            reason,
        };
        let to_trim = to.trim();
        let text = match self.inner.from.uri().host() {
            // A bare user name: in our domain.
            Some(host) if !to_trim.contains(['@', ':', '<']) => format!("sip:{to_trim}@{host}"),
            _ => to_trim.to_owned(),
        };
        let target = to_name_addr(&text).map_err(bad)?;
        let mut params = CallParams::new(self.inner.from.clone(), target);
        if let Some((user, password)) = &self.inner.config.credentials {
            params = params.auth(Credentials::new(user.clone(), password.clone()));
        }
        call_driver::start_outgoing(&self.inner, params, options)
    }

    /// Answers incoming calls as `options` says (Net::SIP's `listen`); replaces what an
    /// earlier `listen` said. Without it incoming INVITEs get 480.
    pub fn listen(&self, options: ListenOptions) {
        *self.inner.listen.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(options));
    }

    /// Stops answering incoming calls (they get 480); calls going on are not touched.
    pub fn stop_listening(&self) {
        *self.inner.listen.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Hangs up every call (waiting up to 5 s for them to end), unregisters, and stops the
    /// endpoint and the legs.
    pub async fn shutdown(&self) {
        if self.inner.shut_down.swap(true, Ordering::SeqCst) {
            return;
        }
        let calls = self.calls();
        for call in &calls {
            let _ = call.inner.input.send(crate::call::CallInput::Shutdown);
        }
        let all = futures_join(calls.iter().map(Call::ended));
        if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
            tracing::warn!("calls still running at shutdown");
        }
        let registration = lock(&self.inner.registration).take();
        if let Some(r) = registration {
            // The unregistration (and a challenge to it) needs the legs: wait for its answer.
            let mut outcomes = self.inner.register_outcomes.subscribe();
            outcomes.borrow_and_update();
            r.unregister();
            if tokio::time::timeout(SHUTDOWN_GRACE, outcomes.changed())
                .await
                .is_err()
            {
                tracing::warn!("no answer to the unregistration");
            }
        }
        self.inner.endpoint.shutdown();
        self.inner.endpoint.dispatcher().shutdown();
    }
}

/// Waits for all of `futures`, one after the other (they all run on other tasks anyway).
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) {
    for f in futures {
        f.await;
    }
}

/// Cancels a call whose `invite` future was dropped before the answer.
struct CancelOnDrop(Option<Call>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            if !call.state().is_ended() && !call.is_established() {
                let _ = call.inner.input.send(crate::call::CallInput::Hangup);
            }
        }
    }
}

impl SimpleShared {
    /// A request for us, from the endpoint's task: to its call, or a new call. Returns
    /// whether we answer it (the endpoint answers otherwise).
    fn receive(self: &Arc<Self>, ctx: &Context, req: &Request, src: SocketAddr) -> bool {
        let call = lock(&self.calls).get(ctx.call_id()).cloned();
        if let Some(call) = call {
            if req.method() == &Method::Options {
                return false;
            }
            let _ = call
                .inner
                .input
                .send(crate::call::CallInput::Request(req.clone()));
            return true;
        }
        let initial_invite =
            req.method() == &Method::Invite && req.headers().to().is_ok_and(|t| t.tag().is_none());
        if !initial_invite || self.shut_down.load(Ordering::SeqCst) {
            return false;
        }
        let options = self
            .listen
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(options) = options else {
            return false;
        };
        call_driver::start_incoming(self, ctx.clone(), req.clone(), src, options);
        true
    }

    /// Remembers a call until it ends.
    pub(crate) fn add_call(&self, call: &Call) {
        lock(&self.calls).insert(call.call_id().to_owned(), call.clone());
    }

    /// Forgets an ended call.
    pub(crate) fn remove_call(&self, call: &Call) {
        let mut calls = lock(&self.calls);
        if calls.get(call.call_id()).is_some_and(|c| c == call) {
            calls.remove(call.call_id());
        }
    }

    /// Random numbers for a new stream or session.
    pub(crate) fn random<T>(&self) -> T
    where
        rand::distributions::Standard: rand::distributions::Distribution<T>,
    {
        lock(&self.rng).gen()
    }
}
