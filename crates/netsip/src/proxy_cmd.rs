//! `netsip proxy --listen ADDR... [--registrar] [--domain D]... [--domain2proxy D=HOST:PORT]...
//! [--record-route] [--auth-file FILE --realm R [--auth-algorithm ALG]...]
//! [--tls-cert FILE --tls-key FILE] [--tls-ca FILE] [--block METHOD=CODE]...
//! [--drop-user-agent PATTERN]... [--nat [--rtp-ports MIN-MAX] | --nathelper ADDR]`: Net::SIP's
//! stateless_proxy.pl and test_registrar_and_proxy.pl.

use std::io::Write;
use std::sync::Arc;

use crate::daemon::{init_tracing, ShutdownSignal};
use crate::tls_args::{TlsArgs, TlsConfigs};
use anyhow::{bail, Context, Result};
use sip_dispatch::resolve::RouteConfig;
use sip_dispatch::{Dispatcher, DispatcherConfig, ReceiveChain, Receiver};
use sip_packet::digest::Algorithm;
use sip_packet::{Method, Uri};
use sip_proxy::{
    AuthConfig, Authorize, Blocker, DropRule, Dropper, Locate, ProxyConfig, RewriteContact,
    StatelessProxy, UserFile,
};
use sip_registrar::{Registrar, RegistrarConfig, RegistrarReceiver};
use sip_transport::TransportAddr;

/// Arguments of `netsip proxy`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProxyArgs {
    /// Where to listen: udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT (IPv6 as [::1]); port 0
    /// picks a free one. Repeat for several; a request leaves on the leg of its next hop's
    /// protocol.
    #[arg(long = "listen", value_name = "ADDR", required = true)]
    listen: Vec<String>,
    /// Run a registrar (in memory) in front of the proxy: REGISTER is answered here and
    /// requests for registered addresses go to their contacts.
    #[arg(long)]
    registrar: bool,
    /// A domain this proxy (and its registrar) is responsible for: requests for an unknown
    /// user there get 404. Repeat for several.
    #[arg(long = "domain", value_name = "D")]
    domains: Vec<String>,
    /// Send requests for DOMAIN (`*.example.com`: subdomains too; `*`: everything else) to
    /// this next hop: HOST:PORT, a transport address (tcp:HOST:PORT) or a SIP URI.
    #[arg(long = "domain2proxy", value_name = "DOMAIN=HOST:PORT")]
    domain2proxy: Vec<String>,
    /// Add Record-Route, so that the dialog's later requests pass the proxy too (both legs
    /// when a request changes legs).
    #[arg(long)]
    record_route: bool,
    /// Require digest authentication (MD5 or SHA-256) of users in FILE: lines
    /// `user:password` or `user:realm:HA1`; needs --realm.
    #[arg(long, value_name = "FILE", requires = "realm")]
    auth_file: Option<std::path::PathBuf>,
    /// The realm of --auth-file.
    #[arg(long, value_name = "R", requires = "auth_file")]
    realm: Option<String>,
    /// A digest algorithm to offer with --auth-file (MD5 or SHA-256), one challenge header
    /// each, in the order given (default: SHA-256, then MD5, as RFC 8760 orders them). Put
    /// MD5 first for clients that answer only the first challenge, such as SIPp.
    #[arg(long = "auth-algorithm", value_name = "ALG", requires = "auth_file")]
    auth_algorithms: Vec<String>,
    /// The certificates of tls: legs (boxed: rarely given, and it keeps the subcommand
    /// enum small).
    #[command(flatten)]
    tls: Box<TlsArgs>,
    /// Answer METHOD with CODE (and an optional reason: `SUBSCRIBE=403 Forbidden`) instead of
    /// forwarding it. Repeat for several.
    #[arg(long = "block", value_name = "METHOD=CODE")]
    block: Vec<String>,
    /// Silently drop requests whose User-Agent matches PATTERN (`*` and `?` globs, else a
    /// substring; case-insensitive), e.g. friendly-scanner. Repeat for several.
    #[arg(long = "drop-user-agent", value_name = "PATTERN")]
    drop_user_agent: Vec<String>,
    /// When to rewrite Contact headers to point at the proxy (for clients behind NAT).
    #[arg(long, value_enum, default_value_t = Rewrite::BetweenLegs)]
    rewrite_contact: Rewrite,
    /// --nat, --nathelper and the relay's options (nathelper_cmd).
    #[command(flatten)]
    nat: crate::nathelper_cmd::ProxyNatArgs,
}

/// `--rewrite-contact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Rewrite {
    /// Never.
    Never,
    /// When a message leaves on another leg than it came in on (Net::SIP's default).
    BetweenLegs,
    /// Always (Net::SIP's force_rewrite).
    Always,
}

/// What the command line asks for, checked.
struct Plan {
    listen: Vec<TransportAddr>,
    route: RouteConfig,
    blocks: Vec<(Method, u16, Option<String>)>,
    users: Option<(UserFile, String)>,
    algorithms: Vec<Algorithm>,
    tls: TlsConfigs,
}

fn plan(args: &ProxyArgs) -> Result<Plan> {
    let mut listen = Vec::new();
    for a in &args.listen {
        listen.push(
            a.parse::<TransportAddr>()
                .with_context(|| format!("bad --listen {a:?}"))?,
        );
    }
    let mut route = RouteConfig::new();
    for d in &args.domain2proxy {
        let (domain, hop) = d
            .split_once('=')
            .with_context(|| format!("bad --domain2proxy {d:?}: expected DOMAIN=HOST:PORT"))?;
        if domain.is_empty() {
            bail!("bad --domain2proxy {d:?}: empty domain");
        }
        route = route.with_domain2proxy(
            domain,
            next_hop(hop).with_context(|| format!("bad --domain2proxy {d:?}"))?,
        );
    }
    let mut blocks = Vec::new();
    for b in &args.block {
        let (method, code) = b
            .split_once('=')
            .with_context(|| format!("bad --block {b:?}: expected METHOD=CODE"))?;
        let method = Method::parse(&method.to_ascii_uppercase())
            .ok()
            .filter(|_| !method.is_empty())
            .with_context(|| format!("bad --block {b:?}: {method:?} is not a method"))?;
        let (code, reason) = match code.split_once(' ') {
            Some((c, r)) => (c, Some(r.trim().to_owned())),
            None => (code, None),
        };
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (300..700).contains(c))
            .with_context(|| format!("bad --block {b:?}: the code must be 300 to 699"))?;
        blocks.push((method, code, reason));
    }
    let users = match (&args.auth_file, &args.realm) {
        (Some(file), Some(realm)) => {
            let users = UserFile::load(file)?;
            if users.is_empty() {
                bail!("no users in {}", file.display());
            }
            Some((users, realm.clone()))
        }
        _ => None,
    };
    let mut algorithms = Vec::new();
    for a in &args.auth_algorithms {
        match Algorithm::parse(a) {
            Some(alg @ (Algorithm::Md5 | Algorithm::Sha256)) => algorithms.push(alg),
            _ => bail!("bad --auth-algorithm {a:?}: MD5 or SHA-256"),
        }
    }
    let tls = args.tls.load()?;
    Ok(Plan {
        listen,
        route,
        blocks,
        users,
        algorithms,
        tls,
    })
}

/// `HOST:PORT`, `tcp:HOST:PORT` or a SIP URI, as a URI.
fn next_hop(hop: &str) -> Result<Uri> {
    let lower = hop.to_ascii_lowercase();
    let text = if lower.starts_with("sip:") || lower.starts_with("sips:") {
        hop.to_owned()
    } else if let Ok(t) = hop.parse::<TransportAddr>() {
        match t.protocol {
            sip_transport::Protocol::Udp => format!("sip:{}", t.addr),
            p => format!("sip:{};transport={}", t.addr, p.as_str()),
        }
    } else {
        format!("sip:{hop}")
    };
    let uri = Uri::parse(&text)
        .map_err(|e| anyhow::anyhow!("{hop:?} is not HOST:PORT or a SIP URI: {e}"))?;
    if uri.as_sip().is_none() {
        bail!("{hop:?} is not a SIP address");
    }
    Ok(uri)
}

/// Runs the proxy until SIGINT or SIGTERM.
pub(crate) fn run(args: &ProxyArgs) -> Result<()> {
    init_tracing();
    let plan = plan(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(serve(args, plan))
}

async fn serve(args: &ProxyArgs, plan: Plan) -> Result<()> {
    let legs = plan.listen.iter().map(|a| plan.tls.leg(*a)).collect();
    // Stateless: every retransmission reaches the proxy and is forwarded again.
    let dispatcher = Dispatcher::new(
        legs,
        DispatcherConfig::default()
            .do_retransmits(false)
            .route(plan.route.clone()),
    )
    .await
    .context("cannot listen")?;

    let mut config = ProxyConfig::new()
        .record_route(args.record_route)
        .route(plan.route.clone())
        .rewrite_contact(match args.rewrite_contact {
            Rewrite::Never => RewriteContact::Never,
            Rewrite::BetweenLegs => RewriteContact::WhenLegsDiffer,
            Rewrite::Always => RewriteContact::Always,
        });
    for d in &args.domains {
        config = config.domain(d.clone());
    }

    let mut members: Vec<Arc<dyn Receiver>> = Vec::new();
    if !args.drop_user_agent.is_empty() {
        let rules = args
            .drop_user_agent
            .iter()
            .map(|p| DropRule::header("User-Agent", p.clone()))
            .collect();
        members.push(Arc::new(Dropper::new(rules)));
    }
    if !plan.blocks.is_empty() {
        members.push(Arc::new(Blocker::new(dispatcher.clone(), plan.blocks)));
    }
    if let Some((users, realm)) = plan.users {
        let mut auth = AuthConfig::new(realm, Arc::new(users));
        if !plan.algorithms.is_empty() {
            auth = auth.algorithms(plan.algorithms);
        }
        members.push(Arc::new(Authorize::new(dispatcher.clone(), auth)));
    }
    if args.registrar {
        let registrar =
            Registrar::new(RegistrarConfig::new().domains(args.domains.iter().cloned()))
                .context("bad registrar options")?;
        let registrar = Arc::new(registrar);
        let receiver = RegistrarReceiver::new(registrar.clone(), dispatcher.clone());
        members.push(Arc::new(
            ReceiveChain::new(vec![Arc::new(receiver)]).with_methods(&[Method::Register]),
        ));
        let locator: Arc<dyn Locate> = registrar;
        config = config.locator(locator);
    }
    if let Some(helper) = args.nat.helper()? {
        config = config.nat(helper);
    }
    let proxy = StatelessProxy::new(dispatcher.clone(), config);
    members.push(Arc::new(proxy));
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
        registrar = args.registrar,
        record_route = args.record_route,
        domains = ?args.domains,
        auth = args.realm.as_deref().unwrap_or("off"),
        "proxy running"
    );
    let signal = signal.recv().await?;
    tracing::info!(signal, "stopping");
    dispatcher.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ProxyArgs,
    }

    fn parse(extra: &[&str]) -> Result<ProxyArgs, clap::Error> {
        let mut argv = vec!["proxy", "--listen", "udp:127.0.0.1:0"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).map(|c| c.args)
    }

    fn users_file(name: &str) -> std::path::PathBuf {
        let f = std::env::temp_dir().join(format!("netsip-proxy-{name}-{}", std::process::id()));
        std::fs::write(&f, "alice:secret\n").unwrap();
        f
    }

    #[test]
    fn auth_algorithms_keep_their_order_and_refuse_others() {
        let f = users_file("alg");
        let file = f.to_str().unwrap();
        let base = ["--auth-file", file, "--realm", "example.com"];
        let args = parse(
            &[
                &base[..],
                &["--auth-algorithm", "md5", "--auth-algorithm", "SHA-256"],
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(
            plan(&args).unwrap().algorithms,
            [Algorithm::Md5, Algorithm::Sha256]
        );
        assert!(plan(&parse(&base).unwrap()).unwrap().algorithms.is_empty());
        let bad = parse(&[&base[..], &["--auth-algorithm", "MD5-sess"]].concat()).unwrap();
        let err = plan(&bad).err().unwrap().to_string();
        assert!(err.contains("bad --auth-algorithm \"MD5-sess\""), "{err}");
        // Without --auth-file there is nothing to offer them with.
        assert!(parse(&["--auth-algorithm", "md5"]).is_err());
        let _ = std::fs::remove_file(f);
    }

    #[test]
    fn tls_files_come_in_pairs_and_must_load() {
        assert!(parse(&["--tls-cert", "c.pem"]).is_err());
        assert!(parse(&["--tls-key", "k.pem"]).is_err());
        let args = parse(&[
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ])
        .unwrap();
        let err = format!("{:#}", plan(&args).err().unwrap());
        assert!(err.contains("bad --tls-cert /nonexistent/c.pem"), "{err}");
        let args = parse(&["--tls-ca", "/nonexistent/ca.pem"]).unwrap();
        let err = format!("{:#}", plan(&args).err().unwrap());
        assert!(err.contains("bad --tls-ca"), "{err}");
    }

    #[test]
    fn next_hops() {
        let s = |h: &str| {
            next_hop(h)
                .map(|u| u.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(s("127.0.0.1:5070").unwrap(), "sip:127.0.0.1:5070");
        assert_eq!(
            s("tcp:127.0.0.1:5070").unwrap(),
            "sip:127.0.0.1:5070;transport=tcp"
        );
        assert_eq!(s("proxy.example.com").unwrap(), "sip:proxy.example.com");
        assert_eq!(s("sips:p.example.com").unwrap(), "sips:p.example.com");
        assert!(s("tel:+1").is_err());
        assert!(s("a b").is_err());
    }
}
