//! `netsip call TO --from URI [--listen ADDR] [--proxy HOST:PORT] [--registrar HOST:PORT]
//! [--username U --password P] [--send FILE]... [--record FILE] [--dtmf DIGITS]
//! [--duration S]`: Net::SIP's invite_and_send.pl, invite_and_recv.pl and dtmf.pl in one.
//!
//! Calls TO, sends the files one after the other (a re-INVITE between two files only where
//! the codec changes: a μ-law file after an A-law one), records what comes back, sends the
//! DTMF digits once the call is up, and hangs up when the files are sent or after S seconds,
//! whichever comes first (the peer may hang up before). Exit status: see [`Failure`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sip_simple::media::{AudioCodec, AudioFile};
use sip_simple::{
    CallError, CallEvent, CallOptions, DtmfMode, EndReason, Media, Recorder, Simple, SimpleConfig,
};
use sip_transport::TransportAddr;
use tokio::sync::broadcast::error::RecvError;

use crate::daemon::init_tracing;
use crate::tls_args::TlsArgs;

/// Arguments of `netsip call`.
#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    /// Whom to call: a SIP URI (sip:bob@example.com) or user@host.
    #[arg(value_name = "TO")]
    to: String,
    #[command(flatten)]
    ua: UaArgs,
    /// An audio file to send: WAV (16-bit PCM, μ-law or A-law, 8 kHz mono) or raw G.711
    /// (.pcmu/.ulaw, .pcma/.alaw). Repeat to send several in turn.
    #[arg(long = "send", value_name = "FILE")]
    send: Vec<PathBuf>,
    /// Record what the peer sends into FILE: a 16-bit PCM WAV file, or raw G.711 codes as
    /// Net::SIP writes them when FILE ends in .pcmu/.ulaw or .pcma/.alaw.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Send these DTMF digits (0-9, A-D, *, #; - pauses) once the call is up.
    #[arg(long, value_name = "DIGITS")]
    dtmf: Option<String>,
    /// How DTMF is sent: RFC 4733 events, in-band tones, or events when the peer takes them.
    #[arg(long, value_enum, default_value_t = DtmfArg::Auto)]
    dtmf_mode: DtmfArg,
    /// Hang up after S seconds of call (fractions allowed); without it the call lasts until
    /// the files are sent, or (with no files) until the peer hangs up.
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    duration: Option<Duration>,
    /// Give up (CANCEL) when nobody answers within S seconds (Net::SIP's ring time).
    #[arg(long, value_name = "S", value_parser = parse_seconds, default_value = "30")]
    ring_timeout: Duration,
    /// Codecs to offer, in order of preference; repeat for several (default: pcmu, pcma).
    #[arg(long = "codec", value_enum, value_name = "CODEC")]
    codecs: Vec<CodecArg>,
}

/// What `call`, `answer` and `bench` share: who we are, where we listen, how we register.
#[derive(Debug, clap::Args)]
pub(crate) struct UaArgs {
    /// Our address (From): a SIP URI such as sip:alice@example.com.
    #[arg(long, value_name = "URI")]
    pub(crate) from: Option<String>,
    /// Where our SIP listens: udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT (IPv6 as [::1]);
    /// port 0 picks a free one. RTP uses the same address.
    #[arg(long, value_name = "ADDR", default_value = "udp:127.0.0.1:0")]
    pub(crate) listen: String,
    /// Send every request through this outgoing proxy (HOST:PORT or a SIP URI).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) proxy: Option<String>,
    /// Register at this registrar (HOST:PORT or a SIP URI) before anything else.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) registrar: Option<String>,
    /// User name for digest authentication (401/407), with --password.
    #[arg(long, value_name = "U", requires = "password")]
    pub(crate) username: Option<String>,
    /// Password for digest authentication, with --username.
    #[arg(long, value_name = "P", requires = "username")]
    pub(crate) password: Option<String>,
    /// Take RTP/RTCP port pairs from LOW-HIGH (default: ports the OS picks).
    #[arg(long, value_name = "LOW-HIGH", value_parser = parse_port_range)]
    pub(crate) rtp_ports: Option<(u16, u16)>,
    /// The certificates of a tls: --listen (boxed: rarely given, and it keeps the
    /// subcommand enum small).
    #[command(flatten)]
    pub(crate) tls: Box<TlsArgs>,
}

impl UaArgs {
    /// The --listen address, checked.
    pub(crate) fn listen_addr(&self) -> Result<TransportAddr> {
        self.listen
            .parse()
            .map_err(|e| anyhow::anyhow!("--listen {:?}: {e}", self.listen))
    }

    /// The user agent's configuration; `default_user` names us when there is no --from.
    pub(crate) fn config(&self, default_user: &str) -> Result<SimpleConfig> {
        let listen = self.listen_addr()?;
        let from = match &self.from {
            Some(f) => f.clone(),
            None => match listen.addr.ip() {
                std::net::IpAddr::V4(ip) => format!("sip:{default_user}@{ip}"),
                std::net::IpAddr::V6(ip) => format!("sip:{default_user}@[{ip}]"),
            },
        };
        let mut config = SimpleConfig::new(from).leg(self.tls.load()?.leg(listen));
        if let Some(p) = &self.proxy {
            config = config.outgoing_proxy(p.clone());
        }
        if let Some(r) = &self.registrar {
            config = config.registrar(r.clone());
        }
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            config = config.credentials(u.clone(), p.clone());
        }
        if let Some((low, high)) = self.rtp_ports {
            config = config.rtp_ports(low..=high);
        }
        Ok(config)
    }
}

/// `--dtmf-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DtmfArg {
    /// RFC 4733 telephone-events when the peer took them, else tones.
    Auto,
    /// RFC 4733 telephone-events only.
    Rfc4733,
    /// Tones in the audio.
    Inband,
}

/// `--codec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CodecArg {
    /// G.711 μ-law (PCMU/8000).
    Pcmu,
    /// G.711 A-law (PCMA/8000).
    Pcma,
}

impl From<CodecArg> for AudioCodec {
    fn from(c: CodecArg) -> Self {
        match c {
            CodecArg::Pcmu => Self::Pcmu,
            CodecArg::Pcma => Self::Pcma,
        }
    }
}

/// How `netsip call` failed, and the exit status that says so.
///
/// | status | meaning |
/// | --- | --- |
/// | 0 | the call was set up and ended (by us or by the peer) |
/// | 1 | a local problem: bad file, cannot listen, registration failed |
/// | 2 | bad command line |
/// | 3, 4, 5, 6 | the call was refused with a final response of that class (486 gives 4) |
/// | 7 | nobody answered within --ring-timeout: the call was cancelled |
/// | 8 | no final response at all (transaction timeout, unreachable) |
/// | 9 | the call was set up but dropped: no RTP from the peer, or a failed request |
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// Refused with a final response.
    #[error("{to} refused the call: {status} {reason}")]
    Refused {
        /// Whom we called.
        to: String,
        /// The status.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// Nobody answered in time.
    #[error("{to} did not answer within {seconds} s: call cancelled")]
    NoAnswer {
        /// Whom we called.
        to: String,
        /// The ring timeout.
        seconds: f64,
    },
    /// No final response.
    #[error("calling {to}: {detail}")]
    NoResponse {
        /// Whom we called.
        to: String,
        /// What went wrong.
        detail: String,
    },
    /// Set up, then dropped.
    #[error("the call with {to} was dropped: {reason}")]
    Dropped {
        /// Whom we called.
        to: String,
        /// Why it ended.
        reason: String,
    },
    /// Anything local.
    #[error(transparent)]
    Local(#[from] anyhow::Error),
}

impl Failure {
    /// The exit status (see the table above).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Refused { status, .. } => match status / 100 {
                c @ 3..=6 => c as u8,
                _ => 1,
            },
            Self::NoAnswer { .. } => 7,
            Self::NoResponse { .. } => 8,
            Self::Dropped { .. } => 9,
            Self::Local(_) => 1,
        }
    }

    /// What an error of the INVITE means for the caller.
    fn from_invite(to: &str, ring: Duration, e: CallError) -> Self {
        match e {
            CallError::Rejected { status, reason } => Self::Refused {
                to: to.to_owned(),
                status,
                reason,
            },
            CallError::NoAnswer | CallError::Cancelled => Self::NoAnswer {
                to: to.to_owned(),
                seconds: ring.as_secs_f64(),
            },
            CallError::Failed { detail, .. } => Self::NoResponse {
                to: to.to_owned(),
                detail,
            },
            CallError::Ended(EndReason::Rejected { status, reason }) => Self::Refused {
                to: to.to_owned(),
                status,
                reason,
            },
            CallError::Ended(EndReason::NoAnswer) => Self::NoAnswer {
                to: to.to_owned(),
                seconds: ring.as_secs_f64(),
            },
            other => Self::Local(anyhow::Error::new(other).context(format!("calling {to}"))),
        }
    }
}

/// Runs `netsip call`; prints the error and returns its exit status.
pub(crate) fn main(args: &CallArgs) -> ExitCode {
    init_tracing();
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")
        .map_err(Failure::from)
        .and_then(|rt| rt.block_on(call(args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The files to send, grouped into runs that one offer/answer serves: a file without a codec
/// of its own (16-bit PCM) joins the run before it; a file in another codec starts a new run
/// (and so a re-INVITE).
pub(crate) fn codec_runs(files: Vec<AudioFile>) -> Vec<(Option<AudioCodec>, Vec<AudioFile>)> {
    let mut runs: Vec<(Option<AudioCodec>, Vec<AudioFile>)> = Vec::new();
    for f in files {
        let hint = f.codec_hint();
        match runs.last_mut() {
            Some((codec, run)) if hint.is_none() || *codec == hint || codec.is_none() => {
                if codec.is_none() {
                    *codec = hint;
                }
                run.push(f);
            }
            _ => runs.push((hint, vec![f])),
        }
    }
    runs
}

/// A recorder for `path`: raw G.711 for the extensions Net::SIP's raw files use
/// (`.pcmu`/`.ulaw`, `.pcma`/`.alaw`), else a 16-bit PCM WAV file.
pub(crate) fn recorder(path: &std::path::Path) -> Result<Recorder> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let r = match ext.as_str() {
        "pcmu" | "ulaw" | "ul" => Recorder::raw(path, AudioCodec::Pcmu),
        "pcma" | "alaw" | "al" => Recorder::raw(path, AudioCodec::Pcma),
        _ => Recorder::wav(path),
    };
    Ok(r?)
}

/// The codecs to offer: `preferred` first, then the rest of `configured` (or the default).
fn offer(preferred: Option<AudioCodec>, configured: &[CodecArg]) -> Vec<AudioCodec> {
    let mut codecs: Vec<AudioCodec> = if configured.is_empty() {
        vec![AudioCodec::Pcmu, AudioCodec::Pcma]
    } else {
        configured.iter().map(|c| AudioCodec::from(*c)).collect()
    };
    if let Some(p) = preferred {
        codecs.retain(|c| *c != p);
        codecs.insert(0, p);
    }
    codecs
}

/// Starts the user agent of `ua` (named `default_user` without --from), prints where it
/// listens (`listening on udp:127.0.0.1:5070`) and registers when --registrar is given.
pub(crate) async fn start(ua: &UaArgs, default_user: &str) -> Result<Simple> {
    let simple = bind(ua, default_user).await?;
    announce(&simple, ua).await?;
    Ok(simple)
}

/// Starts the user agent of `ua` (named `default_user` without --from), quietly.
pub(crate) async fn bind(ua: &UaArgs, default_user: &str) -> Result<Simple> {
    Simple::new(ua.config(default_user)?)
        .await
        .with_context(|| format!("cannot listen on {}", ua.listen))
}

/// Prints where `simple` listens and registers it when --registrar is given.
pub(crate) async fn announce(simple: &Simple, ua: &UaArgs) -> Result<()> {
    let protocol = ua.listen_addr()?.protocol;
    for addr in simple.local_addrs() {
        println!("listening on {}", TransportAddr::new(protocol, addr));
    }
    if let Some(registrar) = &ua.registrar {
        simple
            .register()
            .await
            .with_context(|| format!("registration at {registrar} failed"))?;
        println!("registered at {registrar}");
    }
    Ok(())
}

async fn call(args: &CallArgs) -> Result<(), Failure> {
    let files = args
        .send
        .iter()
        .map(|p| AudioFile::read(p).with_context(|| format!("--send {}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    let mut runs = codec_runs(files).into_iter();
    let recorder = match &args.record {
        Some(path) => Some(recorder(path).with_context(|| format!("--record {}", path.display()))?),
        None => None,
    };
    if let Some(digits) = &args.dtmf {
        if let Some(bad) = digits
            .chars()
            .find(|c| !(c.is_ascii_digit() || "ABCDabcd*#-".contains(*c)))
        {
            return Err(anyhow::anyhow!(
                "--dtmf {digits:?}: {bad:?} is not a DTMF digit (0-9, A-D, *, #, - for a pause)"
            )
            .into());
        }
    }

    let simple = start(&args.ua, "netsip").await?;

    let first = runs.next();
    let sending = first.is_some();
    let (codec, files) = first.unwrap_or((None, Vec::new()));
    let mut media = if sending {
        Media::send_recv(files, None)
    } else {
        Media::silence()
    };
    if let Some(r) = recorder {
        media = media.record(r);
    }
    let options = CallOptions::new()
        .media(media)
        .codecs(offer(codec, &args.codecs))
        .ring_timeout(Some(args.ring_timeout));
    println!("calling {}", args.to);
    let call = simple
        .invite(&args.to, options)
        .await
        .map_err(|e| Failure::from_invite(&args.to, args.ring_timeout, e))?;
    let mut events = call.events();
    println!("call established");
    // --duration counts from the answer, DTMF included.
    let hangup_at = args.duration.map(|d| tokio::time::Instant::now() + d);

    if let Some(digits) = &args.dtmf {
        let mode = match args.dtmf_mode {
            DtmfArg::Auto => DtmfMode::Auto,
            DtmfArg::Rfc4733 => DtmfMode::Rfc4733,
            DtmfArg::Inband => DtmfMode::InBand,
        };
        call.send_dtmf(digits, mode)
            .await
            .context("cannot send the DTMF digits")?;
        println!("dtmf sent {digits}");
    }

    let sleep_until = async {
        match hangup_at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep_until);
    // Ctrl-C or SIGTERM hangs up properly (BYE) instead of leaving the peer to time out.
    // A signal that cannot be watched never comes.
    let interrupted = async {
        match crate::daemon::shutdown_signal().await {
            Ok(name) => name,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::pin!(interrupted);
    let mut media_pending = sending;
    let ended: Option<EndReason> = loop {
        // Hang up when the files are sent or at --duration, whichever comes first.
        if sending && !media_pending {
            break None;
        }
        tokio::select! {
            () = &mut sleep_until => break None,
            signal = &mut interrupted => {
                println!("{signal}: hanging up");
                break None;
            }
            event = events.recv() => match event {
                Ok(CallEvent::Dtmf(d)) => println!("dtmf received {d}"),
                Ok(CallEvent::MediaDone) => {
                    match runs.next() {
                        Some((codec, files)) => {
                            println!(
                                "re-INVITE for {}",
                                codec.map_or("the next file", AudioCodec::name)
                            );
                            call.reinvite(Media::send_recv(files, None))
                                .await
                                .context("the re-INVITE for the next file failed")?;
                        }
                        None => {
                            println!("files sent");
                            media_pending = false;
                        }
                    }
                }
                Ok(CallEvent::Ended(why)) => break Some(why),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break Some(EndReason::Shutdown),
            },
        }
    };
    let why = match ended {
        Some(why) => why,
        None => {
            call.hangup().await.context("hang-up failed")?;
            EndReason::LocalHangup
        }
    };
    let stats = call.stats();
    println!(
        "media: sent {} packets, received {}, lost {}, jitter {:.1} ms",
        stats.packets_sent,
        stats.packets_received,
        stats.packets_lost,
        stats.jitter.as_secs_f64() * 1000.0
    );
    println!("call ended: {why}");
    match why {
        EndReason::LocalHangup | EndReason::RemoteHangup => Ok(()),
        other => Err(Failure::Dropped {
            to: args.to.clone(),
            reason: other.to_string(),
        }),
    }
}

/// The tokio runtime of `answer` and `bench`: `threads` workers (0: one per core), or the
/// current thread alone for 1 (no hand-over between threads for each packet).
pub(crate) fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        if threads > 1 {
            b.worker_threads(threads);
        }
        b
    };
    builder
        .enable_all()
        .build()
        .context("cannot start the runtime")
}

/// `2.5` -> 2.5 s.
pub(crate) fn parse_seconds(s: &str) -> Result<Duration> {
    let v: f64 = s
        .trim()
        .parse()
        .with_context(|| format!("{s:?} is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=1e7).contains(&v) {
        bail!("{s:?} is not a number of seconds between 0 and 10000000");
    }
    Ok(Duration::from_secs_f64(v))
}

/// `30000-30999` -> (30000, 30999).
pub(crate) fn parse_port_range(s: &str) -> Result<(u16, u16)> {
    let (low, high) = s
        .split_once('-')
        .with_context(|| format!("{s:?} is not a port range LOW-HIGH"))?;
    let low: u16 = low
        .trim()
        .parse()
        .with_context(|| format!("bad low port in {s:?}"))?;
    let high: u16 = high
        .trim()
        .parse()
        .with_context(|| format!("bad high port in {s:?}"))?;
    if low == 0 || high < low.saturating_add(1) {
        bail!("{s:?}: the range must hold at least two ports, the first not 0");
    }
    Ok((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, codec: Option<AudioCodec>) -> AudioFile {
        match codec {
            None => AudioFile::from_samples(name, vec![0; 160]),
            Some(c) => {
                let ext = match c {
                    AudioCodec::Pcmu => "pcmu",
                    AudioCodec::Pcma => "pcma",
                };
                AudioFile::from_bytes(&format!("{name}.{ext}"), &[c.silence_byte(); 160]).unwrap()
            }
        }
    }

    fn shape(runs: &[(Option<AudioCodec>, Vec<AudioFile>)]) -> Vec<(Option<AudioCodec>, usize)> {
        runs.iter().map(|(c, f)| (*c, f.len())).collect()
    }

    #[test]
    fn files_of_one_codec_share_a_run_and_a_codec_change_starts_one() {
        use AudioCodec::{Pcma, Pcmu};
        let runs = codec_runs(vec![
            file("a", Some(Pcmu)),
            file("b", Some(Pcmu)),
            file("c", None),
            file("d", Some(Pcma)),
            file("e", Some(Pcmu)),
        ]);
        assert_eq!(
            shape(&runs),
            vec![(Some(Pcmu), 3), (Some(Pcma), 1), (Some(Pcmu), 1)]
        );
        // Linear PCM first: the first coded file decides the run's codec.
        let runs = codec_runs(vec![
            file("a", None),
            file("b", Some(Pcma)),
            file("c", None),
        ]);
        assert_eq!(shape(&runs), vec![(Some(Pcma), 3)]);
        assert!(codec_runs(Vec::new()).is_empty());
    }

    #[test]
    fn the_offer_puts_the_file_codec_first() {
        use AudioCodec::{Pcma, Pcmu};
        assert_eq!(offer(None, &[]), vec![Pcmu, Pcma]);
        assert_eq!(offer(Some(Pcma), &[]), vec![Pcma, Pcmu]);
        assert_eq!(offer(Some(Pcma), &[CodecArg::Pcmu]), vec![Pcma, Pcmu]);
        assert_eq!(offer(None, &[CodecArg::Pcma]), vec![Pcma]);
    }

    #[test]
    fn exit_codes_say_what_happened() {
        let refused = |status| Failure::Refused {
            to: "sip:b@h".into(),
            status,
            reason: "x".into(),
        };
        assert_eq!(refused(486).exit_code(), 4);
        assert_eq!(refused(404).exit_code(), 4);
        assert_eq!(refused(302).exit_code(), 3);
        assert_eq!(refused(503).exit_code(), 5);
        assert_eq!(refused(603).exit_code(), 6);
        assert_eq!(refused(199).exit_code(), 1);
        let ring = Duration::from_secs(3);
        assert_eq!(
            Failure::from_invite("b", ring, CallError::NoAnswer).exit_code(),
            7
        );
        let timeout = CallError::Failed {
            method: "INVITE".into(),
            detail: "timeout".into(),
        };
        assert_eq!(Failure::from_invite("b", ring, timeout).exit_code(), 8);
        let busy = CallError::Rejected {
            status: 486,
            reason: "Busy Here".into(),
        };
        let f = Failure::from_invite("sip:b@h", ring, busy);
        assert_eq!(f.exit_code(), 4);
        assert_eq!(f.to_string(), "sip:b@h refused the call: 486 Busy Here");
        assert_eq!(
            Failure::from_invite("b", ring, CallError::DtmfNotNegotiated).exit_code(),
            1
        );
    }

    #[test]
    fn runtimes_of_one_and_of_several_threads_run_tasks() {
        for threads in [0, 1, 2] {
            let rt = runtime(threads).unwrap();
            let got = rt.block_on(async { tokio::spawn(async { 7 }).await.unwrap() });
            assert_eq!(got, 7, "{threads} threads");
        }
    }

    #[test]
    fn seconds_and_port_ranges_parse_or_say_why_not() {
        assert_eq!(parse_seconds("2.5").unwrap(), Duration::from_millis(2500));
        assert_eq!(parse_seconds("0").unwrap(), Duration::ZERO);
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("inf").is_err());
        assert_eq!(parse_port_range("30000-30999").unwrap(), (30000, 30999));
        assert!(parse_port_range("30000").is_err());
        assert!(parse_port_range("0-10").is_err());
        assert!(parse_port_range("10-10").is_err());
        assert!(parse_port_range("10-99999").is_err());
    }
}
