//! Calls with RTP audio and DTMF in a few lines (Net::SIP::Simple): placeholder while the
//! crate is built.

#![forbid(unsafe_code)]

pub mod media;
