//! Binding runs of consecutive UDP ports for relay sockets (what Net::SIP's
//! `create_rtp_sockets` does): RTP on an even port, RTCP on the next (RFC 3550 §11).

use std::net::{IpAddr, SocketAddr, UdpSocket};

use rand::Rng;

use crate::nat::allocate::BindRequest;
use crate::nat::config::PortRange;
use crate::nat::error::NatError;

/// How many runs of ports to try per stream before giving up: enough to step over ports
/// other programs hold, few enough that a full range fails fast.
const ATTEMPTS: usize = 64;

/// The sockets of one stream: `sockets[i]` is bound on port `base + i`, non-blocking.
#[derive(Debug)]
pub(crate) struct BoundStream {
    pub(crate) base: u16,
    pub(crate) sockets: Vec<UdpSocket>,
}

/// Binds what `request` asks for, in `range`: one run per stream that needs sockets. All or
/// nothing: on failure every socket bound so far is closed again.
pub(crate) fn bind_group(
    request: &BindRequest,
    range: PortRange,
) -> Result<Vec<Option<BoundStream>>, NatError> {
    request
        .sockets
        .iter()
        .map(|&count| match count {
            0 => Ok(None),
            n => bind_run(request.address, n, range).map(Some),
        })
        .collect()
}

/// `count` consecutive ports on `address`, the first even, somewhere in `range`.
pub(crate) fn bind_run(
    address: IpAddr,
    count: u16,
    range: PortRange,
) -> Result<BoundStream, NatError> {
    let fail = |reason: String| NatError::Bind {
        address,
        count: usize::from(count),
        ports: range,
        reason,
    };
    let lowest = u32::from(range.first()) + u32::from(range.first() % 2);
    let highest = (u32::from(range.last()) + 1).checked_sub(u32::from(count));
    let candidates = match highest {
        Some(h) if h >= lowest => (h - lowest) / 2 + 1,
        _ => return Err(fail("the range is too small".to_owned())),
    };
    // Start at a random run and walk on, so that neighbouring runs held by others are
    // stepped over and two helpers on one range rarely race for the same ports.
    let start = rand::thread_rng().gen_range(0..candidates);
    let mut last_error = String::from("no attempt");
    for i in 0..candidates.min(ATTEMPTS as u32) {
        let base = lowest + 2 * ((start + i) % candidates);
        let Ok(base) = u16::try_from(base) else {
            continue;
        };
        match bind_at(address, base, count) {
            Ok(sockets) => return Ok(BoundStream { base, sockets }),
            Err(e) => last_error = format!("port {base}: {e}"),
        }
    }
    Err(fail(last_error))
}

fn bind_at(address: IpAddr, base: u16, count: u16) -> std::io::Result<Vec<UdpSocket>> {
    let mut sockets = Vec::with_capacity(usize::from(count));
    for i in 0..count {
        let port = base.checked_add(i).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "port past 65535")
        })?;
        let socket = UdpSocket::bind(SocketAddr::new(address, port))?;
        socket.set_nonblocking(true)?;
        sockets.push(socket);
    }
    Ok(sockets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat::event::GroupId;

    fn loopback() -> IpAddr {
        "127.0.0.1".parse().unwrap()
    }

    #[test]
    fn runs_are_consecutive_and_start_even() {
        let range = PortRange::new(41000, 41999).unwrap();
        let run = bind_run(loopback(), 4, range).unwrap();
        assert_eq!(run.base % 2, 0);
        assert!(run.base >= 41000 && run.base + 3 <= 41999);
        let ports: Vec<u16> = run
            .sockets
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert_eq!(ports, [run.base, run.base + 1, run.base + 2, run.base + 3]);
    }

    #[test]
    fn a_taken_run_is_stepped_over_and_a_full_range_fails() {
        // Two ports only: one run of two. Hold it, and a second bind must fail.
        let first = bind_run(loopback(), 2, PortRange::new(42000, 42001).unwrap());
        let Ok(held) = first else {
            // Someone else holds these ports on this machine; nothing to prove here.
            return;
        };
        let e = bind_run(loopback(), 2, PortRange::new(42000, 42001).unwrap()).unwrap_err();
        assert!(
            matches!(&e, NatError::Bind { count: 2, reason, .. } if reason.contains("42000")),
            "{e}"
        );
        // A wider range finds the run after it.
        let next = bind_run(loopback(), 2, PortRange::new(42000, 42003).unwrap()).unwrap();
        assert_eq!(next.base, 42002);
        drop(held);
    }

    #[test]
    fn a_range_too_small_fails_at_once() {
        for (range, count) in [
            ((43001, 43002), 2),
            ((43000, 43000), 2),
            ((43000, 43002), 4),
        ] {
            let range = PortRange::new(range.0, range.1).unwrap();
            let e = bind_run(loopback(), count, range).unwrap_err();
            assert!(e.to_string().contains("too small"), "{e}");
        }
        // A group binds all its streams or none.
        let request = BindRequest {
            group: GroupId(1),
            address: loopback(),
            sockets: vec![2, 0, 40],
        };
        let range = PortRange::new(43100, 43119).unwrap();
        assert!(bind_group(&request, range).is_err());
        // Nothing left bound: the whole range binds again.
        assert!(bind_run(loopback(), 20, range).is_ok());
    }
}
