//! Where each media listens, and rewriting that: what a NAT helper or media relay needs
//! (Net::SIP's `get_media` and `replace_media_listen`).

use std::net::{IpAddr, SocketAddr};

use crate::connection::Connection;
use crate::direction::Direction;
use crate::error::UsageError;
use crate::media::{MediaDescription, MediaKind};
use crate::session::SessionDescription;

/// A summary of one media description: what it carries and where it listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MediaInfo {
    /// The media type.
    pub kind: MediaKind,
    /// The connection that applies (media-level `c=`, else session-level).
    pub connection: Option<Connection>,
    /// That connection's address, when it is an IP address.
    pub address: Option<IpAddr>,
    /// The first port; 0 when the stream is disabled.
    pub port: u16,
    /// The number of ports of the `m=` line (1 when not written).
    pub port_count: u16,
    /// How many consecutive ports to reserve: the port count, doubled for RTP (RTP and RTCP).
    pub port_range: u32,
    /// The transport protocol.
    pub proto: String,
    /// The formats of the `m=` line.
    pub formats: Vec<String>,
    /// The direction that applies.
    pub direction: Direction,
}

impl MediaInfo {
    /// Address and port, when the address is an IP address.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.address.map(|ip| SocketAddr::new(ip, self.port))
    }
}

/// Whether `connection` is (or names) `ip`.
fn is_at(connection: &Connection, ip: IpAddr) -> bool {
    match connection.ip() {
        Some(own) => own == ip,
        None => false,
    }
}

impl SessionDescription {
    /// Every media description with the address and port it listens on.
    ///
    /// ```
    /// use sip_sdp::{MediaKind, SessionDescription};
    /// let sdp: SessionDescription = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n\
    ///     c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n".parse().unwrap();
    /// let media = sdp.media_info();
    /// assert_eq!(media[0].kind, MediaKind::Audio);
    /// assert_eq!(media[0].socket_addr(), Some("192.0.2.1:4000".parse().unwrap()));
    /// assert_eq!(media[0].port_range, 2);
    /// assert_eq!(media[0].formats, ["0", "8"]);
    /// ```
    pub fn media_info(&self) -> Vec<MediaInfo> {
        self.media
            .iter()
            .enumerate()
            .map(|(index, media)| {
                let connection = self.media_connection(index).cloned();
                MediaInfo {
                    kind: media.kind.clone(),
                    address: connection.as_ref().and_then(Connection::ip),
                    connection,
                    port: media.port,
                    port_count: media.port_count.unwrap_or(1),
                    port_range: media.port_range(),
                    proto: media.proto.clone(),
                    formats: media.formats.clone(),
                    direction: self.media_direction(index).unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Makes media `i` listen on `listen[i]` instead: rewrites the `m=` ports, the `c=` lines and
    /// the port (and address, if it has one) of `a=rtcp`, which becomes the new port plus one.
    ///
    /// The session-level `c=` line is rewritten when all the media that used its address move
    /// to one new address; otherwise it is removed, and each media that relied on it gets its
    /// own `c=` line. A new port 0 disables the stream. The `o=` line is left alone.
    ///
    /// # Errors
    ///
    /// [`UsageError::MediaCountMismatch`] if `listen` does not have one address per media
    /// description; nothing is changed then.
    ///
    /// ```
    /// use sip_sdp::SessionDescription;
    /// let mut sdp: SessionDescription = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\n\
    ///     c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n".parse().unwrap();
    /// sdp.replace_media_listen(&["203.0.113.9:30000".parse().unwrap()]).unwrap();
    /// assert_eq!(
    ///     sdp.to_string(),
    ///     "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\n\
    ///      m=audio 30000 RTP/AVP 0\r\na=rtcp:30001\r\n"
    /// );
    /// ```
    pub fn replace_media_listen(&mut self, listen: &[SocketAddr]) -> Result<(), UsageError> {
        if listen.len() != self.media.len() {
            return Err(UsageError::MediaCountMismatch {
                given: listen.len(),
                media: self.media.len(),
            });
        }
        let old: Vec<Option<Connection>> = (0..self.media.len())
            .map(|i| self.media_connection(i).cloned())
            .collect();

        if let Some(session) = &self.connection {
            // New addresses of the media that listened on the session-level address.
            let mut new_addresses: Vec<IpAddr> = Vec::new();
            for (old, new) in old.iter().zip(listen) {
                if old.as_ref() == Some(session) && !new_addresses.contains(&new.ip()) {
                    new_addresses.push(new.ip());
                }
            }
            match new_addresses.as_slice() {
                [one] => {
                    if !is_at(session, *one) {
                        self.connection = Some(Connection::from(*one));
                    }
                }
                // Nobody uses it, or its users go separate ways: each media gets its own below.
                _ => self.connection = None,
            }
        }

        let session = self.connection.clone();
        for (media, new) in self.media.iter_mut().zip(listen) {
            rewrite_media(media, session.as_ref(), *new);
        }
        Ok(())
    }
}

/// Points one media description at `new`, given the session-level `c=` as it now is.
fn rewrite_media(media: &mut MediaDescription, session: Option<&Connection>, new: SocketAddr) {
    if new.port() != media.port {
        media.port = new.port();
        if new.port() == 0 {
            media.port_count = None;
        }
    }
    // Compared with the connection that applies now, not before: a media that keeps its
    // address still needs its own c= line when the shared one was removed.
    match media.connections.first() {
        None if !session.is_some_and(|c| is_at(c, new.ip())) => {
            media.connections.push(Connection::from(new.ip()));
        }
        Some(own) if !is_at(own, new.ip()) => media.connections = vec![Connection::from(new.ip())],
        _ => {}
    }
    if let Some(mut rtcp) = media.rtcp() {
        // RFC 3605: RTCP on its own port; the relay gives it the port after the RTP one.
        match new.port().checked_add(1).filter(|_| new.port() != 0) {
            Some(port) => {
                rtcp.port = port;
                if rtcp.connection.is_some() {
                    rtcp.connection = Some(Connection::from(new.ip()));
                }
                media.set_rtcp(Some(rtcp));
            }
            None => media.set_rtcp(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdp(text: &str) -> SessionDescription {
        text.parse().unwrap()
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\n";

    #[test]
    fn count_mismatch_changes_nothing() {
        let mut s = sdp(&format!(
            "{HEAD}c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        ));
        let before = s.clone();
        let e = s.replace_media_listen(&[]).unwrap_err();
        assert_eq!(e, UsageError::MediaCountMismatch { given: 0, media: 1 });
        assert_eq!(s, before);
    }

    #[test]
    fn shared_address_split_in_two() {
        let mut s = sdp(&format!(
            "{HEAD}c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 31\r\n"
        ));
        s.replace_media_listen(&[addr("192.0.2.1:5000"), addr("[2001:db8::1]:6000")])
            .unwrap();
        assert_eq!(s.connection, None);
        assert_eq!(
            s.to_string(),
            format!(
                "{HEAD}t=0 0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\n\
                 m=video 6000 RTP/AVP 31\r\nc=IN IP6 2001:db8::1\r\n"
            )
        );
        let info = s.media_info();
        assert_eq!(info[1].socket_addr(), Some(addr("[2001:db8::1]:6000")));
    }

    #[test]
    fn media_level_connections_are_replaced() {
        let mut s = sdp(&format!(
            "{HEAD}t=0 0\r\nm=audio 4000/2 RTP/AVP 0\r\nc=IN IP4 10.0.0.5\r\na=rtcp:4009 IN IP4 10.0.0.5\r\n\
             m=audio 0 RTP/AVP 0\r\nc=IN IP4 10.0.0.6\r\n"
        ));
        s.replace_media_listen(&[addr("192.0.2.1:5000"), addr("192.0.2.1:0")])
            .unwrap();
        assert_eq!(s.media[0].port_count, Some(2));
        assert_eq!(s.media[0].connection().unwrap().host(), "192.0.2.1");
        assert_eq!(
            s.media[0].attribute_value("rtcp"),
            Some("5001 IN IP4 192.0.2.1")
        );
        assert_eq!(s.media[1].connection().unwrap().host(), "192.0.2.1");
        assert_eq!(s.media[1].port, 0);
    }

    #[test]
    fn same_address_keeps_lines() {
        let text = format!("{HEAD}c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
        let mut s = sdp(&text);
        s.replace_media_listen(&[addr("10.0.0.5:4000")]).unwrap();
        assert_eq!(s.to_string(), text);
    }

    #[test]
    fn session_address_kept_for_the_media_using_it() {
        // Media 1 has its own c=, media 0 relies on the session c=.
        let mut s = sdp(&format!(
            "{HEAD}c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n\
             m=audio 4002 RTP/AVP 0\r\nc=IN IP4 10.0.0.7\r\n"
        ));
        s.replace_media_listen(&[addr("192.0.2.1:5000"), addr("192.0.2.2:5002")])
            .unwrap();
        assert_eq!(s.connection.as_ref().unwrap().host(), "192.0.2.1");
        assert!(s.media[0].connections.is_empty());
        assert_eq!(s.media[1].connection().unwrap().host(), "192.0.2.2");
    }

    #[test]
    fn media_keeping_its_address_gets_a_line_when_the_shared_one_goes() {
        let mut s = sdp(&format!(
            "{HEAD}c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n"
        ));
        s.replace_media_listen(&[addr("10.0.0.5:4000"), addr("192.0.2.1:5002")])
            .unwrap();
        assert_eq!(s.connection, None);
        let info = s.media_info();
        assert_eq!(info[0].socket_addr(), Some(addr("10.0.0.5:4000")));
        assert_eq!(info[1].socket_addr(), Some(addr("192.0.2.1:5002")));
    }

    #[test]
    fn rtcp_dropped_when_disabled() {
        let mut s = sdp(&format!(
            "{HEAD}c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n"
        ));
        s.replace_media_listen(&[addr("10.0.0.5:0")]).unwrap();
        assert!(s.media[0].rtcp().is_none());
        let mut s = sdp(&format!(
            "{HEAD}c=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n"
        ));
        s.replace_media_listen(&[addr("10.0.0.5:65535")]).unwrap();
        assert!(s.media[0].rtcp().is_none());
    }
}
