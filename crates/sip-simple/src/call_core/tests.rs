use super::*;
use crate::media::AudioCodec;
use sip_packet::Method;

const PEER: &str = "v=0\r\no=peer 7 7 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
                    m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

fn sdp(text: &str) -> SessionDescription {
    text.parse().unwrap()
}

fn peer() -> SessionDescription {
    sdp(PEER)
}

fn peer_with(direction: &str) -> SessionDescription {
    sdp(&format!("{PEER}a={direction}\r\n"))
}

fn config() -> CoreConfig {
    CoreConfig {
        profile: AudioProfile {
            codecs: vec![AudioCodec::Pcmu, AudioCodec::Pcma],
            dtmf_payload_type: Some(101),
        },
        ip: "127.0.0.1".parse().unwrap(),
        session_id: 42,
        early_media: false,
        ring_timeout: Some(Duration::from_secs(30)),
        hangup_when_done: false,
    }
}

fn drain(core: &mut CallCore) -> Vec<Action> {
    std::iter::from_fn(|| core.poll_action()).collect()
}

/// The actions without their payloads, for compact comparison.
fn kinds(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::SendInvite(_) => "invite".to_owned(),
            Action::Cancel => "cancel".to_owned(),
            Action::Bye => "bye".to_owned(),
            Action::Respond { status, sdp } => {
                format!(
                    "respond {status}{}",
                    if sdp.is_some() { "+sdp" } else { "" }
                )
            }
            Action::Media(p) => format!(
                "media {}",
                p.iter()
                    .map(|s| if s.is_some() { "on" } else { "off" })
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Action::StopMedia => "stop".to_owned(),
            Action::Event(e) => format!("event {e:?}"),
            Action::State(s) => format!("state {s}"),
            Action::ReinviteDone(r) => format!("reinvite {r:?}"),
        })
        .collect()
}

fn established_outgoing(now: Instant) -> CallCore {
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Ok(peer())));
    drain(&mut core);
    core
}

#[test]
fn outgoing_call_rings_is_answered_and_hung_up() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    let a = drain(&mut core);
    let Action::SendInvite(offer) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!(offer.media[0].port, 30000);
    assert_eq!(core.poll_timeout(), Some(now + Duration::from_secs(30)));
    core.handle_response(now, &Method::Invite, 100, "Trying", None);
    assert!(drain(&mut core).is_empty());
    core.handle_response(now, &Method::Invite, 180, "Ringing", None);
    assert_eq!(kinds(&drain(&mut core)), ["state ringing", "event Ringing"]);
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Ok(peer())));
    let a = drain(&mut core);
    assert_eq!(
        kinds(&a),
        ["media on", "state established", "event Established"]
    );
    let Action::Media(params) = &a[0] else {
        unreachable!()
    };
    let p = params[0].as_ref().unwrap();
    assert_eq!(p.remote_rtp, Some("192.0.2.9:5000".parse().unwrap()));
    assert_eq!(p.dtmf_send, Some(101));
    assert_eq!(core.poll_timeout(), None);
    core.hangup(now);
    assert_eq!(kinds(&drain(&mut core)), ["bye", "stop"]);
    // A second hang-up while the BYE is out does nothing.
    core.hangup(now);
    assert!(drain(&mut core).is_empty());
    core.handle_response(now, &Method::Bye, 200, "OK", None);
    assert_eq!(
        kinds(&drain(&mut core)),
        [
            "stop",
            "state ended (hung up here)",
            "event Ended(LocalHangup)"
        ]
    );
}

#[test]
fn ring_timeout_cancels_and_the_487_ends_the_call_as_no_answer() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.handle_response(now, &Method::Invite, 180, "Ringing", None);
    drain(&mut core);
    core.handle_timeout(now + Duration::from_secs(29));
    assert!(drain(&mut core).is_empty());
    core.handle_timeout(now + Duration::from_secs(30));
    assert_eq!(kinds(&drain(&mut core)), ["cancel"]);
    assert_eq!(core.poll_timeout(), None);
    core.handle_response(now, &Method::Invite, 487, "Request Terminated", None);
    assert_eq!(
        kinds(&drain(&mut core)),
        ["stop", "state ended (no answer)", "event Ended(NoAnswer)"]
    );
}

#[test]
fn a_2xx_racing_our_cancel_ends_the_call_without_a_bye_of_ours() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.hangup(now);
    assert_eq!(kinds(&drain(&mut core)), ["cancel"]);
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Ok(peer())));
    // The endpoint sends the BYE for a 2xx that comes after our CANCEL.
    assert_eq!(
        kinds(&drain(&mut core)),
        [
            "stop",
            "state ended (hung up here)",
            "event Ended(LocalHangup)"
        ]
    );
}

#[test]
fn rejection_and_failure_end_the_call_with_their_reason() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.handle_response(now, &Method::Invite, 486, "Busy Here", None);
    assert_eq!(
        *core.state(),
        CallState::Ended(EndReason::Rejected {
            status: 486,
            reason: "Busy Here".into()
        })
    );
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.handle_failure(now, "no response from udp:127.0.0.1:9");
    assert!(matches!(core.state(), CallState::Ended(EndReason::Failed(w)) if w.contains("INVITE")));
}

#[test]
fn a_2xx_without_usable_sdp_is_hung_up() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Err("bad".into())));
    let a = kinds(&drain(&mut core));
    assert_eq!(a[0], "bye");
    assert!(matches!(
        core.state(),
        CallState::Ended(EndReason::Failed(_))
    ));
    // No codec in common.
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    let g729 = sdp(
        "v=0\r\no=p 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
                    m=audio 5000 RTP/AVP 18\r\n",
    );
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Ok(g729)));
    assert_eq!(kinds(&drain(&mut core))[0], "bye");
}

#[test]
fn early_media_starts_on_a_183_only_when_asked_for() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.handle_response(
        now,
        &Method::Invite,
        183,
        "Session Progress",
        Some(Ok(peer())),
    );
    assert_eq!(kinds(&drain(&mut core)), ["state ringing", "event Ringing"]);
    // The 2xx without SDP takes the 183's.
    core.handle_response(now, &Method::Invite, 200, "OK", None);
    assert_eq!(
        kinds(&drain(&mut core)),
        ["media on", "state established", "event Established"]
    );

    let mut early = config();
    early.early_media = true;
    let mut core = CallCore::outgoing(early, vec![30000], now);
    drain(&mut core);
    core.handle_response(
        now,
        &Method::Invite,
        183,
        "Session Progress",
        Some(Ok(peer())),
    );
    assert_eq!(
        kinds(&drain(&mut core)),
        [
            "state ringing",
            "event Ringing",
            "media on",
            "state in early media",
            "event EarlyMedia"
        ]
    );
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Ok(peer())));
    assert_eq!(
        kinds(&drain(&mut core)),
        ["media on", "state established", "event Established"]
    );
}

#[test]
fn hold_and_resume_by_re_invite() {
    let now = Instant::now();
    let mut core = established_outgoing(now);
    core.reinvite(now, Some(true)).unwrap();
    let a = drain(&mut core);
    let Action::SendInvite(offer) = &a[0] else {
        panic!("{a:?}")
    };
    assert!(offer.is_on_hold());
    assert_eq!(offer.origin.session_version, 2);
    // Only one re-INVITE at a time.
    assert!(matches!(
        core.reinvite(now, None),
        Err(CallError::WrongState { .. })
    ));
    core.handle_response(
        now,
        &Method::Invite,
        200,
        "OK",
        Some(Ok(peer_with("recvonly"))),
    );
    let a = drain(&mut core);
    assert_eq!(kinds(&a), ["media on", "reinvite Ok(())"]);
    let Action::Media(params) = &a[0] else {
        unreachable!()
    };
    let p = params[0].as_ref().unwrap();
    assert!(p.send && !p.receive_audio);
    assert!(core.is_on_hold());
    core.reinvite(now, Some(false)).unwrap();
    let a = drain(&mut core);
    let Action::SendInvite(offer) = &a[0] else {
        panic!("{a:?}")
    };
    assert!(!offer.is_on_hold());
    assert_eq!(offer.origin.session_version, 3);
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Ok(peer())));
    drain(&mut core);
    assert!(!core.is_on_hold());
}

#[test]
fn rejected_re_invite_keeps_the_call_unless_the_dialog_is_gone() {
    let now = Instant::now();
    let mut core = established_outgoing(now);
    core.reinvite(now, Some(true)).unwrap();
    drain(&mut core);
    core.handle_response(now, &Method::Invite, 491, "Request Pending", None);
    assert_eq!(
        kinds(&drain(&mut core)),
        ["reinvite Err(ReinviteRejected { status: 491, reason: \"Request Pending\" })"]
    );
    assert_eq!(*core.state(), CallState::Established);
    assert!(!core.is_on_hold());
    core.reinvite(now, Some(true)).unwrap();
    drain(&mut core);
    core.handle_response(now, &Method::Invite, 481, "Call Does Not Exist", None);
    assert!(core.state().is_ended());
}

#[test]
fn re_invite_before_the_answer_is_refused() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    let e = core.reinvite(now, Some(true)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a re-INVITE is not possible while the call is calling"
    );
}

#[test]
fn incoming_call_answered_at_once_is_established_by_the_ack() {
    let now = Instant::now();
    let mut core = CallCore::incoming(config(), Some(peer()));
    assert_eq!(core.streams_to_open(), [0]);
    core.accept(now, vec![30000], AnswerMode::Now);
    let a = drain(&mut core);
    assert_eq!(kinds(&a), ["media on", "respond 200+sdp"]);
    let Action::Respond {
        sdp: Some(answer), ..
    } = &a[1]
    else {
        unreachable!()
    };
    assert_eq!(answer.media[0].port, 30000);
    assert_eq!(answer.media[0].formats, ["0", "101"]);
    core.handle_request(now, &Method::Ack, None);
    assert_eq!(
        kinds(&drain(&mut core)),
        ["state established", "event Established"]
    );
    core.handle_request(now, &Method::Bye, None);
    assert_eq!(
        kinds(&drain(&mut core)),
        [
            "stop",
            "state ended (hung up by the peer)",
            "event Ended(RemoteHangup)"
        ]
    );
}

#[test]
fn incoming_call_rings_then_answers_and_media_waits_for_the_200() {
    let now = Instant::now();
    let mut core = CallCore::incoming(config(), Some(peer()));
    core.accept(now, vec![30000], AnswerMode::Ring(Duration::from_secs(2)));
    assert_eq!(
        kinds(&drain(&mut core)),
        ["respond 180", "state ringing", "event Ringing"]
    );
    assert_eq!(core.poll_timeout(), Some(now + Duration::from_secs(2)));
    core.handle_timeout(now + Duration::from_secs(2));
    assert_eq!(kinds(&drain(&mut core)), ["media on", "respond 200+sdp"]);
}

#[test]
fn incoming_early_media_sends_183_with_sdp_and_media_before_the_200() {
    let now = Instant::now();
    let mut core = CallCore::incoming(config(), Some(peer()));
    core.accept(now, vec![30000], AnswerMode::Early(Duration::from_secs(1)));
    assert_eq!(
        kinds(&drain(&mut core)),
        [
            "media on",
            "respond 183+sdp",
            "state in early media",
            "event EarlyMedia"
        ]
    );
    core.handle_timeout(now + Duration::from_secs(1));
    assert_eq!(kinds(&drain(&mut core)), ["respond 200+sdp"]);
}

#[test]
fn cancel_of_a_ringing_incoming_call() {
    let now = Instant::now();
    let mut core = CallCore::incoming(config(), Some(peer()));
    core.accept(now, vec![30000], AnswerMode::Ring(Duration::from_secs(5)));
    drain(&mut core);
    core.handle_request(now, &Method::Cancel, None);
    assert_eq!(*core.state(), CallState::Ended(EndReason::RemoteCancel));
    assert_eq!(core.poll_timeout(), None);
}

#[test]
fn incoming_rejections() {
    let now = Instant::now();
    let mut core = CallCore::incoming(config(), Some(peer()));
    core.reject(486);
    assert_eq!(
        kinds(&drain(&mut core)),
        [
            "respond 486",
            "stop",
            "state ended (rejected with 486 Busy Here)",
            "event Ended(Rejected { status: 486, reason: \"Busy Here\" })"
        ]
    );
    // Nothing in common: 488.
    let g729 = sdp(
        "v=0\r\no=p 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
                    m=audio 5000 RTP/AVP 18\r\n",
    );
    let mut core = CallCore::incoming(config(), Some(g729));
    assert!(core.streams_to_open().is_empty());
    core.accept(now, vec![0], AnswerMode::Now);
    assert_eq!(kinds(&drain(&mut core))[0], "respond 488");
    // Hanging up before answering: 480.
    let mut core = CallCore::incoming(config(), Some(peer()));
    core.accept(now, vec![30000], AnswerMode::Ring(Duration::from_secs(5)));
    drain(&mut core);
    core.hangup(now);
    assert_eq!(kinds(&drain(&mut core))[0], "respond 480");
    assert!(core.state().is_ended());
}

#[test]
fn invite_without_offer_gets_ours_and_the_ack_answers() {
    let now = Instant::now();
    let mut core = CallCore::incoming(config(), None);
    assert_eq!(core.streams_to_open(), [0]);
    core.accept(now, vec![30000], AnswerMode::Now);
    let a = drain(&mut core);
    assert_eq!(kinds(&a), ["respond 200+sdp"]);
    core.handle_request(now, &Method::Ack, Some(Ok(peer())));
    assert_eq!(
        kinds(&drain(&mut core)),
        ["media on", "state established", "event Established"]
    );
    // Without the answer the call cannot go on.
    let mut core = CallCore::incoming(config(), None);
    core.accept(now, vec![30000], AnswerMode::Now);
    drain(&mut core);
    core.handle_request(now, &Method::Ack, None);
    assert_eq!(kinds(&drain(&mut core))[..2], ["bye", "stop"]);
}

#[test]
fn peer_hold_by_re_invite_is_answered_recvonly_and_reported() {
    let now = Instant::now();
    let mut core = CallCore::incoming(config(), Some(peer()));
    core.accept(now, vec![30000], AnswerMode::Now);
    core.handle_request(now, &Method::Ack, None);
    drain(&mut core);
    core.handle_request(now, &Method::Invite, Some(Ok(peer_with("sendonly"))));
    let a = drain(&mut core);
    assert_eq!(
        kinds(&a),
        ["event RemoteHold(true)", "media on", "respond 200+sdp"]
    );
    let Action::Respond {
        sdp: Some(answer), ..
    } = &a[2]
    else {
        unreachable!()
    };
    assert_eq!(answer.media_direction(0), Some(Direction::RecvOnly));
    assert_eq!(answer.origin.session_version, 2);
    core.handle_request(now, &Method::Invite, Some(Ok(peer())));
    assert_eq!(
        kinds(&drain(&mut core)),
        ["event RemoteHold(false)", "media on", "respond 200+sdp"]
    );
    // An offer we cannot read: 488, the call goes on.
    core.handle_request(now, &Method::Invite, Some(Err("bad".into())));
    assert_eq!(kinds(&drain(&mut core)), ["respond 488"]);
    assert_eq!(*core.state(), CallState::Established);
    // No offer: ours goes in the 200.
    core.handle_request(now, &Method::Invite, None);
    assert_eq!(kinds(&drain(&mut core)), ["respond 200+sdp"]);
    core.handle_request(now, &Method::Ack, Some(Ok(peer())));
    assert_eq!(kinds(&drain(&mut core)), ["media on"]);
}

#[test]
fn rtp_timeout_hangs_up_an_established_call_only() {
    let now = Instant::now();
    let mut core = CallCore::outgoing(config(), vec![30000], now);
    drain(&mut core);
    core.handle_rtp_timeout(now);
    assert!(drain(&mut core).is_empty());
    let mut core = established_outgoing(now);
    core.handle_rtp_timeout(now);
    assert_eq!(kinds(&drain(&mut core)), ["bye", "stop"]);
    core.handle_response(now, &Method::Bye, 200, "OK", None);
    assert_eq!(*core.state(), CallState::Ended(EndReason::RtpTimeout));
}

#[test]
fn media_done_is_reported_and_may_hang_up() {
    let now = Instant::now();
    let mut core = established_outgoing(now);
    core.handle_media_done(now);
    assert_eq!(kinds(&drain(&mut core)), ["event MediaDone"]);
    let mut cfg = config();
    cfg.hangup_when_done = true;
    let mut core = CallCore::outgoing(cfg, vec![30000], now);
    drain(&mut core);
    core.handle_response(now, &Method::Invite, 200, "OK", Some(Ok(peer())));
    drain(&mut core);
    core.handle_media_done(now);
    assert_eq!(kinds(&drain(&mut core)), ["event MediaDone", "bye", "stop"]);
}

#[test]
fn bye_failure_still_ends_the_call() {
    let now = Instant::now();
    let mut core = established_outgoing(now);
    core.hangup(now);
    drain(&mut core);
    core.handle_failure(now, "timeout");
    assert_eq!(*core.state(), CallState::Ended(EndReason::LocalHangup));
}

#[test]
fn info_dtmf_bodies() {
    assert_eq!(info_dtmf(b"Signal=5\r\nDuration=160\r\n"), Some('5'));
    assert_eq!(info_dtmf(b"Signal= #\r\n"), Some('#'));
    assert_eq!(info_dtmf(b"signal=11\r\n"), Some('#'));
    assert_eq!(info_dtmf(b"Signal=a\r\n"), Some('A'));
    assert_eq!(info_dtmf(b"Signal=x\r\n"), None);
    assert_eq!(info_dtmf(b"Duration=160\r\n"), None);
    assert_eq!(info_dtmf(&[0xff, 0xfe]), None);
}

#[test]
fn timeouts_too_long_for_the_clock_are_no_timeouts() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.ring_timeout = Some(Duration::MAX);
    let core = CallCore::outgoing(cfg, vec![30000], now);
    assert_eq!(core.poll_timeout(), None);
    let mut core = CallCore::incoming(config(), Some(peer()));
    core.accept(now, vec![30000], AnswerMode::Ring(Duration::MAX));
    assert_eq!(kinds(&drain(&mut core))[0], "respond 180");
    assert_eq!(core.poll_timeout(), None);
}
