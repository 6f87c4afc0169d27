//! `netsip bench --to URI --calls N [--duration S]`: Net::SIP's bench/call.pl. Places N
//! parallel calls to an answerer that echoes RTP (`netsip answer --echo`, bench/listen.pl),
//! sends a numbered, time-stamped 20 ms packet per call and reads the echoes: packets sent,
//! back, lost, and the round-trip delay.
//!
//! While it measures, a progress line goes to stderr once a second. At the end it prints one
//! line on stdout, the same as `interop/simple/perl_bench_call.pl` prints, so that `cargo
//! xtask bench calls` reads both alike:
//!
//! ```text
//! total calls=UP/N seconds=S sent=X received=Y lost=Z ignored=W delay(ms)=AVG/MIN/MAX
//! ```
//!
//! The counts are those of the measurement (from --warmup after every call is up to the end
//! of --duration); minimum and maximum delay are over each call's whole life (the probes cannot
//! restart them).

use std::time::Duration;

use anyhow::{bail, Result};
use sip_simple::{Call, CallOptions, Media, ProbeStats};
use tokio::task::JoinSet;
use tokio::time::{interval, Instant, MissedTickBehavior};

use crate::call_cmd::{parse_seconds, start, UaArgs};
use crate::daemon::init_tracing;

/// Arguments of `netsip bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// The answerer: a SIP URI (sip:echo@127.0.0.1:5070); it must echo RTP back.
    #[arg(long, value_name = "URI")]
    to: String,
    /// How many calls at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    calls: u32,
    /// How long to measure once every call is up, in seconds.
    #[arg(long, value_name = "S", value_parser = parse_seconds, default_value = "10")]
    duration: Duration,
    /// Let the calls settle this long once they are all up before measuring (the echo of
    /// the setup burst is not measured), in seconds.
    #[arg(long, value_name = "S", value_parser = parse_seconds, default_value = "1")]
    warmup: Duration,
    /// Start at most this many calls a second (the INVITEs of a big N would otherwise
    /// arrive in one burst).
    #[arg(long, value_name = "R", default_value_t = 500)]
    rate: u32,
    /// Worker threads for the calls' media (0: one per core; 1: all on one thread).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Give up on calls not set up within S seconds.
    #[arg(long, value_name = "S", value_parser = parse_seconds, default_value = "30")]
    setup_timeout: Duration,
    #[command(flatten)]
    ua: UaArgs,
}

/// Runs `netsip bench`.
pub(crate) fn run(args: &BenchArgs) -> Result<()> {
    init_tracing();
    crate::call_cmd::runtime(args.threads)?.block_on(bench(args))
}

/// The sum of many calls' probe statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Totals {
    /// Probes sent.
    pub(crate) sent: u64,
    /// Probes back in order.
    pub(crate) received: u64,
    /// Sequence gaps.
    pub(crate) lost: u64,
    /// Out of order, duplicate or garbled.
    pub(crate) ignored: u64,
    /// Sum of the round trips of `received`, in seconds.
    pub(crate) delay_sum: f64,
    /// Shortest round trip, seconds.
    pub(crate) delay_min: Option<f64>,
    /// Longest round trip, seconds.
    pub(crate) delay_max: Option<f64>,
}

impl Totals {
    /// Adds one call's statistics.
    pub(crate) fn add(&mut self, s: &ProbeStats) {
        self.sent += s.sent;
        self.received += s.received;
        self.lost += s.lost;
        self.ignored += s.ignored;
        if let Some(avg) = s.delay_avg() {
            self.delay_sum += avg.as_secs_f64() * s.received as f64;
        }
        let min = s.delay_min.map(|d| d.as_secs_f64());
        let max = s.delay_max.map(|d| d.as_secs_f64());
        self.delay_min = match (self.delay_min, min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.delay_max = match (self.delay_max, max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// What happened between `earlier` and `self` (counts and delay sum; min and max stay
    /// those of `self`).
    pub(crate) fn since(&self, earlier: &Self) -> Self {
        Self {
            sent: self.sent.saturating_sub(earlier.sent),
            received: self.received.saturating_sub(earlier.received),
            lost: self.lost.saturating_sub(earlier.lost),
            ignored: self.ignored.saturating_sub(earlier.ignored),
            delay_sum: (self.delay_sum - earlier.delay_sum).max(0.0),
            delay_min: self.delay_min,
            delay_max: self.delay_max,
        }
    }

    /// `AVG/MIN/MAX` in ms, or `None` when nothing came back.
    pub(crate) fn delay_ms(&self) -> Option<(f64, f64, f64)> {
        if self.received == 0 {
            return None;
        }
        Some((
            self.delay_sum / self.received as f64 * 1000.0,
            self.delay_min.unwrap_or(0.0) * 1000.0,
            self.delay_max.unwrap_or(0.0) * 1000.0,
        ))
    }

    /// The final line (see the module doc).
    pub(crate) fn total_line(&self, up: u32, calls: u32, seconds: f64) -> String {
        let mut line = format!(
            "total calls={up}/{calls} seconds={seconds:.2} sent={} received={} lost={} ignored={}",
            self.sent, self.received, self.lost, self.ignored
        );
        if let Some((avg, min, max)) = self.delay_ms() {
            line.push_str(&format!(" delay(ms)={avg:.2}/{min:.2}/{max:.2}"));
        }
        line
    }

    /// The progress line of one second.
    pub(crate) fn progress_line(&self, elapsed: f64, up: usize) -> String {
        let lost_pct = if self.sent == 0 {
            0.0
        } else {
            100.0 * self.sent.saturating_sub(self.received) as f64 / self.sent as f64
        };
        let mut line = format!(
            "{elapsed:5.0}s calls={up} pkt sent={} back={} lost={lost_pct:.2}%",
            self.sent, self.received
        );
        if let Some((avg, min, max)) = self.delay_ms() {
            line.push_str(&format!(" delay(ms)={avg:.2}/{min:.2}/{max:.2}"));
        }
        line
    }
}

fn sum(calls: &[Call]) -> Totals {
    let mut t = Totals::default();
    for c in calls {
        t.add(&c.stats().probes);
    }
    t
}

async fn bench(args: &BenchArgs) -> Result<()> {
    let simple = start(&args.ua, "bench").await?;

    // Set the calls up, at most --rate a second.
    let started = Instant::now();
    let mut setups = JoinSet::new();
    let mut pace = interval(Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1))));
    pace.set_missed_tick_behavior(MissedTickBehavior::Burst);
    for _ in 0..args.calls {
        pace.tick().await;
        let simple = simple.clone();
        let to = args.to.clone();
        let limit = args.setup_timeout;
        setups.spawn(async move {
            tokio::time::timeout(
                limit,
                simple.invite(
                    &to,
                    // Probes are no audio: no tone detector on them.
                    CallOptions::new()
                        .media(Media::probe())
                        .detect_inband_dtmf(false),
                ),
            )
            .await
        });
    }
    let mut calls = Vec::new();
    let mut failures = Vec::new();
    while let Some(done) = setups.join_next().await {
        match done {
            Ok(Ok(Ok(call))) => calls.push(call),
            Ok(Ok(Err(e))) => failures.push(e.to_string()),
            Ok(Err(_)) => failures.push("not set up in time".to_owned()),
            Err(e) => failures.push(format!("setup task failed: {e}")),
        }
    }
    let up = u32::try_from(calls.len()).unwrap_or(u32::MAX);
    eprintln!(
        "{up} of {} calls set up in {:.1}s{}",
        args.calls,
        started.elapsed().as_secs_f64(),
        failures.first().map_or(String::new(), |f| format!(
            " ({} failed, first: {f})",
            failures.len()
        ))
    );

    // Measure.
    tokio::time::sleep(args.warmup).await;
    let base = sum(&calls);
    let t0 = Instant::now();
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick.tick().await;
    let mut last = base;
    let end = t0 + args.duration;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(end) => break,
            _ = tick.tick() => {
                let now = sum(&calls);
                eprintln!("{}", now.since(&last).progress_line(t0.elapsed().as_secs_f64(), calls.len()));
                last = now;
            }
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let measured = sum(&calls).since(&base);
    println!("{}", measured.total_line(up, args.calls, seconds));

    // Hang up, all at once; an answerer too busy to answer every BYE changes no number.
    let mut byes = JoinSet::new();
    for call in calls {
        byes.spawn(async move { call.hangup().await });
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while byes.join_next().await.is_some() {}
    })
    .await;
    if up == 0 {
        bail!(
            "no call was set up: {}",
            failures.first().map_or("no reason", String::as_str)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_give_the_line_xtask_reads() {
        let t = Totals {
            sent: 12501,
            received: 12490,
            lost: 3,
            ignored: 1,
            delay_sum: 12490.0 * 0.000_38,
            delay_min: Some(0.000_08),
            delay_max: Some(0.008_91),
        };
        assert_eq!(
            t.total_line(50, 50, 5.0),
            "total calls=50/50 seconds=5.00 sent=12501 received=12490 lost=3 ignored=1 \
             delay(ms)=0.38/0.08/8.91"
        );
        assert_eq!(
            Totals::default().total_line(0, 10, 1.0),
            "total calls=0/10 seconds=1.00 sent=0 received=0 lost=0 ignored=0"
        );
    }

    #[test]
    fn an_interval_is_the_difference_of_two_readings() {
        let a = Totals {
            sent: 100,
            received: 90,
            lost: 2,
            ignored: 0,
            delay_sum: 0.09,
            delay_min: Some(0.0005),
            delay_max: Some(0.002),
        };
        let b = Totals {
            sent: 150,
            received: 140,
            lost: 3,
            ignored: 1,
            delay_sum: 0.19,
            delay_min: Some(0.0004),
            delay_max: Some(0.003),
        };
        let d = b.since(&a);
        assert_eq!((d.sent, d.received, d.lost, d.ignored), (50, 50, 1, 1));
        let (avg, min, max) = d.delay_ms().unwrap();
        assert!((avg - 2.0).abs() < 1e-9, "{avg}");
        assert!((min - 0.4).abs() < 1e-9 && (max - 3.0).abs() < 1e-9);
        // Counters never go backwards, even on a reading taken out of order.
        assert_eq!(a.since(&b).sent, 0);
        assert!(a.since(&b).delay_sum >= 0.0);
        assert!(d.progress_line(3.0, 50).contains("lost=0.00%"));
    }
}
