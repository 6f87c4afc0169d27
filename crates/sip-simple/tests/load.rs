//! Many calls at once between two user agents: each its own RTP/RTCP ports, probes echoed
//! back without loss, every port given back at the end; an exhausted port range gives 503 to
//! callers and an error to our own calls.

mod util;

use std::collections::HashSet;
use std::time::Duration;

use sip_simple::{
    CallError, CallEvent, CallOptions, EndReason, ListenOptions, Media, PortError, Simple,
    SimpleConfig,
};
use util::*;

const CALLS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_calls_with_echoed_probes() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    bob.listen(ListenOptions::new().media(|_| Media::echo()));
    let to = uri("bob", &bob);
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            alice
                .call(&to, CallOptions::new().media(Media::probe()))
                .unwrap()
        })
        .collect();
    for c in &calls {
        c.answered().await.unwrap();
    }
    assert_eq!(alice.rtp_ports_in_use(), CALLS);
    assert_eq!(bob.rtp_ports_in_use(), CALLS);
    let ports: HashSet<_> = calls.iter().flat_map(|c| c.media_addrs()).collect();
    assert_eq!(ports.len(), CALLS, "every call has ports of its own");
    // Half a second of probes at least on every call.
    eventually("25 probes back on every call", || {
        calls.iter().all(|c| c.stats().probes.received >= 25)
    })
    .await;
    for c in &calls {
        let s = c.stats();
        assert_eq!(s.probes.lost, 0, "{s:?}");
        assert_eq!(s.probes.ignored, 0, "{s:?}");
        let (min, avg, max) = (
            s.delay_min.unwrap(),
            s.delay_avg.unwrap(),
            s.delay_max.unwrap(),
        );
        assert!(
            min <= avg && avg <= max && max < Duration::from_secs(1),
            "{s:?}"
        );
    }
    let hangups: Vec<_> = calls
        .iter()
        .map(|c| {
            let c = c.clone();
            tokio::spawn(async move { c.hangup().await })
        })
        .collect();
    for h in hangups {
        h.await.unwrap().unwrap();
    }
    for c in &calls {
        assert_eq!(c.ended().await, EndReason::LocalHangup);
    }
    assert_eq!(alice.rtp_ports_in_use(), 0);
    eventually("bob's ports back", || bob.rtp_ports_in_use() == 0).await;
    eventually("bob's calls over", || bob.calls().is_empty()).await;
}

/// A free range of `pairs` RTP/RTCP pairs on 127.0.0.1.
fn free_range(pairs: u16) -> std::ops::RangeInclusive<u16> {
    for _ in 0..200 {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port() & !1;
        drop(probe);
        if !(1024..=65000).contains(&base) {
            continue;
        }
        let held: Vec<_> = (base..base + 2 * pairs)
            .map_while(|p| std::net::UdpSocket::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == usize::from(2 * pairs) {
            return base..=base + 2 * pairs - 1;
        }
    }
    panic!("no free port range");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_port_range_gives_503_and_an_error() {
    let alice = Simple::new(config("alice").rtp_ports(free_range(2)))
        .await
        .unwrap();
    let bob = Simple::new(config("bob").rtp_ports(free_range(1)))
        .await
        .unwrap();
    bob.listen(ListenOptions::new().media(|_| Media::echo()));
    let to = uri("bob", &bob);
    let first = alice.invite(&to, CallOptions::new()).await.unwrap();
    // Bob's only pair is taken: the next caller hears 503.
    let e = alice.invite(&to, CallOptions::new()).await.unwrap_err();
    assert!(matches!(e, CallError::Rejected { status: 503, .. }), "{e}");
    // Alice's two pairs: one in the call, and after a second call none left.
    assert_eq!(alice.rtp_ports_in_use(), 1);
    let held = alice
        .call(&to, CallOptions::new().add_stream(Media::silence()))
        .unwrap_err();
    assert!(
        matches!(held, CallError::Ports(PortError::Exhausted { .. })),
        "{held}"
    );
    // The failed call gave back the pair it had taken.
    assert_eq!(alice.rtp_ports_in_use(), 1);
    first.hangup().await.unwrap();
    eventually("bob's pair back", || bob.rtp_ports_in_use() == 0).await;
    // And the pair serves a new call.
    let again = alice.invite(&to, CallOptions::new()).await.unwrap();
    let mut events = again.events();
    again.hangup().await.unwrap();
    event(&mut events, |e| matches!(e, CallEvent::Ended(_))).await;
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let e = Simple::new(SimpleConfig::new("sip:a@127.0.0.1"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no leg"), "{e}");
    let e = Simple::new(config("a").rtp_ports(30001..=30001))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("30001..=30001"), "{e}");
    let e = Simple::new(config("a").registrar("sip:<bad"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("registrar"), "{e}");
    let e =
        Simple::new(SimpleConfig::new("sip:a@127.0.0.1").listen("udp:0.0.0.0:0".parse().unwrap()))
            .await
            .unwrap_err();
    assert!(e.to_string().contains("wildcard"), "{e}");
}
