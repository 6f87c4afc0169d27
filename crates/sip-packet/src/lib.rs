//! SIP (RFC 3261) messages without IO: a zero-copy parser, typed headers parsed on access,
//! URIs with RFC comparison, building of requests and responses, and digest authentication.
//!
//! A datagram is parsed in one pass into spans of one shared buffer: no header is copied.
//! Typed views (Via, CSeq, From/To, Contact, URIs) are parsed when asked for and share the
//! same buffer. Nothing here panics on input from the network: every failure is a
//! [`ParseError`] that says what is wrong, on which line, in which header.
//!
//! ```
//! use sip_packet::{Message, Response};
//!
//! let raw = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
//! Max-Forwards: 70\r\n\
//! To: Bob <sip:bob@biloxi.example.com>\r\n\
//! From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
//! Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
//! CSeq: 314159 INVITE\r\n\
//! Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
//! Content-Length: 0\r\n\r\n";
//! let Message::Request(invite) = Message::parse(raw.into()).unwrap() else { unreachable!() };
//! assert_eq!(invite.headers().top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
//! assert_eq!(invite.headers().cseq().unwrap().seq(), 314159);
//!
//! let mut ringing = Response::from_request(&invite, 180, None);
//! ringing.set_to_tag("a6c85cf").unwrap();
//! let wire = ringing.to_bytes();
//! assert!(wire.starts_with(b"SIP/2.0 180 Ringing\r\n"));
//! ```
//!
//! Map of the crate:
//! - [`Message`], [`Request`], [`Response`]: parse, print, build ([`message`], `derived`).
//! - [`Headers`], [`Header`] (a borrowed view of one value), [`HeaderIter`], [`HeaderName`]: the header section and its typed accessors.
//! - [`Uri`], [`SipUri`], [`Host`], [`Params`]: addresses.
//! - [`NameAddr`], [`Contact`], [`Via`], [`CSeq`], [`Method`], [`AuthValue`]: header values.
//! - [`digest`]: answering and checking Digest challenges.
//! - [`StreamFramer`]: messages out of a TCP/TLS byte stream.
//! - [`random`]: branches, tags and Call-IDs from an injectable random source.

#![forbid(unsafe_code)]

mod auth;
mod cseq;
mod derived;
pub mod digest;
mod error;
mod framer;
mod header_name;
mod headers;
pub mod message;
mod method;
mod name_addr;
mod params;
mod parse;
pub mod random;
mod text;
mod typed;
mod uri;
mod via;

pub use auth::AuthValue;
pub use cseq::CSeq;
pub use derived::{salvage_response, BuildError};
pub use error::{ParseError, ParseErrorKind};
pub use framer::{Frame, FramingError, StreamFramer};
pub use header_name::HeaderName;
pub use headers::{Header, HeaderIter, Headers};
pub use message::{reason_phrase, Message, Request, Response};
pub use method::Method;
pub use name_addr::{Contact, NameAddr};
pub use params::Params;
pub use parse::ParseLimits;
pub use text::{percent_decode, percent_decode_str};
pub use uri::{Host, SipUri, TelUri, Uri};
pub use via::{Transport, Via, BRANCH_COOKIE};

/// Re-exported so that users name the same string type the crate hands out.
pub use bytestring::ByteString;
