//! The SDP side of the NAT helper: which streams of a body to relay, and the body rewritten
//! to the relay's addresses (with sip-sdp's `replace_media_listen`, Net::SIP's
//! `replace_media_listen`).

use std::net::{IpAddr, SocketAddr};

use sip_packet::Headers;
use sip_sdp::{ParseError, SessionDescription, UsageError};

use crate::nat::allocate::StreamRequest;

/// The SDP body of a message and what stays of it where nothing is relayed.
#[derive(Debug, Clone)]
pub(crate) struct PlannedSdp {
    description: SessionDescription,
    content_type: String,
    /// Per stream, the address to keep when the stream gets no relay socket: its own.
    keep: Vec<SocketAddr>,
}

/// The SDP body of a message (with its Content-Type as written): the Content-Type says
/// `application/sdp` and the body is not empty. `None` for any other body.
pub(crate) fn sdp_of(
    headers: &Headers,
    body: &[u8],
) -> Result<Option<(SessionDescription, String)>, ParseError> {
    if body.is_empty() {
        return Ok(None);
    }
    let Some(content_type) = headers.get("Content-Type") else {
        return Ok(None);
    };
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/sdp") {
        return Ok(None);
    }
    let sdp = SessionDescription::parse(body)?;
    Ok(Some((sdp, content_type.to_string())))
}

impl PlannedSdp {
    /// The streams of `sdp` to ask relay sockets for on `relay`: every stream but those
    /// with port 0 (disabled) or address 0.0.0.0 / :: (on hold, RFC 3264 §8.4's old way),
    /// which are left as they are.
    pub(crate) fn plan(
        sdp: SessionDescription,
        content_type: String,
        relay: IpAddr,
    ) -> (Self, Vec<StreamRequest>) {
        let mut keep = Vec::new();
        let mut streams = Vec::new();
        for m in sdp.media_info() {
            keep.push(SocketAddr::new(m.address.unwrap_or(relay), m.port));
            let left_alone = m.port == 0 || m.address.is_some_and(|a| a.is_unspecified());
            streams.push(if left_alone {
                StreamRequest::untouched()
            } else {
                // A port count past what a u16 holds is refused by the limits anyway.
                let sockets = u16::try_from(m.port_range).unwrap_or(u16::MAX);
                StreamRequest::relay(m.socket_addr(), sockets)
            });
        }
        let planned = Self {
            description: sdp,
            content_type,
            keep,
        };
        (planned, streams)
    }

    /// The body with each relayed stream moved to its relay address (`media[i]`, `None`
    /// for a stream left alone): its Content-Type and text.
    ///
    /// # Errors
    ///
    /// When `media` does not have one entry per stream.
    pub(crate) fn rewrite(
        self,
        media: &[Option<SocketAddr>],
    ) -> Result<(String, String), UsageError> {
        if media.len() != self.keep.len() {
            return Err(UsageError::MediaCountMismatch {
                given: media.len(),
                media: self.keep.len(),
            });
        }
        let listen: Vec<SocketAddr> = media
            .iter()
            .zip(&self.keep)
            .map(|(relayed, kept)| relayed.unwrap_or(*kept))
            .collect();
        let mut description = self.description;
        description.replace_media_listen(&listen)?;
        Ok((self.content_type, description.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: Option<&str>) -> Headers {
        let mut h = Headers::new();
        if let Some(ct) = content_type {
            h.add("Content-Type", ct.to_owned());
        }
        h
    }

    const BODY: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n\
        t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

    #[test]
    fn only_sdp_bodies_are_read() {
        let sdp = |ct, body| sdp_of(&headers(ct), body).map(|o| o.map(|(_, ct)| ct));
        assert_eq!(
            sdp(Some("Application/SDP; charset=utf-8"), BODY).unwrap(),
            Some("Application/SDP; charset=utf-8".to_owned())
        );
        assert_eq!(sdp(Some("application/sdp"), b"").unwrap(), None);
        assert_eq!(sdp(Some("text/plain"), BODY).unwrap(), None);
        assert_eq!(sdp(Some("multipart/mixed;boundary=x"), BODY).unwrap(), None);
        assert_eq!(sdp(None, BODY).unwrap(), None, "no Content-Type: not SDP");
        assert!(sdp(Some("application/sdp"), b"v=0\r\nnonsense\r\n").is_err());
    }

    #[test]
    fn a_rewrite_needs_one_address_per_stream() {
        let (sdp, ct) = sdp_of(&headers(Some("application/sdp")), BODY)
            .unwrap()
            .unwrap();
        let relay = "127.0.0.1".parse().unwrap();
        let (planned, streams) = PlannedSdp::plan(sdp, ct, relay);
        assert_eq!(
            streams,
            [StreamRequest::relay(
                Some("10.0.0.1:4000".parse().unwrap()),
                2
            )]
        );
        assert_eq!(
            planned.clone().rewrite(&[]).unwrap_err(),
            UsageError::MediaCountMismatch { given: 0, media: 1 }
        );
        let (ct, body) = planned
            .rewrite(&[Some("127.0.0.1:30000".parse().unwrap())])
            .unwrap();
        assert_eq!(ct, "application/sdp");
        assert!(body.contains("c=IN IP4 127.0.0.1\r\n"), "{body}");
        assert!(body.contains("m=audio 30000 RTP/AVP 0\r\n"), "{body}");
    }
}
