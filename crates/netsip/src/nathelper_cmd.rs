//! `netsip nathelper --control tcp:127.0.0.1:PORT [--rtp-ports MIN-MAX] [--max-sockets N]
//! [--max-sockets-per-call N] [--unused-timeout S] [--active-timeout S] [--closed-timeout S]`:
//! Net::SIP's NATHelper::Server, the RTP relay that `netsip proxy --nathelper` drives over
//! the control protocol of `crates/sip-proxy/NATHELPER.md`. The relay options are shared
//! with `netsip proxy --nat`.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sip_proxy::nat::{
    LocalNatHelper, NatConfig, NatControlServer, NatHelper, PortRange, RemoteNatHelper,
};

use crate::daemon::{init_tracing, ShutdownSignal};

/// Arguments of `netsip nathelper`.
#[derive(Debug, clap::Args)]
pub(crate) struct NathelperArgs {
    /// Where to listen for the proxy's control connections: tcp:HOST:PORT or HOST:PORT on a
    /// loopback address (the protocol has no authentication); port 0 picks a free one.
    #[arg(long, value_name = "ADDR")]
    control: String,
    #[command(flatten)]
    relay: RelayArgs,
}

/// The relay's ports, limits and timeouts (Net::SIP's defaults).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RelayArgs {
    /// The UDP ports relay sockets are bound on (RTP on an even port, RTCP on the next).
    #[arg(long, value_name = "MIN-MAX", default_value = "30000-39999")]
    rtp_ports: String,
    /// The most relay sockets at a time (four per relayed audio stream).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_sockets: usize,
    /// The most relay sockets one call may hold.
    #[arg(long, value_name = "N", default_value_t = 32)]
    max_sockets_per_call: usize,
    /// Seconds that sockets no session uses stay allocated.
    #[arg(long, value_name = "S", default_value_t = 180.0)]
    unused_timeout: f64,
    /// Seconds an active session lives without a packet.
    #[arg(long, value_name = "S", default_value_t = 30.0)]
    active_timeout: f64,
    /// Seconds a closed session still relays.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    closed_timeout: f64,
}

/// `netsip proxy`'s NAT options.
#[derive(Debug, clap::Args)]
pub(crate) struct ProxyNatArgs {
    /// Relay the media of every call through the proxy (Net::SIP's NATHelper::Local): the
    /// SDP of INVITE, UPDATE, PRACK, ACK and their answers is rewritten to relay sockets of
    /// this process, which forward RTP and RTCP both ways.
    #[arg(long)]
    nat: bool,
    /// The same with the relay in a `netsip nathelper --control ADDR` process: tcp:IP:PORT.
    #[arg(long, value_name = "ADDR", conflicts_with = "nat")]
    nathelper: Option<String>,
    /// The relay of --nat.
    #[command(flatten)]
    relay: RelayArgs,
}

impl ProxyNatArgs {
    /// The NAT helper the options ask for, if any (inside the runtime: --nat starts its
    /// relay there).
    pub(crate) fn helper(&self) -> Result<Option<Arc<dyn NatHelper>>> {
        if !self.nat && !self.relay.is_default() {
            bail!("--rtp-ports, --max-sockets* and the --*-timeout options need --nat");
        }
        if self.nat {
            let helper = LocalNatHelper::start(self.relay.config()?)?;
            tracing::info!(ports = %self.relay.rtp_ports, "media relayed in this process");
            return Ok(Some(Arc::new(helper)));
        }
        match &self.nathelper {
            Some(addr) => {
                let addr = control_addr(addr).context("bad --nathelper")?;
                tracing::info!(%addr, "media relayed by a nathelper");
                Ok(Some(Arc::new(RemoteNatHelper::new(addr))))
            }
            None => Ok(None),
        }
    }
}

impl RelayArgs {
    /// Whether every option has its default value.
    fn is_default(&self) -> bool {
        self.rtp_ports == "30000-39999"
            && self.max_sockets == 1000
            && self.max_sockets_per_call == 32
            && self.unused_timeout == 180.0
            && self.active_timeout == 30.0
            && self.closed_timeout == 1.0
    }

    /// The relay configuration, checked.
    pub(crate) fn config(&self) -> Result<NatConfig> {
        let ports: PortRange = self
            .rtp_ports
            .parse()
            .with_context(|| format!("bad --rtp-ports {:?}", self.rtp_ports))?;
        let seconds = |name: &str, s: f64| {
            Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| !d.is_zero())
                .with_context(|| format!("bad --{name} {s}: a positive number of seconds"))
        };
        if self.max_sockets == 0 || self.max_sockets_per_call == 0 {
            bail!("--max-sockets and --max-sockets-per-call must be at least 1");
        }
        Ok(NatConfig::new()
            .ports(ports)
            .max_sockets(self.max_sockets)
            .max_sockets_per_call(self.max_sockets_per_call)
            .unused_timeout(seconds("unused-timeout", self.unused_timeout)?)
            .active_timeout(seconds("active-timeout", self.active_timeout)?)
            .closed_timeout(seconds("closed-timeout", self.closed_timeout)?))
    }
}

/// A control address: `tcp:HOST:PORT` or `HOST:PORT`, HOST an IP address (IPv6 as `[::1]`).
pub(crate) fn control_addr(text: &str) -> Result<SocketAddr> {
    let lower = text.to_ascii_lowercase();
    let rest = if lower.starts_with("tcp:") {
        text.get(4..).unwrap_or("")
    } else if lower.starts_with("udp:") || lower.starts_with("tls:") {
        bail!("{text:?}: the nathelper control protocol runs over TCP only");
    } else {
        text
    };
    rest.parse()
        .with_context(|| format!("{text:?} is not tcp:IP:PORT"))
}

/// Runs the relay until SIGINT or SIGTERM.
pub(crate) fn run(args: &NathelperArgs) -> Result<()> {
    init_tracing();
    let control = control_addr(&args.control).context("bad --control")?;
    if !control.ip().is_loopback() {
        bail!(
            "bad --control {:?}: listen on a loopback address, the control protocol has no \
             authentication",
            args.control
        );
    }
    let config = args.relay.config()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(serve(control, config))
}

async fn serve(control: SocketAddr, config: NatConfig) -> Result<()> {
    let ports = config.ports;
    let helper = LocalNatHelper::start(config)?;
    let server = NatControlServer::bind(control, Arc::new(helper))
        .await
        .with_context(|| format!("cannot listen on {control}"))?;
    let addr = server.local_addr()?;
    // Watched before "listening on" is printed: see `ShutdownSignal`.
    let mut signal = ShutdownSignal::install()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on tcp:{addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, %ports, "nathelper running");
    tokio::select! {
        () = server.run() => Ok(()),
        signal = signal.recv() => {
            tracing::info!(signal = signal?, "stopping");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_addresses() {
        assert_eq!(
            control_addr("tcp:127.0.0.1:7070").unwrap(),
            "127.0.0.1:7070".parse().unwrap()
        );
        assert_eq!(
            control_addr("TCP:[::1]:0").unwrap(),
            "[::1]:0".parse().unwrap()
        );
        assert_eq!(
            control_addr("127.0.0.1:1").unwrap(),
            "127.0.0.1:1".parse().unwrap()
        );
        assert!(control_addr("udp:127.0.0.1:1")
            .unwrap_err()
            .to_string()
            .contains("TCP only"));
        assert!(control_addr("localhost:1").is_err());
        assert!(control_addr("tcp:").is_err());
    }
}
