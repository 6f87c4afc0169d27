//! The transport matrix: the proxy and endpoint scenarios again over TCP, TLS and IPv6, with
//! the Perl Net::SIP on the other side (its legs do UDP, TCP and TLS, on IPv4 and IPv6).
//!
//! | scenario | netsip side | the peers | passes when |
//! | --- | --- | --- | --- |
//! | `matrix-register-digest-{tcp,tls,udp6,tcp6}` | `proxy --registrar --auth-file` on that leg | `interop/proxy/perl_register.pl --proto P` | the right password registers, a wrong one gets 401/403 |
//! | `matrix-proxy-404-via-{udp,tcp-to-udp,tls-to-udp,udp6}` | `proxy` | `interop/matrix/perl_uac_probe.pl` calls `perl_uas_probe.pl --code 404` | the caller gets the 404 with only its own Via; the callee got the INVITE and its ACK with the proxy's Via on top of the caller's, the ACK with the INVITE's branch |
//! | `matrix-proxy-registrar-perl-call-{tcp,tls,udp6}` | `proxy --registrar` | `interop/proxy/perl_uas.pl --proto P` registers bob, `perl_uac.pl --proto P` calls him (a `sips:` AOR over TLS), RTP echoed | both see the call set up and torn down, RTP comes back |
//! | `matrix-proxy-block-405` | `proxy --block INVITE=405` | `perl_uac_probe.pl` | the caller gets 405 with only its own Via |
//! | `matrix-proxy-maddr` | `proxy` | `perl_uac_probe.pl --route` calls `sip:bob@nowhere.invalid:PORT;maddr=127.0.0.1` | the request reaches the callee at the maddr (RFC 3263 §4), its 404 comes back |
//! | `matrix-endpoint-uac-perl-uas-{tcp,udp6,tcp6}` | the `uac` example of sip-endpoint | `interop/endpoint/perl_uas.pl --proto P` | both see the call set up and torn down |
//! | `matrix-endpoint-perl-register-call-{tcp,udp6,tcp6}` | the `registrar` and `uas` examples | `interop/endpoint/perl_uac.pl --proto P` registers, then calls | all exit 0; the registrar printed the binding; `uas` saw INVITE, ACK, BYE |
//!
//! TLS uses a CA and one leaf certificate (for 127.0.0.1, ::1 and localhost) made with
//! openssl into `target/interop/certs/` at the start of the run: never committed. Net::SIP
//! builds the server side of a TLS leg up front, so the Perl peers show the same leaf.
//!
//! The proxy is given `--tls-ca` as well: netsip's proxy and registrar send a response over
//! TCP or TLS by connecting to the Via's sent-by rather than on the connection the request
//! came on (RFC 3261 §18.2.2), so they must be able to verify the Perl leg they connect to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::child::{tail, Running};
use super::netsip_server::NetsipServer;
use super::ports::{wait_bound_on, Ports};
use super::{our, Outcome, Report, SCENARIO_LIMIT, STARTUP_LIMIT};

/// How long the proxy may take to listen, and to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// The tracing the proxy writes to its stderr, unless `RUST_LOG` says otherwise.
const PROXY_LOG: &str = "info,sip_proxy=debug,sip_transport=debug";

/// The user of the registration scenarios, and the realm of its users file.
const AUTH_USER: &str = "alice";
const AUTH_PASSWORD: &str = "secret";
const REALM: &str = "example.com";

/// A transport of SIP.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Proto {
    Udp,
    Tcp,
    Tls,
}

impl Proto {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

/// Who plays which side, on which transport.
#[derive(Clone, Copy, Debug)]
enum Play {
    /// A Perl client registers at the proxy's registrar over `proto`, right and wrong
    /// password.
    Register { proto: Proto, v6: bool },
    /// A Perl caller on `uac` calls a Perl callee on UDP through the proxy; the callee
    /// answers 404.
    Refused { uac: Proto, v6: bool },
    /// The proxy blocks INVITE with 405.
    Blocked,
    /// The caller names the callee by a maddr.
    Maddr,
    /// Our `uac` example calls the Perl callee directly.
    EndpointCall { proto: Proto, v6: bool },
    /// A Perl callee registers at the proxy's registrar over `proto`, a Perl caller calls it
    /// through the proxy over `proto`, with RTP.
    PerlCall { proto: Proto, v6: bool },
    /// The Perl client registers at our `registrar` example and calls our `uas` example.
    EndpointPerlCall { proto: Proto, v6: bool },
}

const SCENARIOS: &[(&str, Play, &str)] = &[
    (
        "matrix-register-digest-tcp",
        Play::Register {
            proto: Proto::Tcp,
            v6: false,
        },
        "Net::SIP register (digest) -> netsip proxy --registrar (tcp)",
    ),
    (
        "matrix-register-digest-tls",
        Play::Register {
            proto: Proto::Tls,
            v6: false,
        },
        "Net::SIP register (digest) -> netsip proxy --registrar (tls)",
    ),
    (
        "matrix-register-digest-udp6",
        Play::Register {
            proto: Proto::Udp,
            v6: true,
        },
        "Net::SIP register (digest) -> netsip proxy --registrar (udp, [::1])",
    ),
    (
        "matrix-register-digest-tcp6",
        Play::Register {
            proto: Proto::Tcp,
            v6: true,
        },
        "Net::SIP register (digest) -> netsip proxy --registrar (tcp, [::1])",
    ),
    (
        "matrix-proxy-404-via-udp",
        Play::Refused {
            uac: Proto::Udp,
            v6: false,
        },
        "Net::SIP uac -> netsip proxy -> Net::SIP 404 (udp)",
    ),
    (
        "matrix-proxy-404-via-tcp-to-udp",
        Play::Refused {
            uac: Proto::Tcp,
            v6: false,
        },
        "Net::SIP uac -> netsip proxy -> Net::SIP 404 (tcp -> udp)",
    ),
    (
        "matrix-proxy-404-via-tls-to-udp",
        Play::Refused {
            uac: Proto::Tls,
            v6: false,
        },
        "Net::SIP uac -> netsip proxy -> Net::SIP 404 (tls -> udp)",
    ),
    (
        "matrix-proxy-404-via-udp6",
        Play::Refused {
            uac: Proto::Udp,
            v6: true,
        },
        "Net::SIP uac -> netsip proxy -> Net::SIP 404 (udp, [::1])",
    ),
    (
        "matrix-proxy-registrar-perl-call-tcp",
        Play::PerlCall {
            proto: Proto::Tcp,
            v6: false,
        },
        "Net::SIP uac -> netsip proxy --registrar -> Net::SIP uas, RTP (tcp)",
    ),
    (
        "matrix-proxy-registrar-perl-call-tls",
        Play::PerlCall {
            proto: Proto::Tls,
            v6: false,
        },
        "Net::SIP uac -> netsip proxy --registrar -> Net::SIP uas, RTP (tls, sips:)",
    ),
    (
        "matrix-proxy-registrar-perl-call-udp6",
        Play::PerlCall {
            proto: Proto::Udp,
            v6: true,
        },
        "Net::SIP uac -> netsip proxy --registrar -> Net::SIP uas, RTP (udp, [::1])",
    ),
    (
        "matrix-proxy-block-405",
        Play::Blocked,
        "Net::SIP uac -> netsip proxy --block INVITE=405 (udp)",
    ),
    (
        "matrix-proxy-maddr",
        Play::Maddr,
        "Net::SIP uac (URI with maddr) -> netsip proxy -> Net::SIP 404 (udp)",
    ),
    (
        "matrix-endpoint-uac-perl-uas-tcp",
        Play::EndpointCall {
            proto: Proto::Tcp,
            v6: false,
        },
        "uac -> Net::SIP listen (tcp)",
    ),
    (
        "matrix-endpoint-uac-perl-uas-udp6",
        Play::EndpointCall {
            proto: Proto::Udp,
            v6: true,
        },
        "uac -> Net::SIP listen (udp, [::1])",
    ),
    (
        "matrix-endpoint-uac-perl-uas-tcp6",
        Play::EndpointCall {
            proto: Proto::Tcp,
            v6: true,
        },
        "uac -> Net::SIP listen (tcp, [::1])",
    ),
    (
        "matrix-endpoint-perl-register-call-tcp",
        Play::EndpointPerlCall {
            proto: Proto::Tcp,
            v6: false,
        },
        "Net::SIP register -> registrar, invite -> uas (tcp)",
    ),
    (
        "matrix-endpoint-perl-register-call-udp6",
        Play::EndpointPerlCall {
            proto: Proto::Udp,
            v6: true,
        },
        "Net::SIP register -> registrar, invite -> uas (udp, [::1])",
    ),
    (
        "matrix-endpoint-perl-register-call-tcp6",
        Play::EndpointPerlCall {
            proto: Proto::Tcp,
            v6: true,
        },
        "Net::SIP register -> registrar, invite -> uas (tcp, [::1])",
    ),
];

/// Where our programs are, the run's certificates, and where the Perl peers log TLS keys
/// for the judge.
struct Setup {
    netsip: PathBuf,
    uac: PathBuf,
    uas: PathBuf,
    registrar: PathBuf,
    certs: PathBuf,
    keylog: PathBuf,
}

/// Runs the selected matrix scenarios, logging into `out/<name>/`; one outcome each.
pub(super) fn run(out: &Path, target: &Path) -> Result<Vec<Outcome>> {
    let selected = super::selected(SCENARIOS);
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    crate::peers::ensure(&[crate::peers::NET_SIP, crate::peers::OPENSSL])?;
    super::build(&["-p", "sip-endpoint", "--examples"])?;
    super::build(&["-p", "netsip"])?;
    let setup = Setup {
        netsip: target.join("debug").join("netsip"),
        uac: target.join("debug").join("examples").join("uac"),
        uas: target.join("debug").join("examples").join("uas"),
        registrar: target.join("debug").join("examples").join("registrar"),
        certs: make_certs(&out.join("certs"))?,
        keylog: out.join(super::judge::KEYLOG),
    };
    for p in [&setup.netsip, &setup.uac, &setup.uas, &setup.registrar] {
        if !p.is_file() {
            bail!("{} is missing after the build", p.display());
        }
    }
    super::run_each(out, &selected, |play, dir| run_one(play, &setup, dir))
}

/// A throwaway CA and a leaf for 127.0.0.1, ::1 and localhost (P-256, two days), in `dir`:
/// `ca.pem`, `leg.pem`, `leg.key`.
pub(super) fn make_certs(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    std::fs::write(
        dir.join("leg.ext"),
        "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth,clientAuth\n",
    )?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=netsip interop CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
        [
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "leg.key",
                "-out",
                "leg.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "leg.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leg.pem",
            "-days",
            "2",
            "-extfile",
            "leg.ext",
        ],
    ];
    for args in steps {
        let out = Command::new(crate::peers::OPENSSL.program)
            .args(&args)
            .current_dir(dir)
            .output()
            .context("cannot run openssl")?;
        if !out.status.success() {
            bail!(
                "openssl {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    Ok(dir.to_path_buf())
}

pub(super) fn host(v6: bool) -> &'static str {
    if v6 {
        "[::1]"
    } else {
        "127.0.0.1"
    }
}

pub(super) fn ip(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    }
}

/// A leg's port from `ports`: TLS ports are noted as such for the judge.
pub(super) fn port_for(ports: &mut Ports, proto: Proto, ours: bool) -> Result<u16> {
    match (proto, ours) {
        (Proto::Tls, _) => ports.tls(ours),
        (_, true) => ports.ours(),
        (_, false) => ports.free(),
    }
}

/// A Perl peer; its TLS session keys go to `keylog` for the judge (see
/// `interop/lib/NetsipInterop.pm`).
pub(super) fn perl_script(folder: &str, name: &str, keylog: &Path) -> Command {
    let mut c = Command::new("perl");
    c.arg(crate::root().join("interop").join(folder).join(name))
        .env("NETSIP_TLS_KEYLOG", keylog);
    c
}

/// The running proxy and where it listens for each transport.
struct Proxy {
    server: NetsipServer,
    /// The port of its UDP and TCP legs.
    port: u16,
    /// The port of its TLS leg, if it has one.
    tls_port: Option<u16>,
}

/// Starts `netsip proxy` on UDP (and TCP when `tcp`, TLS when `tls`) of `host`, with `args`.
fn start_proxy(
    setup: &Setup,
    v6: bool,
    tcp: bool,
    tls: bool,
    args: &[String],
    ports: &mut Ports,
    dir: &Path,
) -> Result<std::result::Result<Proxy, Report>> {
    let port = ports.ours()?;
    let tls_port = if tls { Some(ports.tls(true)?) } else { None };
    let h = host(v6);
    let mut all = vec!["--listen".to_owned(), format!("udp:{h}:{port}")];
    if tcp {
        all.extend(["--listen".to_owned(), format!("tcp:{h}:{port}")]);
    }
    if let Some(t) = tls_port {
        all.extend(["--listen".to_owned(), format!("tls:{h}:{t}")]);
        let c = &setup.certs;
        for (opt, file) in [
            ("--tls-cert", "leg.pem"),
            ("--tls-key", "leg.key"),
            ("--tls-ca", "ca.pem"),
        ] {
            all.extend([opt.to_owned(), c.join(file).display().to_string()]);
        }
    }
    all.extend_from_slice(args);
    let legs = 1 + usize::from(tcp) + usize::from(tls);
    let mut server = NetsipServer::start(&setup.netsip, "proxy", &all, PROXY_LOG, dir, STOP_LIMIT)?;
    if let Err(e) = server.wait_listening(legs) {
        let mut r = Report::new();
        r.problems.push(format!("{e:#}"));
        add_proxy_evidence(&server, &mut r);
        return Ok(Err(r));
    }
    Ok(Ok(Proxy {
        server,
        port,
        tls_port,
    }))
}

fn add_proxy_evidence(proxy: &NetsipServer, r: &mut Report) {
    r.details.push_str("    netsip proxy stdout:\n");
    r.details.push_str(&tail(&proxy.stdout(), 5));
    r.details.push_str("    netsip proxy stderr:\n");
    r.details.push_str(&tail(&proxy.stderr(), 20));
}

/// SIGTERM to the proxy: it must exit 0.
fn stop_proxy(mut proxy: Proxy, r: &mut Report) {
    match proxy.server.stop() {
        Ok(status) if status.success() => {}
        Ok(status) => r
            .problems
            .push(format!("netsip proxy exited {status} after SIGTERM")),
        Err(e) => r.problems.push(format!("{e:#}")),
    }
    if !r.problems.is_empty() {
        add_proxy_evidence(&proxy.server, r);
    }
}

fn run_one(play: Play, setup: &Setup, dir: &Path) -> Result<Report> {
    let deadline = Instant::now() + SCENARIO_LIMIT;
    let mut ports = Ports::default();
    match play {
        Play::Register { proto, v6 } => register(proto, v6, setup, &mut ports, dir, deadline),
        Play::Refused { uac, v6 } => refused(uac, v6, setup, &mut ports, dir, deadline),
        Play::Blocked => blocked(setup, &mut ports, dir, deadline),
        Play::Maddr => maddr(setup, &mut ports, dir, deadline),
        Play::EndpointCall { proto, v6 } => {
            endpoint_call(proto, v6, setup, &mut ports, dir, deadline)
        }
        Play::PerlCall { proto, v6 } => perl_call(proto, v6, setup, &mut ports, dir, deadline),
        Play::EndpointPerlCall { proto, v6 } => {
            endpoint_perl_call(proto, v6, setup, &mut ports, dir, deadline)
        }
    }
}

/// The user registers over `proto` with its password (2xx), then with a wrong one (401 or
/// 403, not a timeout or another error).
fn register(
    proto: Proto,
    v6: bool,
    setup: &Setup,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
) -> Result<Report> {
    std::fs::write(dir.join("users"), format!("{AUTH_USER}:{AUTH_PASSWORD}\n"))?;
    let args = ["--registrar", "--auth-file", "users", "--realm", REALM].map(str::to_owned);
    let proxy = match start_proxy(
        setup,
        v6,
        proto == Proto::Tcp,
        proto == Proto::Tls,
        &args,
        ports,
        dir,
    )? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let mut r = Report::new();
    let target = proxy.tls_port.unwrap_or(proxy.port);
    for (name, password, expect) in [
        ("register_right", AUTH_PASSWORD, "ok"),
        ("register_wrong", "wrong-secret", "refused"),
    ] {
        let leg = port_for(ports, proto, false)?;
        let mut cmd = perl_script("proxy", "perl_register.pl", &setup.keylog);
        cmd.args(["--leg", &format!("{}:{leg}", host(v6))])
            .args(["--registrar", &format!("{}:{target}", host(v6))])
            .args(["--proto", proto.as_str()])
            .arg("--certs")
            .arg(&setup.certs)
            .args(["--user", &format!("{AUTH_USER}@{REALM}")])
            .args(["--password", password, "--expect", expect]);
        let mut p = Running::spawn(name, cmd, dir)?;
        let end = p.wait(deadline);
        super::proxy::check_register(
            &mut r,
            &p,
            end,
            expect,
            &format!("over {} with password {password:?}", proto.as_str()),
        );
    }
    stop_proxy(proxy, &mut r);
    Ok(r)
}

/// The caller on `uac` calls the callee (UDP) through the proxy; the callee answers 404.
fn refused(
    uac: Proto,
    v6: bool,
    setup: &Setup,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
) -> Result<Report> {
    let proxy = match start_proxy(
        setup,
        v6,
        uac == Proto::Tcp,
        uac == Proto::Tls,
        &[],
        ports,
        dir,
    )? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let mut r = Report::new();
    let uas_port = ports.free()?;
    let to = format!("sip:bob@{}:{uas_port}", host(v6));
    let proxy_port = match uac {
        Proto::Tls => proxy.tls_port.unwrap_or(proxy.port),
        _ => proxy.port,
    };
    call_through(
        CallThrough {
            uac,
            v6,
            proxy_port,
            uas_port: Some(uas_port),
            to: &to,
            route: false,
            expect: 404,
        },
        setup,
        ports,
        dir,
        deadline,
        &mut r,
    )?;
    // The callee sees the proxy's Via on top: the one of its UDP leg, on the proxy's port.
    check_callee_vias(&mut r, dir, proxy.port, uac);
    stop_proxy(proxy, &mut r);
    Ok(r)
}

/// The proxy answers INVITE with 405 itself.
fn blocked(setup: &Setup, ports: &mut Ports, dir: &Path, deadline: Instant) -> Result<Report> {
    let args = ["--block", "INVITE=405"].map(str::to_owned);
    let proxy = match start_proxy(setup, false, false, false, &args, ports, dir)? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let mut r = Report::new();
    // Nobody listens there: the request must not get that far.
    let to = format!("sip:bob@127.0.0.1:{}", ports.free()?);
    call_through(
        CallThrough {
            uac: Proto::Udp,
            v6: false,
            proxy_port: proxy.port,
            uas_port: None,
            to: &to,
            route: false,
            expect: 405,
        },
        setup,
        ports,
        dir,
        deadline,
        &mut r,
    )?;
    stop_proxy(proxy, &mut r);
    Ok(r)
}

/// The Request-URI names a host that does not exist and a maddr where the callee is; the
/// proxy is named in a Route header (see `perl_uac_probe.pl --route`).
fn maddr(setup: &Setup, ports: &mut Ports, dir: &Path, deadline: Instant) -> Result<Report> {
    let proxy = match start_proxy(setup, false, false, false, &[], ports, dir)? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let mut r = Report::new();
    let uas_port = ports.free()?;
    // `.invalid` never resolves (RFC 2606): only the maddr leads anywhere.
    let to = format!("<sip:bob@nowhere.invalid:{uas_port};maddr=127.0.0.1>");
    call_through(
        CallThrough {
            uac: Proto::Udp,
            v6: false,
            proxy_port: proxy.port,
            uas_port: Some(uas_port),
            to: &to,
            route: true,
            expect: 404,
        },
        setup,
        ports,
        dir,
        deadline,
        &mut r,
    )?;
    let uas = std::fs::read_to_string(dir.join("perl_uas_probe.stdout")).unwrap_or_default();
    if !uas.contains(&format!(
        "request INVITE sip:bob@nowhere.invalid:{uas_port};maddr=127.0.0.1"
    )) {
        r.problems
            .push("the callee did not get the INVITE with its maddr Request-URI".to_owned());
    }
    stop_proxy(proxy, &mut r);
    Ok(r)
}

/// One call through the proxy by the Perl probes.
struct CallThrough<'a> {
    uac: Proto,
    v6: bool,
    proxy_port: u16,
    /// Where the callee probe listens (UDP); `None`: no callee.
    uas_port: Option<u16>,
    to: &'a str,
    route: bool,
    expect: u16,
}

/// Runs the callee probe (if any) and the caller probe; both must exit 0 (the caller checks
/// the code and that the response carries only its own Via).
fn call_through(
    c: CallThrough<'_>,
    setup: &Setup,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
    r: &mut Report,
) -> Result<()> {
    let h = host(c.v6);
    let mut uas = None;
    if let Some(p) = c.uas_port {
        let mut cmd = perl_script("matrix", "perl_uas_probe.pl", &setup.keylog);
        cmd.args(["--leg", &format!("{h}:{p}")]).args([
            "--code",
            &c.expect.to_string(),
            "--timeout",
            "15",
        ]);
        let mut probe = Running::spawn("perl_uas_probe", cmd, dir)?;
        if let Err(e) = wait_bound_on(&mut probe, ip(c.v6), p, false, STARTUP_LIMIT) {
            r.problems.push(format!("{e:#}"));
            r.add_our_evidence(&probe);
            return Ok(());
        }
        uas = Some(probe);
    }
    let leg = port_for(ports, c.uac, false)?;
    let mut cmd = perl_script("matrix", "perl_uac_probe.pl", &setup.keylog);
    cmd.args(["--leg", &format!("{h}:{leg}")])
        .args(["--proxy", &format!("{h}:{}", c.proxy_port)])
        .args(["--proto", c.uac.as_str()])
        .arg("--certs")
        .arg(&setup.certs)
        .args(["--to", c.to, "--expect", &c.expect.to_string()]);
    if c.route {
        cmd.arg("--route");
    }
    let mut caller = Running::spawn("perl_uac_probe", cmd, dir)?;
    let caller_end = caller.wait(deadline);
    r.check_ours(&caller, caller_end);
    if let Some(mut probe) = uas {
        let end = probe.wait(deadline);
        r.check_ours(&probe, end);
        r.add_evidence_if_failed(&[&probe]);
    }
    r.add_evidence_if_failed(&[&caller]);
    Ok(())
}

/// What the callee probe printed of one request: its start and its Vias, top first.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    start: String,
    vias: Vec<String>,
}

/// The requests in the callee probe's output.
fn requests(out: &str) -> Vec<Seen> {
    let mut seen: Vec<Seen> = Vec::new();
    for l in out.lines() {
        if let Some(start) = l.strip_prefix("request ") {
            seen.push(Seen {
                start: start.to_owned(),
                vias: Vec::new(),
            });
        } else if let (Some(via), Some(last)) = (l.strip_prefix("via: "), seen.last_mut()) {
            last.vias.push(via.to_owned());
        }
    }
    seen
}

/// The `branch` parameter of a Via value.
fn branch(via: &str) -> Option<&str> {
    via.split(';')
        .find_map(|p| p.trim().strip_prefix("branch="))
}

/// The INVITE and its ACK reached the callee, each with two Vias: the proxy's (UDP, on
/// `proxy_port`) on top of the caller's (`uac`); the ACK of the 404 with the INVITE's
/// branch, so that the callee's server transaction matches it (RFC 3261 §17.2.3).
fn check_callee_vias(r: &mut Report, dir: &Path, proxy_port: u16, uac: Proto) {
    let out = std::fs::read_to_string(dir.join("perl_uas_probe.stdout")).unwrap_or_default();
    let seen = requests(&out);
    let problems = via_problems(&seen, proxy_port, uac);
    if !problems.is_empty() {
        r.problems.extend(problems);
        r.details.push_str("    perl_uas_probe stdout:\n");
        r.details.push_str(&tail(&out, 12));
    }
}

fn via_problems(seen: &[Seen], proxy_port: u16, uac: Proto) -> Vec<String> {
    let mut problems = Vec::new();
    let find = |m: &str| seen.iter().find(|s| s.start.starts_with(&format!("{m} ")));
    let (Some(invite), Some(ack)) = (find("INVITE"), find("ACK")) else {
        problems.push(format!(
            "the callee did not see both the INVITE and the ACK of the 404 (saw: {:?})",
            seen.iter().map(|s| s.start.as_str()).collect::<Vec<_>>()
        ));
        return problems;
    };
    let caller_proto = format!("SIP/2.0/{}", uac.as_str().to_ascii_uppercase());
    for s in [invite, ack] {
        let method = s.start.split(' ').next().unwrap_or("?");
        match s.vias.as_slice() {
            [top, second] => {
                if !(top.starts_with("SIP/2.0/UDP ") && top.contains(&format!(":{proxy_port};"))) {
                    problems.push(format!(
                        "{method} at the callee: the top Via is not the proxy's UDP leg on port \
                         {proxy_port}: {top}"
                    ));
                }
                if !second.starts_with(&caller_proto) {
                    problems.push(format!(
                        "{method} at the callee: the second Via is not the caller's \
                         {caller_proto}: {second}"
                    ));
                }
            }
            vias => problems.push(format!(
                "{method} at the callee has {} Vias, expected 2 (proxy on top of caller): {vias:?}",
                vias.len()
            )),
        }
    }
    let top_branch = |s: &Seen| s.vias.first().and_then(|v| branch(v)).map(str::to_owned);
    if top_branch(invite).is_none() || top_branch(invite) != top_branch(ack) {
        problems.push(format!(
            "the ACK of the 404 left the proxy with branch {:?}, the INVITE with {:?}: the \
             callee's INVITE transaction cannot match it (RFC 3261 §17.2.3)",
            top_branch(ack),
            top_branch(invite)
        ));
    }
    problems
}

/// Bob registers at the proxy over `proto`, alice calls his AOR through the proxy over
/// `proto` (a `sips:` AOR over TLS: RFC 3261 §19.1.4, sip: and sips: never match) and sends
/// RTP, which bob echoes.
fn perl_call(
    proto: Proto,
    v6: bool,
    setup: &Setup,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
) -> Result<Report> {
    let args = ["--registrar".to_owned()];
    let proxy = match start_proxy(
        setup,
        v6,
        proto == Proto::Tcp,
        proto == Proto::Tls,
        &args,
        ports,
        dir,
    )? {
        Ok(p) => p,
        Err(r) => return Ok(r),
    };
    let mut r = Report::new();
    let h = host(v6);
    let target = format!("{h}:{}", proxy.tls_port.unwrap_or(proxy.port));
    let scheme = if proto == Proto::Tls { "sips" } else { "sip" };
    let perl = |script: &str, leg: u16| {
        let mut c = perl_script("proxy", script, &setup.keylog);
        c.args(["--leg", &format!("{h}:{leg}")])
            .args(["--proxy", &target])
            .args(["--proto", proto.as_str()])
            .arg("--certs")
            .arg(&setup.certs);
        c
    };
    let mut cmd = perl("perl_uas.pl", port_for(ports, proto, false)?);
    cmd.args(["--user", "bob@example.com", "--timeout", "20"]);
    let mut uas = Running::spawn("perl_uas", cmd, dir)?;
    let meaning = format!(
        ": the REGISTER of bob at the proxy's registrar over {} failed",
        proto.as_str()
    );
    if !r.started(&mut uas, "registered for ", &meaning) {
        stop_proxy(proxy, &mut r);
        return Ok(r);
    }
    let mut cmd = perl("perl_uac.pl", port_for(ports, proto, false)?);
    cmd.args(["--to", &format!("{scheme}:bob@example.com")]);
    let mut uac = Running::spawn("perl_uac", cmd, dir)?;
    let uac_end = uac.wait(deadline);
    let uas_end = uas.wait(deadline);
    r.check_ours(&uac, uac_end);
    r.check_ours(&uas, uas_end);
    for (p, lines) in [
        (&uac, &["call up", "call torn down"][..]),
        (&uas, &["established", "call set up and torn down"][..]),
    ] {
        let out = p.stdout();
        for want in lines {
            if !out.lines().any(|l| l.starts_with(want)) {
                r.problems
                    .push(format!("{} never printed {want:?}", p.name()));
            }
        }
    }
    let back = uac.stdout().lines().find_map(|l| {
        l.strip_prefix("received ")?
            .split(' ')
            .next()?
            .parse::<u32>()
            .ok()
    });
    if uac_end.success() && back.unwrap_or(0) == 0 {
        r.problems.push(
            "perl_uac got no RTP echoed back: the SDP carried through the proxy does not lead \
             to the callee's media socket"
                .to_owned(),
        );
    }
    r.add_evidence_if_failed(&[&uac, &uas]);
    stop_proxy(proxy, &mut r);
    Ok(r)
}

/// Our `uac` example calls the Perl callee over `proto` on `host(v6)`.
fn endpoint_call(
    proto: Proto,
    v6: bool,
    setup: &Setup,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
) -> Result<Report> {
    let mut r = Report::new();
    let h = host(v6);
    let port = ports.free()?;
    let mut cmd = perl_script("endpoint", "perl_uas.pl", &setup.keylog);
    cmd.args(["--listen", &format!("{h}:{port}")]).args([
        "--proto",
        proto.as_str(),
        "--timeout",
        "20",
    ]);
    let mut perl = Running::spawn("perl_uas", cmd, dir)?;
    if let Err(e) = wait_bound_on(&mut perl, ip(v6), port, proto != Proto::Udp, STARTUP_LIMIT) {
        r.problems.push(format!("{e:#}"));
        r.add_our_evidence(&perl);
        return Ok(r);
    }
    let p = proto.as_str();
    let mut cmd = our(&setup.uac);
    cmd.args(["--to", &format!("{p}:{h}:{port}")])
        .args(["--listen", &format!("{p}:{h}:{}", ports.ours()?)])
        .args(["--user", "perl", "--timeout", "20"]);
    let mut uac = Running::spawn("uac", cmd, dir)?;
    let uac_end = uac.wait(deadline);
    let perl_end = perl.wait(deadline);
    r.check_ours(&uac, uac_end);
    r.check_ours(&perl, perl_end);
    for (who, p, lines) in [
        (
            "uac",
            &uac,
            &["response 200 INVITE", "response 200 BYE"][..],
        ),
        (
            "perl_uas",
            &perl,
            &["established", "call set up and torn down"][..],
        ),
    ] {
        let out = p.stdout();
        for want in lines {
            if !out.lines().any(|l| l.starts_with(want)) {
                r.problems.push(format!("{who} never printed {want:?}"));
            }
        }
    }
    r.add_evidence_if_failed(&[&uac, &perl]);
    Ok(r)
}

/// The Perl client registers at our `registrar` example and calls our `uas` example, all
/// over `proto` on `host(v6)`.
fn endpoint_perl_call(
    proto: Proto,
    v6: bool,
    setup: &Setup,
    ports: &mut Ports,
    dir: &Path,
    deadline: Instant,
) -> Result<Report> {
    let mut r = Report::new();
    let (h, p) = (host(v6), proto.as_str());
    let (reg_port, uas_port) = (ports.ours()?, ports.ours()?);
    let mut cmd = our(&setup.registrar);
    cmd.args(["--listen", &format!("{p}:{h}:{reg_port}")])
        .args(["--registrations", "1", "--timeout", "25"]);
    let mut registrar = Running::spawn("registrar", cmd, dir)?;
    let mut cmd = our(&setup.uas);
    cmd.args(["--listen", &format!("{p}:{h}:{uas_port}")])
        .args(["--calls", "1", "--timeout", "25"]);
    let mut uas = Running::spawn("uas", cmd, dir)?;
    for (server, port) in [(&mut registrar, reg_port), (&mut uas, uas_port)] {
        if let Err(e) = wait_bound_on(server, ip(v6), port, proto != Proto::Udp, STARTUP_LIMIT) {
            r.problems.push(format!("{e:#}"));
            r.add_our_evidence(server);
            return Ok(r);
        }
    }
    let mut cmd = perl_script("endpoint", "perl_uac.pl", &setup.keylog);
    cmd.args(["--leg", &format!("{h}:{}", ports.free()?)])
        .args(["--registrar", &format!("{h}:{reg_port}")])
        .args(["--to", &format!("{h}:{uas_port}")])
        .args(["--proto", p]);
    let mut perl = Running::spawn("perl_uac", cmd, dir)?;
    let perl_end = perl.wait(deadline);
    let uas_end = uas.wait(deadline);
    let reg_end = registrar.wait(deadline);
    r.check_ours(&perl, perl_end);
    r.check_ours(&registrar, reg_end);
    r.check_ours(&uas, uas_end);
    for (who, lines) in [
        (&perl, &["registered for ", "call up", "call torn down"][..]),
        (&registrar, &["registered "][..]),
        (&uas, &["INVITE ", "ACK ", "BYE "][..]),
    ] {
        let out = who.stdout();
        for want in lines {
            if !out.lines().any(|l| l.starts_with(want)) {
                r.problems
                    .push(format!("{} never printed {want:?}", who.name()));
            }
        }
    }
    r.add_evidence_if_failed(&[&perl, &registrar, &uas]);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLEE: &str = "listening on 127.0.0.1:20010 (udp)\n\
        request INVITE sip:bob@127.0.0.1:20010\n\
        via: SIP/2.0/UDP 127.0.0.1:20000;branch=z9hG4bK-sp-1;received=127.0.0.1;rport=20000\n\
        via: SIP/2.0/TCP 127.0.0.1:20020;branch=z9hG4bKa\n\
        request ACK sip:bob@127.0.0.1:20010\n\
        via: SIP/2.0/UDP 127.0.0.1:20000;branch=z9hG4bK-sp-1;received=127.0.0.1;rport=20000\n\
        via: SIP/2.0/TCP 127.0.0.1:20020;branch=z9hG4bKa\n";

    #[test]
    fn the_callee_output_parses_into_requests_with_their_vias() {
        let seen = requests(CALLEE);
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].start, "ACK sip:bob@127.0.0.1:20010");
        assert_eq!(seen[0].vias.len(), 2);
        assert_eq!(branch(&seen[0].vias[0]), Some("z9hG4bK-sp-1"));
    }

    #[test]
    fn the_expected_via_order_passes() {
        assert!(via_problems(&requests(CALLEE), 20000, Proto::Tcp).is_empty());
    }

    #[test]
    fn a_swapped_order_a_missing_ack_and_a_new_branch_are_problems() {
        let swapped = CALLEE
            .replace("via: SIP/2.0/UDP", "via: X")
            .replace("via: SIP/2.0/TCP", "via: SIP/2.0/UDP")
            .replace("via: X", "via: SIP/2.0/TCP");
        let p = via_problems(&requests(&swapped), 20000, Proto::Tcp);
        assert!(p.iter().any(|p| p.contains("top Via")), "{p:?}");

        let no_ack: String = CALLEE.lines().take(4).map(|l| format!("{l}\n")).collect();
        let p = via_problems(&requests(&no_ack), 20000, Proto::Tcp);
        assert!(p[0].contains("did not see both"), "{p:?}");

        let mut seen = requests(CALLEE);
        seen[1].vias[0] = seen[1].vias[0].replace("sp-1", "sp-9");
        let p = via_problems(&seen, 20000, Proto::Tcp);
        assert!(p.iter().any(|p| p.contains("§17.2.3")), "{p:?}");

        let one_via = CALLEE.replace("via: SIP/2.0/TCP 127.0.0.1:20020;branch=z9hG4bKa\n", "");
        let p = via_problems(&requests(&one_via), 20000, Proto::Tcp);
        assert!(p.iter().any(|p| p.contains("has 1 Vias")), "{p:?}");
    }
}
