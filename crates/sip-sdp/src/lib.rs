//! Session descriptions (SDP, RFC 8866) for SIP, without IO.
//!
//! This crate reads and writes the bodies that SIP peers exchange to agree on media, and does
//! what a SIP stack needs with them:
//!
//! - [`SessionDescription`]: parse ([`SessionDescription::parse`], `FromStr`) and print
//!   (`Display`, CRLF line ends) with every line of RFC 8866, IPv4 and IPv6, several media, and
//!   unknown lines and attributes kept; [`Limits`] bounds what hostile input can cost.
//! - Typed views: [`MediaDescription`] (kind, port, port count, protocol, formats), [`RtpMap`],
//!   [`Fmtp`], [`Direction`], [`Rtcp`] (RFC 3605), the connection of each media, `a=ptime`.
//! - What Net::SIP::SDP offers: [`SessionDescription::media_info`] (its `get_media`),
//!   [`SessionDescription::replace_media_listen`] for NAT helpers and media relays, and
//!   [`SessionDescription::from_media`] to build a description.
//! - Offer/answer (RFC 3264): [`Capabilities::answer`], [`Capabilities::offer`], hold detection
//!   ([`SessionDescription::is_on_hold`]) and versioning of later offers
//!   ([`SessionDescription::revise_from`]).
//!
//! ```
//! use sip_sdp::{Capabilities, Codec, MediaCapability, Origin, SessionDescription};
//!
//! let offer: SessionDescription = "v=0\r\n\
//!     o=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\n\
//!     s=-\r\n\
//!     c=IN IP4 192.0.2.1\r\n\
//!     t=0 0\r\n\
//!     m=audio 49170 RTP/AVP 0 8 97\r\n\
//!     a=rtpmap:97 iLBC/8000\r\n"
//!     .parse()?;
//! assert_eq!(offer.media_info()[0].socket_addr(), Some("192.0.2.1:49170".parse().unwrap()));
//!
//! let ours = Capabilities::new().with(MediaCapability::audio([Codec::pcma()]));
//! let ip = "198.51.100.2".parse().unwrap();
//! let answer = ours.answer(&offer, Origin::new("bob", 1, 1, ip), ip, |_| Some(3456));
//! assert!(answer.to_string().contains("m=audio 3456 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"));
//! # Ok::<(), sip_sdp::ParseError>(())
//! ```
#![forbid(unsafe_code)]

mod attribute;
mod bandwidth;
mod codec;
mod connection;
mod direction;
mod error;
mod fmtp;
mod grammar;
mod limits;
mod line;
mod listen;
mod media;
mod offer_answer;
mod origin;
mod parse;
mod rtcp;
mod rtpmap;
mod session;
mod time;

pub use attribute::Attribute;
pub use bandwidth::Bandwidth;
pub use codec::Codec;
pub use connection::{AddressType, Connection};
pub use direction::Direction;
pub use error::{AttributeError, ParseError, Section, UsageError};
pub use fmtp::Fmtp;
pub use limits::Limits;
pub use line::RawLine;
pub use listen::MediaInfo;
pub use media::{MediaDescription, MediaKind};
pub use offer_answer::{
    Capabilities, DeclineReason, MediaCapability, NegotiatedFormat, NegotiatedStream,
    StreamDecision,
};
pub use origin::Origin;
pub use rtcp::Rtcp;
pub use rtpmap::RtpMap;
pub use session::SessionDescription;
pub use time::{Repeat, TimeUnit, TimeZoneAdjustment, Timing, TypedTime};
