//! Where a stream's socket reads datagrams into: one large buffer that each datagram is cut
//! from, so that a received packet is neither copied nor allocated on its own (its payload
//! goes on to the jitter buffer and the echo as a slice of the same memory).

use std::io;
use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::net::UdpSocket;

/// Datagrams larger than this are cut (and then fail to parse): RTP of 20 ms G.711 is 172
/// octets, RTCP compound packets are small; nothing legitimate comes near.
pub(crate) const MAX_DATAGRAM: usize = 2048;

/// How much is allocated at once: room for about a hundred 20 ms G.711 packets. A chunk is
/// freed when the last packet cut from it is (the jitter buffer holds only a few).
const CHUNK: usize = 16 * 1024;

/// Received datagrams, cut from a shared chunk.
#[derive(Debug, Default)]
pub(crate) struct DatagramBuffer {
    chunk: BytesMut,
}

impl DatagramBuffer {
    /// Reads one datagram from `socket` without waiting: `WouldBlock` when none is there
    /// (which also tells tokio to wait for readiness again).
    pub(crate) fn try_recv_from(&mut self, socket: &UdpSocket) -> io::Result<(Bytes, SocketAddr)> {
        self.make_room();
        let (n, from) = socket.try_recv_buf_from(&mut (&mut self.chunk).limit(MAX_DATAGRAM))?;
        Ok((self.chunk.split_to(n).freeze(), from))
    }

    /// Copies `datagram` in as if it had been received (for tests without sockets).
    #[cfg(test)]
    fn push(&mut self, datagram: &[u8]) -> Bytes {
        self.make_room();
        let n = datagram.len().min(MAX_DATAGRAM);
        self.chunk.put_slice(&datagram[..n]);
        self.chunk.split_to(n).freeze()
    }

    /// Room for a whole datagram after what was cut off: a new chunk when the old one is
    /// used up (the old one lives on in the datagrams cut from it).
    fn make_room(&mut self) {
        self.chunk.clear();
        if self.chunk.capacity() < MAX_DATAGRAM {
            self.chunk = BytesMut::with_capacity(CHUNK);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_are_cut_from_one_chunk_and_stay_intact() {
        let mut b = DatagramBuffer::default();
        let first = b.push(&[1; 172]);
        let second = b.push(&[2; 172]);
        assert_eq!(&first[..], &[1; 172][..]);
        assert_eq!(&second[..], &[2; 172][..]);
        // The second follows the first in the same allocation.
        assert_eq!(first.as_ptr().wrapping_add(172), second.as_ptr());
        // Far more than a chunk: every datagram keeps its own content.
        let many: Vec<Bytes> = (0..500u16).map(|i| b.push(&i.to_be_bytes())).collect();
        for (i, d) in (0..500u16).zip(&many) {
            assert_eq!(&d[..], &i.to_be_bytes()[..]);
        }
        assert_eq!(&first[..], &[1; 172][..]);
    }

    #[test]
    fn oversized_datagrams_are_cut() {
        let mut b = DatagramBuffer::default();
        assert_eq!(b.push(&[7; 5000]).len(), MAX_DATAGRAM);
        assert_eq!(b.push(&[]).len(), 0);
    }

    #[tokio::test]
    async fn reads_from_a_socket_until_it_would_block() {
        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = rx.local_addr().unwrap();
        tx.send_to(b"one", to).await.unwrap();
        tx.send_to(&[9; 3000], to).await.unwrap();
        let mut b = DatagramBuffer::default();
        rx.readable().await.unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            match b.try_recv_from(&rx) {
                Ok((d, from)) => {
                    assert_eq!(from, tx.local_addr().unwrap());
                    got.push(d);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => rx.readable().await.unwrap(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&got[0][..], b"one");
        assert_eq!(got[1].len(), MAX_DATAGRAM);
        assert_eq!(
            b.try_recv_from(&rx).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }
}
