//! The local helper's own expiry task with tokio's paused clock: sessions and sockets go at
//! the configured times without anyone asking.

use std::time::Duration;

use super::*;
use crate::nat::allocate::StreamRequest;
use crate::nat::key::{PartyId, Side};

fn key() -> SessionKey {
    SessionKey::new("local-1", 1, PartyId::new("alice"), PartyId::new("bob"))
}

fn request(side: Side, target: &str) -> AllocateRequest {
    AllocateRequest::new(
        key(),
        side,
        "127.0.0.1".parse().unwrap(),
        vec![StreamRequest::relay(Some(target.parse().unwrap()), 2)],
    )
}

fn helper() -> LocalNatHelper {
    LocalNatHelper::start(NatConfig::new().ports(PortRange::new(46000, 46999).unwrap())).unwrap()
}

/// Lets the clock run `secs` and a millisecond (paused: at once), so that the expiry task
/// has fired what was due at the whole second before this test looks.
async fn after(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs) + Duration::from_millis(1)).await;
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_offer_is_released_after_180_s() {
    let h = helper();
    let media = h
        .allocate_sockets(&request(Side::From, "127.0.0.1:4000"))
        .unwrap();
    let relay = media[0].unwrap();
    assert_eq!(relay.ip().to_string(), "127.0.0.1");
    assert_eq!(relay.port() % 2, 0);
    assert_eq!(h.current_stats().sockets, 2);
    after(179).await;
    assert_eq!(h.current_stats().sockets, 2);
    after(1).await;
    assert_eq!(h.current_stats(), NatStats::default());
    // Its ports are free again.
    assert!(std::net::UdpSocket::bind(relay).is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_silent_session_ends_after_30_s_and_a_closed_one_after_1_s() {
    let h = helper();
    h.allocate_sockets(&request(Side::From, "127.0.0.1:4000"))
        .unwrap();
    h.allocate_sockets(&request(Side::To, "127.0.0.1:5000"))
        .unwrap();
    let a = h.activate_session(&key()).unwrap();
    assert!(!a.existing);
    assert!(h.activate_session(&key()).unwrap().existing);
    after(29).await;
    assert_eq!(h.current_stats().sessions, 1);
    after(1).await;
    assert_eq!(h.current_stats(), NatStats::default());

    // Again, closed by a BYE this time.
    h.allocate_sockets(&request(Side::From, "127.0.0.1:4000"))
        .unwrap();
    h.allocate_sockets(&request(Side::To, "127.0.0.1:5000"))
        .unwrap();
    h.activate_session(&key()).unwrap();
    let bye = CloseRequest::new("local-1", None, PartyId::new("bob"), PartyId::new("alice"));
    let closed = h.close_session(&bye);
    assert_eq!(closed.len(), 1);
    assert_eq!(h.current_stats().closing, 1);
    assert_eq!(h.sessions().len(), 1);
    after(1).await;
    assert_eq!(h.current_stats(), NatStats::default());
    assert!(h.sessions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_trait_answers_like_the_methods() {
    let h = helper();
    let dynamic: &dyn NatHelper = &h;
    let media = dynamic
        .allocate(request(Side::From, "127.0.0.1:4000"))
        .await
        .unwrap();
    assert_eq!(media.len(), 1);
    let e = dynamic.activate(key()).await.unwrap_err();
    assert!(matches!(e, NatError::Incomplete { .. }), "{e}");
    assert_eq!(dynamic.stats().await.unwrap().groups, 1);
    assert!(dynamic.expire().await.unwrap().is_empty());
    let cancel = CloseRequest::new(
        "local-1",
        Some(1),
        PartyId::new("alice"),
        PartyId::new("bob"),
    );
    assert!(dynamic.close(cancel).await.unwrap().is_empty());
    after(1).await;
    assert_eq!(dynamic.stats().await.unwrap().groups, 0);
}

#[tokio::test]
async fn its_methods_work_from_any_thread() {
    let h = helper();
    let other = h.clone();
    let activation = std::thread::spawn(move || {
        other.allocate_sockets(&request(Side::From, "127.0.0.1:4000"))?;
        other.allocate_sockets(&request(Side::To, "127.0.0.1:5000"))?;
        other.activate_session(&key())
    })
    .join()
    .unwrap()
    .unwrap();
    assert!(!activation.existing);
    assert_eq!(h.current_stats().sessions, 1);
}

#[test]
fn outside_a_runtime_it_says_so() {
    assert_eq!(
        LocalNatHelper::start(NatConfig::new()).unwrap_err(),
        NatError::NoRuntime
    );
}
