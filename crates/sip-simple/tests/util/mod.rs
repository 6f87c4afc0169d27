//! User agents on 127.0.0.1 with ports from the OS, and small waiting helpers.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part of this

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sip_dispatch::resolve::StaticResolver;
use sip_simple::media::{AudioCodec, AudioFile, SAMPLES_PER_PACKET};
use sip_simple::{Call, CallEvent, Simple, SimpleConfig};
use tokio::sync::broadcast;

static SEED: AtomicU64 = AtomicU64::new(1);

/// A configuration for `user` listening on UDP 127.0.0.1 with a port from the OS, knowing no
/// host names.
pub fn config(user: &str) -> SimpleConfig {
    SimpleConfig::new(format!("sip:{user}@127.0.0.1"))
        .listen("udp:127.0.0.1:0".parse().unwrap())
        .resolver(Arc::new(StaticResolver::new()))
        .seed(SEED.fetch_add(1, Ordering::Relaxed))
}

/// A user agent for `user`.
pub async fn simple(user: &str) -> Simple {
    Simple::new(config(user)).await.unwrap()
}

/// `sip:user@` the user agent's address.
pub fn uri(user: &str, s: &Simple) -> String {
    format!("sip:{user}@{}", s.local_addrs()[0])
}

/// An audio file of `frames` 20 ms frames of μ-law, frame i filled with code `i % 100 + 1`
/// (never the silence code 0xff), so that each frame is told from its neighbours.
pub fn numbered_audio(frames: usize) -> AudioFile {
    AudioFile::from_bytes("numbered.pcmu", &numbered_codes(frames)).unwrap()
}

pub fn numbered_codes(frames: usize) -> Vec<u8> {
    (0..frames)
        .flat_map(|i| std::iter::repeat((i % 100 + 1) as u8).take(SAMPLES_PER_PACKET))
        .collect()
}

/// The frames of [`numbered_audio`].
pub fn numbered_frames(frames: usize) -> Vec<Bytes> {
    numbered_audio(frames).frames(AudioCodec::Pcmu)
}

pub fn is_silence(frame: &Bytes) -> bool {
    frame.iter().all(|&b| b == 0xff)
}

/// Waits (up to 10 s) for an event `want` accepts; returns it and what came before.
pub async fn event(
    rx: &mut broadcast::Receiver<CallEvent>,
    want: impl Fn(&CallEvent) -> bool,
) -> (CallEvent, Vec<CallEvent>) {
    let mut before = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("timed out waiting for a call event")
            .expect("event channel closed");
        if want(&ev) {
            return (ev, before);
        }
        before.push(ev);
    }
}

/// Waits (up to 100 s) until `cond` holds, checking every 10 ms.
pub async fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// The next call `rx` hears of, within 10 s.
pub async fn next_call(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Call>) -> Call {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("timed out waiting for a call")
        .expect("channel closed")
}
