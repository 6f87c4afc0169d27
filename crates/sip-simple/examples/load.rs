//! Many calls at once between two user agents in one process, over UDP on 127.0.0.1: one
//! calls with probes (numbered, time-stamped RTP payloads), the other echoes them. Prints
//! how long the calls took to set up and what the probes showed: packets back, lost, and
//! the round-trip delay.
//!
//! ```text
//! cargo run --release -p sip-simple --example load -- [CALLS] [SECONDS]
//! ```

use std::time::{Duration, Instant};

use sip_simple::{CallOptions, ListenOptions, Media, ProbeStats, Simple, SimpleConfig};

fn config(user: &str) -> SimpleConfig {
    SimpleConfig::new(format!("sip:{user}@127.0.0.1"))
        .listen("udp:127.0.0.1:0".parse().expect("a transport address"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().map_or(Ok(100), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(5), |a| a.parse())?;

    let caller = Simple::new(config("caller")).await?;
    let echo = Simple::new(config("echo")).await?;
    echo.listen(ListenOptions::new().media(|_| Media::echo()));
    let to = format!("sip:echo@{}", echo.local_addrs()[0]);

    let start = Instant::now();
    let mut pending = Vec::with_capacity(calls);
    for _ in 0..calls {
        pending.push(caller.call(&to, CallOptions::new().media(Media::probe()))?);
    }
    for c in &pending {
        c.answered().await?;
    }
    let setup = start.elapsed();
    println!(
        "{calls} calls set up in {setup:.2?}; {} RTP/RTCP port pairs per side",
        caller.rtp_ports_in_use()
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;

    let mut total = ProbeStats::default();
    let (mut min, mut max, mut sum, mut n) = (Duration::MAX, Duration::ZERO, Duration::ZERO, 0u32);
    for c in &pending {
        let s = c.stats();
        total.sent += s.probes.sent;
        total.received += s.probes.received;
        total.lost += s.probes.lost;
        total.ignored += s.probes.ignored;
        if let (Some(lo), Some(avg), Some(hi)) = (s.delay_min, s.delay_avg, s.delay_max) {
            min = min.min(lo);
            max = max.max(hi);
            sum += avg;
            n += 1;
        }
    }
    println!(
        "probes sent {} received {} lost {} ignored {}",
        total.sent, total.received, total.lost, total.ignored
    );
    if n > 0 {
        println!(
            "round trip min/avg/max {:.2?}/{:.2?}/{:.2?}",
            min,
            sum / n,
            max
        );
    }
    let hangup = Instant::now();
    let byes: Vec<_> = pending
        .iter()
        .map(|c| {
            let c = c.clone();
            tokio::spawn(async move { c.hangup().await })
        })
        .collect();
    for bye in byes {
        bye.await??;
    }
    println!(
        "hung up in {:.2?}; ports in use after: {} and {}",
        hangup.elapsed(),
        caller.rtp_ports_in_use(),
        echo.rtp_ports_in_use()
    );
    caller.shutdown().await;
    echo.shutdown().await;
    Ok(())
}
