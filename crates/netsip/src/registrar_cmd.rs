//! `netsip registrar --listen ADDR... [--domain D]... [--min-expires N] [--max-expires N]`.

use std::io::Write;
use std::sync::Arc;

use crate::daemon::{init_tracing, ShutdownSignal};
use anyhow::{Context, Result};
use sip_dispatch::{DeliverOptions, Dispatcher, DispatcherConfig, ReceiveChain, Receiver};
use sip_packet::{HeaderName, Message, Method, Response};
use sip_registrar::{Registrar, RegistrarConfig, RegistrarReceiver};
use sip_transport::{LegConfig, TransportAddr};

/// Arguments of `netsip registrar`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegistrarArgs {
    /// Where to listen: udp:HOST:PORT, tcp:HOST:PORT (IPv6 as [::1]); port 0 picks a free
    /// one. Repeat for several.
    #[arg(long = "listen", value_name = "ADDR", required = true)]
    listen: Vec<TransportAddr>,
    /// A domain served (its subdomains too); repeat for several. Without any, every domain
    /// is served. A REGISTER for another domain gets 404.
    #[arg(long = "domain", value_name = "D")]
    domains: Vec<String>,
    /// Shorter intervals (and not 0) get 423 Interval Too Brief.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    min_expires: u32,
    /// Longer intervals are cut to this; also the interval of a contact that asks none.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    max_expires: u32,
    /// Where bindings are kept: `memory`, the embedded default store (lost on exit, as in
    /// Net::SIP).
    #[arg(long, value_enum, default_value_t = Store::Memory)]
    store: Store,
}

/// The binding stores the command knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Store {
    /// In memory (sip_registrar::MemoryStore).
    Memory,
}

/// Runs the registrar until SIGINT or SIGTERM.
pub(crate) fn run(args: &RegistrarArgs) -> Result<()> {
    init_tracing();
    let config = RegistrarConfig::new()
        .min_expires(args.min_expires)
        .max_expires(args.max_expires)
        .domains(args.domains.iter().cloned())
        // Alone behind the dispatcher: a REGISTER for a domain not served gets 404 rather
        // than the dispatcher's 501.
        .standalone(true);
    let registrar = match args.store {
        Store::Memory => Registrar::new(config).context("bad registrar options")?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(serve(args, Arc::new(registrar)))
}

async fn serve(args: &RegistrarArgs, registrar: Arc<Registrar>) -> Result<()> {
    let legs = args.listen.iter().map(|a| LegConfig::new(*a)).collect();
    // Stateless, as a registrar can be (Kamailio's answers by `sl` too): a retransmitted
    // REGISTER is applied again, which RFC 3261 §10.3 makes harmless (same Call-ID and CSeq),
    // and no transaction is kept for Timer J, which under load is most of the memory and of
    // the kernel's work (page faults).
    let dispatcher = Dispatcher::new(legs, DispatcherConfig::default().do_retransmits(false))
        .await
        .context("cannot listen")?;
    let members: Vec<Arc<dyn Receiver>> = vec![
        Arc::new(RegistrarReceiver::new(
            registrar.clone(),
            dispatcher.clone(),
        )),
        Arc::new(options_responder(dispatcher.clone())),
    ];
    dispatcher.set_receiver(Arc::new(ReceiveChain::new(members)));
    // Watched before "listening on" is printed: see `ShutdownSignal`.
    let mut signal = ShutdownSignal::install()?;
    {
        let mut out = std::io::stdout().lock();
        for leg in dispatcher.legs() {
            writeln!(out, "listening on {}", leg.transport_addr())?;
        }
        out.flush()?;
    }
    tracing::info!(
        min_expires = args.min_expires,
        max_expires = args.max_expires,
        domains = ?args.domains,
        "registrar running"
    );
    let signal = signal.recv().await?;
    tracing::info!(signal, addresses = registrar.store().len(), "stopping");
    dispatcher.shutdown();
    Ok(())
}

/// Answers OPTIONS with 200 and what the registrar does (RFC 3261 §11.2), so that a
/// monitoring ping (`sipsak -s`, a SIPp OPTIONS) sees it alive; other methods but ACK get 501
/// (what a transaction-stateful dispatcher answers for a request nobody takes).
fn options_responder(dispatcher: Dispatcher) -> impl Receiver {
    // To tags from a per-process random hash of the request: no RNG needed for a ping.
    let hasher = std::collections::hash_map::RandomState::new();
    move |packet: &Message, _: &sip_transport::Leg, _| {
        let Message::Request(request) = packet else {
            return false;
        };
        if request.method() == &Method::Ack {
            return true;
        }
        if request.method() != &Method::Options {
            let mut refusal = Response::from_request(request, 501, None);
            let _ = refusal.set_to_tag(&format!(
                "{:016x}",
                std::hash::BuildHasher::hash_one(&hasher, request.to_bytes())
            ));
            refusal
                .headers_mut()
                .add(HeaderName::Allow, "REGISTER, OPTIONS");
            dispatcher.deliver(refusal, DeliverOptions::new());
            return true;
        }
        let mut ok = Response::from_request(request, 200, None);
        let tag = std::hash::BuildHasher::hash_one(&hasher, request.to_bytes());
        let _ = ok.set_to_tag(&format!("{tag:016x}"));
        ok.headers_mut().add(HeaderName::Allow, "REGISTER, OPTIONS");
        ok.headers_mut().add(HeaderName::Accept, "application/sdp");
        dispatcher.deliver(ok, DeliverOptions::new());
        true
    }
}
