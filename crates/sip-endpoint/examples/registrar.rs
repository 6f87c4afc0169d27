//! A test registrar built on an [`Endpoint`]: every REGISTER gets a 200 listing its Contacts
//! with the time granted (the Contact's `expires`, else the Expires header, else 3600 s,
//! capped by `--max-expires`). Each binding is printed on stdout (`registered AOR CONTACT
//! EXPIRES`). Exits 0 after `--registrations` REGISTERs with a non-zero time (plus
//! `--linger` ms), 1 at `--timeout` seconds. Not a registrar to deploy: nothing is stored.
//!
//! ```text
//! cargo run -p sip-endpoint --example registrar -- --listen udp:127.0.0.1:5060
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;
use sip_dispatch::resolve::StaticResolver;
use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_endpoint::{Context, Endpoint, EndpointConfig};
use sip_packet::{Method, Request, Response};
use sip_transport::{Leg, LegConfig, TransportAddr};
use tokio::sync::Notify;

/// Answers REGISTER with 200; exits after N registrations or a timeout.
#[derive(Debug, Parser)]
#[command(name = "registrar")]
struct Args {
    /// Where to listen: udp:HOST:PORT or tcp:HOST:PORT.
    #[arg(long)]
    listen: TransportAddr,
    /// The longest registration granted, in seconds.
    #[arg(long, default_value_t = 3600)]
    max_expires: u32,
    /// Exits after this many REGISTERs that register (time above 0).
    #[arg(long, default_value_t = 1)]
    registrations: usize,
    /// Fails after this many seconds.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Keeps serving this long after the last registration.
    #[arg(long, default_value_t = 1000)]
    linger: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("registrar: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The 200 for `req`: every Contact with the time granted to it; the most granted.
fn answer(req: &Request, max: u32) -> (Response, u32) {
    let mut ok = Response::from_request(req, 200, None);
    let default = req
        .headers()
        .expires()
        .ok()
        .flatten()
        .unwrap_or(3600)
        .min(max);
    let mut most = 0;
    let aor = req
        .headers()
        .to()
        .map(|t| t.uri().to_string())
        .unwrap_or_default();
    for contact in req.headers().contacts().filter_map(Result::ok) {
        let Some(addr) = contact.address() else {
            continue;
        };
        let granted = addr.expires().map_or(default, |e| e.min(max));
        let mut c = addr.clone();
        c.params_mut().set("expires", Some(&granted.to_string()));
        ok.headers_mut().add("Contact", c.to_string());
        println!("registered {aor} {} {granted}", addr.uri());
        most = most.max(granted);
    }
    (ok, most)
}

async fn run(args: Args) -> Result<()> {
    let dispatcher = Dispatcher::new(
        vec![LegConfig::new(args.listen)],
        DispatcherConfig::default().resolver(Arc::new(StaticResolver::new())),
    )
    .await?;
    let endpoint = Endpoint::new(dispatcher, EndpointConfig::default());
    let count = Arc::new(AtomicUsize::new(0));
    let changed = Arc::new(Notify::new());
    let (c, n, max) = (count.clone(), changed.clone(), args.max_expires);
    endpoint.set_application(
        move |ep: &Endpoint, ctx: &Context, req: &Request, _: &Leg, _| {
            if req.method() != &Method::Register {
                return false;
            }
            let (ok, granted) = answer(req, max);
            if let Err(e) = ep.new_response(ctx, ok, req) {
                eprintln!("registrar: cannot answer: {e}");
            }
            if granted > 0 {
                c.fetch_add(1, Ordering::SeqCst);
                n.notify_one();
            }
            true
        },
    );
    println!(
        "listening on {}",
        endpoint.dispatcher().legs()[0].transport_addr()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    while count.load(Ordering::SeqCst) < args.registrations {
        if tokio::time::timeout_at(deadline, changed.notified())
            .await
            .is_err()
        {
            bail!(
                "{} of {} registrations within {} s",
                count.load(Ordering::SeqCst),
                args.registrations,
                args.timeout
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(args.linger)).await;
    Ok(())
}
