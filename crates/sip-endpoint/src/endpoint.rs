//! The endpoint (Net::SIP::Endpoint): the public API and the shared state. Its task is in
//! `driver.rs`, the client side of a call in `uac.rs`, the server side in `uas.rs`, the
//! REGISTER client in `register.rs`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_dispatch::{DeliverOptions, Dispatcher};
use sip_packet::{random, CSeq, HeaderName, Message, Method, NameAddr, Request, SipUri, Uri};
use sip_transport::{Leg, Protocol};
use tokio::sync::mpsc;

use crate::application::Application;
use crate::config::EndpointConfig;
use crate::context::{CallParams, CallState, Context, RequestOptions};
use crate::driver::{lock, run, EndpointReceiver, Input, TimerKind};
use crate::error::EndpointError;

/// A SIP user agent on a [`Dispatcher`]: sends requests and keeps their dialogs (UAC),
/// answers requests through the application (UAS), keeps registrations alive.
///
/// Cheap to clone; every clone is the same endpoint. Needs a tokio runtime.
#[derive(Clone)]
pub struct Endpoint {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("dispatcher", &self.inner.dispatcher)
            .field("contexts", &lock(&self.inner.contexts).len())
            .finish()
    }
}

pub(crate) struct Inner {
    pub(crate) dispatcher: Dispatcher,
    pub(crate) config: EndpointConfig,
    /// The calls by Call-ID. A leaf lock: never held while a context's lock is taken.
    contexts: Mutex<HashMap<String, Context>>,
    /// Leaf lock.
    rng: Mutex<StdRng>,
    /// Leaf lock. Entries are checked against the context when they fire, so a stale one
    /// does nothing.
    pub(crate) timers: Mutex<BTreeMap<(Instant, u64), (Context, TimerKind)>>,
    seq: AtomicU64,
    app: RwLock<Option<Arc<dyn Application>>>,
    pub(crate) input: mpsc::UnboundedSender<Input>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Lets the task notice that the endpoint is gone.
        let _ = self.input.send(Input::Wake);
    }
}

impl Endpoint {
    /// An endpoint on `dispatcher`, which it makes its receiver (Net::SIP's
    /// `Endpoint->new`). Spawns the endpoint's task: call it inside a tokio runtime.
    pub fn new(dispatcher: Dispatcher, config: EndpointConfig) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let inner = Arc::new(Inner {
            dispatcher: dispatcher.clone(),
            config,
            contexts: Mutex::new(HashMap::new()),
            rng: Mutex::new(rng),
            timers: Mutex::new(BTreeMap::new()),
            seq: AtomicU64::new(0),
            app: RwLock::new(None),
            input: tx.clone(),
        });
        dispatcher.set_receiver(Arc::new(EndpointReceiver { input: tx }));
        tokio::spawn(run(Arc::downgrade(&inner), rx));
        Self { inner }
    }

    /// Sets the application: who is told about incoming requests.
    pub fn set_application(&self, app: impl Application + 'static) {
        *self.inner.app.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(app));
    }

    /// The dispatcher the endpoint sends through.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.inner.dispatcher
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.inner.config
    }

    /// The calls the endpoint manages now.
    pub fn contexts(&self) -> Vec<Context> {
        lock(&self.inner.contexts).values().cloned().collect()
    }

    /// The managed context of this Call-ID, if any.
    pub fn context_for(&self, call_id: &str) -> Option<Context> {
        lock(&self.inner.contexts).get(call_id).cloned()
    }

    /// Hands a message to the endpoint as the dispatcher does (Net::SIP's `receive`): a
    /// request goes to its context and the application, a response to the request it
    /// answers. Returns at once; the work happens on the endpoint's task.
    pub fn receive(&self, message: Message, leg: &Leg, from: SocketAddr) {
        let _ = self
            .inner
            .input
            .send(Input::Message(message, leg.clone(), from));
    }

    /// A new call from `params.from` to `params.to`, managed by this endpoint; nothing is
    /// sent yet (see [`invite`](Self::invite), [`new_request`](Self::new_request)).
    pub fn context(&self, params: CallParams) -> Context {
        let tag = self.random_tag();
        let call_id = params.call_id.clone().unwrap_or_else(|| self.new_call_id());
        let mut local = params.from;
        local.set_tag(&tag);
        let mut remote = params.to;
        remote.params_mut().remove("tag");
        let request_uri = params.request_uri.unwrap_or_else(|| remote.uri().clone());
        let mut st = CallState::new(local, remote, request_uri);
        st.contact = params.contact;
        st.route = params.route;
        st.auth = params.auth;
        st.follow_redirects = params.follow_redirects;
        let ctx = Context::new(call_id, st);
        self.manage(&ctx);
        ctx
    }

    /// Sends an INVITE on `ctx` (Net::SIP's `invite`): a new call when the context has no
    /// dialog, a re-INVITE in its dialog when it has one.
    pub fn invite(&self, ctx: &Context, options: RequestOptions) -> Result<(), EndpointError> {
        self.new_request(Method::Invite, ctx, options)
    }

    /// Creates a context for `params` and sends an INVITE on it.
    pub fn call(
        &self,
        params: CallParams,
        options: RequestOptions,
    ) -> Result<Context, EndpointError> {
        let ctx = self.context(params);
        self.invite(&ctx, options)?;
        Ok(ctx)
    }

    /// Sends a request of `method` on `ctx` (Net::SIP's `new_request`): inside the dialog
    /// when the context has one (confirmed, or early for anything but INVITE), else as a
    /// request outside any dialog. A callback in `options` becomes the context's callback.
    /// ACK and CANCEL are the endpoint's own (see [`cancel_invite`](Self::cancel_invite)).
    pub fn new_request(
        &self,
        method: Method,
        ctx: &Context,
        options: RequestOptions,
    ) -> Result<(), EndpointError> {
        if matches!(method, Method::Ack | Method::Cancel) {
            return Err(EndpointError::MethodNotAllowed(method.to_string()));
        }
        let mut st = ctx.lock();
        if st.closed {
            return Err(EndpointError::UnknownContext(ctx.call_id().to_owned()));
        }
        if let Some(cb) = options.callback.clone() {
            st.callback = Some(cb);
        }
        let usable_dialog = st.dialog.as_ref().is_some_and(|d| match d.state() {
            crate::DialogState::Confirmed => true,
            crate::DialogState::Early => method != Method::Invite,
            crate::DialogState::Terminated => false,
        });
        let mut request = if usable_dialog {
            match st.dialog.as_mut() {
                Some(d) => d.create_request(method.clone()),
                None => unreachable!("checked just above"),
            }
        } else {
            if matches!(
                method,
                Method::Bye | Method::Update | Method::Prack | Method::Info
            ) {
                return Err(EndpointError::NoDialog {
                    method: method.to_string(),
                    call_id: ctx.call_id().to_owned(),
                });
            }
            self.initial_request(ctx, &mut st, method.clone())
        };
        self.finish_request(&st, &mut request, &options.headers)?;
        if let Some((ct, body)) = options.body {
            request.set_body(Some(&ct), body);
        }
        if method == Method::Invite {
            // An older INVITE of the call is over for good: forget it.
            st.client
                .retain(|t| !(t.request.method() == &Method::Invite && t.answered));
        }
        self.send_client(ctx, &mut st, request, None, false);
        Ok(())
    }

    /// A request outside any dialog: Request-URI, preloaded Route, From, To, Call-ID and the
    /// next CSeq of the context.
    pub(crate) fn initial_request(
        &self,
        ctx: &Context,
        st: &mut CallState,
        method: Method,
    ) -> Request {
        st.local_cseq = st.local_cseq.wrapping_add(1);
        let mut r = Request::new(method.clone(), st.request_uri.clone());
        let h = r.headers_mut();
        for route in &st.route {
            h.add(HeaderName::Route, route.to_string());
        }
        h.add(HeaderName::MaxForwards, "70");
        h.add(HeaderName::From, st.local.to_string());
        h.add(HeaderName::To, st.remote.to_string());
        h.add(HeaderName::CallId, ctx.call_id().to_owned());
        h.add(
            HeaderName::CSeq,
            CSeq::new(st.local_cseq, method).to_string(),
        );
        r
    }

    /// Contact (for requests that make or refresh a dialog), User-Agent and the caller's
    /// headers.
    pub(crate) fn finish_request(
        &self,
        st: &CallState,
        request: &mut Request,
        headers: &[(String, String)],
    ) -> Result<(), EndpointError> {
        let given_contact = headers
            .iter()
            .any(|(n, _)| HeaderName::from(n.as_str()) == HeaderName::Contact);
        let wants_contact = matches!(
            request.method(),
            Method::Invite
                | Method::Update
                | Method::Subscribe
                | Method::Refer
                | Method::Notify
                | Method::Register
        );
        if wants_contact && !given_contact {
            let contact = self.contact_for(st)?;
            request
                .headers_mut()
                .add(HeaderName::Contact, contact.to_string());
        }
        if let Some(ua) = &self.inner.config.user_agent {
            request.headers_mut().add(HeaderName::UserAgent, ua.clone());
        }
        for (n, v) in headers {
            request.headers_mut().add(n.as_str(), v.clone());
        }
        Ok(())
    }

    /// Our Contact for the call: the one given, else `sip:user@` the first leg's address.
    pub(crate) fn contact_for(&self, st: &CallState) -> Result<NameAddr, EndpointError> {
        if let Some(c) = &st.contact {
            return Ok(c.clone());
        }
        let leg = self
            .inner
            .dispatcher
            .legs()
            .first()
            .ok_or(EndpointError::NoLeg)?;
        let (host, port) = leg.sent_by();
        let mut uri = SipUri::new(st.local.uri().user(), host);
        uri.set_port(Some(port));
        match leg.protocol() {
            Protocol::Udp => {}
            Protocol::Tcp => uri.params_mut().set("transport", Some("tcp")),
            Protocol::Tls => uri.set_secure(true),
        }
        Ok(NameAddr::new(Uri::from(uri)))
    }

    /// Forgets a call (Net::SIP's `close_context`): its dialog, its timers, its
    /// registration refreshes. Requests in flight run to their end unheard.
    pub fn close_context(&self, ctx: &Context) {
        let mut st = ctx.lock();
        self.close_locked(ctx, &mut st);
    }

    pub(crate) fn close_locked(&self, ctx: &Context, st: &mut CallState) {
        st.closed = true;
        if let Some(d) = st.dialog.as_mut() {
            d.terminate();
        }
        st.awaiting_ack.clear();
        st.server_invite = None;
        st.registration = None;
        self.unmanage(ctx);
    }

    /// Unregisters every registration and forgets every call. The dispatcher keeps running.
    pub fn shutdown(&self) {
        for ctx in self.contexts() {
            let registering = ctx.lock().registration.is_some();
            if registering {
                self.stop_registration(&ctx, true);
            } else {
                self.close_context(&ctx);
            }
        }
    }

    pub(crate) fn manage(&self, ctx: &Context) {
        lock(&self.inner.contexts).insert(ctx.call_id().to_owned(), ctx.clone());
    }

    pub(crate) fn unmanage(&self, ctx: &Context) {
        let mut map = lock(&self.inner.contexts);
        if map.get(ctx.call_id()).is_some_and(|c| c == ctx) {
            map.remove(ctx.call_id());
        }
    }

    pub(crate) fn lookup(&self, call_id: &str) -> Option<Context> {
        lock(&self.inner.contexts).get(call_id).cloned()
    }

    pub(crate) fn random_tag(&self) -> String {
        random::tag(&mut *lock(&self.inner.rng))
    }

    pub(crate) fn cnonce(&self) -> String {
        random::cnonce(&mut *lock(&self.inner.rng))
    }

    fn new_call_id(&self) -> String {
        let host = self
            .inner
            .dispatcher
            .legs()
            .first()
            .map(|l| l.sent_by().0.to_string());
        random::call_id(&mut *lock(&self.inner.rng), host.as_deref())
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn app(&self) -> Option<Arc<dyn Application>> {
        self.inner
            .app
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends a request of ours and remembers it on the context, carrying the retry state of
    /// `previous` (the same request before a challenge or a redirect).
    pub(crate) fn send_client(
        &self,
        ctx: &Context,
        st: &mut CallState,
        request: Request,
        previous: Option<crate::context::ClientTx>,
        internal: bool,
    ) {
        let id = self.next_id();
        let input = self.inner.input.clone();
        let c = ctx.clone();
        let delivery = self.inner.dispatcher.deliver(
            request.clone(),
            DeliverOptions::new().callback(move |ev| {
                let _ = input.send(Input::Delivery(c.clone(), id, ev));
            }),
        );
        let (auth, tried, internal) = match previous {
            Some(p) => (p.auth, p.tried, p.internal),
            None => (Default::default(), Vec::new(), internal),
        };
        st.client.push(crate::context::ClientTx {
            id,
            request,
            delivery,
            provisional: false,
            cancel: crate::context::CancelState::None,
            auth,
            tried,
            answered: false,
            internal,
        });
    }

    /// Sends a message that needs no transaction of ours (an ACK, a response).
    pub(crate) fn send_plain(&self, message: impl Into<Message>) {
        self.inner
            .dispatcher
            .deliver(message, DeliverOptions::new());
    }
}
