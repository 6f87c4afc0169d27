//! `netsip answer --listen ADDR [--from URI --registrar HOST:PORT --username U --password P]
//! [--greeting FILE] [--record-dir DIR] [--echo] [--ring S]`: Net::SIP's answer_machine.pl (greeting,
//! then each call recorded to a WAV file of its own, named by time and caller) or
//! bench/listen.pl (`--echo`: every call's RTP sent back), many calls at once.
//!
//! Prints `listening on ADDR` once bound, then a line per call event, `call N: ...`
//! (`established from URI`, `dtmf D`, `recording to FILE`, `ended: WHY`). Runs until SIGINT
//! or SIGTERM, or until `--calls N` calls have ended.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use sip_simple::media::AudioFile;
use sip_simple::{Answer, EndReason, IncomingCall, ListenOptions, Media, Recorder};
use tokio::sync::mpsc;

use crate::call_cmd::{announce, bind, parse_seconds, UaArgs};
use crate::daemon::{init_tracing, shutdown_signal};

/// Arguments of `netsip answer`.
#[derive(Debug, clap::Args)]
pub(crate) struct AnswerArgs {
    #[command(flatten)]
    ua: UaArgs,
    /// Send each caller back what it sends (bench/listen.pl); with --record-dir, recorded
    /// too.
    #[arg(long, conflicts_with = "greeting")]
    echo: bool,
    /// Play this audio file (WAV or raw G.711) to each caller first (answer_machine.pl's
    /// welcome); silence after it.
    #[arg(long, value_name = "FILE")]
    greeting: Option<PathBuf>,
    /// Record each call into DIR/<unix time>_<caller>.wav (16-bit PCM WAV), created if
    /// missing.
    #[arg(long, value_name = "DIR")]
    record_dir: Option<PathBuf>,
    /// Ring (180) for S seconds before answering each call (default: answer at once); a
    /// caller that gives up meanwhile gets its CANCEL answered and the INVITE 487.
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    ring: Option<Duration>,
    /// Hang up a call after S seconds (answer_machine.pl's -T; default: never).
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    max_duration: Option<Duration>,
    /// Do not look for DTMF tones in the received audio (RFC 4733 events are still
    /// reported): the tone detector runs on every packet, which an echo for a benchmark
    /// does not need (Net::SIP's bench/listen.pl detects nothing either).
    #[arg(long)]
    no_inband_dtmf: bool,
    /// Worker threads for the calls' media (0: one per core; 1: all on one thread).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Exit once N calls have ended (default: run until SIGINT or SIGTERM).
    #[arg(long, value_name = "N")]
    calls: Option<u64>,
}

/// How long `--calls N` waits after the last call ended before it shuts down.
const FINAL_RESPONSE_GRACE: Duration = Duration::from_millis(300);

/// Runs `netsip answer`.
pub(crate) fn run(args: &AnswerArgs) -> Result<()> {
    init_tracing();
    // Many calls at once: their media tasks share the worker threads.
    crate::call_cmd::runtime(args.threads)?.block_on(serve(args))
}

/// The file a call is recorded into: `<unix seconds>_<caller>.wav` in `dir`, the caller's
/// address reduced to letters, digits, `-`, `+`, `_` and `@` (as answer_machine.pl
/// normalises it), and `_2`, `_3`... when two calls from one caller start in one second.
pub(crate) fn recording_path(dir: &Path, at: SystemTime, caller: &str) -> PathBuf {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let caller = caller.trim().trim_start_matches('<').trim_end_matches('>');
    let caller = caller
        .strip_prefix("sips:")
        .or_else(|| caller.strip_prefix("sip:"))
        .unwrap_or(caller);
    let mut name: String = caller
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-+_@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        name.push_str("unknown");
    }
    let mut path = dir.join(format!("{secs}_{name}.wav"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{secs}_{name}_{n}.wav"));
        n += 1;
    }
    path
}

/// What each incoming call gets.
struct Plan {
    echo: bool,
    greeting: Option<AudioFile>,
    record_dir: Option<PathBuf>,
}

impl Plan {
    /// The media of stream `stream` of call `n` from `caller`; the recording's path is
    /// printed. Every stream is echoed with --echo; only the first one is recorded and gets
    /// the greeting.
    fn media(&self, n: u64, caller: &str, stream: usize) -> Media {
        let media = if self.echo {
            Media::echo()
        } else if stream > 0 {
            Media::silence()
        } else if let Some(g) = &self.greeting {
            Media::send_recv(vec![g.clone()], None)
        } else {
            Media::silence()
        };
        if stream > 0 {
            return media;
        }
        let recorder = self.record_dir.as_ref().and_then(|dir| {
            let path = recording_path(dir, SystemTime::now(), caller);
            match Recorder::wav(&path) {
                Ok(r) => {
                    println!("call {n}: recording to {}", path.display());
                    Some(r)
                }
                Err(e) => {
                    eprintln!("error: call {n}: cannot record to {}: {e}", path.display());
                    None
                }
            }
        });
        match recorder {
            Some(r) => media.record(r),
            None => media,
        }
    }
}

/// Numbers the calls in the order they arrive (`call 1`, `call 2`...), by Call-ID.
#[derive(Default)]
struct Numbers {
    next: u64,
    by_call_id: HashMap<String, u64>,
}

impl Numbers {
    /// The number of the call with `call_id`, given on first sight.
    fn of(numbers: &Mutex<Self>, call_id: &str) -> u64 {
        let mut n = numbers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = n.by_call_id.get(call_id) {
            return *k;
        }
        n.next += 1;
        let k = n.next;
        n.by_call_id.insert(call_id.to_owned(), k);
        k
    }

    /// Forgets a call that ended (so that the table does not grow with every call).
    fn forget(numbers: &Mutex<Self>, call_id: &str) -> u64 {
        let k = Self::of(numbers, call_id);
        numbers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_call_id
            .remove(call_id);
        k
    }
}

async fn serve(args: &AnswerArgs) -> Result<()> {
    let greeting = match &args.greeting {
        Some(p) => Some(AudioFile::read(p).with_context(|| format!("--greeting {}", p.display()))?),
        None => None,
    };
    if let Some(dir) = &args.record_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--record-dir {}: cannot create it", dir.display()))?;
    }
    let plan = Plan {
        echo: args.echo,
        greeting,
        record_dir: args.record_dir.clone(),
    };

    let simple = bind(&args.ua, "answer").await?;
    let numbers = Arc::new(Mutex::new(Numbers::default()));
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<()>();
    let max_duration = args.max_duration;
    let (n1, n2, n3, n4) = (
        Arc::clone(&numbers),
        Arc::clone(&numbers),
        Arc::clone(&numbers),
        Arc::clone(&numbers),
    );
    let ring = args.ring;
    let options = ListenOptions::new()
        .on_new_call(move |_| match ring {
            Some(d) => Answer::Ring(d),
            None => Answer::Accept,
        })
        // Tones are looked for even when telephone-events were negotiated: Net::SIP's
        // dtmf(methods => 'audio') sends tones though its SDP offers events.
        .detect_inband_dtmf(!args.no_inband_dtmf)
        .media(move |incoming: &IncomingCall| {
            let n = Numbers::of(&n1, incoming.call().call_id());
            let caller = incoming
                .from()
                .map(|f| f.uri().to_string())
                .unwrap_or_default();
            plan.media(n, &caller, incoming.stream_index())
        })
        .on_established(move |call| {
            let n = Numbers::of(&n2, call.call_id());
            println!("call {n}: established from {}", call.remote().uri());
            if let Some(limit) = max_duration {
                let call = call.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(limit).await;
                    if !call.state().is_ended() {
                        println!("call {n}: hanging up after {} s", limit.as_secs_f64());
                        let _ = call.hangup().await;
                    }
                });
            }
        })
        .on_dtmf(move |call, digit| {
            let n = Numbers::of(&n3, call.call_id());
            println!("call {n}: dtmf {digit}");
        })
        .on_hangup(move |call, why: &EndReason| {
            let n = Numbers::forget(&n4, call.call_id());
            println!("call {n}: ended: {why}");
            let _ = ended_tx.send(());
        });
    simple.listen(options);
    // Only now: whoever waits for this line may call at once.
    announce(&simple, &args.ua).await?;

    let mut done = 0u64;
    loop {
        tokio::select! {
            signal = shutdown_signal() => {
                let name = signal?;
                tracing::info!("{name}: shutting down");
                break;
            }
            Some(()) = ended_rx.recv() => {
                done += 1;
                if args.calls.is_some_and(|n| done >= n) {
                    break;
                }
            }
        }
    }
    // The hang-up hook runs when the BYE arrives, before its 200 is on the wire: shutting
    // the legs at once would lose that 200 and leave the caller retransmitting its BYE for
    // 32 s. A moment is enough for the call's task to send it.
    tokio::time::sleep(FINAL_RESPONSE_GRACE).await;
    simple.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_named_by_time_and_caller() {
        let dir = std::env::temp_dir().join(format!("netsip-answer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let p = recording_path(&dir, at, "<sip:alice@example.com:5060;transport=udp>");
        assert_eq!(
            p.file_name().unwrap(),
            "1700000000_alice@example_com_5060_transport_udp.wav"
        );
        // A path separator or a dot-dot in the caller cannot leave the directory.
        let p = recording_path(&dir, at, "sip:../../etc/passwd@x");
        assert_eq!(p.parent().unwrap(), dir);
        assert!(!p.file_name().unwrap().to_string_lossy().contains('/'));
        assert_eq!(
            recording_path(&dir, at, "").file_name().unwrap(),
            "1700000000_unknown.wav"
        );
        // A second call in the same second from the same caller gets its own file.
        let first = recording_path(&dir, at, "sip:bob@h");
        std::fs::write(&first, b"x").unwrap();
        let second = recording_path(&dir, at, "sip:bob@h");
        assert_eq!(second.file_name().unwrap(), "1700000000_bob@h_2.wav");
        // A long caller is cut.
        let long = "a".repeat(500);
        let p = recording_path(&dir, at, &long);
        assert!(p.file_name().unwrap().len() < 100);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
