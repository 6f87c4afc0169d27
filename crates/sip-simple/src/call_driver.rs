//! The task of one call: feeds its [`CallCore`] with what the endpoint, the media streams,
//! the clock and the [`Call`] handles say, and carries out the core's actions (requests and
//! responses through the endpoint, media streams started, changed and stopped, state and
//! events published, hooks called).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sip_endpoint::{CallEvent as EndpointEvent, CallParams, Context, Endpoint, RequestOptions};
use sip_packet::{HeaderName, Method, Request, Response};
use sip_sdp::SessionDescription;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::audio::Media;
use crate::call::{Call, CallInfo, CallInput, CallShared, EVENT_BUFFER};
use crate::call_core::{info_dtmf, Action, AnswerMode, Body, CallCore, CoreConfig};
use crate::call_state::{CallEvent, CallState};
use crate::error::CallError;
use crate::listen::{Answer, IncomingCall, ListenOptions};
use crate::negotiation::StreamParams;
use crate::options::{AudioSettings, CallOptions};
use crate::ports::RtpPorts;
use crate::recorder::RecorderPump;
use crate::rtp_stream::{split_media, RtpStream, StreamEvent, StreamSetup};
use crate::simple::SimpleShared;
use crate::stream_task::{self, StreamCommand, StreamHandle, StreamReport};

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// The session description in a message's body: none when empty, or what parsing made of it.
fn body_sdp(body: &[u8], content_type: Option<String>) -> Body {
    if body.is_empty() {
        return None;
    }
    let is_sdp = content_type.map_or(true, |t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/sdp"))
    });
    if !is_sdp {
        return None;
    }
    Some(SessionDescription::parse(body).map_err(|e| e.to_string()))
}

fn request_sdp(r: &Request) -> Body {
    body_sdp(r.body(), r.headers().content_type().ok().flatten())
}

fn response_sdp(r: &Response) -> Body {
    body_sdp(r.body(), r.headers().content_type().ok().flatten())
}

/// Everything a call's task owns.
struct CallDriver {
    simple: Arc<SimpleShared>,
    core: CallCore,
    ctx: Context,
    call: Call,
    state: watch::Sender<CallState>,
    events: broadcast::Sender<CallEvent>,
    inputs: mpsc::UnboundedReceiver<CallInput>,
    reports: mpsc::UnboundedReceiver<StreamReport>,
    reports_tx: mpsc::UnboundedSender<StreamReport>,
    audio: AudioSettings,
    hooks: Option<Arc<ListenOptions>>,
    /// Per `m=` line: the ports and media of a stream not started yet.
    ports: Vec<Option<RtpPorts>>,
    medias: Vec<Option<Media>>,
    streams: Vec<Option<StreamHandle>>,
    /// The streams sending files that have not finished yet.
    files_pending: HashSet<usize>,
    /// The INVITE we are answering.
    server_invite: Option<Request>,
    reinvite_done: Option<oneshot::Sender<Result<(), CallError>>>,
    /// Headers for the first INVITE.
    headers: Vec<(String, String)>,
}

/// The shared part and the task's channels of a new call.
fn new_call(
    ctx: Context,
    outgoing: bool,
) -> (
    Call,
    watch::Sender<CallState>,
    broadcast::Sender<CallEvent>,
    mpsc::UnboundedReceiver<CallInput>,
) {
    let (input, inputs) = mpsc::unbounded_channel();
    let (state_tx, state_rx) = watch::channel(CallState::Calling);
    let (events, first) = broadcast::channel(EVENT_BUFFER);
    let call = Call {
        inner: Arc::new(CallShared {
            ctx,
            outgoing,
            input,
            state: state_rx,
            was_answered: AtomicBool::new(false),
            events: events.clone(),
            first_events: Mutex::new(Some(first)),
            info: Mutex::new(CallInfo::default()),
        }),
    };
    (call, state_tx, events, inputs)
}

/// Tells the call's task about the responses and failures of its requests.
fn set_callback(ctx: &Context, call: &Call) {
    let input = call.inner.input.clone();
    ctx.set_callback(move |_: &Endpoint, _: &Context, ev: &EndpointEvent| {
        let msg = match ev {
            EndpointEvent::Response(r) => CallInput::Response(r.clone()),
            EndpointEvent::Failed(e) => CallInput::Failed(e.to_string()),
            EndpointEvent::ForkReleased(r) => {
                tracing::debug!(
                    status = r.status(),
                    "second answer of a forked INVITE released"
                );
                return;
            }
            _ => return,
        };
        let _ = input.send(msg);
    });
}

fn core_config(simple: &SimpleShared, audio: &AudioSettings) -> CoreConfig {
    CoreConfig {
        profile: audio.profile(),
        ip: simple.pool.ip(),
        // Session ids fit in 62 bits so that they print as small positive numbers everywhere.
        session_id: simple.random::<u64>() >> 2,
        early_media: false,
        ring_timeout: simple.config.ring_timeout,
        hangup_when_done: audio.hangup_when_done,
    }
}

/// Makes a call: ports, the core with its offer, the task that sends the INVITE.
pub(crate) fn start_outgoing(
    simple: &Arc<SimpleShared>,
    params: CallParams,
    options: CallOptions,
) -> Result<Call, CallError> {
    let mut medias = options.media;
    if medias.is_empty() {
        medias.push(Media::silence());
    }
    let mut ports = Vec::with_capacity(medias.len());
    for _ in &medias {
        // On error the pairs taken so far are dropped, and so released.
        ports.push(simple.pool.allocate()?);
    }
    let numbers: Vec<u16> = ports.iter().map(|p| p.rtp_addr().port()).collect();
    let mut config = core_config(simple, &options.audio);
    config.early_media = options.early_media;
    if let Some(t) = options.ring_timeout {
        config.ring_timeout = t;
    }
    let core = CallCore::outgoing(config, numbers, now());
    let ctx = simple.endpoint.context(params);
    let (call, state, events, inputs) = new_call(ctx.clone(), true);
    set_callback(&ctx, &call);
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let driver = CallDriver {
        simple: simple.clone(),
        core,
        ctx,
        call: call.clone(),
        state,
        events,
        inputs,
        reports,
        reports_tx,
        audio: options.audio,
        hooks: None,
        ports: ports.into_iter().map(Some).collect(),
        medias: medias.into_iter().map(Some).collect(),
        streams: Vec::new(),
        files_pending: HashSet::new(),
        server_invite: None,
        reinvite_done: None,
        headers: options.headers,
    };
    simple.add_call(&call);
    tokio::spawn(driver.run(None));
    Ok(call)
}

/// Takes an incoming call: its task asks the hooks, gets ports and answers.
pub(crate) fn start_incoming(
    simple: &Arc<SimpleShared>,
    ctx: Context,
    invite: Request,
    source: SocketAddr,
    hooks: Arc<ListenOptions>,
) {
    let audio = hooks.audio.clone();
    let offer = match request_sdp(&invite) {
        Some(Ok(sdp)) => Some(sdp),
        Some(Err(e)) => {
            tracing::info!(%e, "INVITE with an unreadable SDP; 488");
            let _ = simple.endpoint.new_response(&ctx, 488, &invite);
            return;
        }
        None => None,
    };
    let core = CallCore::incoming(core_config(simple, &audio), offer);
    let (call, state, events, inputs) = new_call(ctx.clone(), false);
    set_callback(&ctx, &call);
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let driver = CallDriver {
        simple: simple.clone(),
        core,
        ctx,
        call: call.clone(),
        state,
        events,
        inputs,
        reports,
        reports_tx,
        audio,
        hooks: Some(hooks),
        ports: Vec::new(),
        medias: Vec::new(),
        streams: Vec::new(),
        files_pending: HashSet::new(),
        server_invite: Some(invite.clone()),
        reinvite_done: None,
        headers: Vec::new(),
    };
    simple.add_call(&call);
    tokio::spawn(driver.run(Some((invite, source))));
}

impl CallDriver {
    async fn run(mut self, incoming: Option<(Request, SocketAddr)>) {
        tracing::debug!(call_id = self.call.call_id(), "call started");
        if let Some((invite, source)) = incoming {
            self.answer_incoming(invite, source);
        }
        loop {
            self.carry_out().await;
            if self.core.state().is_ended() {
                break;
            }
            let deadline = self.core.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                input = self.inputs.recv() => match input {
                    Some(i) => self.input(i),
                    // Every handle and the endpoint's callback are gone: nobody can end the
                    // call any more but the peer; hang up.
                    None => self.core.hangup(now()),
                },
                Some((index, ev)) = self.reports.recv() => self.report(index, ev),
                () = sleep => self.core.handle_timeout(now()),
            }
        }
        self.finish().await;
    }

    /// Asks the hooks about a new incoming call, gets its ports and answers it.
    fn answer_incoming(&mut self, invite: Request, source: SocketAddr) {
        let hooks = self.hooks.clone().unwrap_or_default();
        let mut incoming = IncomingCall {
            call: self.call.clone(),
            from: invite.headers().from().ok(),
            to: invite.headers().to().ok(),
            offer: self.core.remote_sdp().cloned(),
            request: invite,
            source,
            stream: 0,
        };
        let answer = match &hooks.on_new_call {
            Some(h) => h(&incoming),
            None => Answer::Accept,
        };
        let mode = match answer {
            Answer::Reject(status) => return self.core.reject(status),
            Answer::Accept => AnswerMode::Now,
            Answer::Ring(d) => AnswerMode::Ring(d),
            Answer::EarlyMedia(d) => AnswerMode::Early(d),
        };
        let wanted = self.core.streams_to_open();
        let lines = incoming.offer.as_ref().map_or(1, |o| o.media.len());
        let mut numbers = vec![0u16; lines];
        self.ports = (0..lines).map(|_| None).collect();
        self.medias = (0..lines).map(|_| None).collect();
        for &i in &wanted {
            let ports = match self.simple.pool.allocate() {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(%e, "no RTP ports for an incoming call; 503");
                    self.ports.clear();
                    return self.core.reject(503);
                }
            };
            numbers[i] = ports.rtp_addr().port();
            self.ports[i] = Some(ports);
            incoming.stream = i;
            self.medias[i] = Some(match &hooks.media {
                Some(h) => h(&incoming),
                None => Media::silence(),
            });
        }
        self.core.accept(now(), numbers, mode);
    }

    fn input(&mut self, input: CallInput) {
        let now = now();
        match input {
            CallInput::Response(r) => {
                let Ok(cseq) = r.headers().cseq() else {
                    return;
                };
                let method = cseq.method().clone();
                let sdp = response_sdp(&r);
                self.core
                    .handle_response(now, &method, r.status(), r.reason(), sdp);
            }
            CallInput::Failed(detail) => self.core.handle_failure(now, &detail),
            CallInput::Request(req) => self.request(now, req),
            CallInput::Hangup => self.core.hangup(now),
            CallInput::Shutdown => self.core.shutdown(now),
            CallInput::Reinvite { media, hold, done } => match self.core.reinvite(now, hold) {
                Ok(()) => {
                    if let Some(m) = media {
                        self.set_media(m);
                    }
                    self.reinvite_done = Some(done);
                }
                Err(e) => {
                    let _ = done.send(Err(e));
                }
            },
            CallInput::SendDtmf { digits, mode, done } => {
                let target = self.streams.iter().flatten().find(|s| {
                    stream_task::lock(&s.snapshot)
                        .params
                        .as_ref()
                        .is_some_and(|p| p.send)
                });
                match target {
                    Some(s) => {
                        let _ = s
                            .commands
                            .send(StreamCommand::SendDtmf { digits, mode, done });
                    }
                    None => {
                        let _ = done.send(Err(CallError::WrongState {
                            operation: "sending DTMF",
                            state: format!("{} without media to the peer", self.core.state()),
                        }));
                    }
                }
            }
        }
    }

    /// New media for the first stream (running or not yet started).
    fn set_media(&mut self, media: Media) {
        match self.streams.first().and_then(Option::as_ref) {
            Some(s) => {
                // The old source's files, if any, will never finish now.
                if matches!(media.source, crate::audio::Source::Files { .. }) {
                    self.files_pending.insert(0);
                } else {
                    self.files_pending.remove(&0);
                }
                let _ = s.commands.send(StreamCommand::SetMedia(media));
            }
            None => {
                if let Some(slot) = self.medias.first_mut() {
                    *slot = Some(media);
                }
            }
        }
    }

    fn request(&mut self, now: std::time::Instant, req: Request) {
        let method = req.method().clone();
        match method {
            Method::Invite => {
                let sdp = request_sdp(&req);
                self.server_invite = Some(req);
                self.core.handle_request(now, &Method::Invite, sdp);
            }
            Method::Ack | Method::Bye | Method::Cancel => {
                let sdp = request_sdp(&req);
                self.core.handle_request(now, &method, sdp);
            }
            Method::Info => {
                if let Some(digit) = info_dtmf(req.body()) {
                    self.core.handle_dtmf(digit);
                }
                self.respond_plain(200, &req);
            }
            // UPDATE without a body refreshes the session; with one it is an offer we do
            // not take outside INVITE.
            Method::Update if req.body().is_empty() => self.respond_plain(200, &req),
            Method::Update => self.respond_plain(488, &req),
            _ => self.respond_plain(501, &req),
        }
    }

    fn respond_plain(&self, status: u16, req: &Request) {
        if let Err(e) = self.simple.endpoint.new_response(&self.ctx, status, req) {
            tracing::debug!(%e, status, "response not sent");
        }
    }

    fn report(&mut self, index: usize, event: StreamEvent) {
        let now = now();
        match event {
            StreamEvent::Dtmf(digit) => self.core.handle_dtmf(digit),
            StreamEvent::SourceDone => {
                if self.files_pending.remove(&index) && self.files_pending.is_empty() {
                    self.core.handle_media_done(now);
                }
            }
            StreamEvent::RtpTimeout => self.core.handle_rtp_timeout(now),
            StreamEvent::DtmfSent(_) => {}
        }
    }

    /// Carries out every action the core has.
    async fn carry_out(&mut self) {
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::SendInvite(sdp) => self.send_invite(sdp),
                Action::Cancel => {
                    if !self.simple.endpoint.cancel_invite(&self.ctx) {
                        tracing::debug!("nothing to cancel");
                    }
                }
                Action::Bye => {
                    if let Err(e) = self.simple.endpoint.new_request(
                        Method::Bye,
                        &self.ctx,
                        RequestOptions::new(),
                    ) {
                        self.core.handle_failure(now(), &format!("BYE: {e}"));
                    }
                }
                Action::Respond { status, sdp } => self.respond(status, sdp),
                Action::Media(params) => self.media(params),
                Action::StopMedia => self.stop_media().await,
                Action::Event(e) => self.event(e),
                Action::State(s) => {
                    tracing::info!(call_id = self.call.call_id(), state = %s, "call");
                    self.publish();
                    if s.is_established() {
                        self.call.inner.was_answered.store(true, Ordering::SeqCst);
                    }
                    if s.is_ended() {
                        // Gone from the user agent and the endpoint before anyone hears it is
                        // over (requests still in flight, a BYE, run to their end unheard).
                        self.simple.remove_call(&self.call);
                        self.simple.endpoint.close_context(&self.ctx);
                    }
                    let _ = self.state.send(s);
                }
                Action::ReinviteDone(r) => {
                    self.publish();
                    if let Some(done) = self.reinvite_done.take() {
                        let _ = done.send(r);
                    }
                }
            }
        }
        self.publish();
    }

    fn send_invite(&mut self, sdp: SessionDescription) {
        let mut options =
            RequestOptions::new().body(SessionDescription::CONTENT_TYPE, sdp.to_bytes());
        for (n, v) in std::mem::take(&mut self.headers) {
            options = options.header(n, v);
        }
        if let Err(e) = self.simple.endpoint.invite(&self.ctx, options) {
            self.core.handle_failure(now(), &format!("INVITE: {e}"));
        }
    }

    fn respond(&mut self, status: u16, sdp: Option<SessionDescription>) {
        let Some(req) = self.server_invite.clone() else {
            tracing::debug!(status, "no INVITE to answer");
            return;
        };
        let mut response = Response::from_request(&req, status, None);
        if let Some(sdp) = sdp {
            response.set_body(Some(SessionDescription::CONTENT_TYPE), sdp.to_bytes());
        }
        if status == 503 {
            response.headers_mut().add(HeaderName::RetryAfter, "5");
        }
        if let Err(e) = self.simple.endpoint.new_response(&self.ctx, response, &req) {
            tracing::debug!(%e, status, "answer to the INVITE not sent");
        }
        if status >= 200 {
            self.server_invite = None;
        }
    }

    /// Starts the streams that have parameters and no task yet, updates the others.
    fn media(&mut self, params: Vec<Option<StreamParams>>) {
        if self.streams.len() < params.len() {
            self.streams.resize_with(params.len(), || None);
        }
        for (i, p) in params.into_iter().enumerate() {
            if let Some(s) = self.streams[i].as_ref() {
                let _ = s.commands.send(StreamCommand::Update(p));
                continue;
            }
            if p.is_none() {
                continue;
            }
            let Some(ports) = self.ports.get_mut(i).and_then(Option::take) else {
                continue;
            };
            let media = self
                .medias
                .get_mut(i)
                .and_then(Option::take)
                .unwrap_or_default();
            self.streams[i] = Some(self.start_stream(i, ports, p, media));
        }
    }

    fn start_stream(
        &mut self,
        index: usize,
        ports: RtpPorts,
        params: Option<StreamParams>,
        media: Media,
    ) -> StreamHandle {
        let simple = &self.simple;
        let setup = StreamSetup {
            ssrc: simple.random(),
            first_sequence: simple.random(),
            first_timestamp: simple.random(),
            cname: format!(
                "{}@{}",
                simple.from.uri().user().unwrap_or("sip-simple"),
                simple.pool.ip()
            ),
            jitter_depth: crate::media::PACKET_DURATION
                * u32::try_from(simple.config.jitter_depth).unwrap_or(3),
            rtp_timeout: simple.config.rtp_timeout,
            detect_inband_dtmf: self.audio.detect_inband_dtmf,
            seed: simple.random(),
        };
        let (source, recorder) = split_media(media);
        let core = RtpStream::new(setup, params, source, now(), stream_task::wallclock());
        if core.has_files() {
            self.files_pending.insert(index);
        }
        let handle = stream_task::spawn(
            index,
            ports,
            core,
            recorder.map(RecorderPump::new),
            self.reports_tx.clone(),
        );
        let mut info = self.call.info();
        if info.streams.len() <= index {
            info.streams.resize_with(index + 1, Default::default);
        }
        info.streams[index] = handle.snapshot.clone();
        handle
    }

    /// Stops every stream and waits for them: their ports are free when this returns.
    async fn stop_media(&mut self) {
        for s in self.streams.iter_mut().filter_map(Option::take) {
            s.stop().await;
        }
        self.ports.clear();
    }

    fn event(&mut self, event: CallEvent) {
        if let Some(hooks) = &self.hooks {
            match &event {
                CallEvent::Established => {
                    if let Some(h) = &hooks.on_established {
                        h(&self.call);
                    }
                }
                CallEvent::Dtmf(digit) => {
                    if let Some(h) = &hooks.on_dtmf {
                        h(&self.call, *digit);
                    }
                }
                _ => {}
            }
        }
        let _ = self.events.send(event);
    }

    /// Makes what the core knows readable from the handles.
    fn publish(&self) {
        let mut info = self.call.info();
        info.peer_sdp = self.core.remote_sdp().cloned();
        info.local_sdp = self.core.local_sdp().cloned();
        info.on_hold = self.core.is_on_hold();
    }

    /// The call is over: streams stopped, the endpoint told, the handles and hooks told.
    async fn finish(mut self) {
        self.stop_media().await;
        self.medias.clear();
        let why = match self.core.state() {
            CallState::Ended(why) => why.clone(),
            _ => return,
        };
        if let Some(done) = self.reinvite_done.take() {
            let _ = done.send(Err(CallError::Ended(why.clone())));
        }
        if let Some(h) = self.hooks.as_ref().and_then(|h| h.on_hangup.clone()) {
            h(&self.call, &why);
        }
        tracing::debug!(call_id = self.call.call_id(), %why, "call over");
        // Commands that came too late get their answer.
        self.inputs.close();
        while let Ok(input) = self.inputs.try_recv() {
            match input {
                CallInput::Reinvite { done, .. } | CallInput::SendDtmf { done, .. } => {
                    let _ = done.send(Err(CallError::Ended(why.clone())));
                }
                _ => {}
            }
        }
    }
}
