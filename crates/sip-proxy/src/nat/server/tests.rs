//! The control protocol over loopback TCP: a proxy's client against a served local helper,
//! malformed input answered (never a crash), reconnects, and timeouts.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use super::*;
use crate::nat::allocate::{AllocateRequest, StreamRequest};
use crate::nat::client::RemoteNatHelper;
use crate::nat::config::{NatConfig, PortRange};
use crate::nat::error::NatError;
use crate::nat::key::{CloseRequest, PartyId, SessionKey, Side};
use crate::nat::local::LocalNatHelper;
use crate::nat::protocol::parse_reply;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A local helper served on a loopback port; its address.
async fn served() -> (SocketAddr, LocalNatHelper) {
    let helper =
        LocalNatHelper::start(NatConfig::new().ports(PortRange::new(47000, 47999).unwrap()))
            .unwrap();
    let server = NatControlServer::bind(loopback(), Arc::new(helper.clone()))
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run());
    (addr, helper)
}

fn key() -> SessionKey {
    SessionKey::new("ctl-1", 1, PartyId::new("alice"), PartyId::new("bob"))
}

fn request(side: Side, target: &str) -> AllocateRequest {
    AllocateRequest::new(
        key(),
        side,
        "127.0.0.1".parse().unwrap(),
        vec![
            StreamRequest::relay(Some(target.parse().unwrap()), 2),
            StreamRequest::untouched(),
        ],
    )
}

#[tokio::test]
async fn a_call_through_the_control_protocol() {
    let (addr, local) = served().await;
    let remote = RemoteNatHelper::new(addr);
    assert_eq!(remote.addr(), addr);
    let offer = remote
        .allocate(request(Side::From, "127.0.0.1:4000"))
        .await
        .unwrap();
    assert!(offer[0].is_some_and(|a| (47000..=47999).contains(&a.port())));
    assert_eq!(offer[1], None);
    // The same again: the same sockets.
    assert_eq!(
        remote
            .allocate(request(Side::From, "127.0.0.1:4000"))
            .await
            .unwrap(),
        offer
    );
    // Activation before the answer: the nathelper's error, typed.
    let e = remote.activate(key()).await.unwrap_err();
    assert!(
        matches!(&e, NatError::Remote { code: ErrorCode::Incomplete, message } if message.contains("ctl-1")),
        "{e}"
    );
    remote
        .allocate(request(Side::To, "127.0.0.1:5000"))
        .await
        .unwrap();
    let a = remote.activate(key()).await.unwrap();
    assert!(!a.existing);
    assert!(remote.activate(key()).await.unwrap().existing);
    let stats = remote.stats().await.unwrap();
    assert_eq!((stats.sessions, stats.sockets, stats.calls), (1, 4, 1));
    assert_eq!(stats, local.current_stats());
    assert!(remote.expire().await.unwrap().is_empty());
    let bye = CloseRequest::new("ctl-1", None, PartyId::new("bob"), PartyId::new("alice"));
    let closed = remote.close(bye).await.unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].id, a.session.id);
    assert_eq!(closed[0].reason, Some(crate::nat::CloseReason::Closed));
    assert_eq!(remote.stats().await.unwrap().closing, 1);
}

/// Sends `lines` on one connection and reads one answer line per line.
async fn raw(addr: SocketAddr, lines: &[&[u8]]) -> Vec<String> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut answers = Vec::new();
    for l in lines {
        write.write_all(l).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(5), read_line(&mut read, MAX_LINE))
            .await
            .unwrap()
            .unwrap()
        {
            Line::Complete(a) => answers.push(String::from_utf8(a).unwrap()),
            other => panic!("no answer to {:?}: {other:?}", String::from_utf8_lossy(l)),
        }
    }
    answers
}

fn code_of(answer: &str) -> ErrorCode {
    let (_, reply) = parse_reply(answer.as_bytes(), "stats").unwrap();
    reply.unwrap_err().code
}

#[tokio::test]
async fn bad_input_gets_an_error_answer_and_the_connection_goes_on() {
    let (addr, _local) = served().await;
    let answers = raw(
        addr,
        &[
            b"this is not json\n",
            b"\n",
            b"\xff\xfe\x00garbage\r\n",
            b"{\"v\":1,\"id\":5,\"op\":\"launch\"}\n",
            b"{\"v\":7,\"id\":6,\"op\":\"stats\"}\n",
            b"{\"v\":1,\"id\":8,\"op\":\"allocate\",\"call_id\":\"c\",\"cseq\":1}\n",
            b"{\"v\":1,\"id\":9,\"op\":\"stats\"}\n",
        ],
    )
    .await;
    assert_eq!(code_of(&answers[0]), ErrorCode::Malformed);
    assert_eq!(code_of(&answers[1]), ErrorCode::Malformed);
    assert_eq!(code_of(&answers[2]), ErrorCode::Malformed);
    assert_eq!(code_of(&answers[3]), ErrorCode::UnknownOp);
    assert!(answers[3].contains("\"id\":5"), "{}", answers[3]);
    assert_eq!(code_of(&answers[4]), ErrorCode::Version);
    assert_eq!(code_of(&answers[5]), ErrorCode::BadRequest);
    // And still answering properly.
    let (id, stats) = parse_reply(answers[6].as_bytes(), "stats").unwrap();
    assert_eq!(id, 9);
    assert!(matches!(stats, Ok(ControlReply::Stats(_))));
}

#[tokio::test]
async fn a_line_too_long_is_refused_and_the_connection_closed() {
    let (addr, _local) = served().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let long = vec![b'x'; MAX_LINE + 10];
    // The server answers before it has read all: write in a task.
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&long).await;
        let _ = write.write_all(b"\n").await;
        write
    });
    let answer = tokio::time::timeout(Duration::from_secs(5), read_line(&mut read, MAX_LINE))
        .await
        .unwrap()
        .unwrap();
    let Line::Complete(answer) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(
        code_of(std::str::from_utf8(&answer).unwrap()),
        ErrorCode::TooLong
    );
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), read.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "closed after the answer");
    drop(writer.await);
}

#[tokio::test]
async fn line_reading_is_bounded() {
    let mut input: &[u8] = b"one\r\ntwo\nthree-is-too-long\nfour";
    assert_eq!(
        read_line(&mut input, 8).await.unwrap(),
        Line::Complete(b"one".to_vec())
    );
    assert_eq!(
        read_line(&mut input, 8).await.unwrap(),
        Line::Complete(b"two".to_vec())
    );
    assert_eq!(read_line(&mut input, 8).await.unwrap(), Line::TooLong);
    assert_eq!(
        read_line(&mut input, 8).await.unwrap(),
        Line::Complete(b"four".to_vec())
    );
    assert_eq!(read_line(&mut input, 8).await.unwrap(), Line::End);
}

#[tokio::test]
async fn nobody_listening_is_a_control_error() {
    let gone = TcpListener::bind(loopback()).await.unwrap();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let e = RemoteNatHelper::new(addr).stats().await.unwrap_err();
    assert!(
        matches!(&e, NatError::Control { reason, .. } if reason.contains("cannot connect")),
        "{e}"
    );
}

#[tokio::test]
async fn a_connection_closed_by_the_nathelper_is_opened_again() {
    // A nathelper that answers one request per connection, then hangs up.
    let listener = TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let helper: Arc<dyn NatHelper> = Arc::new(LocalNatHelper::start(NatConfig::new()).unwrap());
    tokio::spawn(async move {
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            if let Line::Complete(l) = read_line(&mut read, MAX_LINE).await.unwrap() {
                let a = answer(&*helper, &l).await;
                write.write_all(a.as_bytes()).await.unwrap();
            }
        }
    });
    let remote = RemoteNatHelper::new(addr);
    assert_eq!(remote.stats().await.unwrap().sockets, 0);
    assert_eq!(remote.stats().await.unwrap().sockets, 0);
}

#[tokio::test(start_paused = true)]
async fn a_silent_nathelper_times_out() {
    let listener = TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        // Read the request, never answer.
        let mut stream = stream;
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).await;
        std::future::pending::<()>().await;
    });
    let remote = RemoteNatHelper::new(addr).timeout(Duration::from_millis(500));
    let e = remote.stats().await.unwrap_err();
    assert!(
        matches!(&e, NatError::Control { reason, .. } if reason.contains("no answer within")),
        "{e}"
    );
    held.abort();
}

#[tokio::test]
async fn requests_waiting_for_a_slow_nathelper_are_bounded() {
    let listener = TcpListener::bind(loopback()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts, never answers.
    let held = tokio::spawn(async move {
        let (_stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
    });
    let remote = Arc::new(RemoteNatHelper::new(addr).timeout(Duration::from_secs(5)));
    let waiting: Vec<_> = (0..256)
        .map(|_| {
            let r = remote.clone();
            tokio::spawn(async move { r.stats().await })
        })
        .collect();
    // The runtime polls about 60 tasks per turn: give each of them its first poll, in
    // which it takes its place in the queue.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    let e = remote.stats().await.unwrap_err();
    assert!(
        matches!(&e, NatError::Control { reason, .. } if reason.contains("256 requests are waiting")),
        "{e}"
    );
    waiting.iter().for_each(tokio::task::JoinHandle::abort);
    held.abort();
}
