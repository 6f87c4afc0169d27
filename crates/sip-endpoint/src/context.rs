//! A call (Net::SIP::Endpoint::Context): who talks to whom under which Call-ID, its dialog,
//! and the requests in flight in both directions.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use sip_dispatch::DeliveryId;
use sip_packet::{NameAddr, ParseError, Request, Response, Uri};

use crate::application::ContextCallback;
use crate::auth::{AuthSession, Credentials};
use crate::dialog::{Dialog, DialogState};
use crate::registration::RegState;
use crate::retransmit::Retransmit2xx;

/// What a new outgoing call (or registration, or single request) is made of.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallParams {
    /// Our address: the From.
    pub from: NameAddr,
    /// The peer's address: the To.
    pub to: NameAddr,
    /// The Request-URI of requests outside a dialog; the To's URI when `None`.
    pub request_uri: Option<Uri>,
    /// Our Contact; made from the first leg's address when `None`.
    pub contact: Option<NameAddr>,
    /// A preloaded route set for requests outside a dialog (outbound proxies).
    pub route: Vec<NameAddr>,
    /// What challenges are answered with.
    pub auth: Option<Credentials>,
    /// The Call-ID; a random one when `None`.
    pub call_id: Option<String>,
    /// Whether 3xx responses are followed (default) or handed to the callback.
    pub follow_redirects: bool,
}

impl CallParams {
    /// A call from `from` to `to`.
    pub fn new(from: NameAddr, to: NameAddr) -> Self {
        Self {
            from,
            to,
            request_uri: None,
            contact: None,
            route: Vec::new(),
            auth: None,
            call_id: None,
            follow_redirects: true,
        }
    }

    /// A call between two addresses written as in a From header.
    pub fn parse(from: &str, to: &str) -> Result<Self, ParseError> {
        Ok(Self::new(NameAddr::parse(from)?, NameAddr::parse(to)?))
    }

    /// Sends to this Request-URI instead of the To's URI.
    #[must_use]
    pub fn request_uri(mut self, uri: Uri) -> Self {
        self.request_uri = Some(uri);
        self
    }

    /// Puts this Contact in our requests and answers.
    #[must_use]
    pub fn contact(mut self, contact: NameAddr) -> Self {
        self.contact = Some(contact);
        self
    }

    /// Routes requests outside the dialog through this proxy (a Route header; loose routing
    /// is assumed when the URI has `;lr`).
    #[must_use]
    pub fn route(mut self, proxy: NameAddr) -> Self {
        self.route.push(proxy);
        self
    }

    /// Answers challenges with these credentials.
    #[must_use]
    pub fn auth(mut self, credentials: Credentials) -> Self {
        self.auth = Some(credentials);
        self
    }

    /// Uses this Call-ID.
    #[must_use]
    pub fn call_id(mut self, id: impl Into<String>) -> Self {
        self.call_id = Some(id.into());
        self
    }

    /// Follows 3xx responses (default), or hands them to the callback.
    #[must_use]
    pub fn follow_redirects(mut self, on: bool) -> Self {
        self.follow_redirects = on;
        self
    }
}

/// What goes with one request (Net::SIP's CALLBACK, BODY and %ARGS of `new_request`).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Becomes the context's callback.
    pub callback: Option<Arc<dyn ContextCallback>>,
    /// The body and its Content-Type.
    pub body: Option<(String, Bytes)>,
    /// More headers, in order.
    pub headers: Vec<(String, String)>,
}

impl RequestOptions {
    /// Nothing more than the request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the context's callback.
    #[must_use]
    pub fn callback(mut self, callback: impl ContextCallback + 'static) -> Self {
        self.callback = Some(Arc::new(callback));
        self
    }

    /// Sends this body with this Content-Type.
    #[must_use]
    pub fn body(mut self, content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        self.body = Some((content_type.into(), body.into()));
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("callback", &self.callback.is_some())
            .field("body", &self.body)
            .field("headers", &self.headers)
            .finish()
    }
}

/// A call: one Call-ID, our side and the peer's, its dialog once there is one. Cheap to
/// clone; every clone is the same call.
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    call_id: String,
    state: Mutex<CallState>,
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Context {}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("Context")
            .field("call_id", &self.inner.call_id)
            .field("local", &st.local.to_string())
            .field("remote", &st.remote.to_string())
            .field("dialog", &st.dialog.as_ref().map(Dialog::state))
            .field("closed", &st.closed)
            .finish()
    }
}

impl Context {
    pub(crate) fn new(call_id: String, state: CallState) -> Self {
        Self {
            inner: Arc::new(ContextInner {
                call_id,
                state: Mutex::new(state),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, CallState> {
        // A panic in a callback elsewhere leaves the state as consistent as it was.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.inner.call_id
    }

    /// Our address with our tag (From of our requests, To of our answers).
    pub fn local(&self) -> NameAddr {
        self.lock().local.clone()
    }

    /// The peer's address, without tag.
    pub fn remote(&self) -> NameAddr {
        self.lock().remote.clone()
    }

    /// Our tag.
    pub fn local_tag(&self) -> String {
        self.lock().local_tag().to_owned()
    }

    /// The dialog as it is now, if the call has one.
    pub fn dialog(&self) -> Option<Dialog> {
        self.lock().dialog.clone()
    }

    /// Whether the call has a confirmed dialog.
    pub fn is_established(&self) -> bool {
        self.lock()
            .dialog
            .as_ref()
            .is_some_and(|d| d.state() == DialogState::Confirmed)
    }

    /// Whether the call is over (BYE, CANCEL, failure, or closed by the application).
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Sets the callback that hears about this context's requests.
    pub fn set_callback(&self, callback: impl ContextCallback + 'static) {
        self.lock().callback = Some(Arc::new(callback));
    }
}

/// A request of ours waiting for its final response (an INVITE also after its 2xx, to
/// recognise retransmissions and forks).
pub(crate) struct ClientTx {
    pub(crate) id: u64,
    /// As sent, without Via: what a retry after a challenge or redirect starts from.
    pub(crate) request: Request,
    pub(crate) delivery: DeliveryId,
    pub(crate) provisional: bool,
    pub(crate) cancel: CancelState,
    pub(crate) auth: AuthSession,
    pub(crate) tried: Vec<Uri>,
    /// A 2xx came (INVITE): later 2xx are retransmissions or forks.
    pub(crate) answered: bool,
    /// Sent by the endpoint itself (a BYE for a fork or a lost ACK): its outcome is not
    /// reported.
    pub(crate) internal: bool,
}

/// Whether the application asked to cancel an INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelState {
    None,
    /// Asked before any provisional response: sent when one comes (§9.1).
    Requested,
    Sent,
}

/// An INVITE we are answering.
pub(crate) struct ServerInvite {
    pub(crate) request: Request,
    pub(crate) branch: String,
    pub(crate) cseq: u32,
}

/// A 2xx of ours waiting for its ACK.
pub(crate) struct AwaitAck {
    pub(crate) cseq: u32,
    pub(crate) response: Response,
    pub(crate) schedule: Retransmit2xx,
}

/// An ACK we sent for a 2xx, resent for each retransmission of that 2xx.
pub(crate) struct SentAck {
    pub(crate) cseq: u32,
    pub(crate) remote_tag: String,
    pub(crate) ack: Request,
}

/// Everything the endpoint knows of a call; behind the context's lock.
pub(crate) struct CallState {
    pub(crate) local: NameAddr,
    pub(crate) remote: NameAddr,
    pub(crate) request_uri: Uri,
    pub(crate) contact: Option<NameAddr>,
    pub(crate) route: Vec<NameAddr>,
    pub(crate) auth: Option<Credentials>,
    pub(crate) callback: Option<Arc<dyn ContextCallback>>,
    pub(crate) follow_redirects: bool,
    /// CSeq of our last request outside the dialog.
    pub(crate) local_cseq: u32,
    pub(crate) dialog: Option<Dialog>,
    /// Dialogs of extra 2xx of a forked INVITE, ended with a BYE.
    pub(crate) forks: Vec<Dialog>,
    pub(crate) client: Vec<ClientTx>,
    pub(crate) server_invite: Option<ServerInvite>,
    pub(crate) awaiting_ack: Vec<AwaitAck>,
    pub(crate) acks: Vec<SentAck>,
    pub(crate) registration: Option<RegState>,
    pub(crate) closed: bool,
}

impl CallState {
    pub(crate) fn new(local: NameAddr, remote: NameAddr, request_uri: Uri) -> Self {
        Self {
            local,
            remote,
            request_uri,
            contact: None,
            route: Vec::new(),
            auth: None,
            callback: None,
            follow_redirects: true,
            local_cseq: 0,
            dialog: None,
            forks: Vec::new(),
            client: Vec::new(),
            server_invite: None,
            awaiting_ack: Vec::new(),
            acks: Vec::new(),
            registration: None,
            closed: false,
        }
    }

    pub(crate) fn local_tag(&self) -> &str {
        self.local.tag().unwrap_or_default()
    }

    /// The dialog a request with these tags belongs to (ours in To, the peer's in From).
    pub(crate) fn dialog_for(
        &mut self,
        call_id: &str,
        to_tag: &str,
        from_tag: &str,
    ) -> Option<&mut Dialog> {
        self.dialog.as_mut().filter(|d| {
            d.state() != DialogState::Terminated && d.is_match(call_id, to_tag, from_tag)
        })
    }

    /// Whether the call has a confirmed dialog.
    pub(crate) fn is_confirmed(&self) -> bool {
        self.dialog
            .as_ref()
            .is_some_and(|d| d.state() == DialogState::Confirmed)
    }

    /// Whether an INVITE of ours waits for its final response (glare, §14.1).
    pub(crate) fn has_pending_invite(&self) -> bool {
        self.client
            .iter()
            .any(|t| t.request.method() == &sip_packet::Method::Invite && !t.answered)
    }
}
